"""Test media made at test time with the bundled ffmpeg (no fixtures checked in).

Importable without Django; the web and API tests reuse it.
"""

from __future__ import annotations

import io
import math
import struct
import subprocess
import wave
from pathlib import Path

from converter.engine.ffmpeg import ffmpeg_binary


def ffmpeg(*args: str) -> bytes:
    """Run ffmpeg quietly; return stdout, raise CalledProcessError with its log on failure."""
    result = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        capture_output=True, check=False,
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, args, result.stdout, result.stderr)
    return result.stdout


def tone(path: Path, *, seconds: float = 2.0, rate: int = 44100, channels: int = 2,
         codec: str = "pcm_s16le", frequency: int = 440, volume_db: float = -6.0,
         extra: tuple[str, ...] = ()) -> Path:
    """A sine (left) plus pink noise (other channels) clip, encoded with `codec`.

    Noise makes every bit matter, so bit-exactness tests mean something.
    """
    source = (
        f"sine=f={frequency}:r={rate}:d={seconds}[s];anoisesrc=c=pink:r={rate}:d={seconds}:a=0.5:seed=7[n];"
        f"[s][n]amix=inputs=2:normalize=0,volume={volume_db}dB"
    )
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    ffmpeg("-filter_complex", source + f",aformat=channel_layouts={layout}", "-c:a", codec, *extra, str(path))
    return path


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    """A mono 16-bit sine made without ffmpeg: enough for the engine, tiny, for request bodies."""
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                      for n in range(int(seconds * rate)))
    buffer = io.BytesIO()
    write_wav16(buffer, frames, rate=rate)
    return buffer.getvalue()


def write_wav16(target, frames: bytes, *, rate: int, channels: int = 1):
    """A 16-bit PCM WAV of these interleaved little-endian samples, to a path or a binary file;
    returns target. (Python's wave module: any rate, any bytes, no ffmpeg.)"""
    with wave.open(str(target) if isinstance(target, Path) else target, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return target


def riff_chunk(chunk_id: bytes, body: bytes, order: str = "<") -> bytes:
    """One RIFF chunk (or, order ">", an AIFF one): id, size, body, a pad byte after an odd size."""
    return struct.pack(order + "4sI", chunk_id, len(body)) + body + b"\0" * (len(body) & 1)


def with_chunks(source: Path, target: Path, chunks: list[bytes], *, after_data: bool = False) -> Path:
    """The WAV or AIFF `source` with `chunks` (riff_chunk's) added before its sound data, or after."""
    raw, body, offset = source.read_bytes(), b"", 12
    order, data = ("<", b"data") if raw.startswith(b"RIFF") else (">", b"SSND")
    while offset < len(raw):
        chunk_id, size = struct.unpack(order + "4sI", raw[offset:offset + 8])
        if chunk_id == data and not after_data:
            body += b"".join(chunks)
        body += riff_chunk(chunk_id, raw[offset + 8:offset + 8 + size], order)
        offset += 8 + size + (size & 1)
    body += b"".join(chunks) if after_data else b""
    target.write_bytes(raw[:4] + struct.pack(order + "I", len(body) + 4) + raw[8:12] + body)
    return target


def bext(description: bytes = b"", originator: bytes = b"", reference: bytes = b"", date: bytes = b"",
         time: bytes = b"", time_reference: int = 0, *, version: int = 1, umid: bytes = b"",
         coding_history: bytes = b"") -> bytes:
    """A Broadcast WAV's bext chunk (EBU Tech 3285), as riff_chunk gives it."""
    texts = b"".join(text.ljust(length, b"\0")[:length] for text, length in
                     ((description, 256), (originator, 32), (reference, 32), (date, 10), (time, 8)))
    fixed = texts + struct.pack("<QH", time_reference, version) + umid.ljust(64, b"\0") + b"\0" * 190
    return riff_chunk(b"bext", fixed + coding_history)


def silence(path: Path, *, seconds: float = 1.0, rate: int = 44100) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=stereo:d={seconds}", "-c:a", "pcm_s16le", str(path))
    return path


def pcm(path: Path, sample_format: str = "s32le", *, stream: int = 0) -> bytes:
    """The decoded samples of one audio stream as raw PCM (s16le, s24le, s32le, s8...)."""
    return ffmpeg("-i", str(path), "-map", f"0:a:{stream}", "-f", sample_format, "-")


def sections(path: Path, *, levels_db: tuple[float, ...] = (0.0, -20.0, 0.0), seconds_each: float = 10.0,
             rate: int = 44100) -> Path:
    """Pink noise whose level steps through `levels_db`: a wide loudness range (LRA ~ 20 LU)."""
    parts = "+".join(
        f"between(t,{i * seconds_each},{(i + 1) * seconds_each})*{10 ** (level / 20):.6f}"
        for i, level in enumerate(levels_db)
    )
    total = seconds_each * len(levels_db)
    ffmpeg("-filter_complex",
           f"anoisesrc=c=pink:r={rate}:d={total}:a=0.3:seed=3,volume='{parts}':eval=frame,"
           "aformat=channel_layouts=stereo", "-c:a", "pcm_s16le", str(path))
    return path


def loudness(path: Path) -> dict[str, float]:
    """Integrated loudness (LUFS), loudness range (LU), true peak (dBTP), measured by ffmpeg's ebur128,
    plus RMS and sample peak (dBFS) from astats."""
    import re

    log = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:framelog=quiet,astats=measure_perchannel=none:measure_overall=RMS_level+Peak_level",
         "-f", "null", "-"], capture_output=True, check=True,
    ).stderr.decode()

    def number(pattern: str) -> float:
        return float(re.findall(pattern, log, re.S)[-1])

    return {
        "integrated": number(r"Integrated loudness:\s+I:\s+(-?[\d.]+) LUFS"),
        "range": number(r"LRA:\s+(-?[\d.]+) LU\n"),
        "true_peak": number(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS"),
        "rms": number(r"RMS level dB: (-?[\d.]+)"),
        "sample_peak": number(r"Peak level dB: (-?[\d.]+)"),
    }


# Every container/codec the bundled ffmpeg writes: file name -> encoder arguments.
# Lossless entries decode to the source's exact samples.
AUDIO_CORPUS: dict[str, tuple[str, ...]] = {
    "wav8.wav": ("-c:a", "pcm_u8"),
    "wav16.wav": ("-c:a", "pcm_s16le"),
    "wav24.wav": ("-c:a", "pcm_s24le"),
    "wav32.wav": ("-c:a", "pcm_s32le"),
    "wavfloat.wav": ("-c:a", "pcm_f32le"),
    "aiff.aiff": ("-c:a", "pcm_s16be"),
    "flac.flac": ("-c:a", "flac"),
    "alac.m4a": ("-c:a", "alac"),
    "wavpack.wv": ("-c:a", "wavpack"),
    "tta.tta": ("-c:a", "tta"),
    "mp3.mp3": ("-c:a", "libmp3lame"),
    "aac.m4a": ("-c:a", "aac"),
    "vorbis.ogg": ("-c:a", "libvorbis"),
    "opus.opus": ("-c:a", "libopus"),
    "wma.wma": ("-c:a", "wmav2"),
    "ac3.ac3": ("-c:a", "ac3"),
    "eac3.eac3": ("-c:a", "eac3"),
    "mp2.mp2": ("-c:a", "mp2"),
}
LOSSLESS = {"wav8.wav": "s8", "wav16.wav": "s16le", "wav24.wav": "s24le", "wav32.wav": "s32le",
            "aiff.aiff": "s16le", "flac.flac": "s16le", "alac.m4a": "s16le", "wavpack.wv": "s16le",
            "tta.tta": "s16le"}
TAGS = {"title": "Song", "artist": "Band", "album": "Record", "track": "3", "date": "2021", "genre": "Jazz"}


def corpus_file(directory: Path, name: str, *, seconds: float = 2.0, tagged: bool = False) -> Path:
    """One AUDIO_CORPUS entry, made from the same tone every time (and cached in `directory`)."""
    path = directory / (("tagged-" if tagged else "") + name)
    if not path.exists():
        source = directory / f"corpus-source-{seconds}.wav"
        if not source.exists():
            tone(source, seconds=seconds)
        metadata = [arg for key, value in TAGS.items() for arg in ("-metadata", f"{key}={value}")]
        if not tagged:
            metadata = []
        ffmpeg("-i", str(source), *AUDIO_CORPUS[name], *metadata, str(path))
    return path


def cover_png(directory: Path) -> Path:
    path = directory / "cover.png"
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-frames:v", "1", str(path))
    return path


def with_cover(directory: Path, name: str, codec: tuple[str, ...]) -> Path:
    """Audio with the cover PNG as an attached picture (ID3 APIC, MP4 covr, FLAC PICTURE)."""
    path = directory / name
    source = corpus_file(directory, "wav16.wav")
    ffmpeg("-i", str(source), "-i", str(cover_png(directory)), "-map", "0", "-map", "1", *codec,
           "-c:v", "copy", "-disposition:v", "attached_pic", "-metadata", "title=Covered", str(path))
    return path


def video(path: Path, *, audio_streams: int = 1, seconds: float = 2.0, codecs: tuple[str, ...] = ()) -> Path:
    """A small test-pattern video with 0..n audio tracks (tones of different pitch)."""
    args = ["-f", "lavfi", "-i", f"testsrc=s=64x48:r=10:d={seconds}"]
    for number in range(audio_streams):
        args += ["-f", "lavfi", "-i", f"sine=f={300 + 200 * number}:r=48000:d={seconds}"]
    args += ["-map", "0:v"] + [arg for n in range(audio_streams) for arg in ("-map", f"{n + 1}:a")]
    ffmpeg(*args, *codecs, "-shortest", str(path))
    return path


# Documents, made here too: the engine detects them by content and speaks their text.

def pdf(path: Path, pages: list[str], *, password: str | None = None) -> Path:
    """A PDF with one line of Helvetica text per page (optionally encrypted with `password`)."""
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(count))
               + b"] /Count %d >>" % count,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for number, text in enumerate(pages):
        stream = b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * number))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    xref += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, len(body))
    path.write_bytes(body + xref + trailer)
    if password is not None:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(path))
        writer.encrypt(password, algorithm="AES-128")
        writer.write(path)
    return path


def docx(path: Path, paragraphs: list[str]) -> Path:
    import docx as python_docx

    document = python_docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def epub(path: Path, chapters: list[str]) -> Path:
    """A minimal EPUB: container.xml -> OPF -> spine of XHTML chapters (listed in reverse in the manifest)."""
    import zipfile

    items = "".join(f'<item id="c{i}" href="text/c{i}.xhtml" media-type="application/xhtml+xml"/>'
                    for i in reversed(range(len(chapters))))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml",
                      '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                      '<rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>'
                      "</rootfiles></container>")
        book.writestr("OEBPS/book.opf", f'<package xmlns="http://www.idpf.org/2007/opf"><manifest>{items}'
                                        f"</manifest><spine>{spine}</spine></package>")
        for i, chapter in enumerate(chapters):
            book.writestr(f"OEBPS/text/c{i}.xhtml", f"<html><head><title>T</title><style>p{{}}</style></head>"
                                                    f"<body><p>{chapter}</p></body></html>")
    return path


def odt(path: Path, paragraphs: list[str]) -> Path:
    import zipfile

    body = "".join(f"<text:p>{paragraph}</text:p>" for paragraph in paragraphs)
    namespaces = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    with zipfile.ZipFile(path, "w") as document:
        document.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                          compress_type=zipfile.ZIP_STORED)
        document.writestr("content.xml", f"<office:document-content {namespaces}><office:body><office:text>"
                                         f"{body}</office:text></office:body></office:document-content>")
    return path
