"""gunicorn's settings, shared by Procfile, Procfile.dev, the Dockerfile and the benches; each command
line adds only where to listen and the access log.

gthread: uploads and proxied downloads are long streams, each holding a thread, not a process.
WEB_CONCURRENCY sets the processes, 2 by default.
"""

import ctypes
import ctypes.util
import logging
import socket
import struct

import environ

worker_class = "gthread"
workers = environ.Env().int("WEB_CONCURRENCY", default=2)
threads = 8
timeout = 120
# Seconds a request may go without a byte from its client, or a response without the client taking
# one, before the connection is dropped: otherwise a client that stalls in the middle of a request
# holds one of the threads for as long as its connection lives (gunicorn 27 hands back to its
# poller only a connection that has sent nothing yet). 0: no limit.
CLIENT_TIMEOUT = environ.Env().int("CLIENT_TIMEOUT", default=60)


def when_ready(server) -> None:
    """The kernel's own receive and send timeouts on the listening sockets, which every accepted
    connection inherits: they hold while gunicorn reads a request's headers on a blocking socket,
    before pre_request can set Python's timeout, so a client that sends half its headers and
    stops is dropped too (logged in one line, below) instead of keeping the thread."""
    if CLIENT_TIMEOUT:
        timeval = struct.pack("ll", CLIENT_TIMEOUT, 0)  # struct timeval: seconds, microseconds
        for listener in server.LISTENERS:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


class _StalledClientLine(logging.Filter):
    """gunicorn logs a client dropped by the kernel's timeout with a traceback ("Socket error
    processing request."); one line says it, and a stream of such clients floods no log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], BlockingIOError):
            record.msg = "A client sent no byte for %s s: its connection was closed."
            record.args, record.exc_info, record.exc_text = (CLIENT_TIMEOUT,), None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def post_worker_init(worker) -> None:
    worker.log.error_log.addFilter(_StalledClientLine())


def pre_request(worker, req) -> None:
    """The client's socket gets CLIENT_TIMEOUT once its request has begun (gthread makes it blocking,
    without one, each time it takes the connection)."""
    sock = getattr(req.unreader, "sock", None)
    if sock is not None and CLIENT_TIMEOUT:
        sock.settimeout(CLIENT_TIMEOUT)

# glibc's malloc parameters (mallopt's numbers, from malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 16 * 1024 * 1024


def post_fork(server, worker) -> None:
    """Keep the 1 MiB buffers that request bodies and proxied downloads pass through in the heap.

    By default glibc serves them with mmap() at first and later from each thread's heap, which it
    gives back to the kernel whenever 2 MiB lie free at its top (its thresholds adapt to the
    largest block freed so far): every body then pays page faults and zeroing for memory it had a
    moment ago. Measured on a 1 GiB upload to a sink that drops it: 0.4-1.4 s of worker CPU and
    0.8-1.6 GiB/s by default, 0.22-0.25 s and 3.3-4 GiB/s with these settings; through the convert
    form 0.86-1.08 s -> 0.71-0.76 s (docs/performance.md). Fixed values also stop the adapting,
    so a worker keeps at most 16 MiB free per heap. No library sets this; it is two mallopt() calls.
    Other C libraries (musl) have no mallopt: nothing to do there.
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
