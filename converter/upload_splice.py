"""An uploaded file's bytes moved from the client's socket into its temporary file by the kernel
(splice(2)), while a second thread finds where the file ends.

Storing an upload through Python costs a copy out of the socket into a bytes object, a boundary
search in it and a copy into the page cache. Spliced, the bytes go from the socket's buffers to
the page cache in one copy, without the GIL, and the boundary search runs beside it on the bytes
already in the file. Measured on a 1 GiB upload through the convert form under gunicorn, in one
hour: 1.0-1.2 GiB/s read and parsed in Python, 1.5-1.9 GiB/s spliced, against 2.9-3.5 GiB/s for a
sink that drops the body (docs/performance.md).

A socket with a timeout (config/gunicorn.conf.py sets one, against clients that stall) has a
non-blocking descriptor underneath: a splice that finds nothing waits in poll() up to that long,
then raises TimeoutError, as a read of the socket would.

Only under gunicorn, on Linux, over a plain socket, for a body of known length: SocketBody.of()
answers None for anything else (runserver, the test client, TLS, chunked bodies) and the body is
parsed in Python as before. Taking over the socket means taking gunicorn's read-ahead and
telling its reader how much of the body is gone: Unreader.take_buffered() and
LengthReader.length, gunicorn's own names (requirements.txt keeps it to release 27;
tests/web/test_upload_splice.py runs gunicorn's reader classes over a real socket).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import queue
import select
import socket
import threading

from gunicorn.http.body import Body, LengthReader

STEP = 1024 * 1024  # bytes per splice() call, and the pipe's capacity
F_SETPIPE_SZ = 1031  # fcntl's number for a pipe's capacity (Linux), not in Python's fcntl module
# Steps the boundary search may fall behind the splicing before the splicing waits. What was
# spliced past a delimiter comes back to the parser through memory: at most this many steps, and one.
SCAN_BEHIND = 8

# glibc's memmem, called through ctypes so that the search runs without the GIL (bytes.find holds
# it, and the splicing thread needs it between its calls); it is also twice as fast here (~10 GiB/s).
_libc = ctypes.CDLL(None, use_errno=True)
_memmem = getattr(_libc, "memmem", None)
if _memmem is not None:
    _memmem.restype = ctypes.c_void_p
    _memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]


class SocketBody:
    """The rest of a request body, read straight from gunicorn's client socket."""

    def __init__(self, sock: socket.socket, reader: LengthReader):
        self.socket = sock
        self.reader = reader

    @classmethod
    def of(cls, meta: dict) -> SocketBody | None:
        sock, body = meta.get("gunicorn.socket"), meta.get("wsgi.input")
        if _memmem is None or not hasattr(os, "splice") or type(sock) is not socket.socket \
                or sock.gettimeout() == 0 or not isinstance(body, Body) \
                or not isinstance(body.reader, LengthReader) \
                or not hasattr(body.reader.unreader, "take_buffered"):
            return None
        return cls(sock, body.reader) if body.buf.tell() == 0 else None

    def splice_into(self, fd: int, limit: int, delimiter: bytes) -> tuple[int, bytes]:
        """Move up to `limit` bytes of the body to `fd` at its position, stopping soon after the
        delimiter shows up in them. Returns how many bytes were taken from the body, and the
        taken bytes that still need parsing, cut off the file again: from the delimiter on, or
        else the last len(delimiter) + 1 bytes, where a delimiter may begin and its end follow.
        """
        start = os.lseek(fd, 0, os.SEEK_CUR)
        scanner = _Scanner(fd, start, delimiter)
        taken = 0
        try:
            held = self.reader.unreader.take_buffered()  # gunicorn's read-ahead comes first
            if len(held) > limit:
                self.reader.unreader.unread(held[limit:])
                held = held[:limit]
            if held:
                write_all(fd, held)
                scanner.scan(start, start + len(held))
                taken = len(held)
            read_end, write_end = os.pipe()
            try:
                with contextlib.suppress(OSError):  # above fs.pipe-max-size: the default 64 KiB
                    fcntl.fcntl(write_end, F_SETPIPE_SZ, STEP)
                while taken < limit and scanner.found is None:
                    moved = self._from_socket(write_end, min(STEP, limit - taken))
                    if not moved:  # the client went away: the parser reports the short body
                        break
                    pending = moved
                    while pending:
                        pending -= os.splice(read_end, fd, pending)
                    scanner.scan(start + taken, start + taken + moved)
                    taken += moved
            finally:
                os.close(read_end)
                os.close(write_end)
        finally:
            self.reader.length -= taken
            scanner.close()
        if scanner.error is not None:
            raise scanner.error
        end = start + taken
        cut = scanner.found if scanner.found is not None else max(start, end - len(delimiter) - 1)
        tail = os.pread(fd, end - cut, cut)
        os.ftruncate(fd, cut)
        os.lseek(fd, cut, os.SEEK_SET)
        return taken, tail


    def _from_socket(self, pipe: int, count: int) -> int:
        """splice() up to `count` bytes from the socket; 0 when the client has gone."""
        while True:
            try:
                return os.splice(self.socket.fileno(), pipe, count)
            except BlockingIOError:  # a socket with a timeout: wait for data up to that long
                waiting = select.poll()
                waiting.register(self.socket.fileno(), select.POLLIN)
                if not waiting.poll(self.socket.gettimeout() * 1000):
                    raise TimeoutError("timed out") from None


def write_all(fd: int, data: bytes) -> None:
    """os.write until all of data is written (a write may take only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Scanner:
    """A thread that searches the file's new bytes for the delimiter, range by range as they are
    written. Ranges overlap by len(delimiter) - 1 bytes, so that one cut in two is found too."""

    def __init__(self, fd: int, start: int, delimiter: bytes):
        self.fd, self.start, self.delimiter = fd, start, delimiter
        self.found: int | None = None
        self.error: OSError | None = None
        self.ranges: queue.Queue[tuple[int, int] | None] = queue.Queue(maxsize=SCAN_BEHIND)
        self.buffer = bytearray(STEP + len(delimiter))
        self.address = ctypes.addressof(ctypes.c_char.from_buffer(self.buffer))
        self.thread = threading.Thread(target=self._run, name="upload-scanner", daemon=True)
        self.thread.start()

    def scan(self, begin: int, end: int) -> None:
        if self.error is not None:
            raise self.error
        self.ranges.put((begin, end))

    def close(self) -> None:
        self.ranges.put(None)
        self.thread.join()

    def _run(self) -> None:
        while (pending := self.ranges.get()) is not None:
            if self.found is None and self.error is None:  # else only drain, so that scan() never blocks
                try:
                    self._search(*pending)
                except OSError as exc:  # raised in the splicing thread
                    self.error = exc

    def _search(self, begin: int, end: int) -> None:
        overlap = len(self.delimiter) - 1
        view = memoryview(self.buffer)
        begin = max(self.start, begin - overlap)
        while begin < end:
            size = os.preadv(self.fd, [view[:min(len(view), end - begin)]], begin)
            hit = _memmem(self.address, size, self.delimiter, len(self.delimiter))
            if hit:
                self.found = begin + hit - self.address
                return
            if begin + size >= end or size <= overlap:
                return
            begin += size - overlap
