"""The job around the files: packaging, progress, cancel, time limit, failures."""

from __future__ import annotations

import zipfile

import pytest

from converter.engine import ConversionCanceled, EngineInput, conversion, convert
from converter.options import validate_options


def inputs(*paths):
    return [EngineInput(path, path.name) for path in paths]


def test_several_outputs_become_one_streamed_zip(wav16, wav24, out_dir):
    outputs, failures = convert(inputs(wav16, wav24), out_dir, validate_options({"output_filename": "mix"}))
    assert failures == []
    [archive] = outputs
    assert archive.filename == "mix.zip" and archive.input_index is None
    with zipfile.ZipFile(archive.path) as opened:
        assert opened.namelist() == ["mix.flac", "mix (2).flac"]
    assert [m["input_index"] for m in archive.report["members"]] == [0, 1]
    assert archive.report["duration"] is None
    assert sorted(path.name for path in out_dir.iterdir()) == ["mix.zip"]


def test_zip_without_output_filename_is_named_converted(wav16, wav24, out_dir):
    outputs, _ = convert(inputs(wav16, wav24), out_dir, {})
    assert outputs[0].filename == "converted.zip"


def test_allow_multiple_outputs_gives_separate_files(wav16, wav24, out_dir):
    options = validate_options({"allow_multiple_outputs": True})
    outputs, _ = convert(inputs(wav16, wav24), out_dir, options)
    assert [(o.filename, o.input_index) for o in outputs] == [("tone16.flac", 0), ("tone24.flac", 1)]
    assert all(o.path.parent == out_dir for o in outputs)


def test_more_outputs_than_the_threshold_are_zipped(wav16, out_dir):
    options = validate_options({"allow_multiple_outputs": True, "allow_multiple_outputs_threshold": 2})
    outputs, _ = convert(inputs(wav16, wav16, wav16), out_dir, options)
    assert [o.filename for o in outputs] == ["converted.zip"]


def test_one_failed_input_does_not_stop_the_others(wav16, media_dir, out_dir):
    empty = media_dir / "empty.wav"
    empty.write_bytes(b"")
    outputs, failures = convert(inputs(empty, wav16), out_dir, {})
    assert [o.filename for o in outputs] == ["tone16.flac"]
    assert [(f.input_index, f.code, f.message) for f in failures] == [(0, "EMPTY_FILE", "The file is empty")]


def test_progress_rises_to_100_and_is_throttled(wav16, wav24, out_dir):
    seen = []
    convert(inputs(wav16, wav24), out_dir, {}, on_progress=seen.append)
    assert seen[-1] == 100.0
    assert seen == sorted(seen) and all(0 <= value <= 100 for value in seen)


def test_cancel_kills_the_job_and_leaves_nothing(wav16, wav24, out_dir):
    calls = []

    def should_cancel():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(ConversionCanceled):
        convert(inputs(wav16, wav24), out_dir, {}, should_cancel=should_cancel)
    assert list(out_dir.iterdir()) == []


def test_time_limit(wav16, out_dir, monkeypatch):
    monkeypatch.setattr(conversion, "TIME_LIMIT_BASE", -1.0)
    outputs, failures = convert(inputs(wav16), out_dir, {}, time_limit_factor=0)
    assert outputs == []
    assert [f.code for f in failures] == ["TIME_LIMIT"]
    assert list(out_dir.iterdir()) == []
