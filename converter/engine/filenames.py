"""Safe download names: what a user typed or an upload was called, made harmless."""

from __future__ import annotations

import re
import unicodedata

_FORBIDDEN = re.compile(r'[/\\:*?"<>|]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
MAX_BYTES = 255


def base_name(original_name: str) -> str:
    """'C:\\music\\song.mp3' or 'dir/song.mp3' -> 'song'."""
    leaf = re.split(r"[/\\]", original_name)[-1]
    stem, dot, _extension = leaf.rpartition(".")
    return stem if dot and stem else leaf


def safe_filename(wanted: str, extension: str, fallback: str = "converted") -> str:
    """A file name that is safe on every OS and in a Content-Disposition header.

    Drops control and format characters (NUL, bidi overrides, zero-width), replaces path
    separators and characters Windows forbids, avoids reserved device names (CON, NUL...),
    and trims to 255 UTF-8 bytes including `extension` (e.g. ".flac").
    """
    stem = _clean(wanted)
    if extension and stem.lower().endswith(extension.lower()):  # "song.flac" given as a base name
        stem = stem[: -len(extension)].rstrip(" .")
    if not stem:
        stem = _clean(fallback) or "converted"
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    budget = MAX_BYTES - len(extension.encode())
    while len(stem.encode()) > budget:
        stem = stem[:-1]
    return stem.rstrip(" .") + extension


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or 'name (2).ext', 'name (3).ext'... if already taken (case-insensitively)."""
    stem, dot, extension = name.rpartition(".")
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number}).{extension}" if dot else f" ({number})"
        base = stem if dot else name
        while len((base + suffix).encode()) > MAX_BYTES:
            base = base[:-1]
        candidate = base + suffix
    taken.add(candidate.lower())
    return candidate


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = _FORBIDDEN.sub("_", text)
    return text.strip(" .")
