"""Streaming an api2convert output through: upstream trouble, and the transport
(http_stream.py) keeping what httpx did: whole bodies, closed connections, redirects, TLS, proxies."""

import base64
import contextlib
import datetime
import os
import select
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from converter.models import JobOutput
from converter.providers.api2convert import http_stream
from converter.services.downloads import output_response
from tests.fake_api2convert import FakeApi2convert
from tests.providers.conftest import run_job


def _get(output, **headers):
    request = RequestFactory().get("/", headers=headers)
    request.session = SessionStore()
    return output_response(request, output)


def _completed_output(make_job, scheduled) -> JobOutput:
    job = make_job()
    run_job(job, scheduled)
    return job.outputs.get()


def test_expired_output_is_410_and_remembered(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.expire_outputs = True
    response = _get(output)
    assert response.status_code == 410 and b"expired at api2convert" in response.content
    output.refresh_from_db()
    assert output.status == JobOutput.Status.EXPIRED
    calls = len(fake.calls("GET", "/dl/"))
    assert _get(output).status_code == 410 and len(fake.calls("GET", "/dl/")) == calls  # not asked again


def test_outputs_reported_expired_by_the_api_are_stored_so(fake, make_job, scheduled):
    fake.expire_outputs = True
    output = _completed_output(make_job, scheduled)
    assert output.status == JobOutput.Status.EXPIRED


def test_upstream_5xx_and_unreachable_are_502(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 503)
    response = _get(output)
    assert response.status_code == 502 and b"try again" in response.content
    output.remote_uri = "http://127.0.0.1:9/gone.flac"
    assert _get(output).status_code == 502


def test_429_passes_retry_after_on(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 429, headers={"Retry-After": "30"})
    response = _get(output)
    assert response.status_code == 429 and response["Retry-After"] == "30"


def test_connection_reset_mid_download_ends_the_stream_short(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.reset_download_after = 100
    response = _get(output)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # no exception escapes into the server
    assert body.startswith(b"fLaC") and len(body) < int(response["Content-Length"])


def test_the_password_header_does_not_follow_a_redirect_to_another_host(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    other_origin = output.remote_uri.replace("127.0.0.1", "localhost")
    fake.script("GET", "/dl/", 302, headers={"Location": other_origin})
    response = _get(output, **{"X-Api2convert-Download-Password": "pw"})
    assert response.status_code == 200
    first, second = fake.calls("GET", "/dl/")[-2:]
    header = "X-Api2convert-Download-Password"
    assert first[header] == "pw" and header not in second


# --- the transport (http_stream): bodies, closing, redirects, TLS, proxies --------------------


@pytest.fixture
def sockets(monkeypatch) -> list[socket.socket]:
    """Every socket the proxy connected, to check that each one is closed in the end."""
    opened: list[socket.socket] = []
    real_connect = http_stream._connect

    def connect(connection, retries):
        real_connect(connection, retries)
        opened.append(connection.sock)

    monkeypatch.setattr(http_stream, "_connect", connect)
    return opened


def _all_closed(opened: list[socket.socket]) -> bool:
    return bool(opened) and all(sock.fileno() == -1 for sock in opened)


def _big_output(fake, make_job, scheduled, size: int) -> tuple[JobOutput, bytes]:
    """A completed output whose file at the fake server is size random bytes."""
    output = _completed_output(make_job, scheduled)
    data = os.urandom(size)
    fake.jobs[output.job.remote_id].outputs[0]["path"].write_bytes(data)
    return output, data


def test_a_large_body_arrives_intact_in_blocks_of_at_most_a_mib(fake, make_job, scheduled, sockets):
    output, data = _big_output(fake, make_job, scheduled, 5 * http_stream.CHUNK + 12345)
    response = _get(output)
    assert response.status_code == 200 and response["Content-Length"] == str(len(data))
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == data and max(map(len, chunks)) <= http_stream.CHUNK
    response = _get(output, Range=f"bytes=1000-{3 * http_stream.CHUNK}")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == data[1000:3 * http_stream.CHUNK + 1]
    assert _all_closed(sockets) and len(sockets) == 2


def test_the_upstream_connection_is_closed_when_the_client_goes_away(fake, make_job, scheduled, sockets):
    output, data = _big_output(fake, make_job, scheduled, 8 * http_stream.CHUNK)
    response = _get(output)
    first = next(iter(response.streaming_content))
    assert data.startswith(first) and len(first) < len(data)
    assert not _all_closed(sockets)
    response.close()  # what the WSGI server does when the browser disconnects
    assert _all_closed(sockets)


def test_answers_without_a_body_to_pass_on_close_the_connection(fake, make_job, scheduled, sockets):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 503)
    assert _get(output).status_code == 502
    assert _get(output, Range="bytes=999999999-").status_code == 416
    fake.script("GET", "/dl/", 302, headers={"Location": output.remote_uri})
    response = _get(output)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"fLaC")
    assert _all_closed(sockets) and len(sockets) == 4  # the redirect's connection too


def test_what_is_sent_upstream_and_passed_back(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    passed = {"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2026 00:00:00 GMT", "Content-Encoding": "gzip",
              "Accept-Ranges": "bytes", "Content-Range": "bytes 0-2/3"}
    fake.script("GET", "/dl/", 206, body=b"abc", headers={**passed, "X-Other": "not passed"})
    response = _get(output, Range="bytes=0-2", **{"X-Api2convert-Download-Password": "pw"})
    assert response.status_code == 206 and b"".join(response.streaming_content) == b"abc"
    assert {name: response[name] for name in passed} == passed and not response.has_header("X-Other")
    sent = fake.calls("GET", "/dl/")[-1]
    assert sent["Accept-Encoding"] == "identity" and sent["Range"] == "bytes=0-2"
    assert sent["X-Api2convert-Download-Password"] == "pw"


@pytest.mark.parametrize("redirects, status", [(5, 200), (6, 502)])
def test_at_most_five_redirects_are_followed(fake, make_job, scheduled, redirects, status):
    output = _completed_output(make_job, scheduled)
    before = len(fake.calls("GET", "/dl/"))
    fake.script("GET", "/dl/", 302, headers={"Location": output.remote_uri}, times=redirects)
    assert _get(output).status_code == status
    assert len(fake.calls("GET", "/dl/")) - before == 6


def test_a_same_origin_redirect_keeps_the_password_header(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 307, headers={"Location": urlsplit(output.remote_uri).path})  # relative
    assert _get(output, **{"X-Api2convert-Download-Password": "pw"}).status_code == 200
    first, second = fake.calls("GET", "/dl/")[-2:]
    assert first["X-Api2convert-Download-Password"] == second["X-Api2convert-Download-Password"] == "pw"


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "ftp://127.0.0.1/x.flac", "gopher://127.0.0.1:70/",
                                 "http:///no-host", "http://127.0.0.1:99999/x", "//127.0.0.1/x.flac",
                                 "http://user:pw@127.0.0.1/x.flac"])
def test_only_http_and_https_urls_are_fetched(fake, make_job, scheduled, uri):
    output = _completed_output(make_job, scheduled)
    output.remote_uri = uri
    assert _get(output).status_code == 502


def test_a_redirect_to_another_scheme_is_not_followed(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 302, headers={"Location": "file:///etc/passwd"})
    assert _get(output).status_code == 502


def test_failed_connects_are_retried_twice_with_backoff(fake, make_job, scheduled, monkeypatch):
    output = _completed_output(make_job, scheduled)
    pauses: list[float] = []
    monkeypatch.setattr(http_stream, "pause", pauses.append)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        output.remote_uri = f"http://127.0.0.1:{unused.getsockname()[1]}/dl/x"  # bound, not listening
        assert _get(output).status_code == 502
    assert pauses == [0, 0.5]


@contextmanager
def _raw_server(answer: bytes, *, then_wait: float = 0):
    """Answers each connection with these bytes (status line, headers, part of a body), waits,
    then closes it gracefully: a server that promised more than it sends."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(answer)
                    time.sleep(then_wait)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/dl/x"
    finally:
        listener.close()


HEAD_1000 = b"HTTP/1.1 200 OK\r\nContent-Type: audio/flac\r\nContent-Length: 1000\r\n\r\n"


@pytest.mark.parametrize("then_wait, reason", [(0, "ended after 4 of 1000 bytes"), (3, "TimeoutError")])
def test_a_body_cut_short_or_stalled_ends_the_stream_short_and_is_logged(fake, make_job, scheduled, settings,
                                                                       caplog, sockets, then_wait, reason):
    output = _completed_output(make_job, scheduled)
    settings.API2CONVERT_TIMEOUT = 0.5
    with _raw_server(HEAD_1000 + b"fLaC", then_wait=then_wait) as uri:
        output.remote_uri = uri
        response = _get(output)
        assert response.status_code == 200 and response["Content-Length"] == "1000"
        assert b"".join(response.streaming_content) == b"fLaC"
    assert "api2convert download broke off" in caplog.text and reason in caplog.text
    assert _all_closed(sockets)


def _certificate(tmp_path: Path, host: str) -> tuple[Path, Path, str]:
    """A self-signed certificate for host: (certificate file, key file, PEM to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    (cert_file := tmp_path / "cert.pem").write_text(pem)
    (key_file := tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file, pem


@pytest.fixture
def tls_fake(fake, tmp_path):
    """The fake's jobs served over https with a self-signed certificate for localhost:
    (server, the certificate's PEM)."""
    cert_file, key_file, pem = _certificate(tmp_path, "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = FakeApi2convert()
    server._server.socket = context.wrap_socket(server._server.socket, server_side=True)
    server.jobs = fake.jobs
    server.start()
    yield server, pem
    server.stop()


def _over_tls(output: JobOutput, tls, host: str = "localhost") -> None:
    netloc = f"{host}:{tls._server.server_address[1]}"
    output.remote_uri = urlsplit(output.remote_uri)._replace(scheme="https", netloc=netloc).geturl()


def test_https_downloads_verify_the_certificate(fake, tls_fake, make_job, scheduled, monkeypatch, sockets):
    tls, pem = tls_fake
    output, data = _big_output(fake, make_job, scheduled, 3 * http_stream.CHUNK + 7)
    _over_tls(output, tls)
    assert _get(output).status_code == 502  # self-signed: not trusted by default
    monkeypatch.setattr(http_stream, "ssl_context", lambda: ssl.create_default_context(cadata=pem))
    response = _get(output)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    _over_tls(output, tls, host="127.0.0.1")
    assert _get(output).status_code == 502  # trusted, but issued to another name
    assert _all_closed(sockets)


class _Proxy:
    """An HTTP proxy on 127.0.0.1: forwards absolute-form requests and tunnels CONNECT; keeps
    each request's head."""

    def __init__(self):
        self.heads: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket):
        with client, contextlib.suppress(OSError):
            data = b""
            while b"\r\n\r\n" not in data:
                data += client.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            self.heads.append(head)
            method, where, version = head.split(b"\r\n")[0].split(b" ")
            if method == b"CONNECT":
                host, port = where.decode().rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                upstream.sendall(rest)
            else:
                parts = urlsplit(where.decode())
                upstream = socket.create_connection((parts.hostname, parts.port))
                upstream.sendall(b" ".join([method, parts.path.encode(), version])
                                 + data[data.index(b"\r\n"):])
            with upstream:
                while True:
                    for ready in select.select([client, upstream], [], [], 10)[0] or [None]:
                        chunk = ready.recv(1 << 20) if ready else b""
                        if not chunk:
                            return
                        (upstream if ready is client else client).sendall(chunk)

    def close(self):
        self.listener.close()


@pytest.fixture
def proxy():
    server = _Proxy()
    yield server
    server.close()


def test_http_downloads_go_through_the_environments_proxy(fake, make_job, scheduled, monkeypatch, proxy):
    output, data = _big_output(fake, make_job, scheduled, 2 * http_stream.CHUNK + 3)
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("://", "://user:p%40ss@"))
    response = _get(output)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert proxy.heads[0].startswith(f"GET {output.remote_uri} HTTP/1.1".encode())
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"user:p@ss") in proxy.heads[0]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _get(output).status_code == 200 and len(proxy.heads) == 1


def test_https_downloads_tunnel_through_the_environments_proxy(fake, tls_fake, make_job, scheduled,
                                                               monkeypatch, proxy):
    tls, pem = tls_fake
    output, data = _big_output(fake, make_job, scheduled, 2 * http_stream.CHUNK + 3)
    _over_tls(output, tls)
    monkeypatch.setattr(http_stream, "ssl_context", lambda: ssl.create_default_context(cadata=pem))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    response = _get(output)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert proxy.heads[0].startswith(f"CONNECT localhost:{tls._server.server_address[1]} ".encode())
