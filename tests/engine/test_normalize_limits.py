"""Normalisation at its limits: ranges made of gated passages, very quiet audio, levels under the
output's floor and targets that cannot all be met. Measured on the written FLAC."""

from __future__ import annotations

import json

import numpy as np
import pytest

from converter.engine.loudness import Corrections, Loudness, plan_normalization
from converter.options import validate_options
from tests import media

from .helpers import single_output


@pytest.fixture(scope="session")
def gated(media_dir):
    """Pink noise, 5 s at full level then 5 s at -30 dB: the quiet passages sit under the range gate."""
    path = media_dir / "gated.wav"
    media.ffmpeg("-f", "lavfi", "-i", "anoisesrc=a=0.5:r=48000:d=30:c=pink:seed=1", "-af",
                 "volume='if(lt(mod(t,10),5),1,0.03)':eval=frame", "-ac", "2", "-c:a", "pcm_s24le", str(path))
    return path


@pytest.fixture(scope="session")
def pink(media_dir):
    """Steady pink noise, crest ~13 dB: -5 LUFS under a -9 dBTP ceiling is out of reach."""
    path = media_dir / "pink.wav"
    media.ffmpeg("-f", "lavfi", "-i", "anoisesrc=a=0.1:r=48000:d=10:c=pink:seed=1", "-ac", "2",
                 "-c:a", "pcm_s16le", str(path))
    return path


def test_range_target_never_lifts_gated_passages_into_the_range(gated, out_dir):
    before = media.loudness(gated)
    output = single_output(gated, out_dir, normalize=True, normalize_type="ebu",
                           normalize_loudness_range_target_ebu=7)
    measured = media.loudness(output.path)
    assert measured["range"] < before["range"]
    assert measured["integrated"] == pytest.approx(-23, abs=0.5)
    assert output.report["loudness_range_lu_after"] == pytest.approx(measured["range"], abs=0.2)
    for warning in output.report["warnings"]:  # a miss names the range the file has
        assert f"loudness range {output.report['loudness_range_lu_after']} LU (target 7.0)" in warning


def test_a_pass_that_widened_the_range_is_not_repeated():
    """Once a pass measured a range wider than the source's, the plan stops riding the gain."""
    options = validate_options({"normalize": True, "normalize_type": "ebu"})
    source = Loudness(integrated=-20.0, loudness_range=9.0, true_peak=-15.0,
                      short_term=[(t / 10, -20.0) for t in range(100)])
    corrections = Corrections(widest_range=12.0)
    plan = plan_normalization(options, source, 48000, corrections)
    assert plan.method == "gain"
    assert plan.warnings == ["Compressing the loudness range widened it, so it was kept at the source's "
                             "9.0 LU (target 7.0)"]


@pytest.mark.parametrize(("kind", "level", "measure"), [("rms", -20, "rms"), ("peak", -1, "sample_peak")])
def test_very_quiet_audio_is_normalised_by_rms_and_peak(media_dir, out_dir, kind, level, measure):
    quiet = media.tone(media_dir / "quiet.wav", seconds=3.0, volume_db=-72.0)
    output = single_output(quiet, out_dir, normalize=True, normalize_type=kind, normalize_target_level=level)
    assert output.report["warnings"] == []
    assert media.loudness(output.path)[measure] == pytest.approx(level, abs=0.2)


def test_ebu_names_audio_too_quiet_to_measure(media_dir, out_dir):
    quiet = media.tone(media_dir / "quiet.wav", seconds=3.0, volume_db=-72.0)
    output = single_output(quiet, out_dir, normalize=True, normalize_type="ebu")
    assert output.report["warnings"] == ["The audio is quieter than -70 LUFS, the least EBU R128 measures, "
                                         "so it was not normalised"]


def test_a_peak_under_the_16_bit_floor_is_reported_as_the_silence_written(media_dir, out_dir):
    tone = media.tone(media_dir / "tone.wav", seconds=2.0)
    output = single_output(tone, out_dir, normalize=True, normalize_type="peak", normalize_target_level=-99,
                           audio_bitdepth=16)
    assert not np.frombuffer(media.pcm(output.path, "s16le"), dtype="<i2").any()
    assert output.report["sample_peak_dbfs_after"] is None  # -inf: digital silence, which JSON cannot hold
    assert output.report["warnings"]


def test_an_rms_near_the_16_bit_floor_is_reported_as_written(media_dir, out_dir):
    tone = media.tone(media_dir / "tone.wav", seconds=2.0)
    output = single_output(tone, out_dir, normalize=True, normalize_type="rms", normalize_target_level=-99,
                           audio_bitdepth=16)
    measured = media.loudness(output.path)
    assert output.report["rms_dbfs_after"] == pytest.approx(measured["rms"], abs=0.05)
    assert output.report["sample_peak_dbfs_after"] == pytest.approx(measured["sample_peak"], abs=0.05)


def test_true_peak_ceiling_holds_when_the_loudness_target_is_out_of_reach(pink, out_dir):
    output = single_output(pink, out_dir, normalize=True, normalize_type="ebu", normalize_target_level_ebu=-5,
                           normalize_true_peak_ebu=-9)
    assert media.loudness(output.path)["true_peak"] <= -9.0
    [warning] = output.report["warnings"]
    assert "(target -5.0)" in warning


@pytest.mark.parametrize("kind", ["ebu", "rms", "peak"])
def test_silence_reports_no_infinite_levels(media_dir, out_dir, kind):
    """-inf dB is no JSON number: PostgreSQL refused such a report, and the job failed."""
    silent = media.silence(media_dir / f"silent-{kind}.wav", seconds=2.0)
    output = single_output(silent, out_dir, normalize=True, normalize_type=kind)
    json.dumps(output.report, allow_nan=False)
    assert "The audio is silent, so it was not normalised" in output.report["warnings"]
