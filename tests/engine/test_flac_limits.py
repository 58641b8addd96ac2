"""Audio FLAC cannot hold is rejected before encoding, with the option that fixes it; with it, it converts."""

from __future__ import annotations

import numpy as np
import pytest
from mutagen.flac import FLAC

from tests import media

from .helpers import convert_one, single_output

RATE_LIMITS = ("the encoder takes 160 to 65,535 Hz, and multiples of 10 Hz up to 655,350 Hz. "
               "Choose a Sample rate (frequency).")


def noise_wav(path, *, rate=8000, channels=1, seconds=0.2):
    """16-bit noise at any rate and channel count (ffmpeg's sources refuse some of these rates)."""
    samples = np.random.default_rng(7).integers(-3000, 3000, int(rate * seconds) * channels, dtype="<i2")
    return media.write_wav16(path, samples.tobytes(), rate=rate, channels=channels)


@pytest.mark.parametrize("bitdepth", [None, 8])
def test_more_than_eight_channels_are_rejected(tmp_path, out_dir, bitdepth):
    """8-bit goes through libFLAC instead of ffmpeg: the same limit, checked once before either."""
    options = {"audio_bitdepth": bitdepth} if bitdepth else {}
    outputs, failures = convert_one(noise_wav(tmp_path / "many.wav", channels=16), out_dir, **options)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [("TOO_MANY_CHANNELS",
        "FLAC holds at most 8 channels; this file has 16. Choose Channels: stereo or mono.")]


@pytest.mark.parametrize(("choice", "channels"), [("stereo", 2), ("mono", 1)])
def test_many_channels_convert_when_mixed_down(tmp_path, out_dir, choice, channels):
    output = single_output(noise_wav(tmp_path / "many.wav", channels=16), out_dir, channels=choice)
    assert FLAC(output.path).info.channels == channels


@pytest.mark.parametrize(("rate", "bitdepth"), [(100, None), (159, None), (65537, 8), (700000, None),
                                                (1000000, None), (1000000, 8)])
def test_rates_flac_cannot_be_written_at_are_rejected(tmp_path, out_dir, rate, bitdepth):
    options = {"audio_bitdepth": bitdepth} if bitdepth else {}
    outputs, failures = convert_one(noise_wav(tmp_path / "odd.wav", rate=rate), out_dir, **options)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [
        ("UNSUPPORTED_SAMPLE_RATE", f"FLAC cannot be written at {rate:,} Hz: {RATE_LIMITS}")]


@pytest.mark.parametrize("rate", [100, 700000, 1000000])
def test_such_rates_convert_when_resampled(tmp_path, out_dir, rate):
    output = single_output(noise_wav(tmp_path / "odd.wav", rate=rate), out_dir, frequency=48000)
    assert FLAC(output.path).info.sample_rate == 48000


@pytest.mark.parametrize(("rate", "bitdepth"), [(160, None), (160, 8), (65535, None), (655350, None),
                                                (655350, 8)])
def test_rates_at_the_limits_keep_their_rate(tmp_path, out_dir, rate, bitdepth):
    """The limits are the encoders' own: both write these rates unchanged."""
    options = {"audio_bitdepth": bitdepth} if bitdepth else {}
    output = single_output(noise_wav(tmp_path / "edge.wav", rate=rate, seconds=0.1), out_dir, **options)
    assert FLAC(output.path).info.sample_rate == rate
