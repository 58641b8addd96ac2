"""A daily bar chart as plain SVG geometry, drawn by templates/usage/chart.svg.

Server-rendered, so the strict CSP (no inline script or style) holds: everything is an SVG
attribute. Shared by the team's usage page and the admin's.
"""

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28  # room for the axis labels
LABELS = 7  # at most this many day labels under the bars


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    metric: str
    title: str
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM
    right_edge: int = WIDTH - RIGHT


def _nice_ceiling(value: float) -> float:
    """1, 2 or 5 times a power of ten, at least value (1 for an empty chart)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def daily_chart(rows: list[dict], metric: str, title: str, unit: str, scale: float = 1) -> Chart:
    """Bars of rows[i][metric] / scale for each day row (as services.usage.usage_daily returns)."""
    values = [(row["day"], (row[metric] or 0) / scale) for row in rows]
    top = _nice_ceiling(max((value for _, value in values), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(values), 1)
    bars = []
    for index, (day, value) in enumerate(values):
        height = plot_height * value / top
        bars.append(Bar(x=round(LEFT + index * slot + slot * 0.15, 2), y=round(TOP + plot_height - height, 2),
                        width=round(slot * 0.7, 2), height=round(height, 2),
                        title=f"{day:%b %-d}: {_number(value)} {unit}"))
    y_ticks = [Tick(round(TOP + plot_height * (1 - share), 2), _number(top * share)) for share in (0, 0.5, 1)]
    every = max(math.ceil(len(values) / LABELS), 1)
    x_labels = [Tick(round(LEFT + (index + 0.5) * slot, 2), f"{day:%b %-d}")
                for index, (day, _) in enumerate(values) if index % every == 0]
    return Chart(metric=metric, title=title, bars=bars, y_ticks=y_ticks, x_labels=x_labels)
