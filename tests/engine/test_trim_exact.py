"""start and end keep exactly the samples a full decode has between them, whatever the container."""

from __future__ import annotations

import pytest
from mutagen.flac import FLAC

from converter.engine.encoding import Target
from converter.engine.probe import probe
from tests import media

from .helpers import single_output

RATE = 44100
# Containers whose own seek is exact, and MP4/Matroska, whose seek trusts packet timestamps.
FORMATS = {
    "wav16.wav": ("-c:a", "pcm_s16le"), "flac.flac": ("-c:a", "flac"), "mp3.mp3": ("-c:a", "libmp3lame"),
    "vorbis.ogg": ("-c:a", "libvorbis"), "aac.m4a": ("-c:a", "aac"), "aac.mkv": ("-c:a", "aac"),
    "video-pcm.mkv": ("-f", "lavfi", "-i", "testsrc=s=64x48:r=25:d=6", "-map", "1:v", "-map", "0:a",
                      "-c:v", "mpeg4", "-c:a", "pcm_s16le"),
}


@pytest.fixture(scope="session")
def trim_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("trim")
    media.tone(directory / "source.wav", seconds=6.0)
    return directory


def _source(trim_dir, name):
    path = trim_dir / name
    if not path.exists():
        media.ffmpeg("-i", str(trim_dir / "source.wav"), *FORMATS[name], str(path))
    return path


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize(("start", "end"), [(1, None), (4, 5)])
def test_trim_is_sample_exact(trim_dir, out_dir, name, start, end):
    source = _source(trim_dir, name)
    options = {"start": f"00:00:0{start}"} | ({"end": f"00:00:0{end}"} if end else {})
    output = single_output(source, out_dir, **options)
    whole = media.pcm(source, "s16le")  # 4 bytes a stereo frame
    expected = whole[start * RATE * 4:end * RATE * 4 if end else None]
    assert FLAC(output.path).info.total_samples == len(expected) // 4
    assert media.pcm(output.path, "s16le") == expected


def test_only_an_exact_seek_skips_decoding(trim_dir):
    """A WAV seeks close to `start`; an M4A is counted from its first sample."""
    options = {"start": "00:00:05", "end": "00:00:06"}
    wav, m4a = probe(_source(trim_dir, "wav16.wav")), probe(_source(trim_dir, "aac.m4a"))
    assert Target.for_stream(wav.audio[0], wav, options).trim(wav, wav.audio[0]) == (
        ["-ss", "3"], [f"atrim=start_sample={2 * RATE}:end_sample={3 * RATE}", "asetpts=PTS-STARTPTS"])
    assert Target.for_stream(m4a.audio[0], m4a, options).trim(m4a, m4a.audio[0]) == (
        [], [f"atrim=start_sample={5 * RATE}:end_sample={6 * RATE}", "asetpts=PTS-STARTPTS"])
