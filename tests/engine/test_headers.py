"""Plain PCM headers are read in Python (no probe process), agree with ffmpeg, and catch truncation."""

from __future__ import annotations

import importlib
import random
import struct

import pytest
from mutagen.flac import FLAC

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


# Broadcast WAVs: a bext chunk (EBU Tech 3285), as recorders and broadcast tools write it
BEXT = {
    "a recorder's": media.bext(b"Interview, take 3", b"Radio X", b"REF-1", b"2026-12-01", b"10:20:30",
                               158_760_000,
                               coding_history=b"A=PCM,F=48000,W=24,M=stereo,T=Recorder\r\nA=PCM,F=44100,W=16\r\n"),
    "version 0 (its UMID bytes are not one)": media.bext(b"take", version=0, umid=b"\x01" * 64),
    "a basic UMID": media.bext(b"take", umid=bytes(range(1, 33))),
    "an extended UMID": media.bext(b"take", umid=bytes(range(1, 65))),
    "no text at all": media.bext(),
    "an empty coding history": media.bext(b"take", coding_history=b"\0\0\0\0"),
    "padded and blank fields": media.bext(b"  padded  ", b"   ", coding_history=b"  A=PCM  \r\n  T=x  "),
    "UTF-8": media.bext("Café ☃".encode()),
}


@pytest.mark.parametrize("name", BEXT)
def test_a_broadcast_wavs_bext_is_read_as_ffmpeg_reads_it(corpus_dir, tmp_path, name):
    source = media.corpus_file(corpus_dir, "wav24.wav")
    path = media.with_chunks(source, tmp_path / "bwf.wav", [BEXT[name]])
    ours = read_header(path)
    assert ours is not None
    assert ours.tags == probe.probe_with_ffmpeg(path).tags


def test_a_latin_1_bext_field_is_read_as_latin_1(corpus_dir, tmp_path):
    """Where ffmpeg's log prints U+FFFD for each such byte (as for a LIST/INFO field)."""
    path = media.with_chunks(media.corpus_file(corpus_dir, "wav16.wav"), tmp_path / "bwf.wav",
                                 [media.bext(b"Caf\xe9 r\xe9cit")])
    assert read_header(path).tags["comment"] == "Café récit"


INFO_COMMENT = media.riff_chunk(b"LIST", b"INFO" + media.riff_chunk(b"ICMT", b"A note\0"))


@pytest.mark.parametrize("chunks", [
    [media.bext(b"line 1\r\nline 2")],
    [media.bext(b"take", coding_history=b"A=PCM,T=" + b"x" * 300 + b"\r\n")],
    [media.riff_chunk(b"bext", b"Interview, cut short")],
    [media.bext(b"take"), INFO_COMMENT],
    [INFO_COMMENT, media.bext(b"take")],
], ids=["control characters", "a line too long for the log", "cut short", "a comment twice", "info first"])
def test_a_bext_that_needs_ffmpegs_rules_goes_to_its_probe(corpus_dir, tmp_path, chunks):
    """ffmpeg's log changes control characters and cuts long lines; where a field is named twice, its
    rules say which value stays, and where."""
    path = media.with_chunks(media.corpus_file(corpus_dir, "wav16.wav"), tmp_path / "bwf.wav", chunks)
    assert read_header(path) is None


def aiff_text(chunk_id: bytes, text: bytes) -> bytes:
    return media.riff_chunk(chunk_id, text, ">")


AIFF_TEXTS = [aiff_text(b"NAME", b"A title"), aiff_text(b"AUTH", b"An author"), aiff_text(b"ANNO", b"A note"),
              aiff_text(b"(c) ", b"2026 Us")]


@pytest.mark.parametrize("after_data", [False, True], ids=["before the sound data", "after it"])
def test_aiff_text_chunks_are_read_as_ffmpeg_reads_them(corpus_dir, tmp_path, after_data):
    path = media.with_chunks(media.corpus_file(corpus_dir, "aiff.aiff"), tmp_path / "texts.aiff", AIFF_TEXTS,
                             after_data=after_data)
    ours = read_header(path)
    assert ours is not None
    assert ours.tags == probe.probe_with_ffmpeg(path).tags == {
        "title": "A title", "author": "An author", "comment": "A note", "copyright": "2026 Us"}


def test_an_aiffs_id3_chunk_after_the_sound_data_keeps_its_tags(corpus_dir, tmp_path, out_dir):
    """Taggers append it there; the header reader used to stop at the sound data, and the FLAC
    lost every tag."""
    tagged = tmp_path / "tagged.aiff"
    media.ffmpeg("-i", str(media.corpus_file(corpus_dir, "aiff.aiff")), "-c", "copy", "-write_id3v2", "1",
                 "-metadata", "title=Song", "-metadata", "artist=Band", str(tagged))
    id3 = tagged.read_bytes()[tagged.read_bytes().index(b"ID3 "):]
    path = media.with_chunks(media.corpus_file(corpus_dir, "aiff.aiff"), tmp_path / "id3.aiff", [id3],
                             after_data=True)
    assert read_header(path) is None
    tags = FLAC(single_output(path, out_dir).path).tags
    assert (tags["TITLE"], tags["ARTIST"]) == (["Song"], ["Band"])


@pytest.mark.parametrize("chunks", [
    [aiff_text(b"NAME", b"One"), aiff_text(b"NAME", b"Two")],
    [aiff_text(b"ANNO", b"line 1\nline 2")],
    [media.riff_chunk(b"CHAN", struct.pack(">III", 0, 0b11, 0), ">")],
    [media.riff_chunk(b"FVER", bytes.fromhex("a2805140"), ">")],
], ids=["a field twice", "control characters", "a channel layout", "an AIFF-C's version in an AIFF"])
def test_an_aiff_that_needs_ffmpegs_rules_goes_to_its_probe(corpus_dir, tmp_path, chunks):
    path = media.with_chunks(media.corpus_file(corpus_dir, "aiff.aiff"), tmp_path / "x.aiff", chunks)
    assert read_header(path) is None


def test_other_containers_are_left_to_ffmpeg(corpus_dir):
    assert read_header(media.corpus_file(corpus_dir, "mp3.mp3")) is None


@pytest.mark.parametrize(("options", "processes"), [({}, 0), ({"channels": "mono"}, 1)])
def test_a_wav_is_converted_with_no_probe_and_at_most_one_ffmpeg_process(options, processes, wav16, out_dir,
                                                                          monkeypatch):
    """No process at all for its samples as they are (engine/pcm_direct.py)."""
    commands = []
    run = encoding.run_ffmpeg
    monkeypatch.setattr(encoding, "run_ffmpeg", lambda args, **kw: commands.append(args) or run(args, **kw))
    monkeypatch.setattr(probe, "probe_with_ffmpeg", lambda path: pytest.fail("probed with ffmpeg"))
    single_output(wav16, out_dir, **options)
    assert len(commands) == processes
    for command in commands:
        assert command[command.index("-probesize") + 1] == "32768"  # the header said it all


# A DTS CD's tracks, and S/PDIF captures, are WAVs whose 16-bit stereo "PCM" is a 5.1 stream.
HIDDEN = {
    "dts": ["-c:a", "dca", "-strict", "-2", "-f", "dts"],
    "ac3 in IEC 61937": ["-ar", "48000", "-c:a", "ac3", "-f", "spdif"],
}


@pytest.mark.parametrize("kind", HIDDEN)
def test_a_compressed_stream_in_a_16_bit_wav_is_left_to_ffmpeg(corpus_dir, out_dir, kind):
    """The header looks plain: its samples' sync words send it to ffmpeg's probe, so the
    options apply to the real stream (channels: stereo once came out as 5.1)."""
    encoded = media.ffmpeg("-f", "lavfi", "-i", "sine=f=300:r=44100:d=2", "-ac", "6", *HIDDEN[kind], "-")
    path = media.write_wav16(corpus_dir / "hidden.wav", encoded, channels=2,
                             rate=48000 if "spdif" in HIDDEN[kind] else 44100)
    assert read_header(path) is None
    assert single_output(path, out_dir).report["channels"] == 6
    report = single_output(path, out_dir, channels="stereo").report
    assert report["channels"] == 2 and report["duration"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("sync", [b"\x72\xf8\x1f\x4e", b"\xfe\x7f\x01\x80", b"\x7f\xfe\x80\x01",
                                  b"\xff\x1f\x00\xe8", b"\x1f\xff\xe8\x00"])
def test_a_sync_word_among_the_first_samples_needs_the_probe(tmp_path, sync):
    noise = bytearray(random.Random(1).randbytes(44100 * 4))

    def header(name: str):
        return read_header(media.write_wav16(tmp_path / name, bytes(noise), rate=44100, channels=2))

    assert header("plain.wav") is not None
    noise[20_000:20_004] = sync
    assert header("synced.wav") is None


def test_wav_cut_on_a_sample_boundary_is_truncated(corpus_dir, out_dir):
    whole = media.corpus_file(corpus_dir, "wav16.wav").read_bytes()
    data_at = whole.index(b"data") + 8
    cut = corpus_dir / "cut.wav"
    cut.write_bytes(whole[: data_at + 44100 * 4])  # exactly one second of 16-bit stereo frames
    outputs, failures = convert_one(cut, out_dir)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [
        ("CORRUPT_FILE", "The file is corrupt or truncated at 00:00:01")]


def test_an_rf64_cut_short_is_truncated_where_its_ds64_says_more(corpus_dir, out_dir):
    """The data chunk's own size says 0xFFFFFFFF in an RF64: the ds64 chunk's 64-bit one counts."""
    rf64 = corpus_dir / "whole.rf64.wav"
    media.ffmpeg("-i", str(media.corpus_file(corpus_dir, "wav16.wav")), "-rf64", "always", str(rf64))
    whole = rf64.read_bytes()
    assert read_header(rf64).duration == pytest.approx(2.0)
    cut = corpus_dir / "cut.rf64.wav"
    cut.write_bytes(whole[: whole.index(b"data") + 8 + 44100 * 4])
    outputs, failures = convert_one(cut, out_dir)
    assert [(f.code, f.message) for f in failures] == [
        ("CORRUPT_FILE", "The file is corrupt or truncated at 00:00:01")]


def test_an_rf64_without_its_ds64_first_is_left_to_ffmpeg(corpus_dir, tmp_path):
    wav = media.corpus_file(corpus_dir, "wav16.wav").read_bytes()
    path = tmp_path / "no-ds64.wav"
    path.write_bytes(b"RF64" + wav[4:])
    assert read_header(path) is None
