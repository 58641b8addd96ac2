"""Loudness normalisation, checked by measuring the written FLAC with ffmpeg's ebur128 and astats."""

from __future__ import annotations

import pytest
from mutagen.flac import FLAC

from tests import media

from .helpers import single_output


@pytest.fixture(scope="session")
def wide(media_dir):
    return media.sections(media_dir / "wide.wav")


@pytest.fixture(scope="session")
def noise(media_dir):
    """Steady noise with a sine: LRA ~0, crest factor high enough to need a limiter at -10 LUFS."""
    return media.tone(media_dir / "noise.wav", seconds=8.0, volume_db=-14.0)


def ebu(**targets):
    return {"normalize": True, "normalize_type": "ebu", **targets}


def test_ebu_plain_gain_when_it_meets_every_target(noise, out_dir):
    output = single_output(noise, out_dir, **ebu(normalize_target_level_ebu=-23))
    measured = media.loudness(output.path)
    assert output.report["normalization"] == "gain"
    assert measured["integrated"] == pytest.approx(-23, abs=0.5)
    assert measured["true_peak"] <= -2.0
    assert output.report["integrated_lufs_after"] == pytest.approx(measured["integrated"], abs=0.2)
    before = media.loudness(noise)["integrated"]
    assert output.report["integrated_lufs_before"] == pytest.approx(before, abs=0.2)


def test_ebu_limits_true_peaks_when_gain_alone_would_exceed_them(noise, out_dir):
    output = single_output(noise, out_dir, **ebu(normalize_target_level_ebu=-12, normalize_true_peak_ebu=-3))
    measured = media.loudness(output.path)
    assert output.report["normalization"] == "limited gain"
    assert measured["integrated"] == pytest.approx(-12, abs=0.5)
    assert measured["true_peak"] <= -3.0


def test_ebu_compresses_a_range_wider_than_the_target(wide, out_dir):
    before = media.loudness(wide)
    assert before["range"] > 15
    output = single_output(wide, out_dir, **ebu(normalize_loudness_range_target_ebu=7))
    measured = media.loudness(output.path)
    assert output.report["normalization"] == "dynamic"
    assert measured["integrated"] == pytest.approx(-23, abs=0.5)
    assert measured["range"] <= 7.0
    assert measured["true_peak"] <= -2.0


def test_ebu_keeps_a_range_that_is_within_the_target(wide, out_dir):
    output = single_output(wide, out_dir, **ebu(normalize_loudness_range_target_ebu=30))
    assert output.report["normalization"] == "gain"
    assert media.loudness(output.path)["range"] == pytest.approx(media.loudness(wide)["range"], abs=0.3)


@pytest.mark.parametrize("level", [-30, -12])
def test_rms(noise, out_dir, level):
    output = single_output(noise, out_dir, normalize=True, normalize_type="rms", normalize_target_level=level)
    assert media.loudness(output.path)["rms"] == pytest.approx(level, abs=0.5)
    assert output.report["warnings"] == []


def test_rms_that_would_clip_is_limited_and_says_so(noise, out_dir):
    output = single_output(noise, out_dir, normalize=True, normalize_type="rms", normalize_target_level=-1)
    measured = media.loudness(output.path)
    assert measured["sample_peak"] <= 0.0
    # The warning gives the level the limiting left, as measured on the file.
    [warning] = output.report["warnings"]
    assert warning.startswith("Reaching -1 dBFS RMS would clip: peaks were limited at full scale")
    reached = float(warning.rsplit("the level reached is ", 1)[1].split(" dBFS")[0])
    assert reached == pytest.approx(measured["rms"], abs=0.2) and reached < -1.5


@pytest.mark.parametrize("level", [-1, -20])
def test_peak(wide, out_dir, level):
    output = single_output(wide, out_dir, normalize=True, normalize_type="peak", normalize_target_level=level)
    assert media.loudness(output.path)["sample_peak"] == pytest.approx(level, abs=0.1)


def test_normalize_with_depth_rate_channels_and_trim(wide, out_dir):
    output = single_output(wide, out_dir, **ebu(normalize_target_level_ebu=-16), audio_bitdepth=24,
                           frequency=48000, channels="mono", start="00:00:01", end="00:00:09")
    info = FLAC(output.path).info
    assert (info.bits_per_sample, info.sample_rate, info.channels) == (24, 48000, 1)
    assert abs(info.total_samples - 8 * 48000) <= 1
    assert media.loudness(output.path)["integrated"] == pytest.approx(-16, abs=0.5)


def test_silence_is_left_alone_with_a_warning(media_dir, out_dir):
    quiet = media.silence(media_dir / "silence.wav")
    output = single_output(quiet, out_dir, **ebu())
    assert output.report["warnings"] == ["The audio is silent, so it was not normalised"]


def test_targets_out_of_reach_are_named_in_the_warning(media_dir, out_dir):
    """A swell from -34 dB to full scale every 13 s: three passes do not bring its range down to
    7 LU, and the warning says which figure missed its target, and by how much."""
    swelling = media_dir / "swelling.wav"
    media.ffmpeg("-filter_complex",
                 "anoisesrc=c=pink:r=44100:d=40:a=0.3:seed=1[n];sine=f=220:r=44100:d=40[s];"
                 "[n][s]amix=inputs=2:normalize=0,volume='0.02+0.98*abs(sin(PI*t/13))^3':eval=frame,"
                 "aformat=channel_layouts=stereo", "-c:a", "pcm_s16le", str(swelling))
    output = single_output(swelling, out_dir, **ebu(normalize_loudness_range_target_ebu=7))
    [warning] = output.report["warnings"]
    after = output.report["loudness_range_lu_after"]
    assert after > 7
    assert warning.startswith("Not every target was met after 3 passes: ")
    assert f"loudness range {after} LU (target 7.0)" in warning and "(target -23.0)" in warning
