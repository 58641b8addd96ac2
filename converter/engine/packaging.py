"""Delivering finished FLACs: separate files or one ZIP, as the options ask."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .filenames import safe_filename, unique_name
from .interface import ProducedOutput

# The per-file measurements; a ZIP has none of its own (its members do).
REPORT_FIELDS = ("duration", "sample_rate", "bits_per_sample", "channels", "md5", "compression_ratio",
                 "integrated_lufs_before", "integrated_lufs_after", "true_peak_dbtp_before",
                 "true_peak_dbtp_after")


@dataclass
class Finished:
    """A FLAC written in the work directory, waiting to be delivered."""

    path: Path
    filename: str
    input_index: int
    report: dict[str, Any]


def wants_zip(count: int, options: dict[str, Any]) -> bool:
    """A single output is never zipped; several are, unless allow_multiple_outputs (up to its threshold)."""
    if count <= 1:
        return False
    if not options.get("allow_multiple_outputs"):
        return True
    threshold = options.get("allow_multiple_outputs_threshold")
    return threshold is not None and count > threshold


def deliver(finished: list[Finished], out_dir: Path, options: dict[str, Any]) -> list[ProducedOutput]:
    """Move the files into out_dir (or write one ZIP there) and describe them."""
    if not wants_zip(len(finished), options):
        taken = {path.name.lower() for path in out_dir.iterdir()}
        outputs = []
        for item in finished:
            destination = out_dir / unique_name(item.filename, taken)
            item.path.replace(destination)
            outputs.append(ProducedOutput(destination, destination.name, item.input_index, item.report))
        return outputs

    zip_name = safe_filename(options.get("output_filename") or "", ".zip", fallback="converted")
    destination = out_dir / unique_name(zip_name, {path.name.lower() for path in out_dir.iterdir()})
    # FLAC does not compress further: store, streaming each member from disk.
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for item in finished:
            archive.write(item.path, arcname=item.filename)
            item.path.unlink()
    members = [{"filename": item.filename, "input_index": item.input_index, **item.report}
               for item in finished]
    report = dict.fromkeys(REPORT_FIELDS) | {"size": destination.stat().st_size, "members": members}
    return [ProducedOutput(destination, destination.name, None, report)]
