"""Text to speech with libespeak-ng from the espeakng-loader wheel, driven through ctypes.

Why ctypes: the PyPI bindings either run the `espeak-ng` program (which the wheel does not
ship: `espeakng`, `py-espeak-ng`), compile against a system libespeak-ng (`espeak-ng-python`),
or only phonemize (`phonemizer`). The wheel ships the library and its data, so six calls
through ctypes are all we need.

libespeak-ng keeps global state and is not thread-safe: one initialisation per process and
a lock around every synthesis.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
import wave
from collections.abc import Callable, Iterable
from pathlib import Path

SAMPLE_RATE = 22050  # espeak-ng's native rate; the encoder resamples if `frequency` asks
CHUNK_CHARS = 2000  # long texts are spoken in pieces of at most this, for progress and cancel
CHARS_PER_SECOND = 15.0  # ~175 words a minute: used to estimate a text's duration in advance

# options.LANGUAGES_TTS -> the espeak-ng voice (a `language` of a voice file in espeak-ng-data/lang).
# Where espeak-ng has no regional voice the nearest one speaks: Australian, Irish and Indian
# English use British English ("en"), Canadian English American English; Swiss German, Canadian
# French and Flemish use the standard language.
VOICES = {
    "ar-SA": "ar", "bg-BG": "bg", "ca-ES": "ca", "cs-CZ": "cs", "da-DK": "da", "de-CH": "de",
    "de-DE": "de", "el-GR": "el", "en-AU": "en", "en-CA": "en-us", "en-GB": "en", "en-IE": "en",
    "en-IN": "en", "en-US": "en-us", "es-ES": "es", "es-MX": "es-419", "fi-FI": "fi", "fr-CA": "fr",
    "fr-CH": "fr-ch", "fr-FR": "fr", "hi-IN": "hi", "hr-HR": "hr", "hu-HU": "hu", "id-ID": "id",
    "it-IT": "it", "ja-JP": "ja", "nb-NO": "nb", "nl-BE": "nl", "nl-NL": "nl", "pl-PL": "pl",
    "pt-BR": "pt-br", "pt-PT": "pt", "ro-RO": "ro", "ru-RU": "ru", "sv-SE": "sv", "ta-IN": "ta",
    "tr-TR": "tr", "vi-VN": "vi", "zh-CN": "cmn", "zh-HK": "yue",
}
DEFAULT_LOCALE = "en-US"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report data errors instead of exiting the process
_CHARS_UTF8 = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


class SpeechFailed(Exception):
    pass


class _Espeak:
    """The process's one libespeak-ng: loaded and initialised on first use, used under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self._library = None
        self._samples: list[bytes] = []
        # Kept referenced for as long as the library may call it.
        self._callback = _SYNTH_CALLBACK(self._collect)

    def library(self):
        if self._library is None:
            import espeakng_loader

            library = ctypes.CDLL(espeakng_loader.get_library_path())
            library.espeak_Initialize.restype = ctypes.c_int
            library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            library.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
            library.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                             ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            data = str(Path(espeakng_loader.get_data_path()).parent).encode()
            rate = library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
            if rate != SAMPLE_RATE:
                raise SpeechFailed(f"libespeak-ng did not initialise (returned {rate})")
            library.espeak_SetSynthCallback(self._callback)
            self._library = library
        return self._library

    def set_voice(self, voice: str) -> bool:
        return self.library().espeak_SetVoiceByName(voice.encode()) == 0

    def speak(self, text: str) -> bytes:
        """int16 mono samples at SAMPLE_RATE for `text` (plain UTF-8, no SSML)."""
        encoded = text.encode() + b"\0"
        self._samples = []
        status = self.library().espeak_Synth(encoded, len(encoded), 0, 0, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise SpeechFailed(f"espeak_Synth failed ({status})")
        return b"".join(self._samples)

    def _collect(self, wav, count, _events) -> int:
        if wav and count > 0:
            self._samples.append(ctypes.string_at(wav, count * 2))
        return 0

    def forget(self) -> None:
        """After fork: the child starts over with a fresh lock (the parent's may have been held)."""
        self.lock = threading.Lock()


_ESPEAK = _Espeak()
os.register_at_fork(after_in_child=_ESPEAK.forget)


def voice_for(locale: str | None) -> str:
    return VOICES.get(locale or DEFAULT_LOCALE, VOICES[DEFAULT_LOCALE])


def voice_exists(voice: str) -> bool:
    with _ESPEAK.lock:
        return _ESPEAK.set_voice(voice)


def chunks(paragraphs: Iterable[str], limit: int = CHUNK_CHARS) -> list[str]:
    """Paragraphs as pieces of at most `limit` characters, split at sentences (or words) when long."""
    pieces = []
    for paragraph in paragraphs:
        current = ""
        for sentence in _pieces_of(paragraph, limit):
            if current and len(current) + 1 + len(sentence) > limit:
                pieces.append(current)
                current = ""
            current = f"{current} {sentence}" if current else sentence
        if current:
            pieces.append(current)
    return pieces


def _pieces_of(paragraph: str, limit: int) -> list[str]:
    pieces = []
    for sentence in _SENTENCE_END.split(paragraph.strip()):
        while len(sentence) > limit:  # a "sentence" longer than a chunk: cut at the last space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if sentence:
            pieces.append(sentence)
    return pieces


def estimated_duration(paragraphs: list[str]) -> float:
    return sum(len(paragraph) for paragraph in paragraphs) / CHARS_PER_SECOND


def synthesize(paragraphs: list[str], locale: str | None, destination: Path,
               on_chunk: Callable[[float], None] | None = None, starts: list[float] | None = None) -> None:
    """Speak the paragraphs into `destination`, a mono 16-bit WAV at SAMPLE_RATE.

    With `starts` (subtitle cues), each paragraph begins at its time, silence before it, or
    right after the previous one if that is still speaking. on_chunk(fraction done) runs
    between chunks, outside the lock; it may raise to stop.
    """
    pieces = paragraphs if starts else chunks(paragraphs)
    voice = voice_for(locale)
    written = 0
    with wave.open(str(destination), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for number, piece in enumerate(pieces):
            if on_chunk is not None:
                on_chunk(number / len(pieces))
            with _ESPEAK.lock:
                if not _ESPEAK.set_voice(voice):
                    raise SpeechFailed(f"espeak-ng has no voice {voice!r}")
                samples = _ESPEAK.speak(piece)
            if starts:
                gap = max(0, round(starts[number] * SAMPLE_RATE) - written)
                out.writeframes(bytes(2 * gap))
                written += gap
            out.writeframes(samples)
            written += len(samples) // 2
