"""A waveform as SVG geometry, drawn by templates/converter/_waveform.html: the peak level of
each slice as a light band around the middle line, its RMS level as a dark one inside it, and a
red mark over each slice that reaches full scale (where the audio may have clipped). Heights are
in decibels from FLOOR_DB to full scale, as a level meter's: on a linear scale a quiet recording
would be a flat line, and a loud one a solid block.

Only SVG attributes, no style or script (the strict CSP), as the usage chart."""

import math
from dataclasses import dataclass

from converter.models import JobOutput

WIDTH, HEIGHT = 480, 64
FULL_SCALE = 0.9999  # a 16-bit sample of 32767 is 0.99997 of full scale, -32768 is 1.0
FLOOR_DB = -60.0  # drawn as silence


@dataclass(frozen=True)
class WaveformShape:
    element_id: str
    title: str
    peak_path: str
    rms_path: str
    clipped: list[float]  # x of each slice at full scale
    slice_width: float
    width: int = WIDTH
    height: int = HEIGHT


def _height(level: float) -> float:
    """0 at FLOOR_DB and below, 1 at full scale."""
    return max(0.0, 1 - 20 * math.log10(level) / FLOOR_DB) if level > 0 else 0.0


def _band(levels: list[float], step: float) -> str:
    """A closed path: the levels' steps above the middle line, left to right, then below it back."""
    middle = HEIGHT / 2
    levels = [_height(level) for level in levels]
    top = [f"V{middle - level * middle:.1f}H{(index + 1) * step:.1f}" for index, level in enumerate(levels)]
    bottom = [f"V{middle + level * middle:.1f}H{index * step:.1f}"
              for index, level in reversed(list(enumerate(levels)))]
    return f"M0 {middle:g}{''.join(top)}{''.join(bottom)}Z"


def waveform_shape(output: JobOutput, peaks: list[float], rms: list[float]) -> WaveformShape:
    """The shape of the levels (0 to 1 of full scale) of the output's audio, slice by slice."""
    step = WIDTH / max(1, len(peaks))
    highest = max(peaks, default=0.0)
    clipped = [round(index * step, 1) for index, peak in enumerate(peaks) if peak >= FULL_SCALE]
    loudest = f"highest peak {20 * math.log10(highest):.1f} dBFS" if highest else "silent"
    title = f"Waveform of {output.download_name}: {loudest}"
    if clipped:
        title += f", full scale reached in {len(clipped)} of {len(peaks)} slices"
    return WaveformShape(f"waveform-{output.pk}", title, _band(peaks, step), _band(rms, step), clipped,
                         round(step, 2))
