"""The streaming upload handler (converter/uploads.py) builds request.POST and request.FILES as
Django's own parser would, reads the body a mebibyte at a time, refuses what breaks a limit
and leaves no temporary file behind when a body is broken."""

import errno
import io
from pathlib import Path

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from converter.uploads import CHUNK, parse


class Request:
    """What the parser needs of a request: a place for upload_refused."""


class Stream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size=-1):
        self.reads.append(size)
        return super().read(size)


def meta(body: bytes) -> dict:
    return {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}


def ours(body: bytes, request=None):
    return parse(request or Request(), Stream(body), len(body), BOUNDARY.encode(), "utf-8")


def djangos(body: bytes):
    handlers = [MemoryFileUploadHandler(), TemporaryFileUploadHandler()]
    return MultiPartParser(meta(body), io.BytesIO(body), handlers, "utf-8").parse()


def described(post, files) -> tuple:
    """What a view can see of a parsed body."""
    uploads = {name: [(f.name, f.content_type, f.size, f.read()) for f in found]
               for name, found in files.lists()}
    return dict(post.lists()), uploads


@pytest.fixture
def temp_dir(settings, tmp_path) -> Path:
    """A temporary-upload folder of the test's own (other test processes upload too)."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def test_a_form_with_fields_and_files_parses_as_with_djangos_parser():
    body = encode_multipart(BOUNDARY, {
        "csrfmiddlewaretoken": "token", "urls": "https://example.com/a.mp3\nhttps://example.com/b.wav",
        "title": "Prélude à l'après-midi 🎵", "empty": "",
        "files": [
            SimpleUploadedFile("one.wav", b"RIFF" + bytes(range(256)) * 50, "audio/wav"),
            # Almost a boundary, inside the file.
            SimpleUploadedFile("dir/two.mp3", b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n", "audio/mpeg"),
            SimpleUploadedFile("empty.flac", b"", "audio/flac"),
        ],
        "other": SimpleUploadedFile("..\\x.txt", b"text", "text/plain"),
    })
    assert described(*ours(body)) == described(*djangos(body))
    post, files = ours(body)
    assert [f.name for f in files.getlist("files")] == ["one.wav", "two.mp3", "empty.flac"]
    assert not post._mutable


@hypothesis_settings(max_examples=40, deadline=None)
@given(fields=st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=8), st.text(max_size=40), max_size=4),
       contents=st.lists(st.binary(max_size=3000), max_size=3))
def test_any_form_parses_as_with_djangos_parser(fields, contents):
    files = [SimpleUploadedFile(f"f{n}.bin", content) for n, content in enumerate(contents)]
    body = encode_multipart(BOUNDARY, {**fields, **({"files": files} if files else {})})
    assert described(*ours(body)) == described(*djangos(body))


def test_the_body_is_read_a_mebibyte_at_a_time():
    body = encode_multipart(BOUNDARY, {"files": SimpleUploadedFile("big.bin", b"x" * (3 * CHUNK))})
    stream = Stream(body)
    _, files = parse(Request(), stream, len(body), BOUNDARY.encode(), "utf-8")
    assert files["files"].size == 3 * CHUNK
    assert max(stream.reads) == CHUNK and len(stream.reads) == 4


def test_an_empty_file_input_is_left_out():
    body = encode_multipart(BOUNDARY, {"a": "1"}) .replace(
        b"--" + BOUNDARY.encode() + b"--",
        b'--' + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--" + BOUNDARY.encode() + b"--")
    post, files = ours(body)
    assert post["a"] == "1" and not files


@pytest.mark.parametrize("broken", [
    lambda body: body[:-40],  # cut off: no closing boundary
    lambda body: body.replace(b"Content-Disposition", b"Content Disposition", 1),  # bad header name
    lambda body: body.replace(b"form-data", b"attachment", 1),
    lambda body: b"garbage" + body.replace(b"\r\n", b"\n"),
])
def test_a_broken_body_is_an_error_and_leaves_no_temporary_file(temp_dir, broken):
    body = broken(encode_multipart(BOUNDARY, {"a": "1", "files": SimpleUploadedFile("x.wav", b"y" * 5000)}))
    with pytest.raises(MultiPartParserError):
        ours(body)
    assert not any(temp_dir.iterdir())


def test_a_full_disk_is_an_error_and_leaves_no_temporary_file(temp_dir, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("converter.upload_splice.os.write", full)
    body = encode_multipart(BOUNDARY, {"files": SimpleUploadedFile("x.wav", b"y" * (3 * CHUNK))})
    with pytest.raises(OSError, match="No space left"):
        ours(body)
    assert not any(temp_dir.iterdir())


def test_a_body_shorter_than_its_content_length_is_an_error(settings):
    body = encode_multipart(BOUNDARY, {"files": SimpleUploadedFile("x.wav", b"y" * 5000)})
    with pytest.raises(MultiPartParserError, match="ended before"):
        parse(Request(), io.BytesIO(body[:3000]), len(body), BOUNDARY.encode(), "utf-8")


def test_djangos_limits_on_fields_and_files_hold(settings, temp_dir):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    with pytest.raises(TooManyFieldsSent):
        ours(encode_multipart(BOUNDARY, {str(n): "v" for n in range(4)}))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    with pytest.raises(RequestDataTooBig):
        ours(encode_multipart(BOUNDARY, {"a": "v" * 101}))
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    with pytest.raises(TooManyFilesSent):
        ours(encode_multipart(BOUNDARY, {"files": [SimpleUploadedFile(f"{n}.wav", b"x") for n in range(3)]}))
    assert not any(temp_dir.iterdir())


def test_a_refused_file_keeps_the_fields_sent_after_it(settings, temp_dir):
    settings.MAX_UPLOAD_BYTES = 1000
    request = Request()
    body = encode_multipart(BOUNDARY, {"files": [SimpleUploadedFile("ok.wav", b"x" * 10),
                                                 SimpleUploadedFile("big.wav", b"x" * 5000)],
                                       "urls": "https://example.com/a.mp3", "preset": "podcast"})
    post, files = ours(body, request)
    assert request.upload_refused == "A file is larger than the limit of 0 MiB."
    assert not files and post["preset"] == "podcast" and post["urls"] == "https://example.com/a.mp3"
    assert not any(temp_dir.iterdir())


def test_the_form_answers_a_broken_body_with_400(client, alice, team):
    client.force_login(alice)
    body = encode_multipart(BOUNDARY, {"files": SimpleUploadedFile("x.wav", b"y" * 5000)})[:-40]
    response = client.generic("POST", "/", body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 400
