"""What an upload costs the machine without the app around it: a client thread sends `size`
bytes over loopback, and this process receives them three ways, timed from accept to the last
byte. `read`: recv_into one buffer and drop it (what the sink does); `spliced`: splice(2) from
the socket into a file through a pipe (converter/upload_splice.py's path, without gunicorn);
`searched`: the same, with upload_splice's boundary search after each splice (a delimiter that
never occurs, so every byte is searched). The form cannot be faster than `searched`: the gap
from `read` to `searched` is the price of storing every byte and finding where the file ends.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

from converter.upload_splice import F_SETPIPE_SZ, STEP, _Search

DELIMITER = b"\r\n--loopback-bench-boundary-never-sent"


def _send(port: int, size: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        block = os.urandom(STEP)
        for _ in range(size // STEP):
            client.sendall(block)
        client.shutdown(socket.SHUT_WR)
        client.recv(1)  # stay connected until the receiver has timed everything


def _read(conn: socket.socket, _fd: int) -> None:
    buffer = bytearray(STEP)
    while conn.recv_into(buffer):
        pass


def _splice(conn: socket.socket, fd: int, search: _Search | None = None) -> None:
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, STEP)
    taken = 0
    while moved := os.splice(conn.fileno(), write_end, STEP):
        pending = moved
        while pending:
            pending -= os.splice(read_end, fd, pending)
        taken += moved
        if search:
            search.up_to(taken)
    os.close(read_end)
    os.close(write_end)


def _splice_searched(conn: socket.socket, fd: int) -> None:
    search = _Search(fd, 0, DELIMITER)
    try:
        _splice(conn, fd, search)
    finally:
        search.close()


WAYS = {"read": _read, "spliced": _splice, "searched": _splice_searched}


def receive_seconds(way: str, size: int, directory: Path) -> float:
    """Seconds to receive `size` bytes over loopback the given way (WAYS)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = threading.Thread(target=_send, args=(listener.getsockname()[1], size))
        sender.start()
        conn, _ = listener.accept()
        fd, path = tempfile.mkstemp(dir=directory)
        try:
            start = time.perf_counter()
            WAYS[way](conn, fd)
            elapsed = time.perf_counter() - start
        finally:
            conn.send(b".")
            conn.close()
            sender.join()
            os.close(fd)
            os.unlink(path)
    os.sync()  # the next way starts with no writeback of this one's pages
    return elapsed
