"""WAV and AIFF samples kept as they are, encoded in-process (engine/pcm_direct.py): the FLAC is the
one the ffmpeg command writes, to the byte, and anything that needs more goes to ffmpeg."""

from __future__ import annotations

import errno
import os
import signal
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from mutagen.flac import FLAC

from converter.engine import encoding, headers, pcm_direct
from converter.engine.errors import ConversionCanceled
from converter.engine.ffmpeg import TimeLimitExceeded
from converter.engine.headers import read_header
from converter.providers.cores import children
from tests import media

from .helpers import convert_one, single_output

# name -> (seconds, rate, channels, codec, container extras); sizes around one block (4096 frames)
SOURCES = {
    "16-bit stereo WAV": (61.0, 44100, 2, "pcm_s16le", ()),  # over a minute: it gets a seek table
    "16-bit mono WAV, one frame short of a block": (4095 / 8000, 8000, 1, "pcm_s16le", ()),
    "16-bit stereo WAV, one frame over a block": (4097 / 8000, 8000, 2, "pcm_s16le", ()),
    "16-bit WAV of one frame": (1 / 8000, 8000, 1, "pcm_s16le", ()),
    "24-bit stereo WAV": (3.0, 96000, 2, "pcm_s24le", ()),  # WAVE_FORMAT_EXTENSIBLE, as ffmpeg writes it
    "16-bit AIFF (big-endian)": (2.0, 44100, 2, "pcm_s16be", ()),
    "24-bit mono AIFF": (2.5, 48000, 1, "pcm_s24be", ()),
    "tagged WAV": (2.0, 44100, 2, "pcm_s16le", ("-metadata", "title=Kept", "-metadata", "artist=Us")),
    "24-bit RF64 (the header of a WAV past 4 GiB)": (2.0, 48000, 2, "pcm_s24le", ("-rf64", "always")),
    # Rates outside the frame header's table are stated after the frame number: in kHz (8 bits), Hz (16)
    "16-bit WAV at 12 kHz": (3.0, 12000, 1, "pcm_s16le", ()),
    "16-bit WAV at 11,025 Hz": (3.0, 11025, 1, "pcm_s16le", ()),
}


def _source(directory, name: str):
    seconds, rate, channels, codec, extras = SOURCES[name]
    suffix = ".aiff" if codec.endswith("be") else ".wav"
    path = directory / (name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "") + suffix)
    if not path.exists():
        media.tone(path, seconds=seconds, rate=rate, channels=channels, codec=codec, extra=extras)
    return path


@pytest.fixture
def direct_calls(monkeypatch) -> list:
    calls = []
    original = pcm_direct.encode_directly

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(encoding, "encode_directly", counted)
    return calls


def _same_as_ffmpegs(source, tmp_path, monkeypatch) -> None:
    direct = single_output(source, tmp_path / "direct")
    monkeypatch.setattr(encoding, "can_encode_directly", lambda *args: False)
    by_ffmpeg = single_output(source, tmp_path / "ffmpeg")
    assert direct.path.read_bytes() == by_ffmpeg.path.read_bytes()
    assert direct.report == by_ffmpeg.report


@pytest.mark.parametrize("name", SOURCES)
def test_the_flac_is_the_ffmpeg_commands_to_the_byte(name, media_dir, tmp_path, direct_calls, monkeypatch):
    source = _source(media_dir, name)
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]


def _wav_with_mask(path, channels: int, mask: int | None, *, frames: int = 20_000, bits: int = 16,
                   rate: int = 48000, data: bytes | None = None):
    """Noise (or `data`); mask None: a plain PCM header, else WAVE_FORMAT_EXTENSIBLE naming `mask`."""
    if data is None:
        noise = np.random.default_rng(channels).integers(-3000, 3000, frames * channels, dtype=np.int16)
        data = noise.tobytes()
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    if mask is not None:
        fmt = struct.pack("<HHIIHHHHI16s", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, mask,
                          bytes.fromhex("0100000000001000800000aa00389b71"))  # KSDATAFORMAT_SUBTYPE_PCM
    body = media.riff_chunk(b"fmt ", fmt) + media.riff_chunk(b"data", data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body)
    return path


@pytest.mark.parametrize(("channels", "mask"), [
    (2, 0), (2, 0x3), (2, 0xC), (2, 0x600), (1, 0x4), (1, 0x1), (3, 0x7), (3, None), (4, 0x33), (4, 0x107),
    (5, 0x37), (6, 0x3F), (6, 0x60F), (6, 0), (6, None), (6, 0x3F0), (8, 0x63F),
])
def test_the_speakers_a_wav_names_reach_the_flac_as_ffmpegs_do(channels, mask, tmp_path, direct_calls,
                                                                 monkeypatch):
    """ffmpeg's muxer writes a WAVEFORMATEXTENSIBLE_CHANNEL_MASK tag for a layout that is not FLAC's
    own (5.1 with back speakers, a stereo pair on FC+LFE...); with no mask, the count's default."""
    source = _wav_with_mask(tmp_path / "in.wav", channels, mask)
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]


@hypothesis_settings(max_examples=25, deadline=None)
@given(channels=st.integers(1, 8), bits=st.sampled_from([16, 24]), frames=st.integers(1, 3 * 4096 + 7),
       rate=st.sampled_from([8000, 11025, 12000, 37800, 44100, 96000, 192000]), masked=st.booleans(),
       parts=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_any_wav_the_direct_path_takes_is_ffmpegs_flac(tmp_path_factory, channels, bits, frames, rate, masked,
                                                       parts, seed):
    """Random depths, lengths, rates, channel counts and speakers, in up to three parts."""
    speakers = (0x4, 0x3, 0x7, 0x33, 0x37, 0x3F, 0x13F, 0x63F)[channels - 1] if masked else None
    width = bits // 8
    raw = np.random.default_rng(seed).integers(0, 256, frames * channels * width, dtype=np.uint8).tobytes()
    tmp_path = tmp_path_factory.mktemp("any")
    source = _wav_with_mask(tmp_path / "in.wav", channels, speakers, bits=bits, rate=rate, data=raw)
    taken = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(pcm_direct, "usable_cores", lambda: parts)
        monkeypatch.setattr(pcm_direct, "PART_MIN_SECONDS", 4096 / rate)
        monkeypatch.setattr(pcm_direct, "_part_bounds", lambda samples, bounds=pcm_direct._part_bounds:
                            taken.append(len(bounds(samples))) or bounds(samples))
        _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert taken == [max(1, min(parts, frames // 4096))]  # the direct path ran, in that many parts


# What broadcast and field recorders add around the samples (headers.py reads bext; ffmpeg reads past iXML)
RECORDER_CHUNKS = [
    media.bext(b"Interview, take 3", b"Radio X", b"REF-1", b"2026-12-01", b"10:20:30", 158_760_000,
               umid=bytes(range(1, 33)), coding_history=b"A=PCM,F=48000,W=24,M=stereo,T=Recorder\r\n"),
    media.riff_chunk(b"iXML", b'<?xml version="1.0"?><BWFXML><SCENE>12</SCENE><TAKE>3</TAKE></BWFXML>'),
]


def test_a_broadcast_wav_is_ffmpegs_flac_tags_included(wav24, tmp_path, direct_calls, monkeypatch):
    source = media.with_chunks(wav24, tmp_path / "bwf.wav", RECORDER_CHUNKS)
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]
    tags = FLAC(next((tmp_path / "direct").glob("*.flac"))).tags
    assert {field: tags[field] for field in ("COMMENT", "ENCODED-BY", "DATE", "CREATION_TIME",
                                             "ORIGINATOR_REFERENCE", "TIME_REFERENCE", "UMID",
                                             "CODING_HISTORY")} == {
        "COMMENT": ["Interview, take 3"], "ENCODED-BY": ["Radio X"], "DATE": ["2026-12-01"],
        "CREATION_TIME": ["10:20:30"],
        "ORIGINATOR_REFERENCE": ["REF-1"], "TIME_REFERENCE": ["158760000"],
        "UMID": ["0x" + bytes(range(1, 33)).hex().upper()],
        "CODING_HISTORY": ["A=PCM,F=48000,W=24,M=stereo,T=Recorder"]}


def test_a_bw64_is_ffmpegs_flac(media_dir, tmp_path, direct_calls, monkeypatch):
    """ITU-R BS.2088's RF64, by another name."""
    rf64 = _source(media_dir, "24-bit RF64 (the header of a WAV past 4 GiB)").read_bytes()
    source = tmp_path / "bw64.wav"
    source.write_bytes(b"BW64" + rf64[4:])
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]


@pytest.mark.parametrize("chunk_id", sorted(headers.WAV_SILENT_CHUNKS - {b"fmt "}))
def test_a_chunk_ffmpeg_reads_past_leaves_the_flac_as_ffmpegs(chunk_id, wav16, tmp_path, direct_calls,
                                                              monkeypatch):
    chunk = media.riff_chunk(chunk_id, b"<x>12</x>" + bytes(range(1, 120)))
    source = media.with_chunks(wav16, tmp_path / "in.wav", [chunk])
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]


def test_chunks_ffmpeg_reads_past_after_the_samples_leave_the_flac_as_ffmpegs(wav16, tmp_path, direct_calls,
                                                                            monkeypatch):
    chunks = [media.riff_chunk(chunk_id, bytes(range(40))) for chunk_id in sorted(headers.WAV_SILENT_CHUNKS)]
    source = media.with_chunks(wav16, tmp_path / "in.wav", chunks, after_data=True)
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]


def test_a_tagged_aiff_with_what_its_tools_add_is_ffmpegs_flac(media_dir, tmp_path, direct_calls,
                                                               monkeypatch):
    """Text chunks and what ffmpeg's AIFF demuxer reads past, before the sound data and after it."""
    aiff = _source(media_dir, "16-bit AIFF (big-endian)")
    before = [media.riff_chunk(chunk_id, b"Logic" + bytes(range(30)), ">")
              for chunk_id in sorted(headers.AIFF_SILENT_CHUNKS)] + [media.riff_chunk(b"NAME", b"Song", ">")]
    after = [media.riff_chunk(b"ANNO", b"A note", ">"), media.riff_chunk(b"MARK", bytes(12), ">")]
    with_before = media.with_chunks(aiff, tmp_path / "a.aiff", before)
    source = media.with_chunks(with_before, tmp_path / "b.aiff", after, after_data=True)
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]
    tags = FLAC(next((tmp_path / "direct").glob("*.flac"))).tags
    assert (tags["TITLE"], tags["COMMENT"]) == (["Song"], ["A note"])


def _as_aifc(aiff: Path, target: Path, coding: bytes) -> Path:
    """The AIFF as an AIFF-C of `coding` (the samples' bytes as they are): FVER, and COMM naming it
    (its name a Pascal string, padded to an even length)."""
    raw = aiff.read_bytes()
    comm = raw.index(b"COMM")
    body = (media.riff_chunk(b"FVER", bytes.fromhex("a2805140"), ">") + raw[12:comm]
            + media.riff_chunk(b"COMM", raw[comm + 8:comm + 26] + coding + b"\x0enot compressed\0", ">")
            + raw[comm + 26:])
    target.write_bytes(b"FORM" + struct.pack(">I", len(body) + 4) + b"AIFC" + body)
    return target


@pytest.mark.parametrize("kind", ["16-bit, little-endian (sowt)", "24-bit, big-endian (NONE)",
                                  "16-bit, big-endian (twos)"])
def test_an_uncompressed_aiff_c_is_ffmpegs_flac(kind, media_dir, tmp_path, direct_calls, monkeypatch):
    if kind.startswith("16-bit, little"):  # as ffmpeg writes one
        source = media.tone(tmp_path / "sowt.aiff", seconds=1.0, codec="pcm_s16le")
    else:
        aiff = _source(media_dir, "24-bit mono AIFF" if kind.startswith("24") else "16-bit AIFF (big-endian)")
        source = _as_aifc(aiff, tmp_path / "in.aifc", kind[-5:-1].encode())
    assert read_header(source) is not None
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert direct_calls == [source]


def test_a_latin_1_bext_description_reaches_the_flac_as_written(wav16, tmp_path):
    """ffmpeg's probe would give "Caf\ufffd"."""
    source = media.with_chunks(wav16, tmp_path / "bwf.wav", [media.bext(b"Caf\xe9")])
    assert FLAC(single_output(source, tmp_path / "out").path).tags["COMMENT"] == ["Café"]


@pytest.mark.parametrize(("channels", "mask"), [(6, 0x3), (2, 0x7), (2, 0x80000003)])
def test_a_mask_ffmpeg_does_not_take_as_it_is_goes_to_ffmpeg(channels, mask, tmp_path, direct_calls):
    """Not one speaker per channel, or a bit beyond the known speakers."""
    source = _wav_with_mask(tmp_path / "in.wav", channels, mask)
    assert single_output(source, tmp_path / "out").report["channels"] == channels
    assert direct_calls == []


@pytest.mark.parametrize("options", [
    {"channels": "mono"}, {"frequency": 22050}, {"audio_bitdepth": 24}, {"audio_bitdepth": 8},
    {"start": "00:00:01"}, {"normalize": True, "normalize_type": "ebu"},
])
def test_any_change_to_the_samples_goes_to_ffmpeg(options, wav16, out_dir, direct_calls):
    output = single_output(wav16, out_dir, **options)
    assert direct_calls == [] and output.report["samples"] > 0


@pytest.mark.parametrize("codec", ["pcm_f32le", "pcm_u8", "pcm_s32le"])
def test_other_sample_formats_go_to_ffmpeg(codec, tmp_path, direct_calls):
    source = media.tone(tmp_path / f"{codec}.wav", seconds=1.0, codec=codec)
    single_output(source, tmp_path / "out")
    assert direct_calls == []


def test_samples_ending_inside_a_frame_go_to_ffmpeg(tmp_path, direct_calls):
    """A data chunk one byte short of its last stereo frame: ffmpeg's verdict, as before."""
    frames = b"".join(int(1000 * (n % 7)).to_bytes(2, "little") * 2 for n in range(8000))
    source = media.write_wav16(tmp_path / "cut.wav", frames + b"\x01\x02\x03", rate=8000, channels=2)
    assert read_header(source) is None
    outputs, failures = convert_one(source, tmp_path / "out")
    assert direct_calls == [] and [failure.code for failure in failures] == ["CORRUPT_FILE"]


def test_a_cancel_stops_the_encoding(wav16, tmp_path):
    info = read_header(wav16)
    with pytest.raises(ConversionCanceled):
        pcm_direct.encode_directly(wav16, info, info.audio[0], tmp_path / "out.flac",
                                   should_cancel=lambda: True)


@pytest.fixture
def three_cores(monkeypatch) -> list[int]:
    """Three parts wherever they fit; returns the number of parts of each encoding."""
    counts = []
    bounds = pcm_direct._part_bounds
    monkeypatch.setattr(pcm_direct, "usable_cores", lambda: 3)
    monkeypatch.setattr(pcm_direct, "PART_MIN_SECONDS", 0.25)
    monkeypatch.setattr(pcm_direct, "_part_bounds", lambda samples: counts.append(len(bounds(samples)))
                        or bounds(samples))
    return counts


@pytest.mark.parametrize("name", ["16-bit stereo WAV", "24-bit stereo WAV", "16-bit AIFF (big-endian)",
                                  "24-bit mono AIFF", "16-bit stereo WAV, one frame over a block",
                                  "16-bit WAV at 12 kHz", "16-bit WAV at 11,025 Hz"])
def test_a_file_encoded_in_parts_is_the_same_flac(name, media_dir, tmp_path, three_cores, monkeypatch):
    """Parts renumber their frames, and the MD5 of all samples (little-endian, as FLAC hashes them:
    AIFF's are swapped) replaces the first part's."""
    _same_as_ffmpegs(_source(media_dir, name), tmp_path, monkeypatch)
    assert three_cores[0] == (2 if "over a block" in name else 3)


def test_frame_numbers_of_every_coded_length_are_renumbered(tmp_path, three_cores, monkeypatch):
    """2,100 blocks in three parts: the second part's numbers (700...) take two bytes where its
    encoder wrote one, the third's cross 2,048 (three bytes)."""
    source = media.tone(tmp_path / "long.wav", seconds=2100 * 4096 / 8000, rate=8000, channels=1)
    _same_as_ffmpegs(source, tmp_path, monkeypatch)
    assert three_cores == [3]


@pytest.mark.parametrize("number", [0, 127, 128, 2047, 2048, 0xD800, 65535, 65536, 126_562, 0x1FFFFF,
                                    0x200000, 0x3FFFFFF, 0x4000000, 0x7FFFFFFF])
def test_frame_numbers_are_coded_as_utf8_extended_to_31_bits(number):
    """A 3-hour recording at 48 kHz has 126,562 blocks: four-byte numbers (RFC 9639, 9.1.5)."""
    coded = pcm_direct._utf8_number(number)
    if number < 0x110000:  # Python's UTF-8 (lone surrogates included) codes the same
        assert coded == chr(number).encode("utf-8", "surrogatepass")
    length = pcm_direct._coded_length(coded[0])
    assert len(coded) == length and all(byte >> 6 == 0b10 for byte in coded[1:])
    payload = coded[0] & (0x7F if length == 1 else 0xFF >> (length + 1))
    for byte in coded[1:]:
        payload = payload << 6 | byte & 0x3F
    assert payload == number


@pytest.mark.parametrize(("cpu_max", "expected"), [
    ("max 100000\n", 2), ("100000 100000\n", 1), ("150000 100000\n", 2), ("800000 100000\n", 2),
    ("50000 100000\n", 1), (None, 2),
])
def test_a_containers_cpu_quota_caps_the_parts(cpu_max, expected, tmp_path, monkeypatch):
    """cgroup v2's cpu.max: a quota of 1.5 CPUs may use two cores; 0.5 still gets one part."""
    monkeypatch.setattr(pcm_direct.os, "sched_getaffinity", lambda pid: {0, 1})
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max)
    monkeypatch.setattr(pcm_direct, "CGROUP_CPU_MAX", path)
    assert pcm_direct.usable_cores() == expected


def test_a_cancel_stops_every_part(wav16, tmp_path, three_cores):
    """The parts' processes are killed and reaped: none is left running, or a zombie."""
    info = read_header(wav16)
    asked, before = [], set(children(os.getpid()))
    with pytest.raises(ConversionCanceled):
        pcm_direct.encode_directly(wav16, info, info.audio[0], tmp_path / "out.flac",
                                   should_cancel=lambda: asked.append(1) or len(asked) > 1)
    assert three_cores == [3]
    assert set(children(os.getpid())) <= before


def test_a_part_whose_process_dies_fails_the_encoding(wav16, tmp_path, three_cores, monkeypatch):
    """Killed with no word (the OOM killer): the caller does not wait for its report for ever."""
    encode = pcm_direct._Part.encode

    def dying(part, *args):
        if part.first:  # the first part lives
            os.kill(os.getpid(), signal.SIGKILL)
        encode(part, *args)

    monkeypatch.setattr(pcm_direct._Part, "encode", dying)
    info = read_header(wav16)
    with pytest.raises(RuntimeError, match="encoder process ended"):
        pcm_direct.encode_directly(wav16, info, info.audio[0], tmp_path / "out.flac")
    assert three_cores == [3]


def test_a_file_cut_short_during_the_encoding_fails_with_a_message(wav16, tmp_path, three_cores):
    source = tmp_path / "cut.wav"
    source.write_bytes(wav16.read_bytes())
    info = read_header(source)
    with open(source, "r+b") as file:
        file.truncate(source.stat().st_size // 2)
    with pytest.raises(OSError, match="shrank"):
        pcm_direct.encode_directly(source, info, info.audio[0], tmp_path / "out.flac")


def test_a_full_disk_is_told_as_one(wav16):
    """ENOSPC, which the local provider reports as DISK_FULL (tests/faults/test_disk_full.py)."""
    info = read_header(wav16)
    with pytest.raises(OSError) as raised:
        pcm_direct.encode_directly(wav16, info, info.audio[0], Path("/dev/full"))
    assert raised.value.errno == errno.ENOSPC


def test_the_time_limit_stops_the_encoding(wav16, tmp_path):
    info = read_header(wav16)
    with pytest.raises(TimeLimitExceeded):
        pcm_direct.encode_directly(wav16, info, info.audio[0], tmp_path / "out.flac", deadline=0.0)


def test_progress_climbs_to_the_end(wav16, tmp_path):
    info = read_header(wav16)
    seen = []
    pcm_direct.encode_directly(wav16, info, info.audio[0], tmp_path / "out.flac", on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
