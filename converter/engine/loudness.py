"""Measuring loudness with ffmpeg filters, and planning the processing that normalises it.

EBU R128: measure first (ebur128: integrated, range, true peak). When one plain gain meets
the integrated target, the true-peak ceiling and the range target, apply just that gain:
exact and fast. Otherwise process dynamically: when the range is too wide, a gain that rides
the short-term loudness (measured in the first pass, so it looks ahead) compresses it toward
the target; a true-peak limiter keeps peaks under the ceiling. The result is measured in the
same pass and corrections (gain, compression, ceiling) are learnt for another pass if needed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

SILENCE_LUFS = -70.0  # ebur128's floor: nothing above the absolute gate
OVERSAMPLING = 4  # the limiter runs at 4x the rate so it sees inter-sample (true) peaks
LIMITER_MARGIN_DB = 0.3  # headroom for the overshoot left after oversampled limiting

_NUMBER = r"(-?(?:\d+(?:\.\d+)?|inf)|nan)"
_INTEGRATED_RE = re.compile(r"Integrated loudness:\s+I:\s+" + _NUMBER + r" LUFS\s+Threshold:\s+" + _NUMBER)
_RANGE_RE = re.compile(r"Loudness range:\s+LRA:\s+" + _NUMBER + " LU")
_TRUE_PEAK_RE = re.compile(r"True peak:\s+Peak:\s+" + _NUMBER + " dBFS")
_RMS_RE = re.compile(r"\] RMS level dB: " + _NUMBER)
_PEAK_RE = re.compile(r"\] Peak level dB: " + _NUMBER)

EBUR128 = "ebur128=peak=true:framelog=quiet"
EBUR128_FRAMES = "ebur128=peak=true:framelog=info"  # also logs short-term loudness every 100 ms
_FRAME_RE = re.compile(r"\] t: *([\d.]+) .*? S: *(-?[\d.]+) ")
MIN_RANGE_FRAMES = 30  # 3 s of short-term values (100 ms apart) after the first window filled
AGC_SMOOTHING_FRAMES = 10  # 1 s moving average of the riding gain
ASTATS = "astats=measure_perchannel=none:measure_overall=RMS_level+Peak_level"


@dataclass
class Loudness:
    """What one ffmpeg pass measured (the last summary in its log)."""

    integrated: float | None = None  # LUFS
    threshold: float | None = None  # the integrated gate, LUFS (loudnorm's measured_thresh)
    loudness_range: float | None = None  # LU
    true_peak: float | None = None  # dBTP
    rms: float | None = None  # dBFS
    sample_peak: float | None = None  # dBFS
    short_term: list[tuple[float, float]] = field(default_factory=list)  # (t, S LUFS) per 100 ms

    @classmethod
    def from_log(cls, log: str) -> Loudness:
        def last(pattern: re.Pattern, group: int = 1) -> float | None:
            matches = pattern.findall(log)
            if not matches:
                return None
            value = matches[-1] if isinstance(matches[-1], str) else matches[-1][group - 1]
            number = float(value)
            return None if math.isnan(number) else number

        frames = [(float(t), float(short)) for t, short in _FRAME_RE.findall(log)]
        return cls(last(_INTEGRATED_RE), last(_INTEGRATED_RE, 2), last(_RANGE_RE), last(_TRUE_PEAK_RE),
                   last(_RMS_RE), last(_PEAK_RE), frames)

    def shifted(self, gain_db: float) -> Loudness:
        """The same audio after a plain gain: every level moves by exactly gain_db, the range not at all."""
        def move(value: float | None) -> float | None:
            return None if value is None else round(value + gain_db, 6)

        return Loudness(move(self.integrated), move(self.threshold), self.loudness_range,
                        move(self.true_peak), move(self.rms), move(self.sample_peak))

    @property
    def range_is_known(self) -> bool:
        """LRA needs several 3 s windows: on a clip shorter than ~6 s it means nothing."""
        valid = sum(1 for _, short in self.short_term if short > SILENCE_LUFS)
        return self.loudness_range is not None and valid >= MIN_RANGE_FRAMES

    @property
    def silent(self) -> bool:
        return self.integrated is None or self.integrated <= SILENCE_LUFS


def measurement_filters(normalize_type: str, *, frames: bool = False) -> list[str]:
    """Filters appended to a pass so its log carries the measurements the report and plan need."""
    ebur128 = EBUR128_FRAMES if frames else EBUR128
    return [ebur128] if normalize_type == "ebu" else [ebur128, ASTATS]


@dataclass
class Targets:
    integrated: float
    loudness_range: float
    true_peak: float

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Targets:
        return cls(options["normalize_target_level_ebu"], options["normalize_loudness_range_target_ebu"],
                   options["normalize_true_peak_ebu"])

    def met_by(self, measured: Loudness, *, check_range: bool) -> bool:
        """Integrated within tolerance, peaks under the ceiling, and (if it was too wide) the range."""
        return (measured.integrated is not None and abs(measured.integrated - self.integrated) <= 0.3
                and (measured.true_peak is None or measured.true_peak <= self.true_peak)
                and (not check_range or (measured.loudness_range or 0.0) <= self.loudness_range))


@dataclass
class Plan:
    """The filters that normalise one stream."""

    filters: list[str]
    method: str  # "gain" (exact, nothing to check), "limited gain" or "dynamic"
    warnings: list[str] = field(default_factory=list)
    gain_db: float = 0.0  # for method "gain": the whole change

    @classmethod
    def plain_gain(cls, gain_db: float) -> Plan:
        return cls([gain_filter(gain_db)], "gain", gain_db=gain_db)


@dataclass
class Corrections:
    """What earlier measured attempts taught: extra gain, and a lower limiter ceiling."""

    gain_db: float = 0.0
    ceiling_db: float = 0.0
    compression: float = 1.0  # multiplies the planned range ratio
    _last: tuple[float, float] | None = None  # (gain correction, integrated) of the previous try

    def learn(self, targets: Targets, measured: Loudness) -> None:
        # Limiting eats part of any extra gain: step along the measured slope (secant), not 1:1.
        slope = 1.0
        if self._last is not None and abs(self.gain_db - self._last[0]) > 0.01:
            slope = (measured.integrated - self._last[1]) / (self.gain_db - self._last[0])
            slope = min(1.0, max(0.2, slope))
        self._last = (self.gain_db, measured.integrated)
        self.gain_db += (targets.integrated - measured.integrated) / slope
        if measured.true_peak is not None and measured.true_peak > targets.true_peak:
            self.ceiling_db -= measured.true_peak - targets.true_peak + 0.1
        if measured.loudness_range is not None and measured.loudness_range > targets.loudness_range:
            self.compression *= 0.95 * targets.loudness_range / measured.loudness_range


def plan_normalization(options: dict[str, Any], measured: Loudness, sample_rate: int,
                       corrections: Corrections | None = None) -> Plan:
    """Filters bringing `measured` audio to the options' target (normalize_type ebu, rms or peak)."""
    corrections = corrections or Corrections()
    kind = options["normalize_type"]
    if measured.silent:
        return Plan([], "gain", ["The audio is silent, so it was not normalised"])
    if kind == "peak":
        return Plan.plain_gain(options["normalize_target_level"] - measured.sample_peak)
    if kind == "rms":
        gain = options["normalize_target_level"] - measured.rms
        if measured.sample_peak + gain <= 0:
            return Plan.plain_gain(gain)
        # Never clip: reach for the target, limit the peaks at full scale, and say so.
        return Plan([gain_filter(gain), "alimiter=limit=1:attack=1:release=50:level=false:latency=true"],
                    "limited gain",
                    [f"Reaching {options['normalize_target_level']} dBFS RMS would clip; peaks were limited"])

    targets = Targets.from_options(options)
    gain = targets.integrated - measured.integrated
    range_too_wide = measured.range_is_known and measured.loudness_range > targets.loudness_range
    peaks_too_high = (measured.true_peak or -math.inf) + gain > targets.true_peak
    if not range_too_wide and not peaks_too_high:
        return Plan.plain_gain(gain)
    limiter = true_peak_limiter(targets.true_peak + corrections.ceiling_db, sample_rate)
    gain_filters = [gain_filter(gain + corrections.gain_db)]
    if range_too_wide:
        ratio = 0.9 * targets.loudness_range / measured.loudness_range * corrections.compression
        return Plan([*riding_gain(measured, ratio), *gain_filters, *limiter], "dynamic")
    return Plan([*gain_filters, *limiter], "limited gain")


def riding_gain(measured: Loudness, ratio: float) -> list[str]:
    """Filters compressing the short-term loudness around the integrated level by `ratio` (< 1).

    The loudness at time u is the 3 s short-term value logged at u + 1.5 s (the window's
    centre): the whole file was measured, so the gain moves before a loud passage starts.
    Passages under the range gate (I - 20 LU) get the gate's gain, so noise is not pumped up.
    """
    times = [t for t, _ in measured.short_term]
    valid = [short for _, short in measured.short_term if short > SILENCE_LUFS]
    if not valid:
        return []
    low, high = measured.integrated - 20, measured.integrated + 20
    centred = []
    for i in range(len(times)):
        ahead = min(len(times) - 1, i + 15)
        short = measured.short_term[ahead][1]
        centred.append(min(high, max(low, short if short > SILENCE_LUFS else valid[0])))
    smoothed = _moving_average([(ratio - 1) * (level - measured.integrated) for level in centred],
                               AGC_SMOOTHING_FRAMES)
    commands, last = [], None
    for t, gain in zip([0.0, *times[:-1]], smoothed, strict=True):
        if last is None or abs(gain - last) >= 0.05:
            commands.append(f"{t:.2f} volume@ride volume {10 ** (gain / 20):.5f}")
            last = gain
    return [f"asendcmd=c='{';'.join(commands)}'", f"volume@ride={10 ** (smoothed[0] / 20):.5f}"]


def _moving_average(values: list[float], width: int) -> list[float]:
    half = width // 2
    averages = []
    for i in range(len(values)):
        window = values[max(0, i - half): i + half + 1]
        averages.append(sum(window) / len(window))
    return averages


def gain_filter(gain_db: float) -> str:
    return f"volume={gain_db:.4f}dB"


def true_peak_limiter(ceiling_db: float, sample_rate: int) -> list[str]:
    """Limit at 4x the rate, then come back: the limiter then catches inter-sample peaks too."""
    limit = 10 ** ((ceiling_db - LIMITER_MARGIN_DB) / 20)
    return [
        f"aresample={sample_rate * OVERSAMPLING}:resampler=soxr",
        f"alimiter=limit={max(limit, 0.0625):.5f}:attack=1:release=50:level=false:latency=true",
        f"aresample={sample_rate}:resampler=soxr",
    ]


def report_fields(before: Loudness | None, after: Loudness | None) -> dict[str, float | None]:
    """The loudness part of an output's report (None when not measured)."""
    before, after = before or Loudness(), after or Loudness()
    return {
        "integrated_lufs_before": before.integrated, "integrated_lufs_after": after.integrated,
        "true_peak_dbtp_before": before.true_peak, "true_peak_dbtp_after": after.true_peak,
        "loudness_range_lu_before": before.loudness_range, "loudness_range_lu_after": after.loudness_range,
    }
