"""A FLAC of a minute or more has a SEEKTABLE with a point every 10 seconds, and each point's offset
really is where its frame starts: decoding from there gives the samples the whole file has there."""

from __future__ import annotations

import pytest
from mutagen.flac import FLAC

from converter.engine.flac import BLOCK_SIZE
from tests import media

from .helpers import single_output

STEREO_S16 = 4  # bytes a frame of samples


@pytest.fixture(scope="module")
def seventy_seconds(media_dir):
    return media.tone(media_dir / "seventy.wav", seconds=70.0)


@pytest.fixture(scope="module")
def silence_then_noise(media_dir):
    """Frames of a few bytes, then frames of kilobytes: the average frame size misplaces each point."""
    path = media_dir / "silence-then-noise.wav"
    media.ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo:d=45", "-f", "lavfi",
                 "-i", "anoisesrc=c=pink:r=44100:d=25:a=0.5", "-filter_complex",
                 "[1]aformat=channel_layouts=stereo[n];[0][n]concat=n=2:v=0:a=1", "-c:a", "pcm_s16le",
                 str(path))
    return path


@pytest.mark.parametrize("source", ["seventy_seconds", "silence_then_noise"])
def test_a_point_every_10_seconds_at_its_frame(request, source, out_dir):
    output = single_output(request.getfixturevalue(source), out_dir)
    flac = FLAC(output.path)
    assert [block.code for block in flac.metadata_blocks][:2] == [0, 3]  # STREAMINFO, then SEEKTABLE
    points = flac.seektable.seekpoints
    assert [point.first_sample for point in points] == [
        second * 44100 // BLOCK_SIZE * BLOCK_SIZE for second in range(0, 70, 10)]
    assert all(point.num_samples == BLOCK_SIZE for point in points)
    whole = media.pcm(output.path, "s16le")
    data = output.path.read_bytes()
    audio_start = _audio_start(data)
    # A FLAC of STREAMINFO alone and the frames from the point on: another decoder's proof.
    streaminfo = bytes([data[4] | 0x80]) + data[5:42]
    for point in points[1:]:
        cut = out_dir / f"from-{point.first_sample}.flac"
        cut.write_bytes(b"fLaC" + streaminfo + data[audio_start + point.byte_offset:])
        decoded = media.pcm(cut, "s16le")[:BLOCK_SIZE * STEREO_S16]
        first = point.first_sample * STEREO_S16
        assert decoded == whole[first:first + BLOCK_SIZE * STEREO_S16]


def _audio_start(data: bytes) -> int:
    """Where the frames begin: after "fLaC" and the metadata blocks (walked here as the format lays
    them out, not with the code under test)."""
    position = 4
    while True:
        last, length = data[position] & 0x80, int.from_bytes(data[position + 1:position + 4], "big")
        position += 4 + length
        if last:
            return position


def test_a_short_output_has_none(wav16, out_dir):
    assert FLAC(single_output(wav16, out_dir).path).seektable is None


def test_a_tagged_long_output_keeps_tags_and_table(media_dir, out_dir, seventy_seconds):
    tagged = media_dir / "seventy-tagged.flac"
    media.ffmpeg("-i", str(seventy_seconds), "-metadata", "title=Long", str(tagged))
    flac = FLAC(single_output(tagged, out_dir).path)
    assert flac.tags["TITLE"] == ["Long"] and len(flac.seektable.seekpoints) == 7
