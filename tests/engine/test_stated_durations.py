"""Truncation is judged on what the file states about the audio itself: not on a video track that
outlasts it, nor on ffmpeg's estimate from the bitrate."""

from __future__ import annotations

import pytest
from mutagen.flac import FLAC

from converter.engine.probe import parse_probe
from tests import media

from .helpers import convert_one, single_output


def _video_longer_than_audio(path, audio_codec):
    media.ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x48:r=10:d=3", "-f", "lavfi", "-i",
                 "sine=f=440:r=44100:d=2", "-c:v", "mpeg4", "-c:a", audio_codec, str(path))
    return path


@pytest.mark.parametrize(("name", "audio_codec"), [("longer.mp4", "aac"), ("longer.mkv", "pcm_s16le")])
def test_a_video_longer_than_its_audio_converts(tmp_path, out_dir, name, audio_codec):
    output = single_output(_video_longer_than_audio(tmp_path / name, audio_codec), out_dir)
    assert FLAC(output.path).info.length == pytest.approx(2.0, abs=0.03)


def test_a_vbr_mp3_without_xing_header_converts(tmp_path, out_dir):
    """Quiet frames first: ffmpeg's estimate from the first frames' bitrate is twice the real length."""
    path = tmp_path / "vbr.mp3"
    media.ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo:d=2", "-f", "lavfi", "-i",
                 "anoisesrc=c=pink:r=44100:d=2:a=0.5,aformat=channel_layouts=stereo", "-filter_complex",
                 "[0][1]concat=n=2:v=0:a=1", "-c:a", "libmp3lame", "-q:a", "2", "-write_xing", "0", str(path))
    output = single_output(path, out_dir)
    assert FLAC(output.path).info.length == pytest.approx(4.0, abs=0.1)


def test_a_truncated_matroska_audio_track_is_still_caught(tmp_path, out_dir):
    whole = _video_longer_than_audio(tmp_path / "whole.mkv", "pcm_s16le").read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole[: len(whole) // 2])
    outputs, [failure] = convert_one(cut, out_dir)
    assert outputs == []
    assert (failure.code, failure.message[:38]) == ("CORRUPT_FILE", "The file is corrupt or truncated at 00")


def test_which_durations_the_probe_states():
    log = """Input #0, matroska,webm, from 'a.mkv':
  Duration: 00:00:04.00, start: 0.000000, bitrate: 1273 kb/s
  Stream #0:0: Video: mpeg4 (Simple Profile), yuv420p, 160x120, 25 fps, 25 tbr, 1k tbn
  Stream #0:1: Audio: pcm_s16le, 44100 Hz, stereo, s16, 1411 kb/s
    Metadata:
      DURATION        : 00:00:03.000000000
  Stream #0:2: Audio: aac (LC), 44100 Hz, stereo, fltp
"""
    info = parse_probe(log)
    assert [info.audio_duration(stream) for stream in info.audio] == [3.0, None]
    estimated = parse_probe("[mp3 @ 0x1] Estimating duration from bitrate, this may be inaccurate\n"
                            "Input #0, mp3, from 'a.mp3':\n  Duration: 00:00:57.12, start: 0.000000\n"
                            "  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, stereo, fltp, 32 kb/s\n")
    assert (estimated.duration, estimated.stated_duration, estimated.audio_duration(estimated.audio[0])) == (
        57.12, None, None)


@pytest.fixture(scope="module", params=["adpcm_ima_wav", "adpcm_ms"])
def adpcm_wav(request, tmp_path_factory):
    """54,419 frames: IMA codes them in blocks of 1,017, MS in blocks of 1,012, the last one padded."""
    path = tmp_path_factory.mktemp("adpcm") / f"{request.param}.wav"
    media.ffmpeg("-f", "lavfi", "-i", "sine=d=1.234:r=44100", "-ac", "2", "-c:a", request.param, str(path))
    return path


@pytest.mark.parametrize(("options", "first", "frames"), [
    ({}, 0, 54_419), ({"end": "00:00:01"}, 0, 44_100), ({"start": "00:00:01"}, 44_100, 10_319),
])
def test_an_adpcm_wav_ends_where_its_fact_chunk_says(adpcm_wav, out_dir, options, first, frames):
    """ffmpeg decodes the last block's padding too (499 and 229 frames here): not audio."""
    output = single_output(adpcm_wav, out_dir, **options)
    assert FLAC(output.path).info.total_samples == frames
    decoded = media.pcm(adpcm_wav, "s16le")
    assert len(decoded) > (first + frames) * 4
    assert media.pcm(output.path, "s16le") == decoded[first * 4:(first + frames) * 4]


def test_a_fact_chunk_of_zero_says_nothing(adpcm_wav, tmp_path, out_dir):
    raw = bytearray(adpcm_wav.read_bytes())
    at = raw.index(b"fact") + 8
    raw[at:at + 4] = bytes(4)
    path = tmp_path / "no-fact.wav"
    path.write_bytes(raw)
    frames = FLAC(single_output(path, out_dir).path).info.total_samples
    assert frames * 4 == len(media.pcm(adpcm_wav, "s16le"))
