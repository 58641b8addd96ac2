"""Rate, channels, depth, trim and the untouched default: measured on the written FLAC."""

from __future__ import annotations

import hashlib

import pytest
from mutagen.flac import FLAC

from tests import media

from .helpers import convert_one, single_output


@pytest.mark.parametrize(("fixture", "sample_format", "bits"),
                         [("wav16", "s16le", 16), ("wav24", "s24le", 24)])
def test_default_conversion_is_bit_exact(request, out_dir, fixture, sample_format, bits):
    source = request.getfixturevalue(fixture)
    output = single_output(source, out_dir)
    info = FLAC(output.path).info
    source_rate = 44100 if bits == 16 else 48000
    assert (info.sample_rate, info.channels, info.bits_per_sample) == (source_rate, 2, bits)
    decoded = media.pcm(output.path, sample_format)
    assert decoded == media.pcm(source, sample_format)
    # STREAMINFO's MD5 is the MD5 of exactly these samples.
    assert output.report["md5"] == hashlib.md5(decoded).hexdigest()
    assert output.filename == source.stem + ".flac"


@pytest.mark.parametrize(("codec", "sample_format", "bits"),
                         [("pcm_u8", "s8", 8), ("pcm_s32le", "s32le", 32)])
def test_default_keeps_8_and_32_bit_depths_exactly(media_dir, out_dir, codec, sample_format, bits):
    source = media.tone(media_dir / f"tone-{codec}.wav", seconds=1.0, codec=codec)
    output = single_output(source, out_dir)
    assert FLAC(output.path).info.bits_per_sample == bits
    assert media.pcm(output.path, sample_format) == media.pcm(source, sample_format)


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_audio_bitdepth(wav24, out_dir, bits):
    output = single_output(wav24, out_dir, audio_bitdepth=bits)
    info = FLAC(output.path).info
    assert info.bits_per_sample == bits == output.report["bits_per_sample"]
    assert info.total_samples == 3 * 48000


@pytest.mark.parametrize("frequency", [1000, 8000, 22050, 48000, 96000])
def test_frequency(wav16, out_dir, frequency):
    output = single_output(wav16, out_dir, frequency=frequency)
    info = FLAC(output.path).info
    assert info.sample_rate == frequency
    assert abs(info.total_samples - 3 * frequency) <= 1


@pytest.mark.parametrize(("channels", "count"), [("mono", 1), ("stereo", 2)])
def test_channels(media_dir, out_dir, channels, count):
    for layout in (1, 2, 6):
        source = media_dir / f"layout{layout}.wav"
        if not source.exists():
            media.tone(source, seconds=1.0, channels=layout)
        output = single_output(source, out_dir / str(layout), channels=channels)
        assert FLAC(output.path).info.channels == count


@pytest.mark.parametrize(("start", "end", "seconds"), [
    ("00:00:01", None, 2.0), (None, "00:00:02", 2.0), ("00:00:01", "00:00:02", 1.0),
])
def test_trim_is_sample_accurate(wav24, out_dir, start, end, seconds):
    options = {name: value for name, value in (("start", start), ("end", end)) if value}
    output = single_output(wav24, out_dir, **options)
    info = FLAC(output.path).info
    assert abs(info.total_samples - seconds * 48000) <= 1
    # The cut keeps the original samples: the trimmed FLAC is a slice of the input's PCM.
    frame_bytes = 2 * 3
    offset = int((1.0 if start else 0.0) * 48000) * frame_bytes
    expected = media.pcm(wav24, "s24le")[offset: offset + info.total_samples * frame_bytes]
    assert media.pcm(output.path, "s24le") == expected


@pytest.mark.parametrize(("options", "message"), [
    ({"start": "00:00:05"}, "The start time 00:00:05 is past the end of the input (00:00:03)"),
    ({"end": "00:01:00"}, "The end time 00:01:00 is past the end of the input (00:00:03)"),
])
def test_range_past_the_end_is_a_clear_failure(wav16, out_dir, options, message):
    outputs, failures = convert_one(wav16, out_dir, **options)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [("RANGE_OUT_OF_BOUNDS", message)]
    assert list(out_dir.iterdir()) == []  # no empty file, no temp left behind


def test_trim_combined_with_rate_depth_and_channels(wav24, out_dir):
    output = single_output(wav24, out_dir, start="00:00:01", end="00:00:03", frequency=16000,
                           audio_bitdepth=8, channels="mono")
    info = FLAC(output.path).info
    assert (info.sample_rate, info.bits_per_sample, info.channels) == (16000, 8, 1)
    assert abs(info.total_samples - 2 * 16000) <= 1


def test_report_describes_the_file(wav16, out_dir):
    report = single_output(wav16, out_dir).report
    assert report["duration"] == pytest.approx(3.0)
    assert report["size"] == (out_dir / "tone16.flac").stat().st_size
    assert 0 < report["compression_ratio"] < 1
    assert {"integrated_lufs_before", "integrated_lufs_after", "true_peak_dbtp_before",
            "true_peak_dbtp_after"} <= report.keys()
