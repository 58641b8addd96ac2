"""Float audio beyond full scale cannot fit integer FLAC: the report says it was clipped, and by how much."""

from __future__ import annotations

import pytest

from tests import media

from .helpers import single_output


@pytest.fixture(scope="module")
def hot_float(tmp_path_factory):
    """A sine peaking at 1.5 (+3.52 dBFS), stored as 32-bit float."""
    path = tmp_path_factory.mktemp("float") / "hot.wav"
    media.ffmpeg("-f", "lavfi", "-i", "aevalsrc=1.5*sin(2*PI*440*t):s=48000:d=1", "-c:a", "pcm_f32le",
                 str(path))
    return path


def _warnings(output):
    return output.report.get("warnings") or []


def test_float_above_full_scale_is_reported_clipped(hot_float, out_dir):
    [warning] = _warnings(single_output(hot_float, out_dir))
    assert warning.startswith("The audio goes 3.52 dB above full scale: those samples were clipped")


def test_float_within_full_scale_and_integer_pcm_say_nothing(tmp_path, out_dir):
    quiet = media.tone(tmp_path / "quiet.wav", codec="pcm_f32le")
    assert _warnings(single_output(quiet, out_dir)) == []
    assert _warnings(single_output(media.tone(tmp_path / "int.wav"), out_dir / "int")) == []
