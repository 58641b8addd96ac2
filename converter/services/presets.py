from converter.models import Preset, Team
from converter.options import BUILTIN_PRESETS, OptionsInvalid, apply_preset, validate_options


def preset_resolve(team: Team, name: str) -> dict:
    """The options of a built-in or team preset."""
    if name in BUILTIN_PRESETS:
        return dict(BUILTIN_PRESETS[name])
    preset = Preset.objects.filter(team=team, name=name).first()
    if preset is None:
        raise OptionsInvalid({"preset": f"Unknown preset “{name}”."})
    return dict(preset.options)


def options_with_preset(team: Team, raw: dict) -> dict:
    """Validated options: the preset's values (if one is named), overridden by those given."""
    name = str(raw.get("preset") or "").strip()
    merged = apply_preset(preset_resolve(team, name), raw) if name else dict(raw)
    return validate_options(merged)


def preset_save(*, team: Team, user, name: str, options: dict) -> Preset:
    name = name.strip()
    if not name or len(name) > 255:
        raise OptionsInvalid({"preset": "A preset needs a name of 1 to 255 characters."})
    if name in BUILTIN_PRESETS:
        raise OptionsInvalid({"preset": "That name belongs to a built-in preset."})
    values = validate_options({key: value for key, value in options.items() if key != "preset"})
    # A preset never stores a download password: it would sit in plain text.
    values.pop("download_password", None)
    preset, _ = Preset.objects.update_or_create(
        team=team, name=name, defaults={"options": values, "created_by": user}
    )
    return preset
