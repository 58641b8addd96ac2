"""`manage.py convert`: the embedded engine from the command line, synchronously.

Options go through the same validate_options as the web form and the API.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from converter.engine import EngineInput, convert
from converter.options import BUILTIN_PRESETS, OptionsInvalid, apply_preset, validate_options


class Command(BaseCommand):
    help = ("Convert files to FLAC with the embedded engine: audio, video, text and documents (spoken), "
            "archives (each member).")

    def add_arguments(self, parser):
        parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
        parser.add_argument("--output-dir", required=True, type=Path)
        parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                            help="A conversion option, e.g. --option frequency=48000 (repeatable).")
        parser.add_argument("--preset", help="A built-in preset: " + ", ".join(BUILTIN_PRESETS))
        parser.add_argument("--json", action="store_true", help="One JSON object per output or failure.")

    def handle(self, *args, **opts):
        options = self._options(opts["option"], opts["preset"])
        inputs = [EngineInput(path, path.name) for path in opts["inputs"]]
        outputs, failures = convert(inputs, opts["output_dir"], options)
        for output in outputs:
            members = output.report.get("members") or [output.report | {"input_index": output.input_index}]
            for member in members:
                self._print(opts["json"], {
                    "input": str(inputs[member["input_index"]].path),
                    "output": str(output.path),
                    "duration": member["duration"],
                    "sample_rate": member["sample_rate"],
                    "bits_per_sample": member["bits_per_sample"],
                    "channels": member["channels"],
                    "integrated_lufs": member["integrated_lufs_after"],
                    "true_peak_dbtp": member["true_peak_dbtp_after"],
                    "md5": member["md5"],
                })
        for failure in failures:
            self._print(opts["json"], {"input": str(inputs[failure.input_index].path),
                                       "error": {"code": failure.code, "message": failure.message}})
        if failures:
            raise SystemExit(1)

    def _options(self, pairs: list[str], preset: str | None) -> dict:
        given = {}
        for pair in pairs:
            name, equals, value = pair.partition("=")
            if not equals:
                raise CommandError(f"--option {pair!r}: use NAME=VALUE", returncode=2)
            given[name.strip()] = value
        if preset is not None:
            if preset not in BUILTIN_PRESETS:
                known = ", ".join(BUILTIN_PRESETS)
                raise CommandError(f"Unknown preset {preset!r}; built-in presets: {known}", returncode=2)
            given = apply_preset(BUILTIN_PRESETS[preset], given)
        try:
            return validate_options(given)
        except OptionsInvalid as invalid:
            raise CommandError(f"Invalid options: {invalid}", returncode=2) from None

    def _print(self, as_json: bool, record: dict) -> None:
        if as_json:
            self.stdout.write(json.dumps(record))
        elif "error" in record:
            self.stderr.write(f"{record['input']}: {record['error']['code']}: {record['error']['message']}")
        else:
            self.stdout.write(f"{record['input']} -> {record['output']} ({record['duration']:.2f} s, "
                              f"{record['sample_rate']} Hz, {record['bits_per_sample']} bit, "
                              f"{record['channels']} ch)")
