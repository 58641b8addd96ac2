"""The engine's public data: what goes in, what comes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EngineInput:
    """A local file and the name it was uploaded or fetched under (used for output names)."""

    path: Path
    name: str
    password: str = ""  # opens the file when it is protected: an encrypted ZIP's members, a PDF


@dataclass
class ProducedOutput:
    """A finished file in out_dir. `filename` is the download name ('song.flac', 'outputs.zip').

    input_index is None for a ZIP; its report then has "members": the members' reports.
    """

    path: Path
    filename: str
    input_index: int | None
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class InputFailure:
    """Why one input produced nothing, shaped like an api2convert error (code, message)."""

    input_index: int
    code: str
    message: str
