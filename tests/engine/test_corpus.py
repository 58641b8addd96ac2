"""Every container and codec the bundled ffmpeg writes, tagged or not, with cover art, and broken files."""

from __future__ import annotations

import pytest
from mutagen.flac import FLAC

from converter.engine.flac import BLOCK_SIZE
from converter.engine.probe import probe_with_ffmpeg
from tests import media

from .helpers import convert_one, single_output

# What the FLAC keeps of the 44.1 kHz/16-bit stereo source: Opus decodes at 48 kHz, float WAV
# becomes 24-bit, the other depths are kept.
EXPECTED_RATE = {"opus.opus": 48000}
EXPECTED_BITS = {"wav8.wav": 8, "wav24.wav": 24, "wav32.wav": 32, "wavfloat.wav": 24}
UNTAGGABLE = {"ac3.ac3", "eac3.eac3", "mp2.mp2", "aiff.aiff"}  # raw streams, or AIFF's title-only tags


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("name", sorted(media.AUDIO_CORPUS))
def test_every_codec_converts(corpus_dir, out_dir, name):
    source = media.corpus_file(corpus_dir, name)
    output = single_output(source, out_dir)
    info = FLAC(output.path).info
    assert info.sample_rate == EXPECTED_RATE.get(name, 44100)
    assert info.bits_per_sample == EXPECTED_BITS.get(name, 16)
    assert info.channels == 2
    assert info.length == pytest.approx(2.0, abs=0.03)
    # Every block but the last as long as libFLAC's, whatever frame the decoder gave first
    # (an MP3's first frame is 47 samples long after the encoder delay).
    assert (info.min_blocksize, info.max_blocksize) == (BLOCK_SIZE, BLOCK_SIZE)
    if name in media.LOSSLESS:
        sample_format = media.LOSSLESS[name]
        assert media.pcm(output.path, sample_format) == media.pcm(source, sample_format)


@pytest.mark.parametrize("name", sorted(set(media.AUDIO_CORPUS) - UNTAGGABLE))
def test_tags_become_vorbis_comments(corpus_dir, out_dir, name):
    output = single_output(media.corpus_file(corpus_dir, name, tagged=True), out_dir)
    tags = FLAC(output.path).tags
    assert {key: tags[key] for key in ("TITLE", "ARTIST", "ALBUM", "TRACKNUMBER", "DATE", "GENRE")} == {
        "TITLE": ["Song"], "ARTIST": ["Band"], "ALBUM": ["Record"], "TRACKNUMBER": ["3"], "DATE": ["2021"],
        "GENRE": ["Jazz"],
    }
    assert "major_brand" not in tags and "encoder" not in tags


@pytest.mark.parametrize(("name", "codec"), [
    ("cover.mp3", ("-c:a", "libmp3lame")), ("cover.m4a", ("-c:a", "aac")), ("cover.flac", ("-c:a", "flac")),
])
def test_cover_art_becomes_a_picture_block(corpus_dir, out_dir, name, codec):
    output = single_output(media.with_cover(corpus_dir, name, codec), out_dir)
    flac = FLAC(output.path)
    [picture] = flac.pictures
    assert (picture.type, picture.mime) == (3, "image/png")
    assert picture.data == media.cover_png(corpus_dir).read_bytes()
    assert flac.tags["TITLE"] == ["Covered"]


@pytest.mark.parametrize(("name", "codecs"), [
    ("video.mp4", ("-c:v", "libx264", "-c:a", "aac")),
    ("video.webm", ("-c:v", "libvpx", "-c:a", "libopus")),
    ("video.mkv", ("-c:v", "mpeg4", "-c:a", "flac")),
])
def test_video_yields_its_audio(corpus_dir, out_dir, name, codecs):
    output = single_output(media.video(corpus_dir / name, codecs=codecs), out_dir)
    assert FLAC(output.path).info.length == pytest.approx(2.0, abs=0.03)


def test_each_audio_stream_becomes_an_output(corpus_dir, out_dir):
    source = media.video(corpus_dir / "two-tracks.mkv", audio_streams=2,
                         codecs=("-c:v", "mpeg4", "-c:a", "flac"))
    outputs, failures = convert_one(source, out_dir, allow_multiple_outputs=True)
    assert failures == []
    assert [o.filename for o in outputs] == ["two-tracks (audio 1).flac", "two-tracks (audio 2).flac"]
    assert media.pcm(outputs[1].path) == media.pcm(source, stream=1)


def test_content_not_extension_decides(corpus_dir, out_dir):
    misnamed = corpus_dir / "really-a-wav.mp3"
    misnamed.write_bytes(media.corpus_file(corpus_dir, "wav16.wav").read_bytes())
    assert FLAC(single_output(misnamed, out_dir).path).info.bits_per_sample == 16


def _truncated(corpus_dir, name):
    whole = media.corpus_file(corpus_dir, name).read_bytes()
    path = corpus_dir / f"truncated-{name}"
    path.write_bytes(whole[: len(whole) // 2])
    return path


@pytest.mark.parametrize(("make", "code", "message"), [
    (lambda d: d / "zero.wav", "EMPTY_FILE", "The file is empty"),
    (lambda d: _truncated(d, "flac.flac"), "CORRUPT_FILE", "The file is corrupt or truncated at 00:00:0"),
    (lambda d: _truncated(d, "mp3.mp3"), "CORRUPT_FILE", "The file is corrupt or truncated at 00:00:0"),
    (lambda d: _truncated(d, "wav16.wav"), "CORRUPT_FILE", "The file is corrupt or truncated at 00:00:0"),
    (lambda d: _truncated(d, "aac.m4a"), "CORRUPT_FILE", "The file is corrupt: its header cannot be read"),
    (lambda d: d / "header-only.wav", "NO_AUDIO_DATA", "The file holds only a header, no audio data"),
    (lambda d: d / "random.bin", "UNSUPPORTED_TYPE", "The file is not audio, video or text"),
    (lambda d: media.video(d / "silent-film.mp4", audio_streams=0, codecs=("-c:v", "libx264")),
     "NO_AUDIO_STREAM", "The file contains no audio stream"),
])
def test_broken_inputs_fail_with_a_specific_code(corpus_dir, out_dir, make, code, message):
    (corpus_dir / "zero.wav").write_bytes(b"")
    (corpus_dir / "header-only.wav").write_bytes(media.corpus_file(corpus_dir, "wav16.wav").read_bytes()[:44])
    (corpus_dir / "random.bin").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(5000)))
    outputs, failures = convert_one(make(corpus_dir), out_dir)
    assert outputs == []
    [failure] = failures
    assert failure.code == code
    assert failure.message.startswith(message)
    assert list(out_dir.iterdir()) == []


def test_a_container_s_creation_time_is_left_out(corpus_dir, out_dir):
    """Only a Broadcast WAV's origination time becomes CREATION_TIME (test_pcm_direct.py): an MP4's
    creation_time is when the container was written."""
    source = corpus_dir / "dated.m4a"
    media.ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", "-metadata", "title=Dated",
                 "-metadata", "creation_time=2024-05-06T07:08:09Z", str(source))
    assert probe_with_ffmpeg(source).tags["creation_time"].startswith("2024-05-06")
    tags = FLAC(single_output(source, out_dir).path).tags
    assert tags["TITLE"] == ["Dated"] and "CREATION_TIME" not in tags
