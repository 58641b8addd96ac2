"""Reading the vendor's Job bodies (POST and PATCH /jobs) and their parts (an InputFile for
POST /jobs/{id}/input, a Conversion for /jobs/{id}/conversions): lenient where the vendor is
(booleans as strings, `[]` for an empty object), a 400 naming the field everywhere else."""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from converter.api.http import ApiProblem, invalid_field
from converter.api.serializers import CATEGORY, TARGET
from converter.options import OPTIONS_BY_NAME, OptionsInvalid, password_list, validate_options
from converter.services.passwords import MAX_INPUT_PASSWORD
from converter.url_safety import UrlRefused, check_public_url

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


@dataclass
class JobRequest:
    options: dict[str, Any] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    url_passwords: list[str] = field(default_factory=list)  # each URL's credentials.decrypt_password
    # None: not given (PATCH leaves the job's value alone).
    process: bool | None = None
    callback: str | None = None
    notify_status: bool | None = None
    passwords: list[str] | None = None


def _bool(body: dict, name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | str) and str(value).strip().lower() in _TRUE + _FALSE:
        return str(value).strip().lower() in _TRUE
    raise invalid_field(name, "Must be true or false.")


def _object(value: Any, name: str) -> dict:
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise invalid_field(name, "Must be an object.")
    return value


def _list(value: Any, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_field(name, "Must be an array.")
    return value


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def conversion_options(conversion: Any, prefix: str = "") -> dict:
    """The options of a Conversion object (a job's conversion[0], or the body of POST
    /jobs/{id}/conversions), checked as job creation checks them. `prefix` names it in errors."""
    if not isinstance(conversion, dict):
        raise invalid_field(prefix or "conversion", "Must be an object.")
    if str(conversion.get("target", "")).lower() != TARGET:
        raise invalid_field(_field(prefix, "target"), f"Only “{TARGET}” is supported.")
    if conversion.get("category") not in (None, "", CATEGORY):
        raise invalid_field(_field(prefix, "category"), f"Only “{CATEGORY}” is supported.")
    return checked_options(conversion.get("options"), _field(prefix, "options"))


def checked_options(value: Any, name: str = "options") -> dict:
    """An options object (`[]` read as `{}`), validated: a 400 naming each bad option."""
    options = _object(value, name)
    try:
        validate_options(options)  # here for the 400; the services validate again, with the preset
    except OptionsInvalid as exc:
        raise ApiProblem(400, str(exc), errors=exc.errors) from None
    return dict(options)


def conversion_patch(body: dict) -> dict | None:
    """The options a PatchableConversion body gives (they replace the conversion's), or None."""
    if body.get("target") is not None or body.get("category") is not None:
        # A target or category, though not patchable, may be sent: only flac and audio pass.
        conversion_options({"target": TARGET, **body, "options": None})
    if _object(body.get("metadata"), "metadata"):
        raise invalid_field("metadata", "Not supported: the input's tags are carried over to the FLAC.")
    return checked_options(body["options"]) if body.get("options") is not None else None


def _options(body: dict) -> dict:
    conversions = _list(body.get("conversion"), "conversion")
    if len(conversions) != 1:
        raise invalid_field("conversion", f"Give exactly one conversion, with target “{TARGET}”.")
    return conversion_options(conversions[0], "conversion[0]")


@dataclass(frozen=True)
class InputRequest:
    type: str  # "remote": source is a URL; "input_id": source is the id of another input of the team
    source: str
    password: str = ""  # credentials.decrypt_password: what opens the file when it is protected


def credentials_password(item: dict, name: str = "") -> str:
    """An InputFile's (or a PatchableCredentials') credentials.decrypt_password, "" when not
    given; the vendor's other credentials are for cloud storages, which we do not fetch from."""
    credentials = _object(item.get("credentials"), _field(name, "credentials"))
    unknown = sorted(set(credentials) - {"decrypt_password"})
    if unknown:
        raise invalid_field(_field(name, f"credentials.{unknown[0]}"),
                            "Only decrypt_password is taken: the password that opens a protected file.")
    password = credentials.get("decrypt_password") or ""
    if not isinstance(password, str) or len(password) > MAX_INPUT_PASSWORD:
        raise invalid_field(_field(name, "credentials.decrypt_password"),
                            f"Must be a string of at most {MAX_INPUT_PASSWORD} characters.")
    return password


def input_request(item: Any, name: str = "", *, reuse: bool = False) -> InputRequest:
    """An InputFile object asking for a new input: a `remote` URL (checked as at creation) or,
    with `reuse`, an `input_id`. `name` names the object in errors."""
    if not isinstance(item, dict):
        raise invalid_field(name or "input", "Must be an object.")
    kind, source = item.get("type") or "remote", item.get("source")
    accepted = ("remote", "input_id") if reuse else ("remote",)
    if kind not in accepted:
        kinds = " and ".join(f"“{each}”" for each in accepted)
        raise invalid_field(_field(name, "type"), f"Only {kinds} inputs can be given here; upload files to "
                                                  "{server}/upload-file/{job_id}.")
    if not isinstance(source, str) or not source.strip():
        what = "the URL of the file" if kind == "remote" else "the id of an input of one of the team's jobs"
        raise invalid_field(_field(name, "source"), f"Give {what}.")
    if kind == "remote":
        try:
            check_public_url(source)
        except UrlRefused as exc:
            raise invalid_field(_field(name, "source"), str(exc)) from None
    return InputRequest(kind, source.strip(), credentials_password(item, name))


def _inputs(body: dict) -> list[InputRequest]:
    items = _list(body.get("input"), "input")
    if len(items) > settings.MAX_UPLOAD_FILES:
        raise invalid_field("input", f"At most {settings.MAX_UPLOAD_FILES} inputs per job.")
    return [input_request(item, f"input[{index}]") for index, item in enumerate(items)]


def _callback(body: dict) -> str | None:
    callback = body.get("callback")
    if callback is None or callback == "":
        return callback
    if not isinstance(callback, str) or len(callback) > 1000:
        raise invalid_field("callback", "Must be a URL of at most 1000 characters.")
    try:
        check_public_url(callback)
    except UrlRefused as exc:
        raise invalid_field("callback", str(exc)) from None
    return callback.strip()


def _passwords(body: dict) -> list[str] | None:
    if body.get("download_passwords") is None:
        return None
    passwords = _list(body["download_passwords"], "download_passwords")
    option = OPTIONS_BY_NAME["download_password"]
    for password in passwords:
        # The list travels comma-separated (header, cookie, option), so a comma cannot be in one.
        if not isinstance(password, str) or not password.strip() or "," in password:
            raise invalid_field("download_passwords", "Each password must be non-empty text without commas.")
    try:
        validate_options({option.name: ",".join(passwords)})
    except OptionsInvalid as exc:
        raise invalid_field("download_passwords", exc.errors[option.name]) from None
    return passwords


def job_request(body: dict, *, creating: bool) -> JobRequest:
    """What a POST (creating) or PATCH body asks for. Raises ApiProblem(400) naming the field."""
    request = JobRequest(process=_bool(body, "process"), callback=_callback(body),
                         notify_status=_bool(body, "notify_status"), passwords=_passwords(body))
    if creating:
        request.options = _options(body)
        inputs = _inputs(body)
        request.urls = [item.source for item in inputs]
        request.url_passwords = [item.password for item in inputs]
        if request.passwords:
            given = password_list(str(request.options.get("download_password") or ""))
            request.options["download_password"] = ",".join(given + request.passwords)
    return request
