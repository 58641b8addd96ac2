"""Archives: each member converts alone; bombs, traversal names, links and corrupt archives are refused."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest
from mutagen.flac import FLAC

from converter.engine import EngineInput, convert
from converter.options import validate_options
from tests import media

from .helpers import convert_one


@pytest.fixture(scope="module")
def short_wav(tmp_path_factory):
    return media.tone(tmp_path_factory.mktemp("archives") / "short.wav", seconds=0.5).read_bytes()


def make_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def separate(path, out_dir, **options):
    return convert_one(path, out_dir, allow_multiple_outputs=True, **options)


def test_each_member_becomes_an_output_named_after_it(tmp_path, out_dir, short_wav):
    archive = make_zip(tmp_path / "bundle.zip", {"one.wav": short_wav, "dir/two.wav": short_wav,
                                                 "notes.txt": b"Hello from the archive."})
    outputs, failures = separate(archive, out_dir)
    assert failures == []
    assert [(o.filename, o.input_index) for o in outputs] == [("one.flac", 0), ("two.flac", 0),
                                                              ("notes.flac", 0)]
    assert FLAC(outputs[2].path).info.sample_rate == 22050  # the text was spoken
    assert {path.name for path in out_dir.iterdir()} == {"one.flac", "two.flac", "notes.flac"}


def test_archive_outputs_are_zipped_like_any_multiple_outputs(tmp_path, out_dir, short_wav):
    archive = make_zip(tmp_path / "bundle.zip", {"a.wav": short_wav, "b.wav": short_wav})
    [zipped] = convert_one(archive, out_dir / "default")[0]
    assert zipped.filename == "converted.zip"
    assert [member["filename"] for member in zipped.report["members"]] == ["a.flac", "b.flac"]
    outputs, _ = separate(archive, out_dir / "threshold", allow_multiple_outputs_threshold=2)
    assert len(outputs) == 2
    three = make_zip(tmp_path / "three.zip", dict.fromkeys(("a.wav", "b.wav", "c.wav"), short_wav))
    outputs, _ = separate(three, out_dir / "over", allow_multiple_outputs_threshold=2)
    assert [o.filename for o in outputs] == ["converted.zip"]


def test_bad_members_fail_alone(tmp_path, out_dir, short_wav):
    noise = bytes((i * 7919 + 13) % 251 for i in range(5000))
    archive = make_zip(tmp_path / "mixed.zip", {"good.wav": short_wav, "empty.wav": b"", "noise.bin": noise,
                                                "__MACOSX/._good.wav": b"junk", "blank.txt": b"   "})
    outputs, failures = separate(archive, out_dir)
    assert [o.filename for o in outputs] == ["good.flac"]
    assert [(f.input_index, f.code, f.message) for f in failures] == [
        (0, "EMPTY_FILE", "empty.wav: The file is empty"),
        (0, "UNSUPPORTED_TYPE", "noise.bin: The file is not audio, video or text that can be converted"),
        (0, "NO_TEXT", "blank.txt: The document contains no text to speak"),
    ]


def test_nested_archives_up_to_two_levels(tmp_path, out_dir, short_wav):
    innermost = make_zip(tmp_path / "innermost.zip", {"deep.wav": short_wav}).read_bytes()
    inner = make_zip(tmp_path / "inner.zip", {"nested.wav": short_wav, "innermost.zip": innermost})
    inner = inner.read_bytes()
    outer = make_zip(tmp_path / "outer.zip", {"top.wav": short_wav, "inner.zip": inner})
    outputs, failures = separate(outer, out_dir)
    assert [o.filename for o in outputs] == ["top.flac", "nested.flac"]
    assert [(f.code, f.message) for f in failures] == [
        ("ARCHIVE_TOO_DEEP", "inner.zip/innermost.zip: Archives nested more than 2 deep are not unpacked")]


def test_too_many_members_refuses_the_archive(tmp_path, out_dir, monkeypatch):
    monkeypatch.setenv("ENGINE_ARCHIVE_MAX_MEMBERS", "5")
    archive = make_zip(tmp_path / "many.zip", {f"{n}.txt": b"word" for n in range(6)})
    outputs, failures = convert_one(archive, out_dir)
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [
        ("ARCHIVE_TOO_LARGE", "The archive holds more than 5 files")]


def test_huge_declared_size_refuses_the_archive_before_unpacking(tmp_path, out_dir, short_wav):
    data = bytearray(make_zip(tmp_path / "liar.zip", {"a.wav": short_wav}).read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24: central + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # uncompressed size: ~4 GiB
    (tmp_path / "liar.zip").write_bytes(data)
    outputs, failures = convert_one(tmp_path / "liar.zip", out_dir)
    assert [(f.code, f.message) for f in failures] == [
        ("ARCHIVE_TOO_LARGE", "The archive unpacks to more than 2 GiB")]


def test_total_size_limit_counts_nested_archives(tmp_path, out_dir, monkeypatch, short_wav):
    monkeypatch.setenv("ENGINE_ARCHIVE_MAX_BYTES", str(len(short_wav) * 2 + 100))
    inner = make_zip(tmp_path / "inner.zip", {"b.wav": short_wav, "c.wav": short_wav}).read_bytes()
    outer = make_zip(tmp_path / "outer.zip", {"a.wav": short_wav, "inner.zip": inner})
    outputs, failures = convert_one(outer, out_dir)
    assert outputs == []
    assert [f.code for f in failures] == ["ARCHIVE_TOO_LARGE"]


def test_extreme_compression_ratio_is_refused_per_member(tmp_path, out_dir, short_wav):
    archive = make_zip(tmp_path / "bomb.zip", {"zeros.wav": bytes(8 << 20), "real.wav": short_wav})
    outputs, failures = separate(archive, out_dir)
    assert [o.filename for o in outputs] == ["real.flac"]
    [failure] = failures
    assert failure.code == "ARCHIVE_TOO_LARGE"
    assert failure.message.startswith("zeros.wav: The file is compressed")


def test_traversal_names_links_and_devices_stay_inside(tmp_path, out_dir, short_wav):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("../../escaped.wav", "/tmp/absolute.wav", "C:\\\\windows.wav"):
            info = tarfile.TarInfo(name)
            info.size = len(short_wav)
            archive.addfile(info, io.BytesIO(short_wav))
        link = tarfile.TarInfo("link.wav")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        device = tarfile.TarInfo("device.wav")
        device.type, device.devmajor, device.devminor = tarfile.CHRTYPE, 1, 3
        archive.addfile(link)
        archive.addfile(device)
    (work / "evil.tgz").write_bytes(buffer.getvalue())
    outputs, failures = separate(work / "evil.tgz", work / "out")
    assert sorted(o.filename for o in outputs) == ["absolute.flac", "escaped.flac", "windows.flac"]
    assert [f.message for f in failures] == ["link.wav: Links and devices in an archive are not converted",
                                             "device.wav: Links and devices in an archive are not converted"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "absolute.flac", "escaped.flac", "evil.tgz", "windows.flac"]


def test_traversal_names_in_a_zip(tmp_path, out_dir, short_wav):
    archive = make_zip(tmp_path / "evil.zip", {"../../../up.wav": short_wav, "/abs.wav": short_wav})
    outputs, _ = separate(archive, tmp_path / "out")
    assert sorted(o.filename for o in outputs) == ["abs.flac", "up.flac"]
    assert all(o.path.parent == tmp_path / "out" for o in outputs)
    assert not list(tmp_path.parent.glob("*.wav"))


@pytest.mark.parametrize("mode", ["w", "w:bz2", "w:xz"])
def test_tar_formats(tmp_path, out_dir, short_wav, mode):
    path = tmp_path / "songs.tar"
    with tarfile.open(path, mode) as archive:
        info = tarfile.TarInfo("song.wav")
        info.size = len(short_wav)
        archive.addfile(info, io.BytesIO(short_wav))
    outputs, failures = convert_one(path, out_dir)
    assert failures == [] and [o.filename for o in outputs] == ["song.flac"]


def test_a_single_gzipped_file(tmp_path, out_dir, short_wav):
    (tmp_path / "take.wav.gz").write_bytes(gzip.compress(short_wav))
    outputs, failures = convert([EngineInput(tmp_path / "take.wav.gz", "take.wav.gz")], out_dir, {})
    assert failures == [] and [o.filename for o in outputs] == ["take.flac"]


def test_corrupt_archives(tmp_path, out_dir, short_wav):
    whole = make_zip(tmp_path / "whole.zip", {"a.wav": short_wav, "b.wav": short_wav}).read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[: len(whole) // 2])
    outputs, failures = convert_one(tmp_path / "cut.zip", out_dir)
    assert outputs == []
    assert [f.code for f in failures] == ["CORRUPT_FILE"]
    assert failures[0].message.startswith("The archive is corrupt and cannot be read")

    stored = bytearray(make_zip(tmp_path / "stored.zip", {"a.wav": short_wav, "b.wav": short_wav},
                                compression=zipfile.ZIP_STORED).read_bytes())
    stored[200] ^= 0xFF  # inside a.wav's samples: its CRC no longer matches
    (tmp_path / "crc.zip").write_bytes(stored)
    outputs, failures = convert([EngineInput(tmp_path / "crc.zip", "crc.zip")], out_dir / "crc",
                                validate_options({"allow_multiple_outputs": True}))
    assert [o.filename for o in outputs] == ["b.flac"]
    assert [(f.code, f.message[:35]) for f in failures] == [
        ("CORRUPT_FILE", "a.wav: The file is corrupt in the a")]
