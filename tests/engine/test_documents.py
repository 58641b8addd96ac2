"""Documents are recognised by content and their text is spoken: which text, in which order."""

from __future__ import annotations

import pytest
from mutagen.flac import FLAC

from converter.engine.detect import detect
from converter.engine.documents import speakable_of
from tests import media

from .helpers import convert_one

MARKDOWN = "# Title\n\nSome **bold** text and a [link](https://example.com).\n\n```\ncode\n```\n"
HTML = ("<!DOCTYPE html><html><head><title>Ignored</title><style>p {color: red}</style>"
        "<script>var hidden = 1;</script></head><body><h1>Heading</h1><p>First &amp; second.</p>"
        "<div>Third<br>fourth</div></body></html>")
SRT = "1\n00:00:01,000 --> 00:00:02,000\n<i>First cue</i>\n\n2\n00:00:03,000 --> 00:00:04,000\nSecond cue\n"
VTT = ("WEBVTT\n\nNOTE a comment\n\n00:01.000 --> 00:02.000\nFirst cue\n\n"
       "intro\n00:03.000 --> 00:04.000\nSecond\n")


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(("content", "kind", "paragraphs"), [
    ("Plain words.\n\nAnother paragraph.", "text", ["Plain words.", "Another paragraph."]),
    (MARKDOWN, "markdown", ["Title.", "Some bold text and a link.", "code"]),
    (HTML, "html", ["Heading", "First & second.", "Third", "fourth"]),
    ("<p>A fragment</p><ul><li>with a list</li></ul>", "html", ["A fragment", "with a list"]),
    (SRT, "srt", ["First cue", "Second cue"]),
    (VTT, "vtt", ["First cue", "Second"]),
    ("Caf\xe9 cr\xe8me.".encode("cp1252"), "text", ["Caf\xe9 cr\xe8me."]),
    ("UTF-16 text.".encode("utf-16"), "text", ["UTF-16 text."]),
])
def test_text_kinds(tmp_path, content, kind, paragraphs):
    # Misleading extensions on purpose: the content decides.
    path = write(tmp_path, "document.bin", content)
    assert detect(path) == kind
    assert speakable_of(path, kind).paragraphs == paragraphs


@pytest.mark.parametrize(("make", "kind", "paragraphs"), [
    (lambda d: media.pdf(d / "doc.wav", ["Page one.", "Page two."]), "pdf", ["Page one.", "Page two."]),
    (lambda d: media.docx(d / "doc.txt", ["Word one.", "Word two."]), "docx", ["Word one.", "Word two."]),
    (lambda d: media.epub(d / "doc.zip", ["Chapter one.", "Chapter two."]), "epub",
     ["Chapter one.", "Chapter two."]),
    (lambda d: media.odt(d / "doc.docx", ["Open one.", "Open two."]), "odt", ["Open one.", "Open two."]),
])
def test_office_documents_and_books(tmp_path, make, kind, paragraphs):
    path = make(tmp_path)
    assert detect(path) == kind
    assert speakable_of(path, kind).paragraphs == paragraphs


def test_a_pdf_becomes_speech(tmp_path, out_dir):
    source = media.pdf(tmp_path / "report.pdf", ["Quarterly results are good."])
    outputs, failures = convert_one(source, out_dir)
    assert failures == []
    assert outputs[0].filename == "report.flac"
    assert FLAC(outputs[0].path).info.length > 1.0


@pytest.mark.parametrize(("make", "code", "message"), [
    (lambda d: media.pdf(d / "locked.pdf", ["Secret."], password="pw"), "ENCRYPTED_DOCUMENT",
     "The PDF is password-protected: remove the password and upload it again"),
    (lambda d: write(d, "broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog" + b"\x00" * 50), "CORRUPT_FILE",
     "The PDF document is corrupt and cannot be read"),
    (lambda d: write(d, "broken.docx", media.docx(d / "whole.docx", ["x"]).read_bytes()[:3000]),
     "CORRUPT_FILE", "The DOCX document is corrupt and cannot be read"),
    (lambda d: write(d, "locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
                     + "EncryptedPackage".encode("utf-16-le")), "ENCRYPTED_DOCUMENT",
     "The document is password-protected"),
    (lambda d: media.pdf(d / "blank.pdf", [""]), "NO_TEXT", "The document contains no text to speak"),
    (lambda d: write(d, "empty.html", "<html><body><script>x()</script></body></html>"), "NO_TEXT",
     "The document contains no text to speak"),
])
def test_unreadable_documents_fail_clearly(tmp_path, out_dir, make, code, message):
    outputs, failures = convert_one(make(tmp_path), out_dir)
    assert outputs == []
    [failure] = failures
    assert (failure.code, failure.message[:len(message)]) == (code, message)
    assert list(out_dir.iterdir()) == []


def test_subtitles_are_spoken_at_their_cue_times(tmp_path, out_dir):
    assert speakable_of(write(tmp_path, "a.srt", SRT), "srt").starts == [1.0, 3.0]
    assert speakable_of(write(tmp_path, "a.vtt", VTT), "vtt").starts == [1.0, 3.0]
    late = SRT.replace("00:00:03,000 --> 00:00:04,000", "01:00:06,500 --> 01:00:07,000")
    assert speakable_of(write(tmp_path, "late.srt", late), "srt").starts == [1.0, 3606.5]
    timed = SRT.replace("00:00:03,000 --> 00:00:04,000", "00:00:06,000 --> 00:00:07,000")
    outputs, failures = convert_one(write(tmp_path, "film.srt", timed), out_dir)
    assert failures == []
    assert 6.5 < FLAC(outputs[0].path).info.length < 9
    samples = media.pcm(outputs[0].path, "s16le")
    assert set(samples[: 2 * 22050 // 2]) == {0}  # silence until the first cue at 1 s
