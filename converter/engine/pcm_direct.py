"""Integer PCM from a WAV or AIFF, kept as it is, encoded to FLAC in this process, on every core
it may use.

The most common conversion (a WAV to a FLAC of the same rate, channels and depth) needs no
decoder and no filter, only libavcodec's FLAC encoder, which runs on one core: the engine's
ffmpeg command spent 0.39-0.49 s on a 10-minute WAV, almost all of it in that encoder. Here the
samples are read from the file (headers.py found them) and given to the same encoder through
PyAV; a long file is cut into parts, one per core, at block boundaries, encoded side by side,
each in a process forked for it. FLAC blocks are encoded independently, so the parts'
frames are the frames one encoder writes, except for the number in each frame's header (and the
header's CRC-8, the frame's CRC-16): a part's frames are renumbered as they come. STREAMINFO's
MD5 covers every sample in order: it is computed here, beside the encoders, and the muxer's
STREAMINFO patched. The FLAC is the ffmpeg command's to the byte (tests/engine/test_pcm_direct.py).
10 minutes in two parts on two cores: 0.32-0.36 s against bare ffmpeg's 0.40-0.45 s (~1.0x on a
slower VM whose two encoders slow each other, docs/performance.md). Processes,
not threads: PyAV lets go of the GIL while it encodes, but two encoder threads hand it to each
other around nearly every block, and where a cross-core wake-up is dear (an AMD EPYC VM: 7,500-10,000
context switches, 1.6-1.9 s of CPU) two threads were no faster than one (docs/performance.md). A conversion
that another one narrows to a core after it split keeps its parts, and the MD5's extra pass, on
that core (bench/mixed.py, docs/performance.md).
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import select
import signal
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.sharedctypes import RawArray
from pathlib import Path
from typing import BinaryIO

import anycrc
import av
import numpy as np

from .errors import ConversionCanceled
from .ffmpeg import TimeLimitExceeded
from .flac import BLOCK_SIZE
from .probe import AudioStream, MediaInfo

# codec (as headers.py names it) -> (bytes per sample, byte order)
_CODECS = {"pcm_s16le": (2, "<"), "pcm_s16be": (2, ">"), "pcm_s24le": (3, "<"), "pcm_s24be": (3, ">")}
# WAVE_FORMAT_EXTENSIBLE's speaker bits, in order, as ffmpeg names them
_SPEAKERS = ("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "BC", "SL", "SR", "TC", "TFL", "TFC", "TFR",
             "TBL", "TBC", "TBR")
MAX_CHANNELS = 8  # FLAC's
_BLOCKS_PER_READ = 64  # 1 MiB of 16-bit stereo
PART_MIN_SECONDS = 30.0  # a part shorter than this is not worth the MD5's extra pass over the samples
_MD5_READ = 4 << 20
_WAIT = 0.05  # seconds between two looks at cancel, time limit and progress
_CRC8 = anycrc.Model("CRC8-SMBUS")  # FLAC's frame header CRC: x^8 + x^2 + x + 1, from 0
_CRC16 = anycrc.Model("CRC16-UMTS")  # FLAC's frame CRC: x^16 + x^15 + x^2 + 1, from 0


def can_encode_directly(media: MediaInfo, stream: AudioStream, rate_channels_bits: tuple[int, int, int]
                        ) -> bool:
    """Whether the FLAC (with no filter) keeps the file's samples: same rate, channels and depth."""
    kept = (stream.sample_rate, stream.channels, stream.bits_per_sample)
    return (media.samples_at is not None and stream.codec in _CODECS and stream.channels <= MAX_CHANNELS
            and _layout(stream) is not None and rate_channels_bits == kept)


def _layout(stream: AudioStream) -> str | None:
    """The channel layout ffmpeg gives these samples: the speakers the WAV names, else the default
    for the count (6c is 5.1). Its muxer then writes the FLAC as the command line's does, a
    WAVEFORMATEXTENSIBLE_CHANNEL_MASK tag for a layout that is not FLAC's own included. None for a
    mask ffmpeg would not take as it is (bits beyond the known speakers, or not one per channel)."""
    mask = stream.channel_mask or 0
    if not mask:
        return f"{stream.channels}c"
    if mask >> len(_SPEAKERS) or mask.bit_count() != stream.channels:
        return None
    return "+".join(name for bit, name in enumerate(_SPEAKERS) if mask >> bit & 1)


@dataclass(frozen=True)
class _Samples:
    """Where a file's samples lie, and how to hand them to the encoder and to the MD5."""

    fd: int
    offset: int
    frames: int
    channels: int
    layout: str
    rate: int
    width: int  # bytes per sample
    order: str  # "<" or ">"

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels

    def read(self, first: int, count: int) -> bytes:
        """`count` frames from frame `first` (os.pread: the threads share no file position)."""
        wanted = count * self.frame_bytes
        raw = os.pread(self.fd, wanted, self.offset + first * self.frame_bytes)
        if len(raw) < wanted:
            raise OSError("The input file shrank while it was being converted")
        return raw

    def for_encoder(self, raw: bytes) -> np.ndarray:
        """Native s16, or s32 holding 24 bits in its top three bytes (as ffmpeg's decoder gives them)."""
        if self.width == 2:
            return np.frombuffer(raw, dtype=f"{self.order}i2").astype(np.int16, copy=False)
        widened = np.zeros((len(raw) // 3, 4), dtype=np.uint8)
        widened[:, 1:] = self._triples(raw)
        return widened.view("<i4").reshape(-1)

    def for_md5(self, raw: bytes) -> bytes:
        """FLAC's MD5 hashes little-endian samples of the stream's width: a WAV's bytes as they are."""
        if self.order == "<":
            return raw
        if self.width == 2:
            return np.frombuffer(raw, dtype=">i2").astype("<i2").tobytes()
        return self._triples(raw).tobytes()

    def _triples(self, raw: bytes) -> np.ndarray:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        return triples if self.order == "<" else triples[:, ::-1]


def encode_directly(source: Path, media: MediaInfo, stream: AudioStream, destination: Path, *,
                    on_progress: Callable[[float], None] | None = None,
                    should_cancel: Callable[[], bool] | None = None,
                    deadline: float | None = None) -> None:
    """Write `destination` as ffmpeg_flac_args(bits) would, from the samples headers.py located.

    should_cancel, the deadline and on_progress are called from this thread only (should_cancel
    reads the database, whose connections are per thread)."""
    width, order = _CODECS[stream.codec]
    offset, size = media.samples_at
    with ExitStack() as files:
        fd = files.enter_context(open(source, "rb")).fileno()
        samples = _Samples(fd, offset, size // (width * stream.channels), stream.channels, _layout(stream),
                           stream.sample_rate, width, order)
        first, *others = _part_bounds(samples)
        parts = [_Part(samples, *first, destination)]
        parts += [_Part(samples, *bounds, files.enter_context(tempfile.TemporaryFile(dir=destination.parent)))
                  for bounds in others]
        md5 = _run(parts, samples, on_progress, should_cancel, deadline)
        if md5 is not None:
            _join(destination, parts, samples, md5)


def _part_bounds(samples: _Samples) -> list[tuple[int, int]]:
    """(first frame, end frame) of each part: one per core this process may use, at block boundaries."""
    blocks = -(-samples.frames // BLOCK_SIZE)
    count = max(1, min(int(samples.frames / (PART_MIN_SECONDS * samples.rate)), blocks))
    if count > 1:  # a clip's one part needs no look at the cores (a syscall and a file read)
        count = min(count, usable_cores())
    starts = [blocks * number // count * BLOCK_SIZE for number in range(count)]
    return list(zip(starts, [*starts[1:], samples.frames], strict=True))


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" in µs, or "max <period>"


def usable_cores() -> int:
    """The cores this thread may run on (providers/cores.py keeps a conversion beside others to one),
    no more than a container's CPU quota allows (`docker run --cpus 1` on a host of 8: one part,
    not eight sharing one CPU's time with the split's extra MD5 pass). Read by hand: one line of a
    file; psutil and os.process_cpu_count() know the affinity only."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()[:2]
        return max(1, min(cores, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 file, or "max": no quota
        return cores


class _Part:
    """One encoder over frames first..end, in a process of its own when there are several. The
    first part writes the FLAC through libavformat's muxer; the others write their renumbered
    frames to a temporary file. Its counters are shared memory, read by the calling process."""

    def __init__(self, samples: _Samples, first: int, end: int, into: Path | BinaryIO):
        """into: the FLAC's path (the first part), or the file taking a later part's frames."""
        self.samples, self.first, self.end = samples, first, end
        self.destination, self.frames_file = (into, None) if isinstance(into, Path) else (None, into)
        self._counters = RawArray("q", [0, 1 << 24, 0])  # frames encoded, smallest and largest frame
        self.pid: int | None = None
        self._report = -1  # the read end of the pipe that brings a failed part's exception back

    @property
    def done(self) -> int:
        return self._counters[0]

    @property
    def sizes(self) -> tuple[int, int]:
        return self._counters[1], self._counters[2]

    def start(self) -> None:
        """Fork the process that encodes this part. It touches nothing another thread of the caller
        may hold (no logging: PyAV's is off; no import; no database; a Celery pool process has one
        thread anyway) and leaves by os._exit, so none of the caller's exit handlers, `finally`
        blocks or open connections run in it."""
        self._report, report = os.pipe()
        self.pid = os.fork()
        if self.pid:
            os.close(report)
            return
        status = 0
        try:
            os.close(self._report)
            self.encode()
            if self.frames_file is not None:
                self.frames_file.flush()  # os._exit flushes no buffer
        except BaseException as error:  # noqa: BLE001 -- handed to the calling process
            status = 1
            with suppress(Exception):
                os.write(report, pickle.dumps(error))
        finally:
            os._exit(status)

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for the process to end; True once it has. Raises what it raised."""
        if self.pid is None:
            return True
        if not select.select([self._report], [], [], seconds)[0]:
            return False
        error = b"".join(iter(lambda: os.read(self._report, 1 << 16), b""))  # until its end closes
        _, status = os.waitpid(self.pid, 0)
        self._end()
        if error:
            raise pickle.loads(error)
        if status:
            raise RuntimeError(f"An encoder process ended with status {status}")
        return True

    def kill(self) -> None:
        if self.pid is not None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self._end()

    def _end(self) -> None:
        os.close(self._report)
        self.pid = None

    def encode(self, between_reads: Callable[[], None] = lambda: None) -> None:
        samples = self.samples
        layout = samples.layout
        sample_format = "s16" if samples.width == 2 else "s32"
        options = {"frame_size": str(BLOCK_SIZE), "bits_per_raw_sample": str(samples.width * 8)}
        # One frame for every full block, its samples replaced in place: a new frame a block cost
        # ~14 % more time in all (10 minutes: 0.73-0.78 s against 0.81-0.88 s), the same bytes out.
        # The encoder has let go of the frame once encode() returns: FLAC encodes each block as
        # it comes, and encode() has taken its packets.
        block = av.AudioFrame(format=sample_format, layout=layout, samples=BLOCK_SIZE)
        block.sample_rate = samples.rate
        with self._writing(layout, sample_format, options) as (encoder, write):
            position = self.first
            while position < self.end:
                between_reads()
                count = min(BLOCK_SIZE * _BLOCKS_PER_READ, self.end - position)
                values = samples.for_encoder(samples.read(position, count))
                data, step = memoryview(values).cast("B"), block.planes[0].buffer_size
                for start in range(0, len(data), step):
                    if len(data) - start >= step:
                        block.planes[0].update(data[start:start + step])
                        write(encoder.encode(block))
                    else:  # the stream's last block, shorter
                        last = values[start // values.itemsize:].reshape(1, -1)
                        write(encoder.encode(self._frame(last, sample_format, layout)))
                position += count
                self._counters[0] = position - self.first
            write(encoder.encode(None))

    def _frame(self, values: np.ndarray, sample_format: str, layout: str) -> av.AudioFrame:
        frame = av.AudioFrame.from_ndarray(values, format=sample_format, layout=layout)
        frame.sample_rate = self.samples.rate
        return frame

    @contextmanager
    def _writing(self, layout: str, sample_format: str, options: dict[str, str]):
        """(encoder, write(packets)): the first part muxes into the FLAC file, later parts write
        their frames renumbered."""
        if self.destination is None:
            encoder = av.CodecContext.create("flac", "w")
            encoder.sample_rate, encoder.layout, encoder.format = self.samples.rate, layout, sample_format
            encoder.options = options
            number = [self.first // BLOCK_SIZE]

            def write(packets):
                for packet in packets:
                    if packet.size:
                        frame = _renumbered(bytes(packet), number[0])
                        self._sized(len(frame))
                        self.frames_file.write(frame)
                        number[0] += 1

            yield encoder, write
            return
        # +bitexact, as NO_FFMPEG_TAGS gives the command: no version in the Vorbis comment's vendor.
        with av.open(str(self.destination), "w", "flac", container_options={"fflags": "+bitexact"}) as output:
            stream = output.add_stream("flac", rate=self.samples.rate, layout=layout, format=sample_format)
            stream.codec_context.options = options

            def mux(packets):
                for packet in packets:
                    self._sized(packet.size)
                output.mux(packets)

            yield stream, mux

    def _sized(self, size: int) -> None:
        """Count a frame of `size` bytes in the smallest and largest (STREAMINFO states both)."""
        if size:  # the encoder's last packet is empty: it carries its STREAMINFO
            self._counters[1] = min(self._counters[1], size)
            self._counters[2] = max(self._counters[2], size)


def _run(parts: list[_Part], samples: _Samples, on_progress, should_cancel, deadline) -> bytes | None:
    """Run the parts, looking at cancel, time limit and progress between reads (one part, in this
    thread), or every _WAIT while hashing the samples beside the encoders' processes (several).
    Returns the MD5, or None when one encoder saw every sample."""
    def look() -> None:
        _check(should_cancel, deadline)
        if on_progress is not None:
            on_progress(sum(part.done for part in parts) / samples.frames)

    if len(parts) == 1:
        # In this thread: handing over to a thread and back cost ~2 ms a 30-second clip under the
        # worker's SCHED_BATCH, where a woken thread waits for the running one's time slice.
        parts[0].encode(between_reads=look)
        look()
        return None
    md5, hashed = hashlib.md5(), 0
    try:
        for part in parts:
            part.start()
        for part in parts:
            while True:
                look()
                if hashed < samples.frames:
                    hashed += _hash(md5, samples, hashed)
                    if part.wait(0):
                        break
                elif part.wait(_WAIT):
                    break
    finally:
        for part in parts:  # those still running after a cancel, a time limit or a failed part
            part.kill()
    while hashed < samples.frames:
        hashed += _hash(md5, samples, hashed)
    look()
    return md5.digest()


def _hash(md5, samples: _Samples, first: int) -> int:
    """Hash the next frames from `first` on; returns how many."""
    count = min(_MD5_READ // samples.frame_bytes, samples.frames - first)
    md5.update(samples.for_md5(samples.read(first, count)))
    return count


def _join(destination: Path, parts: list[_Part], samples: _Samples, md5: bytes) -> None:
    """Append the other parts' frames to the first part's FLAC, and give its STREAMINFO (at byte 8)
    the whole stream's frame sizes, sample count and MD5."""
    smallest = min(part.sizes[0] for part in parts)
    largest = max(part.sizes[1] for part in parts)
    with open(destination, "r+b") as flac:
        flac.seek(0, os.SEEK_END)
        for part in parts[1:]:
            part.frames_file.flush()
            length, copied = part.frames_file.seek(0, os.SEEK_END), 0
            while copied < length:  # in the kernel, no copy through Python
                copied += os.copy_file_range(part.frames_file.fileno(), flac.fileno(), length - copied,
                                             copied)
        flac.seek(8)
        info = bytearray(flac.read(34))
        info[4:10] = smallest.to_bytes(3, "big") + largest.to_bytes(3, "big")
        # sample rate (20 bits), channels - 1 (3), bits - 1 (5), then the sample count (36)
        packed = int.from_bytes(info[10:18], "big") >> 36 << 36 | samples.frames
        info[10:18] = packed.to_bytes(8, "big")
        info[18:34] = md5
        flac.seek(8)
        flac.write(info)


def _renumbered(frame: bytes, number: int) -> bytes:
    """A fixed-blocksize frame given another frame number: its header's UTF-8-style coded number,
    then the header's CRC-8 and the frame's CRC-16 again (RFC 9639, 9.1)."""
    coded = _coded_length(frame[4])
    end = 4 + coded
    block_code, rate_code = frame[2] >> 4, frame[2] & 0x0F
    end += {6: 1, 7: 2}.get(block_code, 0) + {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    header = frame[:4] + _utf8_number(number) + frame[4 + coded:end]
    header += bytes([_CRC8.calc(header)])
    body = header + frame[end + 1:-2]
    return body + _CRC16.calc(body).to_bytes(2, "big")


def _coded_length(first: int) -> int:
    """Bytes in a coded number, from its first byte: 0xxxxxxx is 1, 110xxxxx 2 ... 1111110x 6."""
    return 1 if first < 0x80 else 8 - (~first & 0xFF).bit_length()


def _utf8_number(number: int) -> bytes:
    if number < 0x80:
        return bytes([number])
    length = 2
    while number >= 1 << (5 * length + 1):
        length += 1
    tail = [0x80 | (number >> 6 * shift & 0x3F) for shift in range(length - 1)][::-1]
    lead = (0xFF << (8 - length) & 0xFF) | number >> 6 * (length - 1)
    return bytes([lead, *tail])


def _check(should_cancel: Callable[[], bool] | None, deadline: float | None) -> None:
    if should_cancel is not None and should_cancel():
        raise ConversionCanceled()
    if deadline is not None and time.monotonic() > deadline:
        raise TimeLimitExceeded()
