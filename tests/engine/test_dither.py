"""Fewer bits than the source carries: dithered, not truncated, measured on the decoded FLAC.

The source is a 1 kHz tone below one step of the output's depth. Truncation (ffmpeg's own
conversion) offsets every sample by half a step and squares the tone off (5x its level);
rounding a float source leaves silence. TPDF dither leaves the tone at its level under steady
noise of 0.5 step RMS, with no offset.
"""

from __future__ import annotations

import numpy as np
import pytest

from converter.engine import dither
from converter.engine.errors import ConversionCanceled
from converter.engine.probe import probe
from tests import media

from .helpers import single_output

RATE = 48000
FLAC_24 = ("-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24")
TONE_HZ = 1000

# (source codec, how its samples decode, their full scale, output depth, its decoded format and full scale)
CASES = {
    "24 to 16 bits": ("pcm_s24le", "s32le", "<i4", 2**31, 16, "s16le", "<i2", 2**15),
    "float to 16 bits": ("pcm_f32le", "f32le", "<f4", 1.0, 16, "s16le", "<i2", 2**15),
    "16 to 8 bits": ("pcm_s16le", "s16le", "<i2", 2**15, 8, "s8", "i1", 2**7),
}


def _tone(path, codec: str, step_db: float):
    """A mono 1 kHz tone peaking at 0.4 of one output step (step_db: that step in dBFS), 2 s."""
    media.ffmpeg("-f", "lavfi", "-i", f"sine=f={TONE_HZ}:r={RATE}:d=2", "-af",
                 f"volume={step_db + 20 * np.log10(0.4) + 18.06:.4f}dB",  # the sine peaks at 1/8
                 "-c:a", codec, str(path))
    return path


def _in_steps(path, sample_format: str, dtype: str, full_scale: float, out_scale: int) -> np.ndarray:
    samples = np.frombuffer(media.pcm(path, sample_format), dtype=dtype).astype(np.float64)
    return samples / full_scale * out_scale


def _tone_level(samples: np.ndarray) -> float:
    """The 1 kHz component's peak amplitude."""
    phase = 2 * np.pi * TONE_HZ * np.arange(len(samples)) / RATE
    return 2 * float(np.hypot((samples * np.sin(phase)).mean(), (samples * np.cos(phase)).mean()))


@pytest.mark.parametrize("case", CASES)
def test_a_tone_below_one_step_keeps_its_level_without_offset(media_dir, out_dir, case):
    codec, in_format, in_dtype, in_scale, bits, out_format, out_dtype, out_scale = CASES[case]
    source = _tone(media_dir / f"quiet-{codec}-{bits}.wav", codec, -20 * np.log10(out_scale))
    output = single_output(source, out_dir, audio_bitdepth=bits)
    assert output.report["bits_per_sample"] == bits
    assert output.report["dither"] == "Triangular (TPDF), ±1 step"

    wanted = _in_steps(source, in_format, in_dtype, in_scale, out_scale)
    got = _in_steps(output.path, out_format, out_dtype, out_scale, out_scale)
    error = got - wanted
    assert abs(error.mean()) < 0.05  # truncation: -0.48 steps
    assert 0.45 < np.sqrt((error ** 2).mean()) < 0.55  # TPDF: 0.5 steps
    assert _tone_level(got) == pytest.approx(_tone_level(wanted), rel=0.15)  # truncation 5x, rounding 0


def test_the_same_source_gives_the_same_flac(media_dir, out_dir):
    source = _tone(media_dir / "quiet-twice.wav", "pcm_s24le", -90.3)
    first = single_output(source, out_dir / "1", audio_bitdepth=16)
    second = single_output(source, out_dir / "2", audio_bitdepth=16)
    assert first.path.read_bytes() == second.path.read_bytes()


def test_a_depth_kept_is_not_dithered(wav16, out_dir):
    output = single_output(wav16, out_dir, audio_bitdepth=16)
    assert media.pcm(output.path, "s16le") == media.pcm(wav16, "s16le")


@pytest.mark.parametrize(("codec", "suffix"), [("pcm_s24le", "wav"), ("pcm_s24be", "aiff")])
def test_16_bit_audio_in_a_24_bit_file_keeps_its_samples(media_dir, out_dir, wav16, codec, suffix):
    padded = media_dir / f"padded-{codec}.{suffix}"
    media.ffmpeg("-i", str(wav16), "-c:a", codec, str(padded))
    output = single_output(padded, out_dir, audio_bitdepth=16)
    assert media.pcm(output.path, "s16le") == media.pcm(wav16, "s16le")
    assert "dither" not in output.report


def test_one_low_bit_at_the_end_is_enough_to_dither(media_dir, out_dir, wav16, monkeypatch):
    monkeypatch.setattr(dither, "_SCAN_BYTES", 4096)  # the file is read in many steps
    source = media_dir / "padded-but-one.wav"
    media.ffmpeg("-i", str(wav16), "-c:a", "pcm_s24le", str(source))
    padded = bytearray(source.read_bytes())
    padded[-3] = 1  # the last sample's low byte (the data chunk ends the file)
    source.write_bytes(padded)
    output = single_output(source, out_dir, audio_bitdepth=16)
    assert media.pcm(output.path, "s16le") != media.pcm(wav16, "s16le")


def test_16_bit_audio_in_a_24_bit_flac_keeps_its_samples(media_dir, out_dir, wav16):
    padded = media_dir / "padded-24.flac"
    media.ffmpeg("-i", str(wav16), *FLAC_24, str(padded))
    output = single_output(padded, out_dir, audio_bitdepth=16)
    assert media.pcm(output.path, "s16le") == media.pcm(wav16, "s16le")


def test_a_24_bit_flac_is_dithered(media_dir, out_dir):
    source = _tone(media_dir / "quiet-24.wav", "pcm_s24le", -90.3)
    deep = media_dir / "quiet-24.flac"
    media.ffmpeg("-i", str(source), *FLAC_24, str(deep))
    from_wav = single_output(source, out_dir / "wav", audio_bitdepth=16)
    from_flac = single_output(deep, out_dir / "flac", audio_bitdepth=16)
    assert media.pcm(from_flac.path, "s16le") == media.pcm(from_wav.path, "s16le")


@pytest.mark.parametrize("suffix", ["wav", "flac"])
def test_looking_at_the_low_bits_stops_on_a_cancel(media_dir, wav16, suffix):
    padded = media_dir / f"padded-to-cancel.{suffix}"
    media.ffmpeg("-i", str(wav16), *(FLAC_24 if suffix == "flac" else ("-c:a", "pcm_s24le")), str(padded))
    found = probe(padded)
    with pytest.raises(ConversionCanceled):
        dither.dither_filters(16, padded, found, found.audio[0], should_cancel=lambda: True)
