"""Password-protected inputs: encrypted ZIP members and PDFs open with the input's password."""

from __future__ import annotations

import itertools
import zipfile
import zlib

import pytest
from mutagen.flac import FLAC

from tests import media
from tests.zips import aes_member, member, write_zip

from .helpers import convert_one

SHORT = 0.5  # seconds of the tone in the archives
NO_PASSWORD = "song.wav: The file is encrypted in the archive: give the archive's password"
WRONG_PASSWORD = "song.wav: The password does not open the file in the archive"


@pytest.fixture(scope="module")
def short_wav(tmp_path_factory):
    return media.tone(tmp_path_factory.mktemp("protected") / "short.wav", seconds=SHORT)


@pytest.fixture(scope="module")
def song(short_wav) -> bytes:
    return short_wav.read_bytes()


def lucky_wrong_password(path) -> str:
    """A wrong password that passes zipfile's one-byte check on the first member (1 in 256 do)."""
    with zipfile.ZipFile(path) as archive:
        for number in itertools.count():
            try:
                archive.open(archive.infolist()[0], pwd=f"wrong{number}".encode()).close()
                return f"wrong{number}"
            except RuntimeError:
                continue


def locked_pdf(path, text: str, *, user_password: str, owner_password: str | None = None):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(media.pdf(path, [text])))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    writer.write(path)
    return path


def failures_of(path, out_dir, password=""):
    outputs, failures = convert_one(path, out_dir, password=password)
    assert outputs == []
    return [(f.input_index, f.code, f.message) for f in failures]


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_the_password_opens_an_encrypted_member(tmp_path, out_dir, short_wav, song, method):
    archive = write_zip(tmp_path / "locked.zip", [member("song.wav", song, password="secret", method=method)])
    outputs, failures = convert_one(archive, out_dir, password="secret")
    assert failures == []
    [output] = outputs
    assert output.filename == "song.flac"
    assert FLAC(output.path).info.length == pytest.approx(SHORT, abs=0.001)
    assert media.pcm(output.path, "s16le") == media.pcm(short_wav, "s16le")


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_wrong_password_fails_the_member(tmp_path, out_dir, song, method):
    archive = write_zip(tmp_path / "locked.zip", [member("song.wav", song, password="secret", method=method)])
    assert failures_of(archive, out_dir, "wrong") == [(0, "WRONG_PASSWORD", WRONG_PASSWORD)]
    # It passes zipfile's check byte, then decrypts to garbage: a CRC (stored) or inflate (deflated) error.
    lucky = lucky_wrong_password(archive)
    assert failures_of(archive, out_dir, lucky) == [(0, "WRONG_PASSWORD", WRONG_PASSWORD)]


def test_without_the_password_an_encrypted_member_asks_for_it(tmp_path, out_dir, song):
    archive = write_zip(tmp_path / "locked.zip", [member("song.wav", song, password="secret")])
    assert failures_of(archive, out_dir) == [(0, "ENCRYPTED_FILE", NO_PASSWORD)]


@pytest.mark.parametrize(("password", "converted", "failed"), [
    ("", ["plain.flac"], [(0, "ENCRYPTED_FILE", NO_PASSWORD)]),
    ("secret", ["song.flac", "plain.flac"], []),  # the password leaves plain members alone
])
def test_an_encrypted_member_fails_alone(tmp_path, out_dir, song, password, converted, failed):
    archive = write_zip(tmp_path / "mixed.zip", [member("song.wav", song, password="secret"),
                                                 member("plain.wav", song)])
    outputs, failures = convert_one(archive, out_dir, password=password, allow_multiple_outputs=True)
    assert [o.filename for o in outputs] == converted
    assert [(f.input_index, f.code, f.message) for f in failures] == failed


def test_the_password_opens_nested_archives_and_pdfs(tmp_path, out_dir, song):
    inner = write_zip(tmp_path / "inner.zip", [member("nested.wav", song, password="secret")])
    pdf = locked_pdf(tmp_path / "memo.pdf", "A secret memo.", user_password="secret")
    archive = write_zip(tmp_path / "outer.zip", [member("inner.zip", inner.read_bytes(), password="secret"),
                                                 member("memo.pdf", pdf.read_bytes(), password="secret")])
    outputs, failures = convert_one(archive, out_dir, password="secret", allow_multiple_outputs=True)
    assert failures == []
    assert [o.filename for o in outputs] == ["nested.flac", "memo.flac"]


@pytest.mark.parametrize("password", ["", "secret"])
def test_aes_members_are_refused_with_a_way_out(tmp_path, out_dir, song, password):
    archive = write_zip(tmp_path / "aes.zip", [aes_member("song.wav", song)])
    assert failures_of(archive, out_dir, password) == [(0, "ENCRYPTED_FILE", (
        "song.wav: The file is AES-encrypted in the archive, which is not supported: "
        "re-pack it with standard ZIP encryption (ZipCrypto) or none"))]


def test_a_member_packed_in_a_way_zipfile_cannot_read_fails_alone(tmp_path, out_dir, song):
    deflate64 = ("song.wav", 0, 9, zlib.crc32(song), len(song), song)  # method 9: Deflate64
    archive = write_zip(tmp_path / "odd.zip", [deflate64, member("plain.wav", song)])
    outputs, failures = convert_one(archive, out_dir, allow_multiple_outputs=True)
    assert [o.filename for o in outputs] == ["plain.flac"]
    assert [(f.code, f.message.split(" (")[0]) for f in failures] == [
        ("UNSUPPORTED_FILE", "song.wav: The file is packed in a way that cannot be read")]


def test_the_password_opens_an_encrypted_pdf(tmp_path, out_dir):
    pdf = locked_pdf(tmp_path / "report.pdf", "Quarterly results are good.", user_password="secret")
    outputs, failures = convert_one(pdf, out_dir, password="secret")
    assert failures == []
    assert [o.filename for o in outputs] == ["report.flac"]
    assert FLAC(outputs[0].path).info.length > 1.0


@pytest.mark.parametrize(("password", "code", "message"), [
    ("wrong", "WRONG_PASSWORD", "The password does not open the PDF"),
    ("", "ENCRYPTED_DOCUMENT",
     "The PDF is password-protected: remove the password and upload it again, or give its password"),
])
def test_an_encrypted_pdf_without_its_password(tmp_path, out_dir, password, code, message):
    pdf = locked_pdf(tmp_path / "report.pdf", "Quarterly results are good.", user_password="secret")
    assert failures_of(pdf, out_dir, password) == [(0, code, message)]


@pytest.mark.parametrize("password", ["", "unrelated"])
def test_a_pdf_only_restricted_from_editing_needs_no_password(tmp_path, out_dir, password):
    pdf = locked_pdf(tmp_path / "notice.pdf", "Anyone may read this.", user_password="",
                     owner_password="owner")
    outputs, failures = convert_one(pdf, out_dir, password=password)
    assert failures == [] and [o.filename for o in outputs] == ["notice.flac"]
