"""Triangular (TPDF) dither where a FLAC of 16 bits or fewer keeps fewer bits than its source.

ffmpeg itself drops the low bits: an offset of half a step and, in quiet passages, distortion
(a 1 kHz tone at -108 dBFS, 24 to 16 bits, came out a square wave 5x as loud). Dither of +-1
step turns that error into steady noise (0.5 step RMS) and keeps the tone
(tests/engine/test_dither.py). swresample seeds it the same way every time: one input gives one
FLAC. Its noise cost ~0.65 MB of FLAC a minute of stereo on the test signals (docs/performance.md),
and digital silence comes out as that noise too, as from any plain TPDF dither.

Not dithered: 32 to 24 bits (its half step lies at -144 dBFS); lossy codecs, whose own noise lies
far above a 16-bit step (rounded, as before); and integer audio whose low bits are all zero (16-bit
audio in a 24-bit file: editors' exports, "hi-res" FLACs of CD masters), which loses nothing by
dropping them and keeps its samples exactly.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .errors import ConversionCanceled
from .ffmpeg import ffmpeg_binary
from .probe import AudioStream, MediaInfo, is_lossless_float

DITHER_REPORT = "Triangular (TPDF), ±1 step"  # the output's report says so, for an archive's records
_SCAN_BYTES = 1 << 22  # per step of the low bits' scan: a genuinely deeper file stops at its first


def dither_filters(bits: int, source: Path, media: MediaInfo, stream: AudioStream,
                   should_cancel: Callable[[], bool] | None = None) -> list[str]:
    """The filters that end the chain: to `bits` (16 or 8) through float, dithered; or none.
    should_cancel is asked between two blocks of samples looked at."""
    carried = stream.bits_per_sample or (32 if is_lossless_float(stream) else None)
    if carried is None or bits > 16 or bits >= carried:
        return []
    if not _low_bits_used(source, media, stream, bits, should_cancel or (lambda: False)):
        return []
    # Through float: from 16-bit integers swresample adds the dither but still drops the low bits.
    return ["aformat=sample_fmts=flt",
            f"aresample=osf={'s16' if bits == 16 else 'u8'}:dither_method=triangular"]


def _low_bits_used(source: Path, media: MediaInfo, stream: AudioStream, bits: int,
                   should_cancel: Callable[[], bool]) -> bool:
    """Whether any integer sample has a bit below the output's step (assumed of float). A WAV's or
    AIFF's samples are read from the file (~40 ms for 10 minutes of 24-bit stereo, all zero);
    another source's are decoded (a FLAC of the same: 0.45–0.66 s, its decoding's time). Either stops
    at the first such bit, in the first 4 MiB of a genuinely deeper source."""
    if not stream.bits_per_sample:
        return True
    width = stream.bits_per_sample // 8
    stored_as_is = stream.codec.startswith("pcm_s") and width * 8 == stream.bits_per_sample
    if media.samples_at is not None and stored_as_is:
        little = stream.codec.endswith("le")
        chunks = _checked(_stored(source, *media.samples_at, width), should_cancel)
        return any(_below(chunk, width, width - bits // 8, little) for chunk in chunks)
    return _any_in_decoded(source, stream, bits, should_cancel)


def _stored(source: Path, offset: int, length: int, width: int) -> Iterator[memoryview]:
    buffer = memoryview(bytearray(_SCAN_BYTES // width * width))
    with open(source, "rb") as file:
        file.seek(offset)
        while length > 0 and (read := file.readinto(buffer[:min(length, len(buffer))])):
            yield buffer[:read]
            length -= read


def _below(chunk: memoryview, width: int, dropped: int, little: bool) -> bool:
    """Whether a bit is set in the `dropped` low bytes of any `width`-byte sample of the chunk:
    2- and 4-byte samples as integers (an OR of them all, ~0.1 ms a 4 MiB), 3-byte ones as bytes."""
    if width == 3:
        samples = np.frombuffer(chunk, np.uint8, len(chunk) // 3 * 3).reshape(-1, 3)
        low = samples[:, :dropped] if little else samples[:, 3 - dropped:]
        return bool(low.size and low.max())
    words = np.frombuffer(chunk, f"{'<' if little else '>'}u{width}", len(chunk) // width)
    return bool(words.size and np.bitwise_or.reduce(words) & ((1 << 8 * dropped) - 1))


def _any_in_decoded(source: Path, stream: AudioStream, bits: int, should_cancel: Callable[[], bool]) -> bool:
    """The stream decoded to 32-bit samples (the source's bits at the top): is any bit below the
    step set? True as well when the decoding fails: the encoding will say why."""
    command = [ffmpeg_binary(), "-nostdin", "-v", "error", "-i", str(source), "-map", f"0:{stream.index}",
               "-f", "s32le", "-"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0) as process:
        chunks = _checked(_filled(process.stdout), should_cancel)
        try:
            found = any(_below(chunk, 4, 4 - bits // 8, little=True) for chunk in chunks)
        except ConversionCanceled:
            process.kill()
            raise
        if found:
            process.kill()
    return found or process.returncode != 0


def _filled(pipe) -> Iterator[memoryview]:
    """The pipe's bytes in whole buffers (a pipe's reads end anywhere, even inside a sample),
    the last one shorter. readinto() a buffer kept: read() costs the decoding's time again."""
    buffer = memoryview(bytearray(_SCAN_BYTES))
    filled = 0
    while read := pipe.readinto(buffer[filled:]):
        filled += read
        if filled == len(buffer):
            yield buffer
            filled = 0
    if filled:
        yield buffer[:filled]


def _checked(chunks: Iterator[memoryview], should_cancel: Callable[[], bool]) -> Iterator[memoryview]:
    for chunk in chunks:
        if should_cancel():
            raise ConversionCanceled()
        yield chunk
