"""Presets: named sets of options, built in (converter/options.py, read-only) or the team's own."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from converter.models import Membership, Preset, Team
from converter.options import BUILTIN_PRESETS, OptionsInvalid, apply_preset, validate_options
from converter.services.teams import MANAGERS


class PresetNameInvalid(ValueError):
    """The name cannot be a preset's; str() is a message for the user."""


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


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise PresetNameInvalid("A preset needs a name of 1 to 255 characters.")
    if name in BUILTIN_PRESETS:
        raise PresetNameInvalid("That name belongs to a built-in preset.")
    return name


def _checked_options(options: dict) -> dict:
    values = validate_options({key: value for key, value in options.items() if key != "preset"})
    # A preset never stores a download password: it would sit in plain text.
    values.pop("download_password", None)
    return values


def _require_converter(membership: Membership | None) -> None:
    if membership is None or not membership.can_convert:
        raise PermissionDenied("Your role in this team does not allow changing its presets.")


def preset_save(*, team: Team, user, name: str, options: dict) -> Preset:
    """Save the options under a name, replacing the team's preset of that name (the web's “save as”)."""
    try:
        name = _checked_name(name)
    except PresetNameInvalid as exc:
        raise OptionsInvalid({"preset": str(exc)}) from None
    values = _checked_options(options)
    preset, _ = Preset.objects.update_or_create(
        team=team, name=name, defaults={"options": values, "created_by": user}
    )
    return preset


def preset_create(*, membership: Membership | None, name: str, options: dict) -> Preset:
    """A new team preset; a name already taken is refused (PresetNameInvalid), not replaced.
    Raises OptionsInvalid for bad options and PermissionDenied for viewers."""
    _require_converter(membership)
    name, values = _checked_name(name), _checked_options(options)
    try:
        with transaction.atomic():
            return Preset.objects.create(team=membership.team, name=name, options=values,
                                         created_by=membership.user)
    except IntegrityError:  # the (team, name) constraint
        raise PresetNameInvalid(f"The team has a preset named “{name}” already.") from None


def preset_update(preset: Preset, *, membership: Membership | None, name: str | None = None,
                  options: dict | None = None) -> Preset:
    """Rename the preset and/or replace its options (anyone who may convert, as the web's save)."""
    _require_converter(membership)
    if name is not None:
        preset.name = _checked_name(name)
    if options is not None:
        preset.options = _checked_options(options)
    try:
        with transaction.atomic():
            preset.save(update_fields=["name", "options"])
    except IntegrityError:
        raise PresetNameInvalid(f"The team has a preset named “{preset.name}” already.") from None
    return preset


def can_delete_preset(membership: Membership | None, preset: Preset) -> bool:
    """Owners and admins delete any of the team's presets; members their own; viewers none
    (the rule for deleting jobs)."""
    if membership is None or membership.team_id != preset.team_id or not membership.can_convert:
        return False
    return membership.role in MANAGERS or preset.created_by_id == membership.user_id


def preset_delete(preset: Preset, *, membership: Membership | None) -> None:
    if not can_delete_preset(membership, preset):
        raise PermissionDenied("Only the team's owners and admins, or whoever made it, can delete a preset.")
    preset.delete()
