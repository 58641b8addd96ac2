"""Large transfers take the cheap paths: a local download is a file gunicorn can sendfile()
(its descriptor positioned at the range's start, Content-Length the range's length). How uploads
are read: tests/web/test_multipart.py."""

import os

from django.http import FileResponse
from django.test import RequestFactory
from django.urls import reverse

from converter.services.downloads import output_response
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

