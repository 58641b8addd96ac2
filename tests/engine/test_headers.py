"""Plain PCM headers are read in Python (no probe process), agree with ffmpeg, and catch truncation."""

from __future__ import annotations

import importlib
import wave

import pytest

from converter.engine import encoding
from converter.engine.headers import read_header
from tests import media

from .helpers import convert_one, single_output

probe = importlib.import_module("converter.engine.probe")  # the package exports the function by this name

PLAIN = ["wav8.wav", "wav16.wav", "wav24.wav", "wav32.wav", "wavfloat.wav", "aiff.aiff", "flac.flac"]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("headers")


@pytest.mark.parametrize("name", PLAIN)
def test_header_agrees_with_ffmpeg(corpus_dir, name):
    path = media.corpus_file(corpus_dir, name)
    ours, ffmpegs = read_header(path), probe.probe_with_ffmpeg(path)
    assert ours is not None
    assert ours.duration == pytest.approx(ffmpegs.duration, abs=0.01)
    [stream], [expected] = ours.audio, ffmpegs.audio
    assert (stream.codec, stream.sample_rate, stream.channels, stream.bits_per_sample) == (
        expected.codec, expected.sample_rate, expected.channels, expected.bits_per_sample)
    assert probe.natural_bit_depth(stream) == probe.natural_bit_depth(expected)


def test_flac_tags_are_read_from_the_header(corpus_dir):
    info = read_header(media.corpus_file(corpus_dir, "flac.flac", tagged=True))
    assert info.tags["title"] == "Song" and info.tags["tracknumber"] == "3"


def test_wav_info_tags_are_read_from_the_header(corpus_dir):
    path = media.corpus_file(corpus_dir, "wav16.wav", tagged=True)
    tags = read_header(path).tags
    assert tags == probe.probe_with_ffmpeg(path).tags
    assert tags["title"] == "Song"


def test_other_containers_are_left_to_ffmpeg(corpus_dir):
    assert read_header(media.corpus_file(corpus_dir, "mp3.mp3")) is None


def test_the_default_conversion_runs_one_ffmpeg_process(wav16, out_dir, monkeypatch):
    commands = []
    run = encoding.run_ffmpeg
    monkeypatch.setattr(encoding, "run_ffmpeg", lambda args, **kw: commands.append(args) or run(args, **kw))
    monkeypatch.setattr(probe, "probe_with_ffmpeg", lambda path: pytest.fail("probed with ffmpeg"))
    single_output(wav16, out_dir)
    assert len(commands) == 1
    assert commands[0][commands[0].index("-probesize") + 1] == "32768"  # the header said it all


def test_a_dts_stream_in_a_16_bit_wav_is_still_found(corpus_dir, out_dir):
    """A DTS CD's tracks are WAVs whose 16-bit stereo "PCM" is a DTS stream: the header looks
    plain, and ffmpeg's probe of the first 32 KiB (_probe_limit) must still find the codec."""
    dts = media.ffmpeg("-f", "lavfi", "-i", "sine=f=300:r=44100:d=2", "-ac", "6",
                       "-c:a", "dca", "-strict", "-2", "-f", "dts", "-")
    path = corpus_dir / "dts.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(dts)
    assert read_header(path).from_header
    report = single_output(path, out_dir).report
    assert report["channels"] == 6 and report["duration"] == pytest.approx(2.0, abs=0.05)


def test_wav_cut_on_a_sample_boundary_is_truncated(corpus_dir, out_dir):
    whole = media.corpus_file(corpus_dir, "wav16.wav").read_bytes()
    data_at = whole.index(b"data") + 8
    cut = corpus_dir / "cut.wav"
    cut.write_bytes(whole[: data_at + 44100 * 4])  # exactly one second of 16-bit stereo frames
    outputs, failures = convert_one(cut, out_dir)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [
        ("CORRUPT_FILE", "The file is corrupt or truncated at 00:00:01")]
