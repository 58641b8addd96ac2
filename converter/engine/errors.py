"""Exceptions shared by the engine's modules."""

from __future__ import annotations


class ConversionCanceled(Exception):
    """The caller's should_cancel() said stop; ffmpeg was killed and temp files removed."""


class InputRejected(Exception):
    """One input cannot be converted: becomes an InputFailure with this code and message."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def hms(seconds: float) -> str:
    """3723.4 -> '01:02:03', the way the options write times."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
