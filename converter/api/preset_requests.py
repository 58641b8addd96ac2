"""Reading the vendor's Preset bodies (POST and PATCH /presets): a 400 naming the field."""

from dataclasses import dataclass

from converter.api.http import invalid_field
from converter.api.job_requests import checked_options
from converter.api.serializers import CATEGORY, TARGET


@dataclass(frozen=True)
class PresetRequest:
    # None: not given (PATCH leaves the preset's value alone).
    name: str | None = None
    options: dict | None = None


def preset_request(body: dict, *, creating: bool) -> PresetRequest:
    """What a POST (creating: name and target required) or PATCH body asks for."""
    target, category, scope = body.get("target"), body.get("category"), body.get("scope")
    if (creating or target is not None) and str(target or "").lower() != TARGET:
        raise invalid_field("target", f"Only “{TARGET}” is supported.")
    if category not in (None, "", CATEGORY):
        raise invalid_field("category", f"Only “{CATEGORY}” is supported.")
    if scope not in (None, "", "private"):
        raise invalid_field("scope", "Only “private” presets (the team's own) can be saved; the public ones "
                                     "are built in.")
    name = body.get("name")
    if (creating or name is not None) and not (isinstance(name, str) and name.strip()):
        raise invalid_field("name", "Give the preset a name of 1 to 255 characters.")
    options = None
    if creating or body.get("options") is not None:
        options = checked_options(body.get("options"))
        # The web's “save as” drops these quietly (a form sends every field); a client is told.
        if "preset" in options:
            raise invalid_field("preset", "A preset cannot name another preset.")
        if options.get("download_password"):
            raise invalid_field("download_password", "A preset never stores a download password; give it "
                                                     "with each job.")
    return PresetRequest(name=name, options=options)
