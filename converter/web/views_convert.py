"""The convert page: files or URLs, options validated as they change, presets, Convert."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from converter.models import JobInput
from converter.options import OptionsInvalid, holds_preset, preset_chosen, validate_options
from converter.selectors import engines_for, job_for, jobs_for_team, presets_for
from converter.services.jobs import JobInvalid, job_create
from converter.services.presets import preset_resolve
from converter.services.presets import preset_save as preset_save_service
from converter.uploads import upload_refused
from converter.web.cards import job_card
from converter.web.forms import PRESET, OptionsForm, options_from_data
from converter.web.teams import team_required

PAGE = "converter/convert.html"
RECENT_JOBS = 10


def _form(request: HttpRequest, values=None, errors=None) -> OptionsForm:
    values = values or {}
    return OptionsForm(values, errors, presets=presets_for(request.team), preset=values.get(PRESET, ""))


def _preset_form(request: HttpRequest, name: str, form: dict | None = None) -> OptionsForm:
    """The form with a preset chosen: its sound replaces the form's; trim, speech language, file
    name and packaging stay as they were (options.preset_chosen)."""
    try:
        values = preset_resolve(request.team, name)
    except OptionsInvalid as exc:
        return _form(request, errors=exc.errors)
    return _form(request, {**preset_chosen(values, options_from_data(form or {})), PRESET: name})


def _still_the_preset(request: HttpRequest, data: dict) -> bool:
    try:
        preset = preset_resolve(request.team, data[PRESET])
    except OptionsInvalid:  # deleted meanwhile
        return False
    return holds_preset(preset, options_from_data(data))


def _page(request: HttpRequest, form: OptionsForm, *, status: int = 200, **context):
    cards = [job_card(request, job) for job in jobs_for_team(request.team, limit=RECENT_JOBS)]
    context |= {"form": form, "cards": cards, "max_files": settings.MAX_UPLOAD_FILES,
                "engines": engines_for(request.team)}
    return render(request, PAGE, context, status=status)


def _lines(text: str) -> list[str]:
    """The URL box's links, one per line: a line with spaces is one bad link, not several."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _forbidden_unless_converter(request: HttpRequest):
    if not request.membership.can_convert:
        return HttpResponseForbidden("Your role in this team is read-only.")
    return None


@team_required
@require_http_methods(["GET", "POST"])
def convert(request: HttpRequest):
    if request.method == "GET":
        name = request.GET.get(PRESET, "")
        return _page(request, _preset_form(request, name) if name else _form(request))
    if forbidden := _forbidden_unless_converter(request):
        return forbidden
    data = request.POST.dict()
    if refused := upload_refused(request):
        return _submitted(request, _form(request, data), status=413, input_error=refused)
    try:
        job = job_create(
            team=request.team, user=request.user, options=options_from_data(data),
            uploads=request.FILES.getlist("files"), urls=_lines(data.get("urls", "")),
            engine=data.get("engine") or None, input_password=data.get("input_password", ""),
        )
    except OptionsInvalid as exc:
        return _submitted(request, _form(request, data, exc.errors), status=422)
    except JobInvalid as exc:
        return _submitted(request, _form(request, data), status=422, input_error=str(exc))
    if not request.htmx:
        return redirect("job_detail", job_id=job.pk)
    response = _submitted(request, _form(request, data), card=job_card(request, job))
    # app.js empties the file picker and the URL box: those were sent; the options stay.
    return trigger_client_event(response, "jobCreated")


@team_required
@require_GET
def convert_from_job(request: HttpRequest, job_id):
    """The convert page filled with a job's options and links, to change them and convert again.
    Its files cannot be put back in a file input, nor its download password in the form (only
    its hashes are kept): the page says so."""
    job = job_for(request.team, job_id)
    inputs = list(job.inputs.all())
    links = [item.source for item in inputs if item.type == JobInput.Type.REMOTE]
    files = [item.filename for item in inputs if item.type != JobInput.Type.REMOTE]
    return _page(request, _form(request, job.options), editing=job, links="\n".join(links), files=files)


def _submitted(request: HttpRequest, form: OptionsForm, *, status: int = 200, **context):
    if request.htmx:
        return render(request, f"{PAGE}#submitted", {"form": form, **context}, status=status)
    return _page(request, form, status=status, **context)


@team_required
@require_POST
def options_validate(request: HttpRequest):
    """Re-render the options with each error next to its field, and only the fields that apply.
    The preset select says Custom once the sound is no longer the chosen preset's (a file name
    or a password leaves it as it is)."""
    data = request.POST.dict()
    if data.get(PRESET) and not _still_the_preset(request, data):
        data[PRESET] = ""
    try:
        validate_options(options_from_data(data))
    except OptionsInvalid as exc:
        form = _form(request, data, exc.errors)
    else:
        form = _form(request, data)
    return render(request, f"{PAGE}#option-panel", {"form": form})


@team_required
@require_GET
def preset_apply(request: HttpRequest):
    name = request.GET.get(PRESET, "")
    if not request.htmx:
        return redirect(f"{reverse('convert')}?{urlencode({PRESET: name})}" if name else "convert")
    # "Custom" keeps what the form holds.
    form = _preset_form(request, name, request.GET.dict()) if name else _form(request, request.GET.dict())
    return render(request, f"{PAGE}#option-panel", {"form": form})


@team_required
@require_POST
def preset_save(request: HttpRequest):
    if forbidden := _forbidden_unless_converter(request):
        return forbidden
    data = request.POST.dict()
    name = data.get("preset_name", "").strip()
    try:
        preset = preset_save_service(team=request.team, user=request.user, name=name,
                                     options=options_from_data(data))
    except OptionsInvalid as exc:
        errors = dict(exc.errors)
        name_error = errors.pop(PRESET, "")
        # Next to the button too: the fields' own errors may be scrolled out of view.
        context = {"save_error": name_error or "Not saved: correct the options marked in red first.",
                   "name_invalid": bool(name_error), "preset_name": name}
        return _preset_saved(request, _form(request, data, errors), status=422, **context)
    if not request.htmx:
        return redirect(f"{reverse('convert')}?{urlencode({PRESET: preset.name})}")
    form = _form(request, {**data, PRESET: preset.name})
    return _preset_saved(request, form, save_message=f"Saved as “{preset.name}”.")


def _preset_saved(request: HttpRequest, form: OptionsForm, *, status: int = 200, **context):
    if request.htmx:
        return render(request, f"{PAGE}#preset-saved", {"form": form, **context}, status=status)
    return _page(request, form, status=status, **context)
