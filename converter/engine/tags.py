"""Carrying a source's tags and cover art into the FLAC (Vorbis comments, PICTURE block).

ffmpeg writes no tags itself (-map_metadata -1): container-specific keys (major_brand,
handler_name...) would leak, and Ogg/Opus keep theirs per stream. We write a curated set.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from mutagen.flac import FLAC, Picture, SeekPoint, SeekTable

from .ffmpeg import ffmpeg_binary
from .probe import AudioStream, MediaInfo

# ffmpeg's generic tag names (as it prints them, lower-cased) -> Vorbis comment field names.
VORBIS_FIELDS = {
    "title": "TITLE", "artist": "ARTIST", "album": "ALBUM", "album_artist": "ALBUMARTIST",
    "albumartist": "ALBUMARTIST", "track": "TRACKNUMBER", "tracknumber": "TRACKNUMBER",
    "disc": "DISCNUMBER", "discnumber": "DISCNUMBER", "date": "DATE", "year": "DATE", "genre": "GENRE",
    "comment": "COMMENT", "description": "DESCRIPTION", "composer": "COMPOSER", "performer": "PERFORMER",
    "copyright": "COPYRIGHT", "publisher": "ORGANIZATION", "lyrics": "LYRICS", "isrc": "ISRC",
    "encoded_by": "ENCODED-BY", "tracktotal": "TRACKTOTAL", "totaltracks": "TRACKTOTAL",
    "disctotal": "DISCTOTAL", "totaldiscs": "DISCTOTAL", "bpm": "BPM",
    # A Broadcast WAV's bext (headers.py), under the names ffmpeg's FLAC muxer would give them: where
    # the recording sits in the day (samples since midnight), its history and identifiers.
    "time_reference": "TIME_REFERENCE", "coding_history": "CODING_HISTORY",
    "originator_reference": "ORIGINATOR_REFERENCE", "umid": "UMID",
}
# Only from a Broadcast WAV (one with a time reference, which ffmpeg and headers.py read from bext
# alone): its OriginationTime, which ffmpeg names creation_time (its OriginationDate is "date").
# Elsewhere (MP4, MOV, MKV) creation_time is when the container was written, often by a tool.
BEXT_FIELDS = {**VORBIS_FIELDS, "creation_time": "CREATION_TIME"}
NO_FFMPEG_TAGS = ["-map_metadata", "-1", "-fflags", "+bitexact"]
_IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"GIF8": "image/gif",
                b"RIFF": "image/webp", b"BM": "image/bmp"}


def vorbis_comments(media: MediaInfo, stream: AudioStream) -> dict[str, str]:
    """The file's tags, overridden by the stream's own (where Ogg, Opus and MKV keep them)."""
    fields = BEXT_FIELDS if "time_reference" in media.tags else VORBIS_FIELDS
    comments: dict[str, str] = {}
    for source in (media.tags, stream.tags):
        for key, value in source.items():
            field = fields.get(key.lower())
            if field and value.strip():
                comments[field] = value.strip()
    return comments


def extract_cover(source: Path, media: MediaInfo, work_dir: Path) -> bytes | None:
    """The attached picture's bytes, copied out without re-encoding (no decode pass)."""
    if media.cover_stream is None:
        return None
    result = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(source),
         "-map", f"0:{media.cover_stream}", "-c", "copy", "-frames:v", "1", "-f", "image2", "-update", "1",
         "-y", str(work_dir / "cover.img")],
        capture_output=True, timeout=60,
    )
    cover = work_dir / "cover.img"
    if result.returncode != 0 or not cover.exists():
        return None  # a broken picture is not worth failing the audio for
    data = cover.read_bytes()
    cover.unlink()
    return data or None


def write_tags(destination: Path, comments: dict[str, str], cover: bytes | None,
               seek_points: list[SeekPoint] = ()) -> None:
    """The Vorbis comments, the cover and the seek table (seektable.py), in one rewrite of the
    metadata (into the padding ffmpeg leaves: the audio is not moved)."""
    if not comments and cover is None and not seek_points:
        return
    flac = FLAC(destination)
    if seek_points:
        flac.seektable = SeekTable(None)
        flac.seektable.seekpoints = list(seek_points)
        flac.metadata_blocks.insert(1, flac.seektable)  # after STREAMINFO, as libFLAC puts it
    if comments and flac.tags is None:
        flac.add_tags()
    for field, value in comments.items():
        flac.tags[field] = value
    if cover is not None:
        picture = Picture()
        picture.type = 3  # front cover
        picture.mime = next((mime for magic, mime in _IMAGE_TYPES.items() if cover.startswith(magic)),
                            "image/")
        picture.data = cover
        flac.add_picture(picture)
    flac.save()
