"""An uploaded file's bytes moved from the client's socket into its temporary file by the kernel
(splice(2)), and searched for where the file ends where the kernel put them.

Storing an upload through Python costs a copy out of the socket into a bytes object, a boundary
search in it and a copy into the page cache. Spliced, the bytes go from the socket's buffers to
the page cache in one copy, without the GIL, and the boundary search reads them there, through a
read-only mapping of the file, right after each splice. Measured on a 1 GiB upload through the
convert form under gunicorn, in one hour: 1.0-1.2 GiB/s read and parsed in Python, 1.5-1.9 GiB/s
spliced with a thread that read the bytes back to search them, against 2.9-3.5 GiB/s for a sink
that drops the body; on a later VM, alternated: 2.4-2.9 GiB/s searched in place, 2.3-2.6 with that
thread (docs/performance.md).

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
import mmap
import os
import select
import socket

from gunicorn.http.body import Body, LengthReader

STEP = 1024 * 1024  # bytes per splice() call, and the pipe's capacity
F_SETPIPE_SZ = 1031  # fcntl's number for a pipe's capacity (Linux), not in Python's fcntl module
# Bytes of the file mapped at a time for the search: one munmap (and the flush of the other core's
# address cache it costs) per 16 MiB rather than per step. The mapped pages are the page cache's,
# but they count in the process's resident memory while mapped: at most this much.
WINDOW = 16 * 1024 * 1024

# glibc's memmem, mmap and munmap through ctypes. memmem: ~30 GiB/s on bytes in the cache, three
# times bytes.find, and without the GIL. mmap: Python's mmap module refuses a mapping longer than
# the file, and this file grows while it is searched; only bytes already written are ever read.
# 64-bit builds only, where mmap's offset (off_t) is 64 bits wide; elsewhere Python parses.
_libc = ctypes.CDLL(None, use_errno=True)
_memmem = getattr(_libc, "memmem", None) if ctypes.sizeof(ctypes.c_void_p) == 8 else None
if _memmem is not None:
    _memmem.restype = ctypes.c_void_p
    _memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    _libc.mmap.restype = ctypes.c_void_p
    _libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                           ctypes.c_int64]
    _libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_FAILED = ctypes.c_void_p(-1).value


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
        None taken: the client has gone, or the file cannot be mapped for the search.
        """
        start = os.lseek(fd, 0, os.SEEK_CUR)
        try:
            search = _Search(fd, start, delimiter)
        except OSError:  # a file system that cannot map files: nothing taken, Python parses on
            return 0, b""
        taken, found = 0, None
        try:
            held = self.reader.unreader.take_buffered()  # gunicorn's read-ahead comes first
            if len(held) > limit:
                self.reader.unreader.unread(held[limit:])
                held = held[:limit]
            if held:
                write_all(fd, held)
                taken = len(held)
                found = search.up_to(start + taken)
            read_end, write_end = os.pipe()
            try:
                with contextlib.suppress(OSError):  # above fs.pipe-max-size: the default 64 KiB
                    fcntl.fcntl(write_end, F_SETPIPE_SZ, STEP)
                while taken < limit and found is None:
                    moved = self._from_socket(write_end, min(STEP, limit - taken))
                    if not moved:  # the client went away: the parser reports the short body
                        break
                    pending = moved
                    while pending:
                        pending -= os.splice(read_end, fd, pending)
                    taken += moved
                    found = search.up_to(start + taken)
            finally:
                os.close(read_end)
                os.close(write_end)
        finally:
            self.reader.length -= taken
            search.close()
        end = start + taken
        cut = found if found is not None else max(start, end - len(delimiter) - 1)
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


class _Search:
    """Finds the first delimiter in the file from `start` on, as its bytes are written: the file
    is read where the kernel wrote it, through a read-only mapping of WINDOW bytes (plus room for
    a delimiter that starts near its end), with no copy out of the page cache. Run in the
    splicing thread right after each splice: a thread of its own, reading the bytes back with
    pread, was 10 % slower on two cores that also run the client (docs/performance.md, Uploads)."""

    def __init__(self, fd: int, start: int, delimiter: bytes):
        """Maps the window `start` is in: OSError where the file system cannot map files."""
        self.fd, self.delimiter = fd, delimiter
        self.next = start  # the first position where the delimiter may still start
        self.length = WINDOW + -(-len(delimiter) // mmap.PAGESIZE) * mmap.PAGESIZE
        self.base: int | None = None  # the mapped window's offset in the file
        self.address = 0
        self._map(start - start % WINDOW)

    def up_to(self, end: int) -> int | None:
        """Where the delimiter starts, searching the bytes before `end` (all written); None if
        it is not in them."""
        size = len(self.delimiter)
        while True:
            base = self.next - self.next % WINDOW  # every delimiter starting in a window fits in its map
            self._map(base)
            stop = min(end, base + WINDOW + size - 1)
            hit = _memmem(self.address + self.next - base, max(0, stop - self.next), self.delimiter, size)
            if hit:
                return base + hit - self.address
            self.next = max(self.next, stop - size + 1)
            if stop == end:
                return None

    def _map(self, base: int) -> None:
        if base == self.base:
            return
        self.close()
        address = _libc.mmap(None, self.length, mmap.PROT_READ, mmap.MAP_SHARED, self.fd, base)
        if address == _MAP_FAILED:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
        self.base, self.address = base, address

    def close(self) -> None:
        if self.base is not None:
            _libc.munmap(self.address, self.length)
            self.base = None
