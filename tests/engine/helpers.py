"""Small helpers shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

from converter.engine import EngineInput, convert
from converter.options import validate_options


def convert_one(path: Path, out_dir: Path, name: str | None = None, *, password: str = "", **options):
    """Convert one file with validated options (and its password); return (outputs, failures)."""
    return convert([EngineInput(path, name or path.name, password)], out_dir, validate_options(options))


def single_output(path: Path, out_dir: Path, **options):
    outputs, failures = convert_one(path, out_dir, **options)
    assert failures == []
    assert len(outputs) == 1
    return outputs[0]
