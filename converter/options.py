"""The FLAC option schema: every option of the seed, as data.

This module is the only place that knows an option's name, type, range, default and
dependencies. The web form, the JSON API (`GET /v2/conversions`), the management command
and the worker all validate through `validate_options`, so a crafted request cannot get
past a rule that the form enforces.

It imports nothing from Django: the embedded engine may import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

LANGUAGES_TTS = (
    "ar-SA", "bg-BG", "ca-ES", "cs-CZ", "da-DK", "de-CH", "de-DE", "el-GR", "en-AU", "en-CA",
    "en-GB", "en-IE", "en-IN", "en-US", "es-ES", "es-MX", "fi-FI", "fr-CA", "fr-CH", "fr-FR",
    "hi-IN", "hr-HR", "hu-HU", "id-ID", "it-IT", "ja-JP", "nb-NO", "nl-BE", "nl-NL", "pl-PL",
    "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sv-SE", "ta-IN", "tr-TR", "vi-VN", "zh-CN", "zh-HK",
)


class _LanguageNames(Mapping):
    """The speech languages' English names ("German (Switzerland)"), from babel's CLDR data: read
    when a page first shows one (~35 ms), not by every process importing the schema (workers,
    the engine, the convert command)."""

    @cached_property
    def _names(self) -> dict[str, str]:
        from babel import Locale

        return {code: Locale.parse(code, sep="-").get_display_name("en") for code in LANGUAGES_TTS}

    def __getitem__(self, code: str) -> str:
        return self._names[code]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


FREQUENCIES = (1000, 8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
BITDEPTHS = (8, 16, 24, 32)

# HH:MM:SS; minutes and seconds 00-59 (the seed's pattern alone would accept 00:99:99).
_TIME_RE = re.compile(r"([0-9]{2}):([0-5][0-9]):([0-5][0-9])")  # fullmatch: "$" would let a final newline in
# What a person types as a number, in ASCII digits: int() and float() also take "44_100" and
# other scripts' digits, which the vendor's API (and anyone reading the job) would not.
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_NUMBER_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)",
                        re.IGNORECASE)  # nan and inf pass here, to be called not finite
TIMES = ("start", "end")  # HH:MM:SS strings


@dataclass(frozen=True)
class Option:
    name: str
    type: str  # "boolean", "integer", "number" or "string", as in api2convert's schema
    label: str
    help: str
    group: str
    default: Any = None
    enum: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    example: str | None = None
    # Shown and applied only when every (option, value) pair here holds.
    depends_on: Mapping[str, Any] = field(default_factory=dict)
    # A secret is never echoed back into a page or an API response.
    secret: bool = False
    # How a person reads a value of the enum (the API keeps the values): 48000 is "48 kHz".
    enum_labels: Mapping[Any, str] = field(default_factory=dict)

    def value_label(self, value: Any) -> str:
        return self.enum_labels.get(value, str(value))


OPTIONS: tuple[Option, ...] = (
    Option(
        "frequency", "integer", "Sample rate",
        "Output sample rate in Hz. “Same as input” keeps the input's own rate.",
        group="audio", enum=FREQUENCIES,
        enum_labels={rate: f"{rate / 1000:g} kHz" for rate in FREQUENCIES},
    ),
    Option(
        "audio_bitdepth", "integer", "Bit depth",
        "Bits per sample of the FLAC stream. “Same as input” keeps the input's own depth; "
        "16 or 8 bits from a deeper input are dithered, not truncated.",
        group="audio", enum=BITDEPTHS, enum_labels={depth: f"{depth}-bit" for depth in BITDEPTHS},
    ),
    Option(
        "channels", "string", "Channels",
        "Downmix or upmix to one (mono) or two (stereo) channels. “Same as input” keeps the input's layout.",
        group="audio", enum=("stereo", "mono"), enum_labels={"stereo": "Stereo", "mono": "Mono"},
    ),
    Option(
        "start", "string", "Start",
        "Keep the audio from this time (HH:MM:SS).",
        group="trim", pattern=r"^\d\d:\d\d:\d\d$", example="00:02:23",
    ),
    Option(
        "end", "string", "End",
        "Keep the audio before this time (HH:MM:SS).",
        group="trim", pattern=r"^\d\d:\d\d:\d\d$", example="00:05:35",
    ),
    Option(
        "normalize", "boolean", "Normalize loudness",
        "Bring the audio to a target loudness or level.",
        group="normalize", default=False,
    ),
    Option(
        "normalize_type", "string", "Normalization type",
        "EBU R128 integrated loudness (broadcast), RMS level, or sample peak.",
        group="normalize", enum=("ebu", "rms", "peak"), default="ebu",
        enum_labels={"ebu": "EBU R128", "rms": "RMS", "peak": "Peak"},
        depends_on={"normalize": True},
    ),
    Option(
        "normalize_target_level", "integer", "Target level (dBFS)",
        "RMS or peak target level in dBFS.",
        group="normalize", default=-23, minimum=-99, maximum=0,
        depends_on={"normalize": True, "normalize_type": ("rms", "peak")},
    ),
    Option(
        "normalize_target_level_ebu", "number", "Integrated loudness (LUFS)",
        "EBU R128 integrated loudness target in LUFS.",
        group="normalize", default=-23.0, minimum=-70, maximum=-5,
        depends_on={"normalize": True, "normalize_type": "ebu"},
    ),
    Option(
        "normalize_loudness_range_target_ebu", "number", "Loudness range (LU)",
        "EBU loudness range target in LU; wider dynamics are compressed to it.",
        group="normalize", default=7.0, minimum=1, maximum=50,
        depends_on={"normalize": True, "normalize_type": "ebu"},
    ),
    Option(
        "normalize_true_peak_ebu", "number", "Maximum true peak (dBTP)",
        "EBU maximum true peak in dBTP.",
        group="normalize", default=-2.0, minimum=-9, maximum=0,
        depends_on={"normalize": True, "normalize_type": "ebu"},
    ),
    Option(
        "language_tts", "string", "Speech language",
        "Voice language when the input is text.",
        group="speech", enum=tuple(LANGUAGES_TTS), default="en-US",
        enum_labels=_LanguageNames(),
    ),
    Option(
        "output_filename", "string", "Output file name",
        "Base name of the result, without extension. Empty keeps the input's name.",
        group="output", pattern=r"^[\w\W]{0,255}$", example="my_base_filename_without_extension",
    ),
    Option(
        "download_password", "string", "Download password",
        "Comma-separated list of passwords (spaces around each are ignored); any one of them "
        "unlocks the download.",
        group="output", pattern=r"^[ -~]{0,1000}$", example="secret_password", secret=True,
    ),
    Option(
        "allow_multiple_outputs", "boolean", "One link per file",
        "With several results, give each its own download link instead of one ZIP.",
        group="output", default=False,
    ),
    Option(
        "allow_multiple_outputs_threshold", "integer", "ZIP when more than",
        "If there are more results than this, ZIP them anyway.",
        group="output", minimum=2, maximum=400,
        depends_on={"allow_multiple_outputs": True},
    ),
    Option(
        "preset", "string", "Preset",
        "A named, saved set of options (built in or the team's).",
        group="preset", pattern=r"^[\w\W]{1,255}$",
    ),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}

GROUPS = (
    ("preset", "Preset"),
    ("audio", "Audio"),
    ("trim", "Trim"),
    ("normalize", "Loudness"),
    ("speech", "Text to speech"),
    ("output", "Output"),
)

BUILTIN_PRESETS: dict[str, dict[str, Any]] = {
    "CD quality": {"frequency": 44100, "audio_bitdepth": 16, "channels": "stereo"},
    "Hi-Res": {"frequency": 96000, "audio_bitdepth": 24},
    "Podcast voice": {
        "channels": "mono", "normalize": True, "normalize_type": "ebu",
        "normalize_target_level_ebu": -16.0, "normalize_true_peak_ebu": -1.0,
    },
    "Broadcast EBU R128": {
        "normalize": True, "normalize_type": "ebu", "normalize_target_level_ebu": -23.0,
        "normalize_true_peak_ebu": -1.0, "normalize_loudness_range_target_ebu": 20.0,
    },
}


class OptionsInvalid(ValueError):
    """Raised with {option name: message}; str() names every bad option."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in self.errors.items()))


def seconds_from_hms(value: str) -> int:
    """'01:02:03' -> 3723. The value must already match HH:MM:SS."""
    hours, minutes, seconds = (int(part) for part in _TIME_RE.fullmatch(value).groups())
    return hours * 3600 + minutes * 60 + seconds


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _coerce(option: Option, value: Any) -> Any:
    """Turn a form string or JSON value into the option's type, or raise ValueError."""
    if option.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "on", "1", "yes"):
            return True
        if text in ("false", "off", "0", "no", ""):
            return False
        raise ValueError("Must be true or false.")
    if option.type == "integer":
        if isinstance(value, bool):
            raise ValueError("Must be a whole number.")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("Must be a whole number.")
            return int(value)
        text = str(value).strip()
        if not _INTEGER_RE.fullmatch(text):
            raise ValueError("Must be a whole number.")
        return int(text)
    if option.type == "number":
        if isinstance(value, bool):
            raise ValueError("Must be a number.")
        text = str(value).strip()
        if not isinstance(value, int | float) and not _NUMBER_RE.fullmatch(text):
            raise ValueError("Must be a number.")
        number = float(value) if isinstance(value, int | float) else float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("Must be a finite number.")
        return number
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    return value


def _check_one(option: Option, value: Any) -> Any:
    value = _coerce(option, value)
    if option.enum and value not in option.enum:
        choices = ", ".join(str(choice) for choice in option.enum)
        raise ValueError(f"Must be one of: {choices}.")
    if option.minimum is not None and value < option.minimum:
        raise ValueError(f"Must be at least {option.minimum:g}.")
    if option.maximum is not None and value > option.maximum:
        raise ValueError(f"Must be at most {option.maximum:g}.")
    if option.name in TIMES:
        if not _TIME_RE.fullmatch(value):
            raise ValueError("Use HH:MM:SS, with minutes and seconds from 00 to 59.")
    elif option.pattern and not re.fullmatch(option.pattern, value):
        if option.name == "download_password":
            raise ValueError("Only printable ASCII characters (space to ~), at most 1000.")
        if option.name == "preset":
            raise ValueError("Must be 1 to 255 characters.")
        raise ValueError("At most 255 characters.")
    return value


def applies(option: Option, values: Mapping[str, Any]) -> bool:
    """Whether a dependent option matters, given the other (clean) values."""
    for name, wanted in option.depends_on.items():
        actual = values.get(name, OPTIONS_BY_NAME[name].default)
        if isinstance(wanted, tuple) and actual not in wanted:
            return False
        if not isinstance(wanted, tuple) and actual != wanted:
            return False
    return True


def validate_options(raw: Mapping[str, Any], *, allow_unknown: bool = False) -> dict[str, Any]:
    """Validate and coerce a dict of options; return only the ones that apply.

    Empty values mean "not given". Options whose dependencies do not hold (e.g. EBU
    targets with normalize_type=rms) are dropped, as api2convert ignores them.
    Raises OptionsInvalid naming every offending option.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        option = OPTIONS_BY_NAME.get(name)
        if option is None:
            if not allow_unknown:
                errors[name] = "Unknown option."
            continue
        if _is_empty(value):
            if option.secret and value:  # silently dropped, the output would be unprotected
                errors[name] = "A password of only spaces looks like none: use other characters too."
            continue  # an empty field means "not given"
        try:
            clean[name] = _check_one(option, value)
        except ValueError as exc:
            errors[name] = str(exc)
    # The start defaults to the beginning: an end of 00:00:00 would leave nothing.
    if "end" in clean and seconds_from_hms(clean.get("start", "00:00:00")) >= seconds_from_hms(clean["end"]):
        errors["end"] = "Must be after the start time." if "start" in clean else "Must be after 00:00:00."
    if errors:
        raise OptionsInvalid(errors)
    # Fill the defaults of the options that apply (normalize_type etc.), drop the rest.
    for option in OPTIONS:
        if option.name not in clean and option.default is not None and option.depends_on:
            clean[option.name] = option.default
    return {name: value for name, value in clean.items() if applies(OPTIONS_BY_NAME[name], clean)}


def apply_preset(preset_options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A preset's values, overridden by every option the user gave explicitly."""
    merged = dict(preset_options)
    merged.update({name: value for name, value in given.items() if not _is_empty(value)})
    return merged


# What a preset is about: choosing one sets these groups whole (what it does not name goes back to
# the default). Trim, speech language and the output group are this job's, and stay as typed.
SOUND_GROUPS = ("audio", "normalize")


def preset_chosen(preset: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values once a preset is chosen: the preset's sound, and any other option it
    names; the rest as the form held it."""
    kept = {name: value for name, value in form.items()
            if name in OPTIONS_BY_NAME and OPTIONS_BY_NAME[name].group not in SOUND_GROUPS}
    return {**kept, **preset}


def holds_preset(preset: Mapping[str, Any], form: Mapping[str, Any]) -> bool:
    """Whether the form's raw options are still the preset's: the same sound (defaults filled
    in) and the same value of each other option the preset names, but for the output group (a
    file name, passwords, packaging: this job's). False if either is invalid."""
    compared = {option.name for option in OPTIONS
                if option.group in SOUND_GROUPS or (option.name in preset and option.group != "output")}
    defaults = {option.name: option.default for option in OPTIONS
                if option.name in compared and option.default is not None}

    def effective(raw: Mapping[str, Any]) -> dict[str, Any]:
        given = {name: value for name, value in raw.items() if name in compared}
        return validate_options({**defaults, **given})

    try:
        return effective(preset) == effective(form)
    except OptionsInvalid:
        return False


def changes_audio(options: Mapping[str, Any]) -> bool:
    """Whether the options alter samples (otherwise decoding the FLAC gives the input back)."""
    return bool(
        {"frequency", "audio_bitdepth", "channels", "start", "end"} & options.keys()
        or options.get("normalize")
    )


def password_list(text: str) -> list[str]:
    """A comma-separated list of passwords, each without the spaces around it: people type
    "first, second", and then "second" to unlock."""
    return [part.strip() for part in text.split(",") if part.strip()]


def download_passwords(options: Mapping[str, Any]) -> list[str]:
    """The comma-separated download_password as a list of non-empty passwords."""
    return password_list(options.get("download_password", ""))
