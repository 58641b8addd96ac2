"""One audio stream of one file -> one FLAC file, honouring the audio and trim options."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converter.options import seconds_from_hms

from .errors import InputRejected, hms
from .ffmpeg import run_ffmpeg
from .flac import RAW_8BIT_ARGS, encode_8bit, ffmpeg_flac_args, streaminfo
from .probe import AudioStream, MediaInfo, natural_bit_depth

RANGE_OUT_OF_BOUNDS = "RANGE_OUT_OF_BOUNDS"


@dataclass
class Target:
    """What the FLAC will be: from the options, else the input's own values."""

    sample_rate: int
    channels: int
    bits: int
    start: float | None
    end: float | None

    @classmethod
    def for_stream(cls, stream: AudioStream, media: MediaInfo, options: dict[str, Any]) -> Target:
        channels = {"mono": 1, "stereo": 2}.get(options.get("channels"), stream.channels)
        start = seconds_from_hms(options["start"]) if "start" in options else None
        end = seconds_from_hms(options["end"]) if "end" in options else None
        _check_range(start, end, media.duration)
        return cls(
            sample_rate=options.get("frequency") or stream.sample_rate,
            channels=channels or 2,
            bits=options.get("audio_bitdepth") or natural_bit_depth(stream),
            start=start,
            end=end,
        )

    @property
    def trim_args(self) -> list[str]:
        """Input-side -ss/-t: ffmpeg seeks, then trims the decoded audio sample-accurately."""
        args = []
        if self.start:
            args += ["-ss", str(self.start)]
        if self.end is not None:
            args += ["-t", str(self.end - (self.start or 0))]
        return args


def _check_range(start: float | None, end: float | None, duration: float | None) -> None:
    if duration is None:
        return  # unknown until decoded; an empty result is caught after encoding
    if start is not None and start >= duration:
        raise InputRejected(
            RANGE_OUT_OF_BOUNDS,
            f"The start time {hms(start)} is past the end of the input ({hms(duration)})",
        )
    # Times are whole seconds: an end inside the input's last, partial second means "to the end".
    if end is not None and end > math.ceil(round(duration, 2)):
        raise InputRejected(
            RANGE_OUT_OF_BOUNDS,
            f"The end time {hms(end)} is past the end of the input ({hms(duration)})",
        )


def encode_stream(
    source: Path,
    media: MediaInfo,
    stream: AudioStream,
    options: dict[str, Any],
    destination: Path,
    work_dir: Path,
    *,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """Write `destination` (FLAC) from one stream of `source`; return its report."""
    target = Target.for_stream(stream, media, options)
    expected = _expected_duration(target, media.duration)
    filters = []
    if target.sample_rate != stream.sample_rate:
        filters.append(f"aresample={target.sample_rate}:resampler=soxr")
    args = [*target.trim_args, "-i", str(source), "-map", f"0:{stream.index}"]
    if filters:
        args += ["-af", ",".join(filters)]
    if target.channels != stream.channels:
        args += ["-ac", str(target.channels)]
    run = dict(duration=expected, on_progress=on_progress, should_cancel=should_cancel, deadline=deadline)

    if target.bits == 8:
        raw = work_dir / f"{destination.stem}.s8"
        run_ffmpeg([*args, "-ar", str(target.sample_rate), "-ac", str(target.channels), *RAW_8BIT_ARGS,
                    "-y", str(raw)], **run)
        if raw.stat().st_size == 0:
            _reject_empty(target, media)
        encode_8bit(raw, destination, target.sample_rate, target.channels, should_cancel)
        raw.unlink()
    else:
        run_ffmpeg([*args, *ffmpeg_flac_args(target.bits), "-y", str(destination)], **run)

    report = streaminfo(destination)
    if report["samples"] == 0:
        _reject_empty(target, media)
    report.update(integrated_lufs_before=None, integrated_lufs_after=None,
                  true_peak_dbtp_before=None, true_peak_dbtp_after=None)
    return report


def _expected_duration(target: Target, duration: float | None) -> float | None:
    if duration is None:
        return None
    end = min(target.end, duration) if target.end is not None else duration
    return max(0.0, end - (target.start or 0))


def _reject_empty(target: Target, media: MediaInfo) -> None:
    if target.start:
        raise InputRejected(RANGE_OUT_OF_BOUNDS, f"The start time {hms(target.start)} is past the end of "
                                                 "the input")
    raise InputRejected("NO_AUDIO_DATA", "The file's audio stream holds no samples")
