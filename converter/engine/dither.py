"""Triangular (TPDF) dither where a FLAC of 16 bits or fewer keeps fewer bits than its source.

ffmpeg itself drops the low bits: an offset of half a step and, in quiet passages, distortion
(a 1 kHz tone at -108 dBFS, 24 to 16 bits, came out a square wave 5x as loud). Dither of +-1
step turns that error into steady noise (0.5 step RMS) and keeps the tone
(tests/engine/test_dither.py). swresample seeds it the same way every time: one input gives one
FLAC. Its noise cost ~0.65 MB of FLAC a minute of stereo on the test signals (docs/performance.md),
and digital silence comes out as that noise too, as from any plain TPDF dither.

Not dithered: 32 to 24 bits (its half step lies at -144 dBFS); lossy codecs, whose own noise lies
far above a 16-bit step (rounded, as before); and a WAV or AIFF whose low bits are all zero (16-bit
audio in a 24-bit file, common from editors' exports), which loses nothing by dropping them and
keeps its samples exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .probe import AudioStream, MediaInfo, is_lossless_float

_SCAN_BYTES = 1 << 22  # per step of the low bits' scan: a genuinely deeper file stops at its first


def dither_filters(bits: int, source: Path, media: MediaInfo, stream: AudioStream) -> list[str]:
    """The filters that end the chain: to `bits` (16 or 8) through float, dithered; or none."""
    carried = stream.bits_per_sample or (32 if is_lossless_float(stream) else None)
    if carried is None or bits > 16 or bits >= carried or not _low_bits_used(source, media, stream, bits):
        return []
    # Through float: from 16-bit integers swresample adds the dither but still drops the low bits.
    return ["aformat=sample_fmts=flt",
            f"aresample=osf={'s16' if bits == 16 else 'u8'}:dither_method=triangular"]


def _low_bits_used(source: Path, media: MediaInfo, stream: AudioStream, bits: int) -> bool:
    """Whether any sample has a bit below the output's step. Read for the integer PCM of a WAV
    or AIFF that headers.py read (33–37 ms for 10 minutes of 24-bit stereo, all zero); assumed of
    any other source."""
    width = (stream.bits_per_sample or 0) // 8
    whole_bytes = width * 8 == stream.bits_per_sample
    if media.samples_at is None or not stream.codec.startswith("pcm_s") or not whole_bytes:
        return True
    offset, length = media.samples_at
    dropped = width - bits // 8  # whole bytes below the step
    low = slice(0, dropped) if stream.codec.endswith("le") else slice(width - dropped, width)
    buffer = bytearray(_SCAN_BYTES // width * width)
    with open(source, "rb") as file:
        file.seek(offset)
        while length > 0 and (read := file.readinto(memoryview(buffer)[:min(length, len(buffer))])):
            if np.frombuffer(buffer, np.uint8, read // width * width).reshape(-1, width)[:, low].any():
                return True
            length -= read
    return False
