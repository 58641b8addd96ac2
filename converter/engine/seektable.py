"""A SEEKTABLE for a written FLAC: a point every 10 seconds, as libFLAC's `flac` tool writes (400
at most).

ffmpeg's FLAC muxer writes none. Without one, a player seeking in a long recording has to hunt
for frame headers through the file; with one it reads the nearest point's byte offset. The points
are found after encoding. Every block holds BLOCK_SIZE samples (flac.py), so the frame that holds
a given sample is known: its header is looked for where the file's average bitrate puts it, and
recognised by its sync code, CRC-8 and frame number (mutagen reads and writes the table, but
finds no frames).
"""

from __future__ import annotations

import math
import mmap
from pathlib import Path

from mutagen.flac import SeekPoint

from .flac import BLOCK_SIZE

SEEK_EVERY = 10.0  # seconds between two points
# At most this many, 7.2 KB: the table then fits the 8 KiB of padding ffmpeg leaves, so writing it
# rewrites the metadata only (a longer one moves every byte of audio: ~1 GB for 3 hours). A
# recording over ~67 minutes gets a point every duration / 400 seconds instead.
MAX_POINTS = 400
SEEKABLE_FROM = 60.0  # seconds: a shorter FLAC is read whole in a moment, and gets no table
_SYNC = b"\xff\xf8"  # a frame header's sync code, fixed-blocksize strategy


def seek_points(path: Path, sample_rate: int, total_samples: int) -> list[SeekPoint]:
    """The points for a FLAC written by the engine: one per SEEK_EVERY seconds, each at the start of
    the frame holding that second. Empty for a short file, or where a frame is not found (a table
    with a wrong offset would be worse than none)."""
    if total_samples < SEEKABLE_FROM * sample_rate:
        return []
    duration = total_samples / sample_rate
    frames = sorted({int(second * sample_rate) // BLOCK_SIZE
                     for second in _marks(duration, max(SEEK_EVERY, duration / MAX_POINTS))})
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = _audio_start(data)
        size = len(data) - start
        frame_bytes = size * BLOCK_SIZE // total_samples + 1  # on average
        points = []
        for frame in frames:
            offset = _frame_offset(data, start, frame, frame_bytes)
            if offset is None:
                return []
            first = frame * BLOCK_SIZE
            points.append(SeekPoint(first, offset, min(BLOCK_SIZE, total_samples - first)))
        return points


def _marks(duration: float, every: float) -> list[float]:
    """0, every, 2 * every ... seconds, each before the end."""
    return [index * every for index in range(math.ceil(duration / every))]


def _audio_start(data: mmap.mmap) -> int:
    """The offset of the first frame: after "fLaC" and every metadata block."""
    position = 4
    while True:
        header = data[position:position + 4]
        position += 4 + int.from_bytes(header[1:4], "big")
        if header[0] & 0x80:  # the last metadata block
            return position


def _frame_offset(data: mmap.mmap, start: int, frame: int, frame_bytes: int) -> int | None:
    """Where frame number `frame` begins, from the first frame's offset `start`: looked for from a
    few frames before where the average frame size puts it, further back while that is too late."""
    estimate, back = frame * frame_bytes, 4 * frame_bytes
    while True:
        found = _next_frame(data, max(start, start + estimate - back))
        if found is not None and found[1] <= frame:
            break
        if estimate - back <= 0:
            return None  # from the first frame on, no such frame
        back *= 2
    while found is not None and found[1] < frame:
        found = _next_frame(data, found[0] + len(_SYNC))
    return found[0] - start if found is not None and found[1] == frame else None


def _next_frame(data: mmap.mmap, position: int) -> tuple[int, int] | None:
    """(offset, frame number) of the first frame header at or after position."""
    while (position := data.find(_SYNC, position)) >= 0:
        number = _frame_number(data[position:position + 16])
        if number is not None:
            return position, number
        position += 1
    return None


def _frame_number(header: bytes) -> int | None:
    """The frame number of a frame header (FLAC format, section "Frame header"), or None when
    these bytes are not one: its reserved bits, its UTF-8 coded number and its CRC-8 must hold."""
    if len(header) < 6 or header[2] >> 4 == 0 or header[2] & 0x0F == 0x0F or header[3] & 0x01:
        return None
    first = header[4]
    ones = 8 - (~first & 0xFF).bit_length()  # leading 1 bits: the number's length in bytes
    if ones == 1 or ones > 6:
        return None
    length = max(ones, 1)
    number = first & (0x7F >> ones)
    for byte in header[5:4 + length]:
        if byte & 0xC0 != 0x80:
            return None
        number = number << 6 | byte & 0x3F
    end = 4 + length + {6: 1, 7: 2}.get(header[2] >> 4, 0) + {12: 1, 13: 2, 14: 2}.get(header[2] & 0x0F, 0)
    if len(header) <= end or _crc8(header[:end]) != header[end]:
        return None
    return number


def _crc8_table() -> bytes:
    """CRC-8 with the polynomial x^8 + x^2 + x + 1 (0x07), as FLAC's frame headers carry it, by byte."""
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value << 1 ^ 0x07 if value & 0x80 else value << 1) & 0xFF
        table.append(value)
    return bytes(table)


_CRC8 = _crc8_table()


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc
