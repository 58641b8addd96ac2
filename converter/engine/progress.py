"""Job-wide progress: each part of a job owns a share of 0..100, reports are throttled."""

from __future__ import annotations

import time
from collections.abc import Callable

MIN_INTERVAL = 0.2  # at most ~5 reports a second


class JobProgress:
    def __init__(self, callback: Callable[[float], None] | None):
        self._callback = callback
        self._done = 0.0  # percent finished by completed parts
        self._share = 0.0  # percent the current part is worth
        self._last_value = -1.0
        self._last_time = 0.0

    def start_part(self, share: float) -> None:
        """Begin a part worth `share` percent of the job."""
        self._share = share

    def update(self, fraction: float) -> None:
        """The current part is `fraction` (0..1) done."""
        self._report(self._done + self._share * max(0.0, min(1.0, fraction)))

    def sub(self, start: float, end: float) -> Callable[[float], None]:
        """A callback mapping 0..1 onto start..end of the current part (e.g. one ffmpeg pass)."""
        return lambda fraction: self.update(start + (end - start) * fraction)

    def finish_part(self) -> None:
        self._done = min(100.0, self._done + self._share)
        self._share = 0.0
        self._report(self._done)

    def finish(self) -> None:
        self._report(100.0, force=True)

    def _report(self, value: float, force: bool = False) -> None:
        if self._callback is None or value <= self._last_value:
            return
        now = time.monotonic()
        if not force and now - self._last_time < MIN_INTERVAL:
            return
        self._last_value, self._last_time = value, now
        self._callback(round(value, 2))
