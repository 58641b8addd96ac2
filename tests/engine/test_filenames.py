"""Output names: harmless on every OS, never empty, at most 255 bytes."""

from __future__ import annotations

import pytest

from converter.engine.filenames import base_name, safe_filename, unique_name


@pytest.mark.parametrize(("wanted", "expected"), [
    ("My song", "My song.flac"),
    ("../../etc/passwd", "_.._etc_passwd.flac"),
    ("a\\b/c", "a_b_c.flac"),
    ("evil\u202egnp.exe", "evilgnp.exe.flac"),
    ("nul\x00byte\x07", "nulbyte.flac"),
    ("CON", "_CON.flac"),
    ("nul.txt", "_nul.txt.flac"),
    ("  spaced.  ", "spaced.flac"),
    ("song.FLAC", "song.flac"),
    ("", "fallback.flac"),
    ("\u200b\u202e", "fallback.flac"),
])
def test_safe_filename(wanted, expected):
    assert safe_filename(wanted, ".flac", fallback="fallback") == expected


def test_safe_filename_trims_to_255_bytes_without_splitting_characters():
    name = safe_filename("é" * 300, ".flac")
    assert len(name.encode()) <= 255
    assert name.endswith("é.flac")


def test_base_name_of_uploaded_names():
    assert base_name("C:\\music\\song.mp3") == "song"
    assert base_name("dir/archive.tar.gz") == "archive.tar"
    assert base_name(".hidden") == ".hidden"


def test_unique_name():
    taken: set[str] = set()
    assert [unique_name("a.flac", taken) for _ in range(3)] == ["a.flac", "a (2).flac", "a (3).flac"]
