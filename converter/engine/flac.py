"""Writing FLAC at a given depth, and reading back what was written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from mutagen.flac import FLAC

from .errors import ConversionCanceled

_FRAMES_PER_CHUNK = 1 << 16


# libFLAC's block size at its default level (and ffmpeg's too, when the input's first packet
# happens to hold 4096 samples, as a WAV's does). Without it ffmpeg's encoder makes every block
# as long as the first decoded frame. That frame is 47 samples after an MP3's encoder delay, 128
# for Vorbis, 1024 for AAC, and 3747 after resampling 48 to 44.1 kHz. A 30-second MP3's FLAC came
# out 56 % larger (28,149 blocks instead of 323) and took 7x as long to encode.
BLOCK_SIZE = 4096


def ffmpeg_flac_args(bits: int) -> list[str]:
    """ffmpeg output options writing FLAC with STREAMINFO bits_per_sample == bits (16, 24, 32).

    ffmpeg's encoder takes s16 or s32 samples; s32 is written as 24-bit unless told 32, and
    32-bit FLAC is still 'experimental' for it (libFLAC has written it since 1.4).
    """
    encoder = ["-c:a", "flac", "-frame_size", str(BLOCK_SIZE)]
    if bits == 16:
        return [*encoder, "-sample_fmt", "s16"]
    if bits == 24:
        return [*encoder, "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]
    if bits == 32:
        return [*encoder, "-sample_fmt", "s32", "-bits_per_raw_sample", "32", "-strict", "experimental"]
    raise ValueError(f"ffmpeg cannot write {bits}-bit FLAC")


# ffmpeg cannot write 8-bit FLAC at all: it decodes to raw signed 8-bit PCM, libFLAC encodes.
RAW_8BIT_ARGS = ["-f", "s8", "-c:a", "pcm_s8"]


def encode_8bit(raw: Path, destination: Path, sample_rate: int, channels: int,
                should_cancel: Callable[[], bool] | None = None) -> None:
    """Encode raw interleaved s8 PCM to an 8-bit FLAC with libFLAC (pyflac); MD5 included."""
    import pyflac

    samples = np.memmap(raw, dtype=np.int8, mode="r")
    frames = samples.reshape(-1, channels)
    with open(destination, "wb") as out:
        encoder = pyflac.StreamEncoder(
            sample_rate=sample_rate,
            write_callback=lambda buffer, *_: out.write(buffer),
            # With seek/tell, libFLAC rewrites STREAMINFO (MD5, sample count) when it finishes.
            seek_callback=out.seek,
            tell_callback=out.tell,
            compression_level=5,
        )
        for start in range(0, len(frames), _FRAMES_PER_CHUNK):
            if should_cancel is not None and should_cancel():
                raise ConversionCanceled()
            encoder.process(np.ascontiguousarray(frames[start:start + _FRAMES_PER_CHUNK]))
        encoder.finish()
    del samples


def streaminfo(path: Path) -> dict:
    """The measured facts of a FLAC file, from its STREAMINFO block."""
    info = FLAC(path).info
    pcm_bytes = info.total_samples * info.channels * info.bits_per_sample / 8
    size = path.stat().st_size
    return {
        "duration": info.total_samples / info.sample_rate if info.sample_rate else 0.0,
        "samples": info.total_samples,
        "sample_rate": info.sample_rate,
        "bits_per_sample": info.bits_per_sample,
        "channels": info.channels,
        "size": size,
        "md5": f"{info.md5_signature:032x}",
        # FLAC size over the size of the same samples as plain PCM (lower is better).
        "compression_ratio": round(size / pcm_bytes, 4) if pcm_bytes else None,
    }
