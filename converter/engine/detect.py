"""What kind of input a file is, from its content (magic bytes, ZIP member names, text heuristics).

The extension is never trusted: uploads are often misnamed. None means "let ffmpeg decide".
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

ARCHIVES = {"zip", "tar", "compressed"}
DOCUMENTS = {"pdf", "docx", "epub", "odt", "ole", "html", "markdown", "srt", "vtt", "text"}
TEXT_SNIFF_BYTES = 65536

# Media magic that filetype needs more bytes to recognise: a cut-off media file is never text.
_MEDIA_MAGIC = (b"RIFF", b"FORM", b"fLaC", b"ID3", b"OggS", b"\x1aE\xdf\xa3", b"wvpk", b"TTA1", b"MAC ")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, or a password-protected DOCX
_SRT_RE = re.compile(r"\A\s*\d+\s*\r?\n\s*\d{1,2}:\d\d:\d\d[,.]\d{1,3}\s*-->")
# A page (doctype or <html>), or a fragment that opens with a common element.
_HTML_RE = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
                      r"<(?:!doctype\s+html|html|body|p|div|h[1-6]|article|section|table|ul|ol)[\s>]",
                      re.I | re.S)
# Headings, code fences, links, bold, or a list of two or more items.
_MARKDOWN_RE = re.compile(r"^#{1,6}\s+\S|^\s*```|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*"
                          r"|^\s{0,3}[-*+]\s+\S.*\n\s{0,3}[-*+]\s+\S", re.M)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect(path: Path) -> str | None:
    """One of ARCHIVES or DOCUMENTS, or None for audio, video and anything else ffmpeg may open."""
    with open(path, "rb") as file:
        head = file.read(TEXT_SNIFF_BYTES)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, head)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(_COMPRESSED_MAGIC):
        return "compressed"
    if head[257:262] == b"ustar":
        return "tar"
    if head.startswith(_MEDIA_MAGIC):
        return None
    import filetype

    kind = filetype.guess(head)
    if kind is not None and kind.mime.split("/")[0] in ("audio", "video"):
        return None
    text = decode_text(head, complete=len(head) < TEXT_SNIFF_BYTES)
    return None if text is None else text_kind(text)


def _zip_kind(path: Path, head: bytes) -> str:
    """An office document or e-book is a ZIP too: its member names say which."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        # No central directory (truncated): the first local headers still name the members.
        names = {name.decode() for name in (b"word/document.xml", b"content.xml") if name in head}
        mimetype = head[38:100] if head[30:38] == b"mimetype" else b""
    if "word/document.xml" in names:
        return "docx"
    if mimetype.startswith(b"application/epub+zip"):
        return "epub"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text") and "content.xml" in names:
        return "odt"
    return "zip"


def decode_text(data: bytes, complete: bool = True) -> str | None:
    """The bytes as text (UTF-8/16 with BOM, UTF-8, else Windows-1252), or None if they look binary."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace")
    if b"\0" in data:
        return None
    try:
        # A sniffed prefix may end inside a multi-byte character: not final then.
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
    return None if _CONTROL_RE.search(text) else text


def text_kind(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("WEBVTT"):
        return "vtt"
    if _SRT_RE.match(text):
        return "srt"
    if _HTML_RE.match(text):
        return "html"
    if _MARKDOWN_RE.search(text):
        return "markdown"
    return "text"
