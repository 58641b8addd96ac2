"""The whole upload path as `make run` serves it: a large file posted to the convert form of a
real gunicorn (config/gunicorn.conf.py), its bytes spliced from the socket into the temporary
file (converter/upload_splice.py), the options sent after the file still read, and the job
converted by a real worker; a client that stalls mid-upload is answered 400 and frees its thread,
and so does one that stalls halfway through its headers."""

import hashlib
import http.client
import os
import re
import socket
import urllib.request
from pathlib import Path

import mutagen.flac
import pytest
from django.test import Client

from converter.models import Job
from tests import media
from tests.live.gunicorn import gunicorn_running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live")]

CSRF = "livecsrftoken0123456789abcdefghi"  # 32 letters and digits: a valid unmasked secret
CLIENT_TIMEOUT = 3  # seconds (config/gunicorn.conf.py; 60 by default)


@pytest.fixture
def web(worker_env, tmp_path):
    """gunicorn on the test database and the live worker's media, logging at DEBUG."""
    log = tmp_path / "gunicorn.log"
    with gunicorn_running({**worker_env, "LOG_LEVEL": "DEBUG", "CLIENT_TIMEOUT": str(CLIENT_TIMEOUT)},
                          log) as server:
        yield server.port, log


def _field(boundary: str, name: str, value: str) -> bytes:
    return f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()


def signed_in_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}"


def start_form_post(port: int, cookie: str, boundary: str, filename: str,
                    after_head: int) -> http.client.HTTPConnection:
    """The convert form's POST as a browser starts it: its headers, then the token and the file
    part's head sent; the caller sends the `after_head` bytes that follow (the file, then fields)."""
    head = _field(boundary, "csrfmiddlewaretoken", CSRF) + (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n"
        "Content-Type: audio/wav\r\n\r\n").encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.putrequest("POST", "/")
    for name, value in {"Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Content-Length": str(len(head) + after_head),
                        "Referer": f"http://127.0.0.1:{port}/"}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(head)
    return connection


def post_form(port: int, cookie: str, wav: Path, after_file: dict) -> http.client.HTTPResponse:
    """The convert form as a browser posts it: the token, the file in 1 MiB writes, then fields."""
    boundary = "----live" + os.urandom(8).hex()
    tail = b"\r\n" + b"".join(_field(boundary, name, value) for name, value in after_file.items())[:-2]
    tail += f"\r\n--{boundary}--\r\n".encode()
    connection = start_form_post(port, cookie, boundary, wav.name, wav.stat().st_size + len(tail))
    with wav.open("rb") as source:
        while block := source.read(1024 * 1024):
            connection.send(block)
    connection.send(tail)
    return connection.getresponse()


def test_a_large_upload_is_spliced_and_converted_with_the_options_sent_after_it(
        web, worker, live_settings, alice, team, tmp_path):
    port, log = web
    wav = media.tone(tmp_path / "long take.wav", seconds=40.0)  # 6.7 MiB: past SPLICE_AT_LEAST
    response = post_form(port, signed_in_cookie(alice), wav, {"frequency": "22050", "channels": "mono"})

    assert response.status == 302, response.read()[:2000]
    job_id = re.search(r"/jobs/([0-9a-f-]{36})/", response.getheader("Location")).group(1)
    spliced = [int(n) for n in re.findall(rb"upload: (\d+) bytes spliced", log.read_bytes())]
    assert spliced and sum(spliced) > wav.stat().st_size // 2  # most of the file skipped Python
    job = worker.wait_for(Job.objects.get(pk=job_id))
    assert job.status == Job.Status.COMPLETED, job.errors
    (stored,) = job.inputs.all()
    assert stored.filename == "long take.wav" and stored.size == wav.stat().st_size
    assert hashlib.sha256(Path(stored.file.path).read_bytes()).digest() == \
        hashlib.sha256(wav.read_bytes()).digest()
    info = mutagen.flac.FLAC(job.outputs.get().file.path).info
    assert (info.sample_rate, info.channels) == (22050, 1)
    assert info.length == pytest.approx(40.0, abs=0.01)


def test_a_client_that_stalls_mid_upload_gets_a_400_and_the_server_stays_free(web, alice, team):
    port, log = web
    connection = start_form_post(port, signed_in_cookie(alice), "----stall", "a.wav", 8 * 1024 * 1024)
    connection.send(os.urandom(5 * 1024 * 1024))  # then nothing, the connection kept open
    response = connection.getresponse()
    assert response.status == 400  # after CLIENT_TIMEOUT seconds without a byte
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
        assert health.status == 200


def test_clients_that_stall_in_their_headers_are_dropped_and_free_every_thread(web):
    """More such clients than the worker has threads (config/gunicorn.conf.py: 8); the server
    answers again once CLIENT_TIMEOUT has passed, and has closed each of them."""
    port, log = web
    stalled = []
    for _ in range(9):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: unfinished
        stalled.append(client)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as health:
        assert health.status == 200
    for client in stalled:
        client.settimeout(30)
        with client:
            assert client.recv(1) == b""  # closed by the server, not answered
    logged = log.read_text(errors="replace")
    assert logged.count(f"A client sent no byte for {CLIENT_TIMEOUT} s") == 9 and "Traceback" not in logged


def test_a_chunked_body_is_refused_by_name_not_read_as_empty(web):
    """gunicorn passes a chunked body on without a Content-Length, and Django reads such a body
    as empty: the API said "The JSON body is empty." for a body it had been sent."""
    port, _log = web
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = iter([b'{"conversion": [{"target": "flac"}],', b' "process": false}'])
    connection.request("POST", "/v2/jobs", body=body, encode_chunked=True,
                       headers={"Content-Type": "application/json", "X-Api2convert-Api-Key": "x"})
    response = connection.getresponse()
    assert response.status == 411
    assert b"Content-Length" in response.read()
    # With a length, the same request reaches the API (which then checks the key).
    connection.request("POST", "/v2/jobs", body=b'{"conversion": [{"target": "flac"}]}',
                       headers={"Content-Type": "application/json", "X-Api2convert-Api-Key": "x"})
    assert connection.getresponse().status == 401
