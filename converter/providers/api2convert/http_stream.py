"""One streaming GET over the standard library's http.client, for the download proxy.

Why not httpx here: the proxy's whole cost is moving bytes, and httpx (httpcore + h11) reads
64 KiB at a time, copies each read into h11's receive buffer and out again, and runs a dozen
Python frames and context managers per chunk. Measured on 512 MiB from the fake api2convert
server: read in isolation, httpx `iter_raw()` 727-750 MiB/s for 0.37-0.39 s of CPU, against
`HTTPResponse.read1(1 MiB)` 1041 MiB/s for 0.13 s (the server is the limit there); through
gunicorn (bench/downloads.py), the worker spent 0.62 s of CPU and ~5,600 context switches with
httpx (py-spy: 23 % of its request thread in httpx/httpcore/h11 and contextlib), 0.22 s and
~500 with this; the proxied download went from 0.47-0.58x to 0.82-0.87x of a direct one
(one-minute load 0.8-1.6; 1 GiB: 0.86x). read1() hands over what one recv() brought, up to
1 MiB, in a bytes object the socket wrote into (no copy in Python), and gunicorn sends it with
one sendall(). What is left in the worker is the kernel's two copies (recv and send).

What httpx did for us and this module keeps: http and https only, certificates verified with
httpx's own trust (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), the environment's HTTP(S)_PROXY /
ALL_PROXY / NO_PROXY (http:// proxies), retries of failed connects only (no byte has been sent)
with httpcore's backoff, the timeout on connect and on every read, and a short body reported as
an error. Redirects are not followed here: the caller decides which headers may follow one.
"""

from __future__ import annotations

import base64
import functools
import http.client
import time
import urllib.request
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

import httpx

CHUNK = 1024 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
# Sent with every request, as httpx sent its own (some front ends refuse requests without one).
DEFAULT_HEADERS = {"Accept": "*/*", "User-Agent": "flacconv-download/1"}
# Characters left as they are in the request target; others are percent-encoded, as httpx does.
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"


class TransportError(Exception):
    """The GET failed: a URL that is not http(s), connect, TLS, timeout, protocol, short body."""


class Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str  # the request target: path and query, percent-encoded

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def target(url: str) -> Target:
    """url checked and split: only http and https URLs with a host and without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is not a number in range
    except ValueError as exc:
        raise TransportError(f"not a valid URL: {exc}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise TransportError(f"not an http(s) URL (scheme {parts.scheme!r})")
    if parts.username is not None or parts.password is not None:
        raise TransportError("credentials in the URL are not sent")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise TransportError("not a valid host name") from None
    path = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_TARGET_SAFE)
    return Target(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme], path)


@functools.cache
def ssl_context():
    """The context httpx (and so the api2convert SDK) would use: certificates verified. Built
    once per process: loading the CA bundle takes milliseconds, and a context is shared safely."""
    return httpx.create_ssl_context()


def _proxy(url: Target) -> tuple[Target, dict] | None:
    """The environment's proxy for url (as httpx's trust_env) and the headers it needs (its
    credentials), or None to go direct."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(url.authority, proxies):
        return None
    proxy = proxy if "://" in proxy else f"http://{proxy}"
    parts = urlsplit(proxy)
    if parts.scheme != "http":
        raise TransportError(f"unsupported proxy scheme {parts.scheme!r}")
    headers = {}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    return target(parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()), headers


def _connection(url: Target, timeout: float) -> tuple[http.client.HTTPConnection, str, dict]:
    """A connection for url, the request target to send on it (absolute to a forward proxy) and
    the headers to add to the request."""
    found = _proxy(url)
    host, port = (url.host, url.port) if found is None else (found[0].host, found[0].port)
    if url.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    if found is None:
        return connection, url.path, {}
    if url.scheme == "https":  # a CONNECT tunnel; the certificate checked is still url's
        connection.set_tunnel(url.host, url.port, headers=found[1])
        return connection, url.path, {}
    return connection, f"http://{url.authority}{url.path}", found[1]


def pause(seconds: float) -> None:
    time.sleep(seconds)


def _connect(connection: http.client.HTTPConnection, retries: int) -> None:
    """Connect (and handshake), retrying failures as httpcore does: after 0 s, 0.5 s, 1 s..."""
    for attempt in range(retries + 1):
        try:
            connection.connect()
            return
        except OSError:  # refused, unreachable, DNS, timeout, TLS (ssl.SSLError is an OSError)
            connection.close()
            if attempt == retries:
                raise
            pause(0.5 * 2 ** (attempt - 1) if attempt else 0)


class Upstream:
    """An answer whose headers have been read; the body is read by chunks(). Close it."""

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse):
        self._connection, self._response = connection, response
        self.status = response.status
        self.length = response.length  # Content-Length; None when chunked or until close

    def header(self, name: str) -> str | None:
        values = self._response.headers.get_all(name)
        return ", ".join(values) if values else None

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECTS and bool(self.header("Location"))

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives: each chunk is what one recv() returned, up to CHUNK bytes
        (read1: what has arrived is passed on at once, never held back to fill a block). A
        connection that breaks or ends before Content-Length raises TransportError."""
        received = 0
        try:
            while chunk := self._response.read1(CHUNK):
                received += len(chunk)
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc} after {received} bytes") from exc
        if self.length is not None and received < self.length:
            raise TransportError(f"the connection ended after {received} of {self.length} bytes")

    def close(self) -> None:
        self._response.close()
        self._connection.close()


def get(url: str, headers: dict[str, str], *, timeout: float, connect_retries: int) -> Upstream:
    """GET url with headers (and Host and DEFAULT_HEADERS; values are sent as UTF-8) and read the
    answer's status and headers. Raises TransportError."""
    where = target(url)
    connection = None
    try:
        connection, request_target, extra = _connection(where, timeout)
        _connect(connection, connect_retries)
        connection.request("GET", request_target,
                           headers={name: value.encode()
                                    for name, value in {**DEFAULT_HEADERS, **headers, **extra}.items()})
        return Upstream(connection, connection.getresponse())
    except BaseException as exc:
        if connection is not None:
            connection.close()
        # OSError: network and TLS; HTTPException: a bad answer or URL; ValueError: a header
        # value http.client refuses (a line break).
        if isinstance(exc, OSError | http.client.HTTPException | ValueError):
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        raise
