"""Unpacking ZIP and tar (plain, gz, bz2, xz) archives safely.

Members are written under numbered names in a directory of the job's work dir, so no member
name (`../x`, `/etc/passwd`, `C:\\x`) ever becomes a path; links and devices are refused. A
budget shared by an archive and the archives inside it bounds the total unpacked size and
the member count; a member compressed beyond any real file's ratio is refused.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InputRejected
from .filenames import base_name

MAX_DEPTH = 2  # an archive, and archives inside it; deeper ones are refused
MAX_RATIO = 200  # uncompressed/compressed: audio and text stay far below; a bomb's ratio is ~1000
RATIO_CHECKED_FROM = 1 << 20  # tiny members (a page of repeated text) may compress as they like
_COPY_CHUNK = 1 << 20
_JUNK_RE = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)")
_OPENERS = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_WINZIP_AES = 99  # the compression method of WinZip's AES encryption, which zipfile cannot decrypt
_READ_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError)


def max_total_bytes() -> int:
    return int(os.environ.get("ENGINE_ARCHIVE_MAX_BYTES", 2 << 30))


def max_members() -> int:
    return int(os.environ.get("ENGINE_ARCHIVE_MAX_MEMBERS", 1000))


@dataclass
class Member:
    """One file of an archive: unpacked to `path`, or refused with `problem`."""

    name: str  # its name inside the archive, for messages and the output's name
    path: Path | None = None
    problem: InputRejected | None = None


class BudgetExceeded(InputRejected):
    """The whole upload is refused, not just one member: it is, or contains, an archive bomb."""


class Budget:
    """What one uploaded archive may still unpack, nested archives included."""

    def __init__(self):
        self.bytes = max_total_bytes()
        self.members = max_members()

    def take(self, members: int, size: int) -> None:
        self.members -= members
        self.bytes -= size
        if self.members < 0:
            raise BudgetExceeded("ARCHIVE_TOO_LARGE", f"The archive holds more than {max_members()} files")
        if self.bytes < 0:
            raise BudgetExceeded("ARCHIVE_TOO_LARGE",
                                f"The archive unpacks to more than {max_total_bytes() / 2**30:g} GiB")


def unpack(path: Path, kind: str, name: str, into: Path, budget: Budget, password: str = "") -> list[Member]:
    """Every regular member of the archive at `path` (detect kind "zip", "tar" or "compressed").

    `password` opens a ZIP's encrypted members.
    """
    into.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "zip":
            return list(_zip_members(path, into, budget, password))
        if kind == "compressed" and not _is_compressed_tar(path):
            return [_single_stream(path, name, into, budget)]
        return list(_tar_members(path, into, budget))
    except _READ_ERRORS as error:
        raise InputRejected("CORRUPT_FILE", f"The archive is corrupt and cannot be read ({error})") from None


def _zip_members(path: Path, into: Path, budget: Budget, password: str) -> Iterator[Member]:
    with zipfile.ZipFile(path) as archive:
        infos = [info for info in archive.infolist()
                 if not info.is_dir() and not _JUNK_RE.search(info.filename)]
        # The central directory declares every size: refuse a bomb before unpacking anything.
        budget.take(len(infos), sum(info.file_size for info in infos))
        for number, info in enumerate(infos):
            member = Member(info.filename)
            try:
                member.path = _zip_member(archive, info, into, number, password)
            except InputRejected as rejected:
                member.problem = rejected
            yield member


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, into: Path, number: int,
                password: str) -> Path:
    """Unpacks one member to a numbered file in `into`, or raises InputRejected."""
    mode = info.external_attr >> 16
    ratio = info.file_size // max(1, info.compress_size)
    encrypted = bool(info.flag_bits & 1)
    if (mode & 0o170000) not in (0, 0o100000):
        raise _not_a_file()
    if encrypted and info.compress_type == _WINZIP_AES:
        raise InputRejected("ENCRYPTED_FILE", "The file is AES-encrypted in the archive, which is not "
                                              "supported: re-pack it with standard ZIP encryption "
                                              "(ZipCrypto) or none")
    if encrypted and not password:
        raise InputRejected("ENCRYPTED_FILE",
                            "The file is encrypted in the archive: give the archive's password")
    if info.file_size > RATIO_CHECKED_FROM and ratio > MAX_RATIO:
        raise InputRejected("ARCHIVE_TOO_LARGE", f"The file is compressed {ratio} times: "
                                                 "refused as a possible archive bomb")
    try:
        with archive.open(info, pwd=password.encode()) as source:
            return _write(source, into, number, info.filename)
    except NotImplementedError as error:  # a method zipfile cannot read (Deflate64, PPMd...)
        raise InputRejected("UNSUPPORTED_FILE", f"The file is packed in a way that cannot be read ({error}): "
                                                "re-pack the archive with the usual Deflate") from None
    except RuntimeError:  # zipfile's "Bad password for file" (NotImplementedError is one too: above)
        raise _wrong_password() from None
    except _READ_ERRORS as error:
        if encrypted:
            # zipfile checks a password against one byte: a wrong one passes 1 time in 256, then
            # decrypts to garbage (a CRC or decompression error).
            raise _wrong_password() from None
        raise InputRejected("CORRUPT_FILE", f"The file is corrupt in the archive ({error})") from None


def _wrong_password() -> InputRejected:
    return InputRejected("WRONG_PASSWORD", "The password does not open the file in the archive")


def _tar_members(path: Path, into: Path, budget: Budget) -> Iterator[Member]:
    with tarfile.open(path, "r:*") as archive:
        for number, info in enumerate(archive):
            if info.isdir() or _JUNK_RE.search(info.name):
                continue
            # Sizes are only known member by member: each is counted before it is unpacked.
            budget.take(1, info.size if info.isfile() else 0)
            member = Member(info.name)
            if not info.isfile():
                member.problem = _not_a_file()
            else:
                member.path = _write(archive.extractfile(info), into, number, info.name)
            yield member


def _is_compressed_tar(path: Path) -> bool:
    try:
        with tarfile.open(path, "r:*") as archive:
            return archive.next() is not None
    except _READ_ERRORS:
        return False


def _single_stream(path: Path, name: str, into: Path, budget: Budget) -> Member:
    """A lone compressed file (song.wav.gz): one member named after the input without its suffix."""
    inner_name = base_name(name) if "." in name else name
    with open(path, "rb") as file:
        magic = file.read(6)
    opener = next(open_ for prefix, open_ in _OPENERS.items() if magic.startswith(prefix))
    budget.take(1, 0)
    with opener(path, "rb") as source:
        destination = into / f"0{_suffix(inner_name)}"
        with open(destination, "wb") as out:
            # The size is known only by unpacking: count as we go.
            while chunk := source.read(_COPY_CHUNK):
                budget.take(0, len(chunk))
                out.write(chunk)
    return Member(inner_name, destination)


def _write(source, into: Path, number: int, name: str) -> Path:
    destination = into / f"{number}{_suffix(name)}"
    with open(destination, "wb") as out:
        shutil.copyfileobj(source, out, _COPY_CHUNK)
    return destination


def _suffix(name: str) -> str:
    """The member's extension if it is plain (a hint for ffmpeg's probing), never a path."""
    extension = name.rpartition(".")[2] if "." in name else ""
    return f".{extension}" if re.fullmatch(r"[A-Za-z0-9]{1,8}", extension) else ""


def _not_a_file() -> InputRejected:
    return InputRejected("UNSUPPORTED_TYPE", "Links and devices in an archive are not converted")
