"""Large files spliced from gunicorn's socket into their temporary files (converter/upload_splice.py):
bodies sent over a real TCP connection and read by gunicorn's own request parser, as its workers
do, parse exactly as Django's parser parses them, and the connection stays usable for the next
request."""

import ctypes
import errno
import mmap
import os
import socket
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import LimitedStream
from django.http.multipartparser import MultiPartParserError
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from converter import upload_splice
from converter.upload_splice import SocketBody
from converter.uploads import CHUNK, parse

from .test_multipart import described, djangos

MIB = 1024 * 1024
DELIMITER = b"\r\n--" + BOUNDARY.encode()
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: test\r\n\r\n"


class Request:
    def __init__(self, meta: dict):
        self.META = meta


@pytest.fixture
def temp_dir(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


@pytest.fixture
def splices(monkeypatch) -> list[int]:
    """The number of bytes each splice_into() took from a body."""
    taken = []
    original = SocketBody.splice_into

    def counted(self, fd, limit, delimiter):
        result = original(self, fd, limit, delimiter)
        taken.append(result[0])
        return result

    monkeypatch.setattr(SocketBody, "splice_into", counted)
    return taken


def through_gunicorn(body: bytes, *, cut_at: int | None = None, then: bytes = NEXT_REQUEST,
                     timeout: float | None = None, stall: bool = False):
    """Send `body` as a POST over a loopback connection (in pieces of odd sizes, then the next
    request behind it), and parse it from gunicorn's request on the other end. Returns the parse
    and the request gunicorn reads next. cut_at: the client hangs up after that many body bytes,
    or with `stall`, goes silent with its connection open; timeout: the server socket's, as
    config/gunicorn.conf.py sets it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, address = listener.accept()
    server.settimeout(timeout)
    head = (f"POST /convert HTTP/1.1\r\nHost: test\r\nContent-Type: {MULTIPART_CONTENT}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    parsed_or_failed = threading.Event()

    def send():
        data = head + (body if cut_at is None else body[:cut_at])
        for start in range(0, len(data), 777_777):
            client.sendall(data[start:start + 777_777])
        if cut_at is None:
            client.sendall(then)
        elif stall:
            parsed_or_failed.wait()
        client.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        requests = RequestParser(Config(), server, address)
        request = next(requests)
        meta = {"gunicorn.socket": server, "wsgi.input": request.body}
        try:
            parsed = parse(Request(meta), LimitedStream(request.body, len(body)), len(body),
                           BOUNDARY.encode(), "utf-8")
        finally:
            parsed_or_failed.set()
            sender.join()
        assert request.body.read() == b""  # gunicorn knows the body is over
        following = next(requests, None)
        return parsed, following
    finally:
        client.close()
        server.close()


def random_file(name: str, size: int, *, carriage_returns: bool = True) -> SimpleUploadedFile:
    data = os.urandom(size)
    return SimpleUploadedFile(name, data if carriage_returns else data.replace(b"\r", b"\n"),
                              "application/octet-stream")


def test_a_large_file_between_fields_is_spliced_and_parses_as_with_djangos_parser(temp_dir, splices):
    body = encode_multipart(BOUNDARY, {"csrfmiddlewaretoken": "token", "files": random_file("a.wav", 9 * MIB),
                                       "channels": "mono", "title": "é" * 1000})
    parsed, following = through_gunicorn(body)
    assert described(*parsed) == described(*djangos(body))
    assert splices and sum(splices) > 4 * MIB  # most of the file went through the kernel
    assert (following.method, following.path) == ("GET", "/next")


def test_several_large_files_end_where_each_does(temp_dir, splices):
    # No CR in the files: a chunk whose last bytes hold one may begin a delimiter, and the parser
    # reads the next chunk itself before splicing (uploads._parser_holds_nothing). With random bytes
    # that was one chunk in five, and with the last 4 MiB never spliced (SPLICE_AT_LEAST), the sum
    # below hung on the draw: 8.1 MiB once in a clean-clone run.
    files = [random_file(f"{n}.flac", size, carriage_returns=False)
             for n, size in enumerate((5 * MIB, 7 * MIB + 3, 6 * MIB - 1))]
    body = encode_multipart(BOUNDARY, {"files": files, "after": "kept"})
    parsed, following = through_gunicorn(body)
    assert described(*parsed) == described(*djangos(body))
    # Most bytes went through the kernel. How many splices that takes varies: one may run on past
    # a file's end into the next files (the search finds each delimiter after it); ">= 2 splices"
    # failed once in a loaded suite.
    assert sum(splices) > 9 * MIB and following.path == "/next"


@pytest.mark.parametrize("window", [upload_splice.WINDOW, mmap.PAGESIZE])  # one map; one per page
@pytest.mark.parametrize("offset", [-len(DELIMITER) - 1, -len(DELIMITER) // 2, -1, 0, 1])
def test_the_search_finds_a_delimiter_cut_by_its_steps_or_windows_and_not_an_almost_delimiter(
        tmp_path, monkeypatch, window, offset):
    """The file is searched step by step as it is written, through windows of it mapped one after
    another: a delimiter cut in two by a step or a window is still found, at its start; one short
    of its last byte is file content."""
    monkeypatch.setattr(upload_splice, "WINDOW", window)
    content = bytearray(os.urandom(3 * upload_splice.STEP))
    almost = DELIMITER[:-1] + b"\r\n"
    content[100:100 + len(almost)] = almost
    at = upload_splice.STEP + offset
    content[at:at + len(DELIMITER)] = DELIMITER
    path = tmp_path / "file"
    with path.open("w+b") as file:  # as Django's temporary upload files are
        search = upload_splice._Search(file.fileno(), 10, DELIMITER)
        found = None
        for begin in range(0, len(content), upload_splice.STEP):
            file.write(content[begin:begin + upload_splice.STEP])
            file.flush()
            found = found or search.up_to(min(begin + upload_splice.STEP, len(content)))
        search.close()
    assert found == at


def test_nothing_is_spliced_while_the_parser_holds_back_a_possible_delimiter(temp_dir, splices):
    """The first chunk the parser reads ends in the start of a delimiter: the parser keeps it
    back, so the bytes that follow must pass through it too, not go to the file before them."""
    content = bytearray(os.urandom(9 * MIB))
    body = encode_multipart(BOUNDARY, {"files": SimpleUploadedFile("x.bin", bytes(content))})
    start = body.index(content[:64])
    content[CHUNK - start - 10:CHUNK - start] = DELIMITER[:10]
    body = encode_multipart(BOUNDARY, {"files": SimpleUploadedFile("x.bin", bytes(content))})
    parsed, _ = through_gunicorn(body)
    assert described(*parsed) == described(*djangos(body))
    assert splices


def test_a_file_just_under_the_limit_ends_where_its_delimiter_starts(settings, temp_dir, splices):
    """Splicing stops at the limit, 5 bytes into the delimiter after the file: those bytes go back
    to the parser, which finds the delimiter and the file whole."""
    settings.MAX_UPLOAD_BYTES = 8 * MIB
    body = encode_multipart(BOUNDARY, {"files": random_file("x.wav", 8 * MIB - 5), "after": "kept"})
    parsed, _ = through_gunicorn(body)
    assert described(*parsed) == described(*djangos(body))
    assert splices


def test_an_oversized_spliced_file_is_refused_and_the_fields_after_it_kept(settings, temp_dir):
    settings.MAX_UPLOAD_BYTES = 6 * MIB
    body = encode_multipart(BOUNDARY, {"files": random_file("big.wav", 20 * MIB), "channels": "mono"})
    (post, files), following = through_gunicorn(body)
    assert post["channels"] == "mono" and not files and following.path == "/next"
    assert not any(temp_dir.iterdir())


def test_a_client_that_hangs_up_mid_file_leaves_no_temporary_file(temp_dir):
    body = encode_multipart(BOUNDARY, {"files": random_file("big.wav", 12 * MIB)})
    with pytest.raises(MultiPartParserError, match="ended before"):
        through_gunicorn(body, cut_at=7 * MIB)
    assert not any(temp_dir.iterdir())


def test_other_servers_and_non_blocking_sockets_parse_in_python():
    plain = socket.socket()
    try:
        assert SocketBody.of({}) is None
        assert SocketBody.of({"gunicorn.socket": plain, "wsgi.input": object()}) is None
        plain.setblocking(False)
        assert SocketBody.of({"gunicorn.socket": plain, "wsgi.input": object()}) is None
    finally:
        plain.close()


def test_a_socket_with_a_timeout_is_spliced_too(temp_dir, splices):
    """config/gunicorn.conf.py gives every request's socket a timeout: its descriptor is then
    non-blocking, and the splice waits for data in poll()."""
    body = encode_multipart(BOUNDARY, {"files": random_file("a.wav", 9 * MIB), "after": "kept"})
    parsed, following = through_gunicorn(body, timeout=30)
    assert described(*parsed) == described(*djangos(body))
    assert splices and sum(splices) > 4 * MIB and following.path == "/next"


@pytest.mark.parametrize("stall_at", [200, 7 * MIB])  # in the part's headers (read in Python); spliced
def test_a_client_that_stalls_mid_file_is_a_bad_request_and_leaves_no_temporary_file(temp_dir, stall_at):
    body = encode_multipart(BOUNDARY, {"files": random_file("big.wav", 12 * MIB)})
    with pytest.raises(MultiPartParserError, match="stalled"):
        through_gunicorn(body, cut_at=stall_at, stall=True, timeout=0.5)
    assert not any(temp_dir.iterdir())


def test_a_pipe_that_cannot_grow_still_splices(temp_dir, splices, monkeypatch):
    """Above fs.pipe-max-size (1 MiB unless an administrator lowered it) the pipe keeps 64 KiB."""
    def refused(fd, command, argument):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(upload_splice.fcntl, "fcntl", refused)
    # 12 MiB: a chunk of random bytes ends in a CR, where the splice may not start, one time in 13;
    # with 6 MiB (two chances) the test failed about once in 180 runs.
    body = encode_multipart(BOUNDARY, {"files": random_file("a.wav", 12 * MIB), "after": "kept"})
    parsed, _ = through_gunicorn(body)
    assert described(*parsed) == described(*djangos(body)) and splices


def test_a_temporary_folder_that_cannot_be_mapped_parses_in_python(temp_dir, splices, monkeypatch):
    """Some network file systems refuse mmap(): the boundary search cannot read the file where
    the kernel writes it, so nothing is spliced and the body is parsed in Python, whole."""
    def refused(*args):
        ctypes.set_errno(errno.ENODEV)
        return upload_splice._MAP_FAILED

    monkeypatch.setattr(upload_splice._libc, "mmap", refused)
    body = encode_multipart(BOUNDARY, {"files": random_file("a.wav", 9 * MIB), "after": "kept"})
    parsed, following = through_gunicorn(body)
    assert described(*parsed) == described(*djangos(body))
    assert splices == [0] and following.path == "/next"
