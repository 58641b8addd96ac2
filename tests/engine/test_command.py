"""`manage.py convert`: same engine, same option validation, JSON lines, exit codes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from mutagen.flac import FLAC


def run(*args):
    stdout = io.StringIO()
    try:
        call_command("convert", *args, stdout=stdout, stderr=io.StringIO())
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_converts_with_options_and_prints_json_lines(wav16, media_dir, out_dir):
    empty = media_dir / "empty-for-command.wav"
    empty.write_bytes(b"")
    code, lines = run(str(wav16), str(empty), "--output-dir", str(out_dir), "--option", "frequency=48000",
                      "--option", "allow_multiple_outputs=true", "--json")
    assert code == 1
    converted, failed = lines
    assert converted["input"] == str(wav16)
    assert converted["sample_rate"] == 48000 == FLAC(converted["output"]).info.sample_rate
    assert set(converted) == {"input", "output", "duration", "sample_rate", "bits_per_sample", "channels",
                              "integrated_lufs", "true_peak_dbtp", "md5"}
    assert failed == {"input": str(empty), "error": {"code": "EMPTY_FILE", "message": "The file is empty"}}


def test_builtin_preset(wav16, out_dir):
    code, [line] = run(str(wav16), "--output-dir", str(out_dir), "--preset", "Podcast voice", "--json")
    assert code == 0
    assert line["channels"] == 1
    assert line["integrated_lufs"] == pytest.approx(-16, abs=0.5)


@pytest.mark.parametrize(("args", "named"), [
    (["--option", "frequency=12"], "frequency"),
    (["--option", "start=00:99:00"], "start"),
    (["--preset", "Team thing"], "Team thing"),
])
def test_invalid_options_exit_2_naming_the_option(wav16, out_dir, args, named):
    with pytest.raises(CommandError) as raised:
        call_command("convert", str(wav16), "--output-dir", str(out_dir), *args)
    assert raised.value.returncode == 2
    assert named in str(raised.value)


def test_text_and_archives_go_through_the_same_engine(wav16, tmp_path, out_dir):
    import zipfile

    text = tmp_path / "hello.txt"
    text.write_text("Hello from the command line.")
    archive = tmp_path / "pair.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.write(wav16, "inside.wav")
        opened.writestr("broken.wav", b"RIFF")
    code, lines = run(str(text), str(archive), "--output-dir", str(out_dir), "--option", "language_tts=en-GB",
                      "--option", "allow_multiple_outputs=true", "--json")
    assert code == 1
    assert [(line["input"], line.get("sample_rate")) for line in lines] == [
        (str(text), 22050), (str(archive), 44100), (str(archive), None)]
    assert lines[2]["error"]["message"].startswith("broken.wav: ")
