"""Reading PCM WAV (RIFF, RF64, BW64), AIFF, AIFF-C and FLAC headers in Python, so the common case
needs no probe process.

Only files whose header says everything ffmpeg's probe would are read here: their tags as ffmpeg
reads them (LIST/INFO, a Broadcast WAV's bext, AIFF text chunks), the chunks it reads past stepped
over; no cover art, no exotic layouts. Anything else returns None and ffmpeg probes it.
"""

from __future__ import annotations

import struct
from pathlib import Path

from .errors import InputRejected, hms
from .probe import LOG_LINE_LIMIT, AudioStream, MediaInfo

# Chunks that carry neither audio nor tags (an id3 chunk has tags: ffmpeg reads those). Besides
# padding: what broadcast and field recorders, ADM and samplers add, which ffmpeg's demuxer reads past
# (9.0.2: the same probe and the same FLAC with or without each, tests/engine/test_pcm_direct.py):
# iXML, the ADM's axml and chna, cart, levl peak envelopes, sampler loops (smpl, inst, acid), XMP
# (_PMX: read only with export_xmp), Pro Tools' and Apple's (minf, elm1, regn, umid, DISP, FLLR).
# Not cue: ffmpeg makes chapters of its points.
WAV_SILENT_CHUNKS = {b"fmt ", b"fact", b"JUNK", b"junk", b"PAD ", b"PEAK", b"FLLR", b"iXML", b"axml",
                     b"chna", b"cart", b"levl", b"_PMX", b"smpl", b"inst", b"acid", b"minf", b"elm1", b"regn",
                     b"umid", b"DISP", b"MD5 "}
# LIST/INFO fields (ffmpeg writes ISFT into every WAV) -> the tag names ffmpeg's probe gives them.
_RIFF_INFO = {b"IART": "artist", b"ICMT": "comment", b"ICOP": "copyright", b"ICRD": "date", b"IGNR": "genre",
              b"ILNG": "language", b"INAM": "title", b"IPRD": "album", b"IPRT": "track", b"ITRK": "track",
              b"ISFT": "encoder", b"ITCH": "encoded_by"}
# A Broadcast WAV's bext chunk (EBU Tech 3285): (tag as ffmpeg names it, offset, length) of its
# text fields, then the fixed part's length, before the free-form CodingHistory.
_BEXT_TEXTS = (("comment", 0, 256), ("encoded_by", 256, 32), ("originator_reference", 288, 32),
               ("date", 320, 10), ("creation_time", 330, 8))
_BEXT_FIXED = 602
_WAV_PCM, _WAV_FLOAT, _WAV_EXTENSIBLE = 1, 3, 0xFFFE
# AIFF text chunks -> the tag names ffmpeg's probe gives them
_AIFF_TEXTS = {b"NAME": "title", b"AUTH": "author", b"(c) ": "copyright", b"ANNO": "comment"}
# What ffmpeg's AIFF demuxer reads past for PCM (9.0.2, tests/engine/test_pcm_direct.py): markers,
# instrument and MIDI data, time-stamped comments, applications' own, AES channel status, padding.
AIFF_SILENT_CHUNKS = {b"MARK", b"INST", b"COMT", b"APPL", b"MIDI", b"AESD", b"PAD "}
_AIFC_VERSION_1 = b"\xa2\x80\x51\x40"  # an FVER chunk's timestamp for AIFF-C version 1
# An AIFF-C's uncompressed codings, as ffmpeg reads them: (coding, bits) -> byte order. NONE and
# twos are big-endian at any depth; sowt little-endian (ffmpeg writes it at 16 bits, and
# its 24- and 32-bit forms are left to its probe).
_AIFC_BYTE_ORDERS = {**{(coding, bits): "be" for coding in (b"NONE", b"twos") for bits in (8, 16, 24, 32)},
                     (b"sowt", 16): "le"}
# A 16-bit WAV's "PCM" may be a compressed stream: a DTS CD's tracks, or IEC 61937 (S/PDIF)
# bursts of AC-3 or DTS. ffmpeg's demuxer probes such a WAV's samples for them (its spdif check
# reads 64 KiB); a sync word in as many bytes sends the file to that probe. 4 bytes of noise-like
# audio match one of these about once in 13,000 files of 64 KiB, and then cost only the probe.
_HIDDEN_CODEC_SYNCS = (
    b"\x72\xf8\x1f\x4e",  # IEC 61937 preamble Pa Pb (S/PDIF)
    b"\xfe\x7f\x01\x80", b"\x7f\xfe\x80\x01",  # DTS in 16-bit words, little- and big-endian
    b"\xff\x1f\x00\xe8", b"\x1f\xff\xe8\x00",  # DTS in 14-bit words (DTS CDs), both byte orders
)
_AC3_SYNCS = (b"\x0b\x77", b"\x77\x0b")  # raw AC-3 begins with one of its frames
_HIDDEN_CODEC_SCAN = 1 << 16
# Streaming encoders that never come back to fill in the size write 0, 0xFFFFFFFF or "as large as
# possible" (0x7FFFF000 and up): such a header says nothing about truncation.
_SIZE_UNKNOWN_FROM = 0x7FFFF000
# (codec, sample format as ffmpeg names them, integer depth) by (is_float, bits, endianness)
_PCM = {
    (False, 8, "le"): ("pcm_u8", "u8", 8), (False, 16, "le"): ("pcm_s16le", "s16", 16),
    (False, 24, "le"): ("pcm_s24le", "s32 (24 bit)", 24), (False, 32, "le"): ("pcm_s32le", "s32", 32),
    (True, 32, "le"): ("pcm_f32le", "flt", None), (True, 64, "le"): ("pcm_f64le", "dbl", None),
    (False, 8, "be"): ("pcm_s8", "u8", 8), (False, 16, "be"): ("pcm_s16be", "s16", 16),
    (False, 24, "be"): ("pcm_s24be", "s32 (24 bit)", 24), (False, 32, "be"): ("pcm_s32be", "s32", 32),
}


def read_header(path: Path) -> MediaInfo | None:
    """MediaInfo from the header alone, or None when ffmpeg must probe.

    Raises InputRejected when the header promises more audio than the file holds.
    """
    with open(path, "rb") as file:
        magic = file.read(12)
        if magic[:4] in (b"RIFF", b"RF64", b"BW64") and magic[8:] == b"WAVE":
            return _wav(file, path.stat().st_size, wide=magic[:4] != b"RIFF")
        if magic[:4] == b"FORM" and magic[8:] in (b"AIFF", b"AIFC"):
            return _aiff(file, path.stat().st_size, compressed=magic[8:] == b"AIFC")
    if magic[:4] == b"fLaC":
        return _flac(path)
    return None


def _chunks(file, order: str):
    """(id, size, offset of the data) for each chunk after the 12-byte file header."""
    offset = 12
    while True:
        file.seek(offset)
        header = file.read(8)
        if len(header) < 8:
            return
        chunk_id, size = struct.unpack(order + "4sI", header)
        yield chunk_id, size, offset + 8
        offset += 8 + size + (size & 1)


def _wav(file, file_size: int, *, wide: bool) -> MediaInfo | None:
    """wide: an RF64 or BW64 (EBU Tech 3306, ITU-R BS.2088), a WAV past 4 GiB: its first chunk, ds64,
    holds the data chunk's size in 64 bits, which ffmpeg takes whatever the data chunk says."""
    fmt = None
    tags: dict[str, str] = {}
    data_size = None
    for chunk_id, size, offset in _chunks(file, "<"):
        if wide and data_size is None:
            file.seek(offset)
            ds64 = file.read(24)
            if chunk_id != b"ds64" or size < 24 or len(ds64) < 24 or ds64[15] & 0x80:
                return None  # ffmpeg's to refuse: no ds64 first, or a size past a signed 64 bits
            data_size = int.from_bytes(ds64[8:16], "little")
        elif chunk_id == b"fmt ":
            file.seek(offset)
            fmt = file.read(min(size, 40))
        elif chunk_id in (b"LIST", b"bext"):
            file.seek(offset)
            chunk = file.read(min(size, 1 << 20))
            read = _read_info(chunk) if chunk_id == b"LIST" else _read_bext(chunk)
            # A field named twice (ICMT and the bext description are both "comment") is ordered
            # and kept by ffmpeg's rules: its probe says which.
            if read is None or read.keys() & tags.keys():
                return None
            tags.update(read)
        elif chunk_id == b"data":
            size = size if data_size is None else data_size
            if fmt is None or len(fmt) < 16 or size == 0 or (size >= _SIZE_UNKNOWN_FROM and not wide):
                return None
            tag, channels, rate, _byte_rate, block, bits = struct.unpack("<HHIIHH", fmt[:16])
            mask = None
            if tag == _WAV_EXTENSIBLE and len(fmt) >= 26:
                valid_bits, mask, tag = struct.unpack("<HIH", fmt[18:26])
                if valid_bits != bits:
                    return None
            kind = (tag == _WAV_FLOAT, bits, "le")
            # An inconsistent header (7-bit samples, block align 0...) is for ffmpeg to judge, not to divide.
            if tag not in (_WAV_PCM, _WAV_FLOAT) or kind not in _PCM or not channels or not rate \
                    or block != channels * bits // 8:
                return None
            if size % block:  # samples that end inside a frame: ffmpeg's to judge (it calls them corrupt)
                return None
            # A tag chunk after the audio still needs ffmpeg to read it.
            if offset + size < file_size and not _only_silent_chunks_after(file, offset + size + (size & 1)):
                return None
            if kind == (False, 16, "le") and _may_hide_a_codec(file, offset):
                return None
            info = _pcm_info("wav", kind, channels, rate, offset, channel_mask=mask,
                             frames=size // block, available=(file_size - offset) // block)
            if info is not None:
                info.tags = tags
            return info
        elif chunk_id not in WAV_SILENT_CHUNKS:
            return None
    return None


def wav_fact_frames(path: Path) -> int | None:
    """A WAV's length in samples as its fact chunk states it (compressed codecs write one), if any;
    0 says nothing (ffmpeg ignores it too)."""
    with open(path, "rb") as file:
        if file.read(12)[8:] != b"WAVE":
            return None
        for chunk_id, size, offset in _chunks(file, "<"):
            if chunk_id == b"fact" and size >= 4:
                file.seek(offset)
                return int.from_bytes(file.read(4), "little") or None
            if chunk_id == b"data":
                return None
    return None


def _read_info(chunk: bytes) -> dict[str, str] | None:
    """The tags of a LIST/INFO chunk; None for any other LIST (adtl cue labels...)."""
    if chunk[:4] != b"INFO":
        return None
    tags = {}
    position = 4
    while position + 8 <= len(chunk):
        field, size = chunk[position:position + 4], int.from_bytes(chunk[position + 4:position + 8], "little")
        raw = chunk[position + 8:position + 8 + size].split(b"\0")[0]
        if field in _RIFF_INFO and raw.strip():
            tags[_RIFF_INFO[field]] = _text(raw)
        position += 8 + size + (size & 1)
    return tags


def _read_bext(chunk: bytes) -> dict[str, str] | None:
    """The tags ffmpeg gives a Broadcast WAV's bext chunk: its text fields (up to the first NUL, left
    out when empty), the time reference (samples since midnight), a UMID that is not all zeros, the
    coding history (CR LF as a line break). None where ffmpeg's probe is needed to say what it would
    give: a chunk cut short, a line not _as_logged."""
    if len(chunk) < _BEXT_FIXED:
        return None
    tags, lines = {}, []
    for name, start, length in _BEXT_TEXTS:
        raw = chunk[start:start + length].split(b"\0")[0]
        if raw:
            lines.append(_text(raw))
            tags[name] = lines[-1].strip()
    tags["time_reference"] = str(int.from_bytes(chunk[338:346], "little"))
    version, umid = int.from_bytes(chunk[346:348], "little"), chunk[348:412]
    if version >= 1 and any(umid):
        # SMPTE 330M's basic UMID is 32 bytes; ffmpeg writes all 64 when the extended half is used.
        tags["umid"] = "0x" + (umid if any(umid[32:]) else umid[:32]).hex().upper()
    if len(chunk) > _BEXT_FIXED:
        history = _text(chunk[_BEXT_FIXED:].split(b"\0")[0]).replace("\r\n", "\n").split("\n")
        lines += history
        # As the probe's log gives a value: the first line stripped, the others' ends
        tags["coding_history"] = "\n".join([history[0].strip(), *(line.rstrip() for line in history[1:])])
    return tags if all(_as_logged(line) for line in lines) else None


def _as_logged(line: str) -> bool:
    """Whether ffmpeg's probe gives this line as it is: no control characters (its log rewrites
    them), short enough for its log (probe.py)."""
    return line.isprintable() and len(line.encode()) < LOG_LINE_LIMIT


def _text(raw: bytes) -> str:
    """A RIFF text field: UTF-8 when it is, else Latin-1 (where ffmpeg's probe would print U+FFFD)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _may_hide_a_codec(file, offset: int) -> bool:
    """Whether the samples at `offset` look like a compressed stream in 16-bit clothing."""
    file.seek(offset)
    samples = file.read(_HIDDEN_CODEC_SCAN)
    return samples.startswith(_AC3_SYNCS) or any(sync in samples for sync in _HIDDEN_CODEC_SYNCS)


def _only_silent_chunks_after(file, offset: int) -> bool:
    file.seek(offset)
    while header := file.read(8):
        if len(header) < 8 or header[:4] not in WAV_SILENT_CHUNKS:
            return False
        offset += 8 + int.from_bytes(header[4:], "little")
        file.seek(offset)
    return True


def _aiff(file, file_size: int, *, compressed: bool) -> MediaInfo | None:
    """compressed: an AIFF-C, whose COMM names its coding; only uncompressed PCM is read here, in
    either byte order. Every chunk is looked at, those after the sound data too: ffmpeg reads text
    and ID3 chunks wherever they are (iTunes puts its ID3 chunk last)."""
    comm = data_offset = None
    tags: dict[str, str] = {}
    for chunk_id, size, offset in _chunks(file, ">"):
        file.seek(offset)
        if chunk_id == b"FVER":
            # ffmpeg reads the COMM by the version this states: only AIFF-C's own is known here.
            if not compressed or file.read(4) != _AIFC_VERSION_1:
                return None
        elif chunk_id == b"COMM":
            comm = file.read(22 if compressed else 18)
        elif chunk_id == b"SSND":
            ssnd_offset = file.read(4)
            if len(ssnd_offset) < 4:
                return None  # cut inside the SSND header: ffmpeg says how broken it is
            data_offset = offset + 8 + struct.unpack(">I", ssnd_offset)[0]
        elif chunk_id in _AIFF_TEXTS:
            # As ffmpeg sets it, even when empty; a field twice is ordered and kept by its rules.
            text = _text(file.read(min(size, 1 << 20)).split(b"\0")[0])
            if _AIFF_TEXTS[chunk_id] in tags or not _as_logged(text):
                return None
            tags[_AIFF_TEXTS[chunk_id]] = text.strip()
        elif chunk_id not in AIFF_SILENT_CHUNKS:
            return None  # ID3 has tags, CHAN a layout
    if comm is None or len(comm) < (22 if compressed else 18) or data_offset is None:
        return None
    channels, frames, bits = struct.unpack(">hIh", comm[:8])
    rate = round(_extended(comm[8:18]))
    order = _AIFC_BYTE_ORDERS.get((comm[18:22], bits)) if compressed else "be"
    if channels <= 0 or rate <= 0 or (False, bits, order) not in _PCM:
        return None
    info = _pcm_info("aiff", (False, bits, order), channels, rate, data_offset,
                     frames=frames, available=(file_size - data_offset) // (channels * bits // 8))
    info.tags = tags
    return info


def _extended(raw: bytes) -> float:
    """An 80-bit IEEE 754 extended float (AIFF's sample rate); 0.0 when too large to be a rate."""
    exponent = ((raw[0] & 0x7F) << 8) | raw[1]
    if exponent > 16383 + 31:
        return 0.0  # 2**32 Hz and up (or inf/NaN, which would overflow the float)
    mantissa = int.from_bytes(raw[2:10], "big")
    value = mantissa * 2.0 ** (exponent - 16383 - 63)
    return -value if raw[0] & 0x80 else value


def _pcm_info(container: str, kind: tuple[bool, int, str], channels: int, rate: int, offset: int, *,
              frames: int, available: int, channel_mask: int | None = None) -> MediaInfo | None:
    if kind not in _PCM:
        return None
    if available <= 0:
        raise InputRejected("NO_AUDIO_DATA", "The file holds only a header, no audio data")
    if frames > available:
        raise InputRejected("CORRUPT_FILE", f"The file is corrupt or truncated at {hms(available / rate)}")
    codec, sample_format, bits = _PCM[kind]
    stream = AudioStream(index=0, codec=codec, sample_rate=rate, channels=channels,
                         sample_format=sample_format, bits_per_sample=bits, channel_mask=channel_mask)
    return MediaInfo(format=container, duration=frames / rate, audio=[stream], has_video=False,
                     cover_stream=None, tags={}, from_header=True,
                     samples_at=(offset, frames * channels * kind[1] // 8))


def _flac(path: Path) -> MediaInfo | None:
    from mutagen.flac import FLAC, error

    try:
        flac = FLAC(path)
    except error:
        return None
    info = flac.info
    if flac.pictures or not info.total_samples or not info.sample_rate:
        return None  # a cover is an extra stream for ffmpeg to copy out
    tags: dict[str, str] = {}
    for key, value in flac.tags or []:
        tags[key.lower()] = f"{tags[key.lower()]};{value}" if key.lower() in tags else value
    bits = info.bits_per_sample
    sample_format = ("s16" if bits <= 16 else "s32") + ("" if bits in (16, 32) else f" ({bits} bit)")
    stream = AudioStream(index=0, codec="flac", sample_rate=info.sample_rate, channels=info.channels,
                         sample_format=sample_format, bits_per_sample=bits)
    return MediaInfo(format="flac", duration=info.total_samples / info.sample_rate, audio=[stream],
                     has_video=False, cover_stream=None, tags=tags, from_header=True)
