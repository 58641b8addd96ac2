"""A file's waveform: the peak and RMS level of each of a few hundred slices of its audio.

ffmpeg decodes the first audio stream to 32-bit float samples on a pipe, every channel kept (a
downmix would hide a channel that clips, or cancel one in opposite phase); numpy reduces one
slice at a time, so memory stays at one slice however long the file is. On the engine bench's
10-minute stereo FLAC: 0.39 s, 1.12x of ffmpeg decoding it alone (bench/engine.py).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .ffmpeg import FfmpegFailed, ffmpeg_binary

_SAMPLE = np.dtype("<f4")


@dataclass(frozen=True)
class Waveform:
    """Levels from 0 (silence) to 1 (full scale), one per slice, from the file's start to its end."""

    peaks: list[float]
    rms: list[float]

    def as_json(self) -> dict[str, list[float]]:
        return {"peaks": self.peaks, "rms": self.rms}

    @classmethod
    def from_json(cls, data: dict) -> Waveform:
        return cls(list(data["peaks"]), list(data["rms"]))


def waveform(source: Path | BinaryIO, *, channels: int, frames: int, slices: int) -> Waveform:
    """The waveform of the first audio stream of `source` (a file, or a stream of its bytes, such
    as a storage without local paths gives) in `slices` slices of equal length (to a frame; fewer
    for a file of fewer frames); `channels` and `frames` (samples per channel) are the stream's
    own, as its FLAC STREAMINFO states them. Raises FfmpegFailed if ffmpeg cannot decode it."""
    slices = max(1, min(slices, frames))
    bounds = [index * frames // slices for index in range(slices + 1)]
    sizes = [(end - start) * channels * _SAMPLE.itemsize for start, end in itertools.pairwise(bounds)]
    buffer = bytearray(max(sizes))
    peaks: list[float] = []
    rms: list[float] = []
    piped = not isinstance(source, Path)
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-v", "error",
               "-i", "pipe:0" if piped else str(source), "-map", "0:a:0", "-ac", str(channels),
               "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"]
    with tempfile.TemporaryFile() as stderr, \
            subprocess.Popen(command, stdin=subprocess.PIPE if piped else None, stdout=subprocess.PIPE,
                             stderr=stderr) as process:
        if piped:
            threading.Thread(target=_feed, args=(source, process.stdin), daemon=True).start()
        # More frames than STREAMINFO said (it was wrong) go on in slices of the last size.
        while size := _read_full(process.stdout, memoryview(buffer)[:sizes[min(len(peaks), slices - 1)]]):
            samples = np.frombuffer(buffer, dtype=_SAMPLE, count=size // _SAMPLE.itemsize)
            peaks.append(round(float(np.abs(samples).max()), 4))
            rms.append(round(math.sqrt(float(np.dot(samples, samples)) / len(samples)), 4))
        process.stdout.close()
        if process.wait() != 0:
            stderr.seek(0)
            raise FfmpegFailed(process.returncode, stderr.read().decode("utf-8", "replace"))
    return Waveform(peaks, rms)


def _feed(source: BinaryIO, stdin) -> None:
    """Copy the source into ffmpeg, beside the reading of its output (a pipe holds 64 KiB)."""
    try:
        shutil.copyfileobj(source, stdin, 1024 * 1024)
    except (BrokenPipeError, ValueError):  # ffmpeg stopped first: its exit status tells why
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            stdin.close()


def _read_full(stream, view: memoryview) -> int:
    """Fill view from stream (a pipe returns what it holds); fewer bytes only at the end. The
    count is cut to whole samples."""
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            break
        filled += got
    return filled - filled % _SAMPLE.itemsize
