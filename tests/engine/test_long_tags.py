"""Tags longer than ffmpeg's log shows (255 bytes a line) arrive whole, read once more only when needed."""

from __future__ import annotations

import importlib
import subprocess

from mutagen.flac import FLAC

from converter.engine.probe import probe
from tests import media

from .helpers import single_output

probe_module = importlib.import_module("converter.engine.probe")  # the package exports `probe`, the function

# 'é' then '日本'...: byte 255 falls inside a character, so the log's cut is not a clean 255 bytes.
LONG_TITLE = "é" + "日本" * 333 + "x" * 333
SPECIAL = "a=b;c#d\\e " * 40 + "end=;#\\"
MULTI_LINE = "short first line\n" + "y" * 300 + "\nlast"


def test_long_mp3_tags_arrive_whole(tmp_path, out_dir):
    source = tmp_path / "long.mp3"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-metadata", "comment=" + "c" * 300,
                 "-metadata", "title=" + LONG_TITLE, "-metadata", "artist=" + SPECIAL,
                 "-metadata", "album=" + MULTI_LINE, "-metadata", "genre=Short", str(source))
    tags = FLAC(single_output(source, out_dir).path).tags
    assert len(LONG_TITLE) == 1000
    assert tags["COMMENT"] == ["c" * 300]
    assert tags["TITLE"] == [LONG_TITLE]
    assert tags["ARTIST"] == [SPECIAL]
    assert tags["ALBUM"] == [MULTI_LINE]
    assert tags["GENRE"] == ["Short"]


def test_a_cut_inside_a_character_is_noticed(tmp_path, out_dir):
    # The log's line is then 254 bytes and a partial character, not exactly 255.
    source = tmp_path / "title.mp3"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-metadata", "title=" + LONG_TITLE,
                 str(source))
    assert FLAC(single_output(source, out_dir).path).tags["TITLE"] == [LONG_TITLE]


def test_long_ogg_stream_tags_arrive_whole(tmp_path, out_dir):
    source = tmp_path / "long.ogg"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libvorbis",
                 "-metadata:s:a:0", "artist=" + "a" * 400, "-metadata:s:a:0", "album=" + MULTI_LINE,
                 "-metadata:s:a:0", "copyright=" + SPECIAL,
                 "-metadata:s:a:0", "title=Short", str(source))
    tags = FLAC(single_output(source, out_dir).path).tags
    assert tags["ARTIST"] == ["a" * 400]
    assert tags["ALBUM"] == [MULTI_LINE]
    assert tags["COPYRIGHT"] == [SPECIAL]
    assert tags["TITLE"] == ["Short"]


def _count_runs(monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args, *rest, **kwargs):
        calls.append(args)
        return real_run(args, *rest, **kwargs)

    monkeypatch.setattr(probe_module.subprocess, "run", counting_run)
    return calls


def test_short_tags_cost_no_extra_process(tmp_path, monkeypatch):
    source = tmp_path / "short.mp3"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-metadata", "comment=" + "c" * 254,
                 "-metadata", "title=" + "t\n" * 50, str(source))
    calls = _count_runs(monkeypatch)
    info = probe(source)
    assert len(calls) == 1
    assert info.tags["comment"] == "c" * 254


def test_long_tags_cost_one_extra_process(tmp_path, monkeypatch):
    source = tmp_path / "long.ogg"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libvorbis", "-metadata", "comment=" + "c" * 300,
                 "-metadata:s:a:0", "artist=" + "a" * 400, str(source))
    calls = _count_runs(monkeypatch)
    info = probe(source)
    assert len(calls) == 2
    assert info.audio[0].tags["artist"] == "a" * 400
    assert "encoder" not in info.tags or not info.tags["encoder"].startswith("Lavf")  # only keys the log had


def test_ffmetadata_is_unescaped():
    text = ";FFMETADATA1\ntitle=a\\=b\\;c\\#d\\\\e\\\nsecond\n#comment\nweird\\=key=v\n[CHAPTER]\ntitle=ch\n"
    assert probe_module._parse_ffmetadata(text) == {"title": "a=b;c#d\\e\nsecond", "weird=key": "v"}
