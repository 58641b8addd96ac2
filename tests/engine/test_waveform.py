"""The waveform is measured on the decoded samples: each slice's peak and RMS, every channel."""

from __future__ import annotations

import math

import pytest

from converter.engine import waveform
from converter.engine.ffmpeg import FfmpegFailed
from tests import media

RATE = 44100


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    """6 one-second sections: silence, silence, a 0.5 sine on the left only (twice), full scale, silence."""
    path = tmp_path_factory.mktemp("waveform") / "sections.flac"
    left = r"if(between(t\,2\,3.99999)\,0.5*sin(2*PI*441*t)\,if(between(t\,4\,4.99999)\,1\,0))"
    media.ffmpeg("-f", "lavfi", "-i", f"aevalsrc={left}|0:s={RATE}:d=6", "-c:a", "flac", "-sample_fmt", "s16",
                 str(path))
    return path


def test_each_slice_has_its_peak_and_rms(sections):
    wave = waveform(sections, channels=2, frames=6 * RATE, slices=6)
    assert wave.peaks == pytest.approx([0, 0, 0.5, 0.5, 1, 0], abs=1e-4)
    # RMS over both channels: a 0.5 sine beside silence is 0.5 / sqrt(2) / sqrt(2).
    assert wave.rms == pytest.approx([0, 0, 0.25, 0.25, math.sqrt(0.5), 0], abs=1e-3)


def test_a_short_file_has_a_slice_per_frame_at_most(tmp_path):
    clip = tmp_path / "c.wav"  # too short for a FLAC block; any audio ffmpeg decodes will do
    media.ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.25:s=8000:d=0.001", "-c:a", "pcm_s16le", str(clip))
    wave = waveform(clip, channels=1, frames=8, slices=480)
    assert len(wave.peaks) == len(wave.rms) == 8
    assert set(wave.peaks) == {0.25}


def test_an_undecodable_file_raises(tmp_path):
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"fLaC" + bytes(200))
    with pytest.raises(FfmpegFailed):
        waveform(broken, channels=2, frames=1000, slices=10)


def test_a_stream_of_the_file_gives_the_same_waveform(sections):
    """A storage without local paths (S3) hands over a stream; ffmpeg reads it from a pipe."""
    with sections.open("rb") as stream:
        streamed = waveform(stream, channels=2, frames=6 * RATE, slices=6)
    assert streamed == waveform(sections, channels=2, frames=6 * RATE, slices=6)


def test_an_undecodable_stream_raises(tmp_path):
    with (tmp_path / "x").open("wb+") as stream:
        stream.write(b"fLaC" + bytes(200_000))
        stream.seek(0)
        with pytest.raises(FfmpegFailed):
            waveform(stream, channels=2, frames=1000, slices=10)
