"""The options form, rendered from converter/options.py: one field per Option, grouped as
options.GROUPS says, showing only the options that apply. Validation is options.py's own."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from converter.options import GROUPS, OPTIONS, TIMES, Option, OptionsInvalid, applies, validate_options

# The options that others depend on (normalize, normalize_type, allow_multiple_outputs).
_CONTROLLERS = sorted({name for option in OPTIONS for name in option.depends_on})

# What an empty field means, where the schema's example would not say it: a time's example
# ("00:02:23") reads like a value already filled in, and the vendor's file name example
# ("my_base_filename_without_extension") like developer text.
_PLACEHOLDERS = {**dict.fromkeys(TIMES, "HH:MM:SS"), "output_filename": "The input's name"}

# The preset select only fills the form: its values are then submitted explicitly, so it is
# never sent along with them (a preset under explicit values would refill fields left empty).
PRESET = "preset"


def options_from_data(data: Mapping[str, Any]) -> dict[str, str]:
    """The options a submitted form gives: non-empty values only (an unchecked box is absent)."""
    return {
        option.name: data[option.name]
        for option in OPTIONS
        if option.name != PRESET and data.get(option.name) not in (None, "")
    }


def _dependency_state(values: Mapping[str, Any]) -> dict[str, Any]:
    """Clean values of the controlling options, ignoring invalid ones, to decide what applies."""
    given = {name: values[name] for name in _CONTROLLERS if name in values}
    while True:
        try:
            return validate_options(given)
        except OptionsInvalid as exc:
            for name in exc.errors:
                given.pop(name, None)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class OptionField:
    option: Option
    value: str
    error: str = ""
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.option.name

    @property
    def id(self) -> str:
        return f"opt-{self.option.name}"

    @property
    def widget(self) -> str:
        if self.option.name == PRESET:
            return "preset"
        if self.option.secret:
            return "password"
        if self.option.enum:
            return "select"
        if self.option.type == "boolean":
            return "checkbox"
        if self.option.type in ("integer", "number"):
            return "number"
        return "text"

    @property
    def placeholder(self) -> str:
        return _PLACEHOLDERS.get(self.option.name, self.option.example or "")

    @property
    def step(self) -> str:
        return "1" if self.option.type == "integer" else "any"

    @property
    def controls_others(self) -> bool:
        return self.option.name in _CONTROLLERS


@dataclass(frozen=True)
class OptionGroup:
    key: str
    label: str
    fields: tuple[OptionField, ...]


class OptionsForm:
    """values: raw form strings or typed preset values; errors: OptionsInvalid.errors.
    presets: (name, options, builtin) as selectors.presets_for returns them."""

    def __init__(self, values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None,
                 presets=(), preset: str = ""):
        self.values = dict(values or {})
        self.errors = dict(errors or {})
        self.preset = preset
        self.presets = presets

    @property
    def other_errors(self) -> dict[str, str]:
        """Errors about options not on the form (crafted input, or hidden by a dependency)."""
        shown = {field.name for group in self.groups for field in group.fields}
        return {name: msg for name, msg in self.errors.items() if name not in shown}

    def _field(self, option: Option) -> OptionField:
        if option.name == PRESET:
            return OptionField(option, self.preset, self.errors.get(PRESET, ""))
        if option.secret:
            value = ""  # never echoed back into a page
        elif option.name in self.values:
            value = _as_text(self.values[option.name])
        else:
            value = _as_text(option.default)
        choices = ()
        if option.enum:
            keep = (("", "Same as input"),) if option.default is None else ()
            choices = keep + tuple((str(choice), option.value_label(choice)) for choice in option.enum)
        return OptionField(option, value, self.errors.get(option.name, ""), choices)

    @property
    def groups(self) -> list[OptionGroup]:
        state = _dependency_state(self.values)
        groups = []
        for key, label in GROUPS:
            fields = tuple(
                self._field(option) for option in OPTIONS
                if option.group == key and applies(option, state)
            )
            if fields:
                groups.append(OptionGroup(key, label, fields))
        return groups

    @property
    def preset_choices(self) -> dict[str, list[str]]:
        """Preset names by optgroup label, built-in first."""
        choices = {"Built in": [], "This team": []}
        for name, _values, builtin in self.presets:
            choices["Built in" if builtin else "This team"].append(name)
        return {label: names for label, names in choices.items() if names}
