"""Large transfers take the cheap paths: a local download is a file gunicorn can sendfile()
(its descriptor positioned at the range's start, Content-Length the range's length), and the
multipart parser reads uploads 1 MiB at a time."""

import os

from django.core.files.uploadhandler import load_handler
from django.http import FileResponse
from django.test import RequestFactory
from django.urls import reverse

from converter.services.downloads import output_response
from converter.upload_limits import CHUNK
from tests.web.conftest import FLAC_BYTES


def test_a_local_download_is_a_file_response_positioned_at_its_range(completed_job):
    output = completed_job.outputs.get()
    response = output_response(RequestFactory().get("/", HTTP_RANGE="bytes=100-199"), output)
    assert isinstance(response, FileResponse) and response.status_code == 206
    # What gunicorn's sendfile() uses: the descriptor's position and Content-Length.
    assert os.lseek(response.file_to_stream.fileno(), 0, os.SEEK_CUR) == 100
    assert response["Content-Length"] == "100"
    # A server without sendfile reads it, and gets the range's bytes only.
    assert b"".join(response.streaming_content) == FLAC_BYTES[100:200]
    response.close()


def test_a_whole_local_download_reads_to_the_end(alice_client, completed_job):
    output = completed_job.outputs.get()
    response = alice_client.get(reverse("output_download", args=[output.pk]))
    assert response.status_code == 200 and response["Content-Length"] == str(len(FLAC_BYTES))
    assert b"".join(response.streaming_content) == FLAC_BYTES


def test_uploads_are_parsed_a_mebibyte_at_a_time(settings):
    request = RequestFactory().post("/")
    handlers = [load_handler(path, request) for path in settings.FILE_UPLOAD_HANDLERS]
    # The parser reads the smallest chunk_size of all handlers.
    assert min(handler.chunk_size for handler in handlers) == CHUNK == 1024 * 1024
