"""ZIP archives written by hand, for tests of protected inputs: stdlib zipfile only decrypts, and
CI (a clean machine with only Python) may lack the `zip` tool. Encrypted members use the
traditional PKWARE encryption (APPNOTE 6.1); an AES member is only declared (method 99)."""

from __future__ import annotations

import struct
import zipfile
import zlib


class _ZipCrypto:
    def __init__(self, password: str):
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password.encode():
            self._update(byte)

    def _update(self, byte: int) -> None:
        key0 = _crc_step(self.keys[0], byte)
        key1 = ((self.keys[1] + (key0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        self.keys = [key0, key1, _crc_step(self.keys[2], key1 >> 24)]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def _crc_step(crc: int, byte: int) -> int:
    """One byte of CRC-32 without zlib's pre- and post-inversion."""
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def member(name: str, data: bytes, *, password: str = "", method: int = zipfile.ZIP_DEFLATED) -> tuple:
    """(name, flag bits, method, CRC, size, stored bytes) of a member, encrypted if given a password."""
    crc = zlib.crc32(data)
    payload = data
    if method == zipfile.ZIP_DEFLATED:
        deflate = zlib.compressobj(wbits=-15)
        payload = deflate.compress(data) + deflate.flush()
    if not password:
        return name, 0, method, crc, len(data), payload
    # 12 header bytes, the last the CRC's high byte: what zipfile checks a password against.
    header = bytes(range(11)) + bytes([crc >> 24])
    return name, 1, method, crc, len(data), _ZipCrypto(password).encrypt(header + payload)


def aes_member(name: str, data: bytes) -> tuple:
    """A WinZip AES member as its headers declare it: encrypted, compression method 99."""
    return name, 1, 99, zlib.crc32(data), len(data), data


def write_zip(path, members: list[tuple]):
    """A ZIP of `member()`s written by hand: zipfile writes neither encrypted nor AES members."""
    body = directory = b""
    for name, flags, method, crc, size, payload in members:
        encoded = name.encode()
        common = struct.pack("<HHHHHIIIHH", 20, flags, method, 0, 0x21, crc, len(payload), size,
                             len(encoded), 0)
        offset = struct.pack("<HHHII", 0, 0, 0, 0, len(body))  # no comment, disk 0, no attributes
        directory += b"PK\1\2" + struct.pack("<H", 20) + common + offset + encoded
        body += b"PK\3\4" + common + encoded + payload
    end = b"PK\5\6" + struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(directory), len(body), 0)
    path.write_bytes(body + directory + end)
    return path
