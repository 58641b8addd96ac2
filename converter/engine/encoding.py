"""One audio stream of one file -> one FLAC file, honouring the audio and trim options."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converter.options import seconds_from_hms

from .dither import DITHER_REPORT, dither_filters
from .errors import InputRejected, hms
from .ffmpeg import run_ffmpeg
from .flac import RAW_8BIT_ARGS, encode_8bit, ffmpeg_flac_args, streaminfo
from .loudness import (
    Corrections,
    Loudness,
    Targets,
    measurement_filters,
    plan_normalization,
    report_fields,
    rms_limited_warning,
)
from .pcm_direct import can_encode_directly, encode_directly
from .probe import AudioStream, MediaInfo, is_lossless_float, natural_bit_depth
from .seektable import seek_points
from .tags import NO_FFMPEG_TAGS, extract_cover, vorbis_comments, write_tags

RANGE_OUT_OF_BOUNDS = "RANGE_OUT_OF_BOUNDS"
MAX_FLAC_CHANNELS = 8
# ffmpeg's encoder picks blocks of rate/10 samples: under 160 Hz that is below FLAC's 16-sample minimum.
MIN_FLAC_RATE = 160
# Above 65,535 Hz a FLAC frame header states the rate in tens of Hz, up to 655,350 (libFLAC's limit for
# the 8-bit path; ffmpeg's block size overflows just above it).
MAX_FLAC_RATE_ANY, MAX_FLAC_RATE = 65535, 655350
ANALYSIS_SHARE = 0.4  # of one stream's progress, when loudness is measured before encoding
MAX_ENCODE_PASSES = 3  # dynamic normalisation: the first try plus up to two corrections
TRUNCATION_TOLERANCE = 0.5  # seconds of audio a header may over-promise before we call it truncated
SEEK_PREROLL = 2  # seconds decoded before `start` after an exact seek, so a lossy decoder has settled
# Demuxers whose seek lands on the exact sample (measured); others (MP4, Matroska, ASF...) seek by
# packet timestamps, off by up to a frame, so a trim there counts samples from the start.
_EXACT_SEEK_FORMATS = ("flac", "mp3", "ogg")
_EXACT_SEEK_PCM_FORMATS = ("wav", "w64", "aiff")
# Float audio is measured as it enters the encoder: samples beyond +-1.0 get clipped to fit integers.
CLIP_METER = "astats@clip=measure_perchannel=none:measure_overall=Min_level+Max_level"
_CLIP_LEVEL_RE = re.compile(r"\[astats@clip @ \w+\] (?:Min|Max) level: (-?(?:[\d.]+|inf))")
_DECODE_ERROR_RE = re.compile(
    r"Decoding error|partial file|decode_frame\(\) failed|Error submitting packet to decoder"
    r"|Invalid PCM packet"
)


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
        _check_range(start, end, media.stated_duration)
        target = cls(
            sample_rate=options.get("frequency") or stream.sample_rate,
            channels=channels or 2,
            bits=options.get("audio_bitdepth") or natural_bit_depth(stream),
            start=start,
            end=end,
        )
        _check_flac_limits(target)
        return target

    def format_filters(self, stream: AudioStream) -> list[str]:
        """Resampling and channel mixing, as filters so loudness is measured on what gets encoded."""
        filters = []
        if self.sample_rate != stream.sample_rate:
            filters.append(f"aresample={self.sample_rate}:resampler=soxr")
        if self.channels != stream.channels:
            filters.append(f"aformat=channel_layouts={'mono' if self.channels == 1 else 'stereo'}")
        return filters

    def trim(self, media: MediaInfo, stream: AudioStream) -> tuple[list[str], list[str]]:
        """The input seek and the filters keeping start..end, to the sample.

        ffmpeg's own trim after a seek trusts packet timestamps; atrim counts the samples it is
        given. So decoding starts where a seek is exact (a little before `start`), else at the
        beginning, and atrim counts from there; asetpts restarts the clock (progress) at 0.
        """
        rate = stream.sample_rate
        # A block codec's padding past the samples the file states is no audio (probe.ADPCM_BLOCK_CODECS).
        last = stream.frames if rate else None
        if not self.start and self.end is None and last is None:
            return [], []
        seek = max(0, self.start - SEEK_PREROLL) if self.start and _seeks_exactly(media, stream) else 0
        bounds = {name: moment - seek for name, moment in (("start", self.start), ("end", self.end))
                  if moment is not None}
        if not rate:  # an unknown rate (the probe did not say) leaves timestamps to go by
            bounds_text = ":".join(f"{name}={at}" for name, at in bounds.items())
        else:
            samples = {name: round(at * rate) for name, at in bounds.items()}
            if last is not None:
                samples["end"] = min(samples.get("end", last), last - round(seek * rate))
            bounds_text = ":".join(f"{name}_sample={at}" for name, at in samples.items())
        return (["-ss", str(seek)] if seek else []), [f"atrim={bounds_text}", "asetpts=PTS-STARTPTS"]


def _seeks_exactly(media: MediaInfo, stream: AudioStream) -> bool:
    if media.format in _EXACT_SEEK_PCM_FORMATS:
        return stream.codec.startswith("pcm_")
    return media.format in _EXACT_SEEK_FORMATS


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


def _check_flac_limits(target: Target) -> None:
    """Reject what FLAC cannot hold before encoding, naming the option that fixes it."""
    if target.channels > MAX_FLAC_CHANNELS:
        raise InputRejected(
            "TOO_MANY_CHANNELS",
            f"FLAC holds at most {MAX_FLAC_CHANNELS} channels; this file has {target.channels}. "
            "Choose Channels: stereo or mono.",
        )
    rate = target.sample_rate  # 0 when the probe did not say: ffmpeg then keeps the decoded rate
    if rate and (rate < MIN_FLAC_RATE or rate > MAX_FLAC_RATE or (rate > MAX_FLAC_RATE_ANY and rate % 10)):
        raise InputRejected(
            "UNSUPPORTED_SAMPLE_RATE",
            f"FLAC cannot be written at {rate:,} Hz: the encoder takes {MIN_FLAC_RATE} to "
            f"{MAX_FLAC_RATE_ANY:,} Hz, and multiples of 10 Hz up to {MAX_FLAC_RATE:,} Hz. "
            "Choose a Sample rate (frequency).",
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
    seek_args, trim_filters = target.trim(media, stream)
    input_args = [*seek_args, *_probe_limit(media), "-i", str(source), "-map", f"0:{stream.index}"]
    chain = trim_filters + target.format_filters(stream)
    # Integer PCM cannot go beyond full scale: it is not measured, so it costs nothing. (Lossy decoders'
    # small overs are not measured either: that would slow every lossy conversion by ~15%.)
    meter = [CLIP_METER] if is_lossless_float(stream) else []
    dither = dither_filters(target.bits, source, media, stream, should_cancel)

    def run(args: list[str], progress_from: float, progress_to: float) -> str:
        progress = _scaled(on_progress, progress_from, progress_to)
        return run_ffmpeg(args, duration=_expected_duration(target, media.duration), on_progress=progress,
                          should_cancel=should_cancel, deadline=deadline)

    last_log = [""]  # the final encode pass's log, checked for decoding errors

    def encode(filters: list[str], progress_from: float = 0.0) -> str:
        filters = filters + meter + dither
        kept = (target.sample_rate, target.channels, target.bits)
        if not filters and can_encode_directly(media, stream, kept):
            progress = _scaled(on_progress, progress_from, 1.0)
            encode_directly(source, media, stream, destination, on_progress=progress,
                            should_cancel=should_cancel, deadline=deadline)
            last_log[0] = ""
            return ""
        filter_args = _filter_args(filters, work_dir / f"{destination.stem}.filters")
        if target.bits != 8:
            last_log[0] = run([*input_args, *filter_args, *ffmpeg_flac_args(target.bits), *NO_FFMPEG_TAGS,
                               "-y", str(destination)], progress_from, 1.0)
            return last_log[0]
        raw = work_dir / f"{destination.stem}.s8"
        last_log[0] = run([*input_args, *filter_args, "-ar", str(target.sample_rate), "-ac",
                           str(target.channels), *RAW_8BIT_ARGS, "-y", str(raw)], progress_from, 1.0)
        if raw.stat().st_size == 0:
            _reject_empty(target)
        encode_8bit(raw, destination, target.sample_rate, target.channels, should_cancel)
        raw.unlink()
        return last_log[0]

    loudness: dict[str, Any] = report_fields(None, None)
    if options.get("normalize"):
        loudness = _normalize(options, target, chain, input_args, run, encode)
    else:
        encode(chain)
    report = streaminfo(destination)
    if report["samples"] == 0:
        _reject_empty(target)
    _check_complete(last_log[0], report["duration"], target, media.audio_duration(stream))
    write_tags(destination, vorbis_comments(media, stream), extract_cover(source, media, work_dir),
               seek_points(destination, report["sample_rate"], report["samples"]))
    if clipped := _clipping_warning(last_log[0], target.bits):
        loudness["warnings"] = [*loudness.get("warnings", []), clipped]
    if dither:
        report["dither"] = DITHER_REPORT
    return _json_safe(report | loudness)


def _json_safe(report: dict[str, Any]) -> dict[str, Any]:
    """Digital silence measures -inf dB, which JSON cannot hold (PostgreSQL refuses the report): None,
    not measured, and the report's warning says why."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in report.items()}


def _normalize(options, target: Target, chain: list[str], input_args: list[str], run, encode) -> dict:
    """Measure, then encode with the planned processing; re-encode with corrections if it missed."""
    measuring = measurement_filters(options["normalize_type"])
    analysing = measurement_filters(options["normalize_type"], frames=True)
    before = Loudness.from_log(run([*input_args, "-af", ",".join(chain + analysing), "-f", "null", "-"],
                                   0.0, ANALYSIS_SHARE))
    targets = Targets.from_options(options) if options["normalize_type"] == "ebu" else None
    corrections = Corrections()
    for _attempt in range(MAX_ENCODE_PASSES):
        plan = plan_normalization(options, before, target.sample_rate, corrections)
        if plan.method == "gain":
            # A plain gain moves every level by exactly its dB: no need to measure again.
            encode(chain + plan.filters, ANALYSIS_SHARE)
            after = before.shifted(plan.gain_db)
            break
        after = Loudness.from_log(encode(chain + plan.filters + measuring, ANALYSIS_SHARE))
        if targets is None:  # rms, limited
            plan.warnings.append(rms_limited_warning(options["normalize_target_level"], after))
            break
        range_was_wide = before.range_is_known and before.loudness_range > targets.loudness_range
        if targets.met_by(after, check_range=range_was_wide):
            break
        corrections.learn(targets, after)
    else:
        plan.warnings.append(
            f"Not every target was met after {MAX_ENCODE_PASSES} passes: {after.integrated} LUFS "
            f"(target {targets.integrated}), true peak {after.true_peak} dBTP (at most {targets.true_peak}), "
            f"loudness range {after.loudness_range} LU (target {targets.loudness_range})")
    return report_fields(before, after) | {
        "normalization": plan.method, "warnings": plan.warnings,
        "rms_dbfs_after": after.rms, "sample_peak_dbfs_after": after.sample_peak,
    }


def _filter_args(filters: list[str], script: Path) -> list[str]:
    """-af, or for a long chain (a riding gain's commands) -/af reading it from a file."""
    if not filters:
        return []
    chain = ",".join(filters)
    if len(chain) < 8000:
        return ["-af", chain]
    script.write_text(chain)
    return ["-/af", str(script)]


def _scaled(callback: Callable[[float], None] | None, start: float, end: float):
    if callback is None:
        return None
    return lambda fraction: callback(start + (end - start) * fraction)


def _probe_limit(media: MediaInfo) -> list[str]:
    """ffmpeg's input options for a file whose header headers.py read: what ffmpeg's stream probe
    would find is known. By default ffmpeg reads up to 5 MB of it, and a 16-bit stereo WAV of
    noise-like audio (most music) made it try every demuxer's probe on up to 1 MB of samples (in
    case they hide a DTS or AC-3 stream): ~20 ms of CPU, a third of a 30-second clip's conversion.
    32 KiB still finds DTS in a WAV (tests/engine), and the output is the same to the bit."""
    return ["-probesize", "32768"] if media.from_header else []


def _clipping_warning(log: str, bits: int) -> str | None:
    """What CLIP_METER saw beyond full scale, if anything (overs under 0.005 dB are not worth a word)."""
    levels = [abs(float(level)) for level in _CLIP_LEVEL_RE.findall(log)]
    over_db = 20 * math.log10(max(levels)) if levels and max(levels) > 0 else 0.0
    if round(over_db, 2) <= 0:
        return None
    return (f"The audio goes {over_db:.2f} dB above full scale: those samples were clipped to fit "
            f"{bits}-bit FLAC (peak normalisation would have kept them)")


def _check_complete(log: str, decoded: float, target: Target, stated: float | None) -> None:
    """A decoding error, or far less audio than the file says it holds, means a broken file."""
    expected = _expected_duration(target, stated)
    short = expected is not None and decoded < expected - TRUNCATION_TOLERANCE
    if short or _DECODE_ERROR_RE.search(log):
        position = (target.start or 0) + decoded
        raise InputRejected("CORRUPT_FILE", f"The file is corrupt or truncated at {hms(position)}")


def _expected_duration(target: Target, duration: float | None) -> float | None:
    if duration is None:
        return None
    end = min(target.end, duration) if target.end is not None else duration
    return max(0.0, end - (target.start or 0))


def _reject_empty(target: Target) -> None:
    if target.start:
        raise InputRejected(RANGE_OUT_OF_BOUNDS, f"The start time {hms(target.start)} is past the end of "
                                                 "the input")
    raise InputRejected("NO_AUDIO_DATA", "The file has an audio header but no audio samples")
