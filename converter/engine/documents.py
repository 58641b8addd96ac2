"""The speakable text of a document, as paragraphs: plain text, Markdown, HTML, subtitles (with
their cue times), PDF, DOCX, EPUB, ODT. The kind comes from detect.py.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from .detect import decode_text
from .errors import InputRejected

if TYPE_CHECKING:
    from pypdf import PdfReader

MAX_TEXT_BYTES = 64 * 1024 * 1024  # a text file, or a document's unpacked XML, larger than this is refused
_REMOVE_PASSWORD = "remove the password and upload it again"
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "blockquote", "pre", "dd", "dt", "td", "th", "title", "header", "footer", "figcaption"}
_HIDDEN_TAGS = {"script", "style", "head", "template", "noscript", "svg", "math"}
_CUE_TIMING_RE = re.compile(r"^\s*((?:\d+:)?\d\d:\d\d[,.]\d+)\s*-->")
_MARKDOWN_RULES = (
    (re.compile(r"^[ \t]*(```|~~~).*$", re.M), ""),  # code fence lines
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image -> its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # link -> its text
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)[ \t]*#*[ \t]*$", re.M), r"\1."),  # heading -> a sentence
    (re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+", re.M), ""),  # block quote markers
    (re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", re.M), ""),  # list markers
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*$", re.M), ""),  # table separator rows
    (re.compile(r"\|"), " "),
    (re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # emphasis and inline code
    (re.compile(r"<[^>\n]+>"), ""),  # inline HTML
)


@dataclass
class Speakable:
    """A document's text: paragraphs with whitespace collapsed, none without a letter or digit."""

    paragraphs: list[str]
    starts: list[float] | None = None  # subtitles: when each paragraph is due, in seconds


def speakable_of(path: Path, kind: str, password: str = "") -> Speakable:
    """Raises InputRejected for a corrupt document, or an encrypted one (only a PDF opens with `password`)."""
    if kind == "pdf":
        return _speakable(_pdf(path, password))
    if kind in _READERS:
        return _speakable(_READERS[kind](path))
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise InputRejected("FILE_TOO_LARGE", "The text is too long to speak")
    text = decode_text(path.read_bytes()) or ""
    if kind in ("srt", "vtt"):
        cues = [(start, _tidy(cue)) for start, cue in _cues(text)]
        cues = [(start, cue) for start, cue in cues if cue]
        return Speakable([cue for _, cue in cues], [start for start, _ in cues])
    return _speakable(_TEXT_READERS[kind](text))


def _speakable(blocks: list[str]) -> Speakable:
    return Speakable([paragraph for paragraph in map(_tidy, blocks) if paragraph])


def _tidy(block: str) -> str:
    paragraph = " ".join(block.split())
    return paragraph if any(ch.isalnum() for ch in paragraph) else ""


def _split_blank_lines(text: str) -> list[str]:
    return re.split(r"\n\s*\n", text)


def _markdown(text: str) -> list[str]:
    for pattern, replacement in _MARKDOWN_RULES:
        text = pattern.sub(replacement, text)
    return _split_blank_lines(text)


def _cues(text: str) -> list[tuple[float, str]]:
    """(start, text) of each cue: cue numbers, the WEBVTT header, NOTE/STYLE blocks and tags dropped."""
    cues = []
    for block in _split_blank_lines(text.replace("\r\n", "\n")):
        lines = [line for line in block.strip().split("\n") if line.strip()]
        if not lines or lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timing = next((i for i, line in enumerate(lines) if _CUE_TIMING_RE.match(line)), None)
        if timing is None:
            continue
        *hours, minutes, seconds = _CUE_TIMING_RE.match(lines[timing])[1].replace(",", ".").split(":")
        start = int(hours[0] if hours else 0) * 3600 + int(minutes) * 60 + float(seconds)
        cue = " ".join(lines[timing + 1:])
        cues.append((start, re.sub(r"<[^>]*>|\{\\[^}]*\}", "", cue)))
    return cues


class _VisibleText(HTMLParser):
    """Text a browser would show, a paragraph per block element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = [""]
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.blocks.append("")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.blocks.append("")

    def handle_data(self, data):
        if not self._hidden:
            self.blocks[-1] += data


def _html(text: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return parser.blocks


def _pdf(path: Path, password: str) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            _decrypt(reader, password)
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise _corrupt("PDF", error) from None


def _decrypt(reader: PdfReader, password: str) -> None:
    """Opens an encrypted PDF with `password`, or raises InputRejected."""
    # Many PDFs are encrypted with an empty user password (only editing is restricted).
    if reader.decrypt(""):
        return
    if not password:
        raise _encrypted("PDF", f"{_REMOVE_PASSWORD}, or give its password")
    if not reader.decrypt(password):  # PasswordType.NOT_DECRYPTED is falsy
        raise InputRejected("WRONG_PASSWORD", "The password does not open the PDF")


def _docx(path: Path) -> list[str]:
    import docx

    _check_unpacked_size(path, "DOCX")
    try:
        document = docx.Document(str(path))
    except Exception as error:  # BadZipFile, KeyError, python-docx's PackageNotFoundError, lxml's errors...
        raise _corrupt("DOCX", error) from None
    blocks = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        blocks += [cell.text for row in table.rows for cell in row.cells]
    return blocks


def _epub(path: Path) -> list[str]:
    """The spine's XHTML documents in reading order (container.xml -> OPF -> spine)."""
    _check_unpacked_size(path, "EPUB")
    try:
        with zipfile.ZipFile(path) as book:
            container = ElementTree.fromstring(book.read("META-INF/container.xml"))
            opf_path = next(element.get("full-path") for element in container.iter()
                            if element.tag.endswith("rootfile"))
            opf = ElementTree.fromstring(book.read(opf_path))
            items = {element.get("id"): element.get("href") for element in opf.iter()
                     if element.tag.endswith("}item")}
            spine = [items[element.get("idref")] for element in opf.iter()
                     if element.tag.endswith("}itemref")]
            base = posixpath.dirname(opf_path)
            blocks = []
            for href in spine:
                member = posixpath.normpath(posixpath.join(base, href))
                blocks += _html(book.read(member).decode("utf-8", "replace"))
            return blocks
    except (zipfile.BadZipFile, KeyError, StopIteration, ElementTree.ParseError, OSError) as error:
        raise _corrupt("EPUB", error) from None


def _odt(path: Path) -> list[str]:
    _check_unpacked_size(path, "ODT")
    try:
        with zipfile.ZipFile(path) as document:
            content = ElementTree.fromstring(document.read("content.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as error:
        raise _corrupt("ODT", error) from None
    return ["".join(element.itertext()) for element in content.iter()
            if element.tag.endswith(("}p", "}h"))]


def _ole(path: Path) -> list[str]:
    """An OLE compound file: a password-protected Office document, or a legacy binary one."""
    with open(path, "rb") as file:
        directory = file.read(MAX_TEXT_BYTES)
    if "EncryptedPackage".encode("utf-16-le") in directory:
        raise _encrypted("document")
    raise InputRejected("UNSUPPORTED_TYPE",
                        "Legacy Office documents (.doc) are not supported: save it as DOCX")


def _check_unpacked_size(path: Path, label: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise _corrupt(label, error) from None
    if unpacked > MAX_TEXT_BYTES:
        raise InputRejected("FILE_TOO_LARGE", f"The {label} document unpacks to more than "
                                              f"{MAX_TEXT_BYTES // 2**20} MiB")


def _encrypted(label: str, remedy: str = _REMOVE_PASSWORD) -> InputRejected:
    return InputRejected("ENCRYPTED_DOCUMENT", f"The {label} is password-protected: {remedy}")


def _corrupt(label: str, error: Exception) -> InputRejected:
    return InputRejected("CORRUPT_FILE", f"The {label} document is corrupt and cannot be read ({error})")


_READERS = {"docx": _docx, "epub": _epub, "odt": _odt, "ole": _ole}
_TEXT_READERS = {"text": _split_blank_lines, "markdown": _markdown, "html": _html}
