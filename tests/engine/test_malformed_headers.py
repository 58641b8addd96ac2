"""A header whose numbers contradict each other is left to ffmpeg, never divided by: the input fails alone."""

from __future__ import annotations

import struct
import zipfile

import pytest

from converter.engine import EngineInput, convert
from converter.engine.headers import read_header
from converter.engine.probe import AudioStream, natural_bit_depth

from .helpers import convert_one

UNDECODABLE = ("CORRUPT_FILE", "The file is corrupt: its header describes audio that cannot be decoded")
RATE_8000 = b"\x40\x0b\xfa" + bytes(7)  # 80-bit extended 8000.0
SSND_400 = struct.pack(">II", 0, 0) + bytes(400)


def wav(path, *, tag=1, channels=1, rate=8000, block=0, bits=7, data=4000):
    """A RIFF/WAVE whose fmt chunk says exactly what it is told, however inconsistent."""
    fmt = struct.pack("<HHIIHH", tag, channels, rate, 0, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body) + data) + body + bytes(data))
    return path


def aiff(path, *, rate_bytes=RATE_8000, ssnd=SSND_400):
    """A mono 8-bit AIFF (8000 Hz unless `rate_bytes` says otherwise) with the SSND body given."""
    comm = struct.pack(">hIh", 1, 400, 8) + rate_bytes
    body = b"AIFF" + b"COMM" + struct.pack(">I", 18) + comm + b"SSND" + struct.pack(">I", 408) + ssnd
    path.write_bytes(b"FORM" + struct.pack(">I", len(body)) + body)
    return path


@pytest.mark.parametrize("fields", [
    {"bits": 7, "block": 0}, {"bits": 0, "block": 0}, {"bits": 4, "block": 0}, {"bits": 16, "block": 0},
    {"bits": 12, "block": 2}, {"tag": 3, "bits": 7, "block": 0}, {"channels": 0, "bits": 16, "block": 2},
])
def test_inconsistent_wav_header_is_left_to_ffmpeg(tmp_path, fields):
    assert read_header(wav(tmp_path / "odd.wav", **fields)) is None


def test_aiff_rate_beyond_a_float_is_left_to_ffmpeg(tmp_path):
    """An 80-bit exponent this large overflowed Python's float."""
    assert read_header(aiff(tmp_path / "odd.aiff", rate_bytes=b"\x7f\xff\x80" + bytes(7))) is None


def test_aiff_cut_inside_the_ssnd_header_is_left_to_ffmpeg(tmp_path):
    assert read_header(aiff(tmp_path / "cut.aiff", ssnd=b"\0\0")) is None


def test_seven_bit_wav_is_read_as_ffmpeg_reads_it(tmp_path, out_dir):
    """WAV stores 7-bit samples in 8-bit containers: ffmpeg decodes it, so it converts (it once crashed)."""
    outputs, failures = convert_one(wav(tmp_path / "seven.wav"), out_dir)
    assert failures == []
    assert outputs[0].report["duration"] == pytest.approx(0.5)


def test_undecodable_wav_fails_with_a_specific_message(tmp_path, out_dir):
    outputs, failures = convert_one(wav(tmp_path / "zero.wav", bits=0), out_dir)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [UNDECODABLE]


def test_malformed_wav_beside_a_good_one_fails_alone(tmp_path, wav16, out_dir):
    broken = wav(tmp_path / "broken.wav", bits=0)
    outputs, failures = convert([EngineInput(broken, "broken.wav"), EngineInput(wav16, "tone16.wav")],
                                out_dir, {})
    assert [o.filename for o in outputs] == ["tone16.flac"]
    assert [(f.input_index, f.code, f.message) for f in failures] == [(0, *UNDECODABLE)]


def test_seven_bit_wav_beside_a_good_one_both_convert(tmp_path, wav16, out_dir):
    seven = wav(tmp_path / "seven.wav")
    outputs, failures = convert([EngineInput(seven, "seven.wav"), EngineInput(wav16, "tone16.wav")],
                                out_dir, {"allow_multiple_outputs": True})
    assert failures == []
    assert [o.filename for o in outputs] == ["seven.flac", "tone16.flac"]


def test_malformed_wav_zipped_with_a_good_one_fails_alone(tmp_path, wav16, out_dir):
    archive = tmp_path / "both.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.write(wav(tmp_path / "broken.wav", bits=0), "broken.wav")
        opened.write(wav16, "tone16.wav")
    outputs, failures = convert_one(archive, out_dir)
    assert [o.filename for o in outputs] == ["tone16.flac"]
    assert [(f.code, f.message) for f in failures] == [(UNDECODABLE[0], "broken.wav: " + UNDECODABLE[1])]


@pytest.mark.parametrize(("declared", "written"), [(8, 8), (12, 16), (16, 16), (20, 24), (24, 24), (32, 32)])
def test_a_depth_flac_is_not_written_at_goes_up_to_the_next_one(declared, written):
    """ffmpeg reports a 12-bit FLAC or a 20-bit WAV as "s16 (12 bit)", "s32 (20 bit)": the
    engine writes 8, 16, 24 or 32 bits, and refused the others as an internal error."""
    stream = AudioStream(index=0, codec="pcm_s32le", sample_rate=48000, channels=2,
                         sample_format=f"s32 ({declared} bit)", bits_per_sample=declared)
    assert natural_bit_depth(stream) == written
