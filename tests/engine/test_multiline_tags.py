"""A tag of several lines keeps all of them, as ffmpeg prints them (continuation lines with an empty key)."""

from __future__ import annotations

from mutagen.flac import FLAC

from converter.engine.probe import parse_probe
from tests import media

from .helpers import single_output


def test_multi_line_tags_from_ffmpeg_keep_every_line(tmp_path, out_dir):
    source = tmp_path / "notes.mp3"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-metadata",
                 "comment=first line\nsecond line\n  indented third", "-metadata", "title=T", str(source))
    tags = FLAC(single_output(source, out_dir).path).tags
    assert tags["COMMENT"] == ["first line\nsecond line\n  indented third"]
    assert tags["TITLE"] == ["T"]


def test_continuation_lines_belong_to_their_own_tag_and_stream():
    # An empty line of a value is printed with its ": " (a trailing space).
    log = f"""Input #0, ogg, from 'a.ogg':
  Metadata:
    lyrics-long-key-name: la la
                    : lo lo
    artist          : A
  Duration: 00:00:03.00, start: 0.000000, bitrate: 75 kb/s
  Stream #0:0: Audio: vorbis, 44100 Hz, stereo, fltp, 160 kb/s
    Metadata:
      comment         : one
                      :{" "}
                      : three
"""
    info = parse_probe(log)
    assert info.tags == {"lyrics-long-key-name": "la la\nlo lo", "artist": "A"}
    assert info.audio[0].tags == {"comment": "one\n\nthree"}
