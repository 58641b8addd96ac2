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
NO_SIGNAL_DBFS = -180.0  # under a 32-bit sample's smallest step (-186.6 dBFS): digital silence or float dust
ASSUMED_BITS = 16  # the output depth when the options do not name one: the input's own, 16 bits at most
RESOLVED_DB = 40.0  # a level this far above the output's smallest step survives rounding within 0.05 dB
# An encode pass rounds to the encoder's sample format (u8 for 8-bit, s16, s32: asplit passes the
# encoder's choice back) and measures that on a branch, since ebur128 converts to doubles.
MEASURE_ENCODED = "aformat=sample_fmts=u8|s16|s32,asplit[encoded],{},anullsink;[encoded]anull"
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
MIN_SECANT_DB = 0.5  # a slope over less gain than this is ebur128's 0.1 dB rounding, not the limiter
SATURATED_SLOPE = 0.3  # integrated rises less than this per dB of drive: the limiter is flattening it
MAX_GAIN_STEP_DB = 6.0  # drive added per pass: more overshoots the true-peak ceiling for little loudness
CEILING_MARGIN_DB = 0.2  # a pass this close to the ceiling is limited hard: the next one aims under it


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

    def too_quiet_for(self, kind: str) -> str | None:
        """Why `kind` normalisation cannot apply to this audio, or None when it can."""
        peak = self.true_peak if kind == "ebu" else self.sample_peak
        if peak is None or peak <= NO_SIGNAL_DBFS:
            return "The audio is silent, so it was not normalised"
        if kind == "ebu" and (self.integrated is None or self.integrated <= SILENCE_LUFS):
            return (f"The audio is quieter than {SILENCE_LUFS:g} LUFS, the least EBU R128 measures, "
                    "so it was not normalised")
        return None


def measurement_filters(normalize_type: str, *, frames: bool = False) -> list[str]:
    """Filters appended to a pass so its log carries the measurements the report and plan need.

    An encode pass (frames=False) measures the samples as the encoder gets them, rounded to its
    format: near the output's floor the rounding changes the figures.
    """
    measuring = [EBUR128_FRAMES if frames else EBUR128] + ([] if normalize_type == "ebu" else [ASTATS])
    return measuring if frames else [MEASURE_ENCODED.format(",".join(measuring))]


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
    method: str  # "gain" (exact, nothing to check), "measured gain", "limited gain" or "dynamic"
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
    widest_range: float = 0.0  # the widest loudness range a pass measured
    _last: tuple[float, float] | None = None  # (gain correction, integrated) of the previous try

    def learn(self, targets: Targets, measured: Loudness) -> None:
        # Limiting eats part of any extra gain: step along the measured slope (secant), not 1:1.
        slope = 1.0
        if self._last is not None and abs(self.gain_db - self._last[0]) >= MIN_SECANT_DB:
            slope = (measured.integrated - self._last[1]) / (self.gain_db - self._last[0])
        self._last = (self.gain_db, measured.integrated)
        step = (targets.integrated - measured.integrated) / min(1.0, max(0.2, slope))
        # A saturated limiter turns more drive into overshoot and distortion, not loudness.
        self.gain_db += min(step, 0.0 if slope < SATURATED_SLOPE else MAX_GAIN_STEP_DB)
        if measured.true_peak is not None and measured.true_peak > targets.true_peak - CEILING_MARGIN_DB:
            self.ceiling_db -= measured.true_peak - targets.true_peak + CEILING_MARGIN_DB
        self.widest_range = max(self.widest_range, measured.loudness_range or 0.0)
        if measured.loudness_range is not None and measured.loudness_range > targets.loudness_range:
            self.compression *= 0.95 * targets.loudness_range / measured.loudness_range


def plan_normalization(options: dict[str, Any], measured: Loudness, sample_rate: int,
                       corrections: Corrections | None = None) -> Plan:
    """Filters bringing `measured` audio to the options' target (normalize_type ebu, rms or peak)."""
    corrections = corrections or Corrections()
    kind = options["normalize_type"]
    too_quiet = measured.too_quiet_for(kind)
    if too_quiet:
        return Plan([], "gain", [too_quiet])
    if kind == "peak":
        return _sample_gain(options, measured, options["normalize_target_level"] - measured.sample_peak)
    if kind == "rms":
        gain = options["normalize_target_level"] - measured.rms
        if measured.sample_peak + gain <= 0:
            return _sample_gain(options, measured, gain)
        # Never clip: reach for the target, limit the peaks at full scale (the level this reaches
        # is measured, and said: rms_limited_warning).
        return Plan([gain_filter(gain), "alimiter=limit=1:attack=1:release=50:level=false:latency=true"],
                    "limited gain")

    targets = Targets.from_options(options)
    gain = targets.integrated - measured.integrated
    range_too_wide = measured.range_is_known and measured.loudness_range > targets.loudness_range
    warnings = []
    if range_too_wide and corrections.widest_range > measured.loudness_range:
        # Riding the gain made the range wider, not narrower: the source's range is the best on offer.
        range_too_wide = False
        warnings.append(f"Compressing the loudness range widened it, so it was kept at the source's "
                        f"{measured.loudness_range} LU (target {targets.loudness_range})")
    peaks_too_high = (measured.true_peak or -math.inf) + gain > targets.true_peak
    if not range_too_wide and not peaks_too_high:
        return Plan([gain_filter(gain)], "gain", warnings, gain)
    limiter = true_peak_limiter(targets.true_peak + corrections.ceiling_db, sample_rate)
    gain_filters = [gain_filter(gain + corrections.gain_db)]
    if range_too_wide:
        ratio = 0.9 * targets.loudness_range / measured.loudness_range * corrections.compression
        return Plan([*riding_gain(measured, ratio), *gain_filters, *limiter], "dynamic")
    return Plan([*gain_filters, *limiter], "limited gain", warnings)


def rms_limited_warning(target_dbfs: float, reached: Loudness) -> str:
    """What a limited RMS normalisation reached: limiting takes level off with the peaks."""
    level = f"{reached.rms:.1f} dBFS RMS" if reached.rms is not None else "a lower level"
    return (f"Reaching {target_dbfs:g} dBFS RMS would clip: peaks were limited at full scale, "
            f"and the level reached is {level}")


def _sample_gain(options: dict[str, Any], measured: Loudness, gain_db: float) -> Plan:
    """A plain gain for rms or peak; near the output's floor its figures are measured, not computed."""
    lsb_dbfs = -20 * math.log10(2) * ((options.get("audio_bitdepth") or ASSUMED_BITS) - 1)
    if measured.rms + gain_db >= lsb_dbfs + RESOLVED_DB:
        return Plan.plain_gain(gain_db)
    return Plan([gain_filter(gain_db)], "measured gain",
                ["Rounding to the output's bit depth changes audio this quiet: the levels reported were "
                 "measured on the written file"])


def riding_gain(measured: Loudness, ratio: float) -> list[str]:
    """Filters compressing the short-term loudness around the integrated level by `ratio` (< 1).

    The loudness at time u is the 3 s short-term value logged at u + 1.5 s (the window's
    centre): the whole file was measured, so the gain moves before a loud passage starts.
    Passages under the range gate (20 LU below the short-term power mean) do not count in the
    range: lifting them would put them over the gate and widen it, so they move with the gate.
    """
    times = [t for t, _ in measured.short_term]
    valid = [short for _, short in measured.short_term if short > SILENCE_LUFS]
    if not valid:
        return []
    pivot = _power_mean(valid)
    high = measured.integrated + 20
    centred = []
    for i in range(len(times)):
        short = measured.short_term[min(len(times) - 1, i + 15)][1]
        centred.append(min(high, short) if short > pivot - 20 else pivot)
    smoothed = _moving_average([(ratio - 1) * (level - measured.integrated) for level in centred],
                               AGC_SMOOTHING_FRAMES)
    commands, last = [], None
    for t, gain in zip([0.0, *times[:-1]], smoothed, strict=True):
        if last is None or abs(gain - last) >= 0.05:
            commands.append(f"{t:.2f} volume@ride volume {10 ** (gain / 20):.5f}")
            last = gain
    return [f"asendcmd=c='{';'.join(commands)}'", f"volume@ride={10 ** (smoothed[0] / 20):.5f}"]


def _power_mean(levels: list[float]) -> float:
    return 10 * math.log10(sum(10 ** (level / 10) for level in levels) / len(levels))


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
