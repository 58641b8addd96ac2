"""What a media file holds, read from `ffmpeg -i FILE` (there is no ffprobe in the wheel) or its header."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .ffmpeg import ffmpeg_binary

# Named layouts; "5.1(side)", "7.1" etc. are counted by adding their digits.
_NAMED_LAYOUTS = {"mono": 1, "stereo": 2, "downmix": 2, "binaural": 2, "quad": 4, "hexagonal": 6,
                  "octagonal": 8, "cube": 8, "hexadecagonal": 16}
_LOSSLESS_FLOAT_CODECS = ("pcm_f", "wavpack", "flac", "alac", "tta")

_INPUT_RE = re.compile(r"^Input #0, (?P<format>[^,]+(?:,[^,]+)*?), from ", re.M)
_DURATION_RE = re.compile(r"^\s+Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)", re.M)
_STREAM_RE = re.compile(
    r"^\s+Stream #0:(?P<index>\d+)(?:\[\w+\])?(?:\((?P<lang>\w+)\))?: (?P<kind>\w+): (?P<desc>.*)$"
)
_METADATA_RE = re.compile(r"^(?P<indent>\s+)(?P<key>\S[^:]*?)\s*: (?P<value>.*)$")
# ffmpeg prints each further line of a multi-line value as its own line, with an empty key.
_CONTINUATION_RE = re.compile(r"^\s+: (?P<value>.*)$")
# Any tag line, key or continuation: ffmpeg's log copies each through a 256-byte buffer (dump_metadata),
# so a line of 255 bytes or more (a cut mid-character decodes to a longer U+FFFD) may have been cut.
_TAG_LINE_RE = re.compile(r"^\s+(?:\S[^:]*?)?\s*: (?P<value>.*)$")
LOG_LINE_LIMIT = 255
# One line of ffmpeg's ffmetadata format: '=', ';', '#', '\\' and newlines are escaped with a backslash.
_FFMETADATA_LINE_RE = re.compile(r"((?:\\.|[^\\\n])*)\n", re.S)
_FFMETADATA_ENTRY_RE = re.compile(r"((?:\\.|[^\\=])+)=(.*)", re.S)
_ESTIMATED = "Estimating duration from bitrate"
# A WAV's ADPCM is coded in blocks of a fixed sample count, the last one padded: ffmpeg decodes the
# padding too (in 1,024-byte stereo blocks, IMA up to 1,016 samples of it, 23 ms at 44.1 kHz; MS up
# to 1,011), and the fact chunk says where the audio ends.
ADPCM_BLOCK_CODECS = ("adpcm_ima_wav", "adpcm_ms")
_TIMESTAMP_RE = re.compile(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)")


@dataclass
class AudioStream:
    index: int  # absolute stream index in the file (for -map 0:N)
    codec: str
    sample_rate: int
    channels: int
    sample_format: str  # as ffmpeg prints it: s16, s32 (24 bit), fltp, u8 ...
    bits_per_sample: int | None  # integer PCM depth the decoder delivers; None for float
    language: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    duration: float | None = None  # its own length, where the container states one (Matroska's DURATION)
    channel_mask: int | None = None  # by headers.py, a WAVE_FORMAT_EXTENSIBLE's speakers (0: none named)
    frames: int | None = None  # its length in samples where the decoder runs past it: a WAV's fact chunk


@dataclass
class MediaInfo:
    format: str
    duration: float | None
    audio: list[AudioStream]
    has_video: bool
    cover_stream: int | None  # index of an attached picture (cover art), if any
    tags: dict[str, str]
    duration_estimated: bool = False  # ffmpeg guessed `duration` from the bitrate (a VBR MP3 without Xing)
    from_header: bool = False  # read by headers.py: the header says all that ffmpeg's stream probe would
    samples_at: tuple[int, int] | None = None  # by headers.py, a PCM file's samples: (offset, bytes)

    @property
    def stated_duration(self) -> float | None:
        """The file's duration when it is a fact, not ffmpeg's estimate."""
        return None if self.duration_estimated else self.duration

    def audio_duration(self, stream: AudioStream) -> float | None:
        """How long `stream` should decode to, where the file says so.

        Its own duration, else the file's when it is the only timed stream: a container's duration
        is that of its longest stream (a video may outlast its audio), and an estimate proves nothing.
        """
        if stream.duration is not None:
            return stream.duration
        return None if self.has_video or len(self.audio) > 1 else self.stated_duration

    @property
    def natural_bit_depth(self) -> int:
        """Depth kept when audio_bitdepth is not given: the input's own (first audio stream)."""
        return natural_bit_depth(self.audio[0])


class NotMedia(Exception):
    """ffmpeg cannot open the file at all; `log` is its explanation."""

    def __init__(self, log: str):
        self.log = log
        super().__init__(log.strip().splitlines()[-1] if log.strip() else "unreadable")


def natural_bit_depth(stream: AudioStream) -> int:
    """The FLAC depth that keeps every bit of the decoded stream.

    Integer PCM keeps its depth (8..32). Float PCM (WAV float, etc.) becomes 24 bits, the
    most a float's mantissa holds. Lossy codecs decode to float too; their noise floor is
    far above 16-bit quantisation, so they become 16 bits like a CD.
    """
    if stream.bits_per_sample:
        # A 12- or 20-bit source ("s16 (12 bit)") goes up to the next depth the engine writes.
        return next(depth for depth in (8, 16, 24, 32) if depth >= stream.bits_per_sample)
    return 24 if is_lossless_float(stream) else 16


def is_lossless_float(stream: AudioStream) -> bool:
    """Float samples kept as they are (float WAV...): they may lie beyond full scale, as integers cannot."""
    return stream.bits_per_sample is None and stream.codec.startswith(_LOSSLESS_FLOAT_CODECS)


def probe(path: Path) -> MediaInfo:
    """What `path` holds: from its header when it is plain PCM WAV/AIFF/FLAC, else from ffmpeg.

    Raises NotMedia if ffmpeg cannot open it, InputRejected if the header promises more than the file has.
    """
    from .headers import read_header, wav_fact_frames  # built on this module's types

    info = read_header(path)
    if info is None:
        info = probe_with_ffmpeg(path)
        if info.format == "wav" and len(info.audio) == 1 and info.audio[0].codec in ADPCM_BLOCK_CODECS:
            info.audio[0].frames = wav_fact_frames(path)
    return info


def probe_with_ffmpeg(path: Path) -> MediaInfo:
    """Parse ffmpeg's description of `path`. Raises NotMedia if ffmpeg cannot open it."""
    result = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True, timeout=60,
    )
    log = result.stderr.decode("utf-8", "replace")
    info = parse_probe(log)
    if _may_have_cut_tags(log):
        _restore_full_tags(path, info)
    return info


def _may_have_cut_tags(log: str) -> bool:
    """Whether a tag line reached the log's 255-byte limit (checked so that short tags cost no process)."""
    lines = (_TAG_LINE_RE.match(line) for line in log.splitlines())
    return any(len(line["value"].encode()) >= LOG_LINE_LIMIT for line in lines if line)


def _restore_full_tags(path: Path, info: MediaInfo) -> None:
    """Replace the tags parsed from the log by their full values, read with ffmpeg's ffmetadata muxer.

    It writes global tags only, so each audio stream's (Ogg, Opus, MKV) are mapped as global ones of
    their own output, all in one process.
    """
    with tempfile.TemporaryDirectory() as work_dir:
        outputs = {Path(work_dir, "file.txt"): info.tags}
        args = ["-f", "ffmetadata", str(Path(work_dir, "file.txt"))]
        for stream in info.audio:
            outputs[output := Path(work_dir, f"{stream.index}.txt")] = stream.tags
            args += ["-map_metadata:g", f"0:s:{stream.index}", "-f", "ffmetadata", str(output)]
        subprocess.run([ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
                        *args], capture_output=True, timeout=60)
        for output, tags in outputs.items():
            if output.exists():
                full = _parse_ffmetadata(output.read_bytes().decode("utf-8", "replace"))
                # Only the keys the log showed: ffmpeg adds its own (encoder) to what it writes.
                tags.update((key, value) for key, value in full.items() if key in tags)


def _parse_ffmetadata(text: str) -> dict[str, str]:
    """The global tags of an ffmetadata file (keys lower-cased, as parse_probe gives them), unescaped."""
    tags: dict[str, str] = {}
    for line in _FFMETADATA_LINE_RE.findall(text):
        if line.startswith("["):
            break  # [CHAPTER] sections follow the global tags
        if line.startswith((";", "#")) or not (entry := _FFMETADATA_ENTRY_RE.fullmatch(line)):
            continue
        key, value = (_unescape(part) for part in entry.groups())
        tags[key.strip().lower()] = value
    return tags


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def parse_probe(log: str) -> MediaInfo:
    input_match = _INPUT_RE.search(log)
    if input_match is None:
        raise NotMedia(log)
    duration_match = _DURATION_RE.search(log)
    duration = None
    if duration_match and duration_match.group(1) is not None:
        duration = _seconds(duration_match.groups())

    info = MediaInfo(format=input_match["format"], duration=duration, audio=[], has_video=False,
                     cover_stream=None, tags={}, duration_estimated=_ESTIMATED in log)
    # Metadata blocks follow "Input #0" (global) or a stream line (that stream's), one level deeper.
    tags_target: dict[str, str] | None = None
    metadata_indent = None
    last_key = None  # the tag a continuation line belongs to
    for line in log[input_match.start():].splitlines():
        if line.startswith(("Output #", "Stream mapping:", "At least one output")):
            break
        if line.lstrip().startswith("Chapter #"):
            tags_target, metadata_indent = {}, None  # chapter titles are not the file's tags
            continue
        stream_match = _STREAM_RE.match(line)
        if stream_match:
            tags_target = _add_stream(info, stream_match)
            metadata_indent = last_key = None
            continue
        if line.strip() == "Metadata:":
            metadata_indent = len(line) - len(line.lstrip()) + 2
            if tags_target is None:
                tags_target = info.tags
            continue
        meta = _METADATA_RE.match(line)
        more = _CONTINUATION_RE.match(line)
        if meta and metadata_indent is not None and len(meta["indent"]) == metadata_indent:
            last_key = meta["key"].strip().lower()
            if tags_target is not None:
                tags_target[last_key] = meta["value"].strip()
            continue
        if more and last_key and tags_target is not None and last_key in tags_target:
            tags_target[last_key] += "\n" + more["value"].rstrip()
            continue
        last_key = None
        if line.lstrip().startswith("Duration:"):
            metadata_indent = None
            tags_target = None
    for stream in info.audio:
        if stamp := _TIMESTAMP_RE.fullmatch(stream.tags.get("duration", "")):
            stream.duration = _seconds(stamp.groups())
    return info


def _seconds(hms: tuple[str, str, str]) -> float:
    hours, minutes, seconds = hms
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _add_stream(info: MediaInfo, match: re.Match) -> dict[str, str]:
    """Record one stream line; return the dict its metadata block should fill."""
    kind, desc = match["kind"], match["desc"]
    tags: dict[str, str] = {}
    if kind == "Audio":
        parts = [part.strip() for part in desc.split(", ")]
        codec = parts[0].split(" ")[0]
        rate = next((int(part.split()[0]) for part in parts if re.fullmatch(r"\d+ Hz", part)), 0)
        rate_at = next((i for i, part in enumerate(parts) if part.endswith(" Hz")), 0)
        layout = parts[rate_at + 1] if len(parts) > rate_at + 1 else ""
        sample_format = parts[rate_at + 2] if len(parts) > rate_at + 2 else ""
        info.audio.append(AudioStream(
            index=int(match["index"]), codec=codec, sample_rate=rate,
            channels=_channel_count(layout), sample_format=sample_format,
            bits_per_sample=_integer_bits(sample_format), language=match["lang"], tags=tags,
        ))
    elif kind == "Video":
        if "(attached pic)" in desc:
            if info.cover_stream is None:
                info.cover_stream = int(match["index"])
        else:
            info.has_video = True
    return tags


def _channel_count(layout: str) -> int:
    layout = layout.split("(")[0].strip()
    if layout in _NAMED_LAYOUTS:
        return _NAMED_LAYOUTS[layout]
    if m := re.fullmatch(r"(\d+) channels", layout):
        return int(m[1])
    if re.fullmatch(r"\d+(\.\d+)*", layout):
        return sum(int(part) for part in layout.split("."))
    return 0


def _integer_bits(sample_format: str) -> int | None:
    if m := re.search(r"\((\d+) bit\)", sample_format):
        return int(m[1])
    if m := re.fullmatch(r"[su](8|16|32|64)p?", sample_format):
        return min(int(m[1]), 32)
    return None
