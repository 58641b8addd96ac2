"""Running the ffmpeg binary with progress, cancellation and a time limit."""

from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import cache

from .errors import ConversionCanceled


class FfmpegFailed(Exception):
    """ffmpeg exited non-zero; `stderr` holds its log for the caller to classify."""

    def __init__(self, returncode: int, stderr: str):
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"ffmpeg exited with {returncode}: {stderr.strip()[-500:]}")


class TimeLimitExceeded(Exception):
    pass


@cache
def ffmpeg_binary() -> str:
    """FFMPEG_BINARY if set (a system ffmpeg), else the binary shipped in the imageio-ffmpeg wheel."""
    configured = os.environ.get("FFMPEG_BINARY")
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(
    args: Sequence[str],
    *,
    duration: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    deadline: float | None = None,
) -> str:
    """Run ffmpeg with `args`, return its stderr.

    Progress (a fraction 0..1 of `duration`) comes from `-progress pipe:1`. should_cancel and
    the monotonic `deadline` are checked every 50 ms; either kills ffmpeg at once.
    """
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    # stderr goes to a file so a chatty ffmpeg can never block on a full pipe.
    with tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr_file)
        try:
            _follow(process, duration, on_progress, should_cancel, deadline)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
        stderr_file.seek(0)
        stderr = stderr_file.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise FfmpegFailed(process.returncode, stderr)
    return stderr


def _follow(process, duration, on_progress, should_cancel, deadline) -> None:
    fd = process.stdout.fileno()
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            if should_cancel is not None and should_cancel():
                raise ConversionCanceled()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeLimitExceeded()
            if not selector.select(timeout=0.05):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:  # EOF: ffmpeg is done
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if on_progress is None or not duration:
                continue
            for line in lines:
                key, _, value = line.partition(b"=")
                if key == b"out_time_us" and value.strip().isdigit():
                    on_progress(min(1.0, int(value) / 1e6 / duration))
