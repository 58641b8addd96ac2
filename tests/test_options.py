"""The option schema: every option of the seed, every bound, and the cross-field rules."""

import pytest

from converter.options import (
    BUILTIN_PRESETS,
    LANGUAGES_TTS,
    OPTIONS_BY_NAME,
    OptionsInvalid,
    apply_preset,
    changes_audio,
    download_passwords,
    seconds_from_hms,
    validate_options,
)

SEED_OPTIONS = {
    "allow_multiple_outputs", "allow_multiple_outputs_threshold", "audio_bitdepth", "channels",
    "download_password", "end", "frequency", "language_tts", "normalize", "normalize_type",
    "normalize_target_level", "normalize_target_level_ebu", "normalize_loudness_range_target_ebu",
    "normalize_true_peak_ebu", "output_filename", "preset", "start",
}


def error_of(raw: dict, name: str) -> str:
    with pytest.raises(OptionsInvalid) as caught:
        validate_options(raw)
    assert name in caught.value.errors, caught.value.errors
    return caught.value.errors[name]


def test_schema_holds_exactly_the_seed_options():
    assert set(OPTIONS_BY_NAME) == SEED_OPTIONS


def test_no_options_means_nothing_changes():
    assert validate_options({}) == {}
    assert not changes_audio(validate_options({}))


@pytest.mark.parametrize(("name", "lowest", "highest"), [
    ("allow_multiple_outputs_threshold", 2, 400),
    ("normalize_target_level", -99, 0),          # seed: "Maximum: False" means 0
    ("normalize_target_level_ebu", -70, -5),
    ("normalize_loudness_range_target_ebu", 1, 50),  # seed: "Minimum: True" means 1
    ("normalize_true_peak_ebu", -9, 0),
])
def test_numeric_bounds_of_the_seed(name, lowest, highest):
    context = {
        "allow_multiple_outputs_threshold": {"allow_multiple_outputs": True},
        "normalize_target_level": {"normalize": True, "normalize_type": "rms"},
    }.get(name, {"normalize": True, "normalize_type": "ebu"})
    assert validate_options({**context, name: lowest})[name] == lowest
    assert validate_options({**context, name: highest})[name] == highest
    assert "at least" in error_of({**context, name: lowest - 1}, name)
    assert "at most" in error_of({**context, name: highest + 1}, name)


@pytest.mark.parametrize(("name", "values"), [
    ("audio_bitdepth", (8, 16, 24, 32)),
    ("frequency", (1000, 8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)),
    ("channels", ("stereo", "mono")),
    ("normalize_type", ("ebu", "rms", "peak")),
])
def test_every_enum_value_is_accepted_and_others_are_not(name, values):
    context = {"normalize": True} if name == "normalize_type" else {}
    for value in values:
        assert validate_options({**context, name: str(value)})[name] == value
    assert "one of" in error_of({**context, name: "7"}, name)


def test_tts_locales_are_the_seeds():
    # DESIGN.md says 43 locales; the seed's enum lists 40, and the seed is what the API accepts.
    assert len(LANGUAGES_TTS) == 40
    assert validate_options({"language_tts": "zh-HK"}) == {"language_tts": "zh-HK"}
    assert "one of" in error_of({"language_tts": "xx-XX"}, "language_tts")


@pytest.mark.parametrize("bad", ["1:00:00", "00:60:00", "00:00:60", "aa:bb:cc", "00:00:00:00", "000:00:00",
                                 "00:00:01\n"])
def test_times_must_be_hh_mm_ss(bad):
    assert "HH:MM:SS" in error_of({"start": bad}, "start")


def test_end_must_follow_start():
    assert "after the start" in error_of({"start": "00:01:00", "end": "00:00:30"}, "end")
    assert "after the start" in error_of({"start": "00:01:00", "end": "00:01:00"}, "end")
    assert error_of({"end": "00:00:00"}, "end") == "Must be after 00:00:00."  # the start is the beginning
    trim = {"start": "00:00:01", "end": "00:00:02"}
    assert validate_options(trim) == trim
    assert seconds_from_hms("01:02:03") == 3723


def test_password_must_be_printable_ascii():
    assert "printable" in error_of({"download_password": "tab\there"}, "download_password")
    assert "printable" in error_of({"download_password": "é"}, "download_password")
    assert "printable" in error_of({"download_password": "x" * 1001}, "download_password")
    assert download_passwords(validate_options({"download_password": "a b,c~,,"})) == ["a b", "c~"]
    typed = validate_options({"download_password": "first, second ,"})
    assert download_passwords(typed) == ["first", "second"]
    # Spaces alone are no password, and are not dropped either: the output would be unprotected.
    assert "only spaces" in error_of({"download_password": "   "}, "download_password")


def test_output_filename_and_preset_lengths():
    assert validate_options({"output_filename": "x" * 255})["output_filename"] == "x" * 255
    error_of({"output_filename": "x" * 256}, "output_filename")
    error_of({"preset": "p" * 256}, "preset")


def test_types_are_checked():
    assert "whole number" in error_of({"frequency": "44.1k"}, "frequency")
    assert "whole number" in error_of({"frequency": True}, "frequency")
    peak = "normalize_true_peak_ebu"
    assert "number" in error_of({"normalize": True, peak: "loud"}, peak)
    assert "finite" in error_of({"normalize": True, peak: "nan"}, peak)
    # ASCII digits only, as the vendor's API and anyone reading the job expect.
    for typed in ("44_100", "٤٤١٠٠", "４４１００"):
        assert "whole number" in error_of({"frequency": typed}, "frequency")
    assert "number" in error_of({"normalize": True, peak: "-1_0"}, peak)
    assert "HH:MM:SS" in error_of({"start": "٠٠:00:05"}, "start")
    assert validate_options({"frequency": " +44100 ", "normalize": True, peak: "-1e0"})[peak] == -1.0
    assert "true or false" in error_of({"normalize": "maybe"}, "normalize")
    assert "text" in error_of({"channels": 2}, "channels")
    assert "Unknown option" in error_of({"volume": 11}, "volume")


def test_dependent_options_apply_only_when_they_matter():
    # EBU targets are dropped for rms; the threshold without allow_multiple_outputs.
    clean = validate_options({"normalize": "on", "normalize_type": "rms", "normalize_target_level_ebu": -16,
                              "allow_multiple_outputs_threshold": 5})
    assert clean == {"normalize": True, "normalize_type": "rms", "normalize_target_level": -23}
    # Defaults of the EBU targets fill in when EBU is chosen.
    assert validate_options({"normalize": True}) == {
        "normalize": True, "normalize_type": "ebu", "normalize_target_level_ebu": -23.0,
        "normalize_loudness_range_target_ebu": 7.0, "normalize_true_peak_ebu": -2.0,
    }
    # But a dropped option is still validated: a crafted value cannot slip through unchecked.
    error_of({"allow_multiple_outputs_threshold": 1}, "allow_multiple_outputs_threshold")


def test_every_error_is_reported_at_once():
    with pytest.raises(OptionsInvalid) as caught:
        validate_options({"frequency": 1, "channels": "quad", "start": "x"})
    assert set(caught.value.errors) == {"frequency", "channels", "start"}
    assert "frequency" in str(caught.value)


def test_builtin_presets_are_valid_and_explicit_options_win():
    for values in BUILTIN_PRESETS.values():
        validate_options(values)
    merged = apply_preset(BUILTIN_PRESETS["CD quality"], {"frequency": "48000", "channels": ""})
    assert validate_options(merged) == {"frequency": 48000, "audio_bitdepth": 16, "channels": "stereo"}


def test_a_form_holds_a_preset_while_its_sound_and_the_options_it_names_are_unchanged():
    from converter.options import holds_preset

    preset = BUILTIN_PRESETS["Podcast voice"]
    # What the form sends back: strings, the defaults it shows, this job's name and password.
    sent = {"channels": "mono", "normalize": "true", "normalize_type": "ebu",
            "normalize_target_level_ebu": "-16", "normalize_true_peak_ebu": "-1.0",
            "normalize_loudness_range_target_ebu": "7", "language_tts": "en-US", "download_password": "pw",
            "output_filename": "episode 12"}
    assert holds_preset(preset, sent)
    assert not holds_preset(preset, {**sent, "frequency": "44100"})  # an option the preset leaves alone
    assert not holds_preset(preset, {**sent, "normalize_target_level_ebu": "-16.5"})
    assert holds_preset(preset, {**sent, "language_tts": "fr-FR", "start": "00:00:05"})  # this job's
    assert not holds_preset({**preset, "language_tts": "de-DE"}, sent)  # a team preset that names it
    assert not holds_preset(preset, {**sent, "normalize_target_level_ebu": "loud"})  # invalid: not the preset
