"""Text to speech: every locale has a shipped voice, synthesis gives real audio, long texts go in chunks."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest
from mutagen.flac import FLAC

from converter.engine import ConversionCanceled, EngineInput, convert, speech
from converter.options import LANGUAGES_TTS, validate_options
from tests import media

from .helpers import single_output

# One short word per locale: every voice speaks (espeak-ng takes a few ms each).
WORDS = {"ar": "مرحبا", "bg": "здравей", "el": "γεια", "hi": "नमस्ते", "ja": "こんにちは", "ru": "привет",
         "ta": "வணக்கம்", "zh": "你好"}


def shipped_languages() -> set[str]:
    """Every `language` a voice file in the wheel's espeak-ng-data/lang declares."""
    import espeakng_loader

    languages = set()
    for voice_file in (Path(espeakng_loader.get_data_path()) / "lang").rglob("*"):
        if voice_file.is_file():
            languages |= set(re.findall(r"^language\s+(\S+)", voice_file.read_text(errors="replace"), re.M))
    return {language.lower() for language in languages}


def test_every_locale_maps_to_a_shipped_voice():
    assert set(speech.VOICES) == set(LANGUAGES_TTS)
    languages = shipped_languages()
    assert {voice for voice in speech.VOICES.values() if voice not in languages} == set()
    assert [locale for locale in LANGUAGES_TTS if not speech.voice_exists(speech.voice_for(locale))] == []


@pytest.mark.parametrize("locale", LANGUAGES_TTS)
def test_every_locale_speaks(tmp_path, locale):
    destination = tmp_path / "word.wav"
    speech.synthesize([WORDS.get(locale.split("-")[0], "Hello 42")], locale, destination)
    with wave.open(str(destination)) as spoken:
        assert (spoken.getframerate(), spoken.getnchannels(), spoken.getsampwidth()) == (22050, 1, 2)
        samples = np.frombuffer(spoken.readframes(spoken.getnframes()), dtype=np.int16)
    assert len(samples) > 22050 * 0.2
    assert np.abs(samples).max() > 1000  # speech, not silence


def test_text_becomes_flac_at_espeaks_rate_unless_frequency_is_set(tmp_path, out_dir):
    text = tmp_path / "note.txt"
    text.write_text("Hello there. This is the engine speaking.\n")
    output = single_output(text, out_dir / "native")
    assert output.filename == "note.flac"
    info = FLAC(output.path).info
    assert (info.sample_rate, info.channels, info.bits_per_sample) == (22050, 1, 16)
    assert info.length > 1.0
    resampled = single_output(text, out_dir / "48k", frequency=48000, channels="stereo", audio_bitdepth=24)
    info = FLAC(resampled.path).info
    assert (info.sample_rate, info.channels, info.bits_per_sample) == (48000, 2, 24)


def test_language_changes_the_voice(tmp_path, out_dir):
    text = tmp_path / "word.txt"
    text.write_text("Bonjour tout le monde.")
    english = single_output(text, out_dir / "en").report
    french = single_output(text, out_dir / "fr", language_tts="fr-FR").report
    assert french["md5"] != english["md5"]
    # The report says which language spoke (the default when none was chosen).
    assert (english["speech_language"], french["speech_language"]) == ("en-US", "fr-FR")


def test_normalize_applies_to_speech(tmp_path, out_dir):
    text = tmp_path / "loud.txt"
    text.write_text("Normalised speech sounds the same everywhere. " * 3)
    output = single_output(text, out_dir, normalize=True, normalize_type="ebu")
    assert media.loudness(output.path)["integrated"] == pytest.approx(-23, abs=1)


def test_long_text_is_spoken_in_chunks_with_progress(tmp_path, out_dir):
    paragraph = "This sentence is here to make the text long. " * 30
    assert len(speech.chunks([paragraph] * 4)) >= 4
    assert all(len(chunk) <= speech.CHUNK_CHARS for chunk in speech.chunks(["word " * 2000]))
    text = tmp_path / "long.txt"
    text.write_text("\n\n".join([paragraph] * 4))
    seen = []
    outputs, failures = convert([EngineInput(text, "long.txt")], out_dir, {}, on_progress=seen.append)
    assert failures == [] and len(outputs) == 1
    assert seen[-1] == 100.0 and seen == sorted(seen)


def test_cancel_between_chunks(tmp_path, out_dir):
    text = tmp_path / "long.txt"
    text.write_text("\n\n".join(["A paragraph of words to be spoken. " * 60] * 4))
    calls = []

    def should_cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(ConversionCanceled):
        convert([EngineInput(text, "long.txt")], out_dir, {}, should_cancel=should_cancel)
    assert list(out_dir.iterdir()) == []


def test_empty_document_is_a_clear_failure(tmp_path, out_dir):
    text = tmp_path / "blank.txt"
    text.write_text("  \n\n  --- \n\n")
    outputs, failures = convert([EngineInput(text, "blank.txt")], out_dir, validate_options({}))
    assert outputs == []
    assert [(f.code, f.message) for f in failures] == [("NO_TEXT", "The document contains no text to speak")]
