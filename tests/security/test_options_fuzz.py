"""Random option dictionaries, valid and not, through the form, the API and the engine:
every invalid one is refused with a message naming the option, every valid one converts."""

import json
import string

import pytest
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter import engine
from converter.options import OPTIONS, OptionsInvalid, validate_options
from tests.media import wav_bytes

pytestmark = pytest.mark.django_db
FIXTURES_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                       deadline=None)
FUZZED = [option for option in OPTIONS if option.name != "preset"]  # a preset must exist: tests/web covers it

_time = st.builds("{:02d}:{:02d}:{:02d}".format, st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
_garbage = st.one_of(st.text(max_size=30), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                     st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                          max_size=1))


def _valid(option) -> st.SearchStrategy:
    if option.enum:
        return st.sampled_from(option.enum)
    if option.type == "boolean":
        return st.sampled_from([True, False, "true", "false"])
    if option.type == "integer":
        return st.integers(int(option.minimum), int(option.maximum))
    if option.type == "number":
        return st.floats(option.minimum, option.maximum)
    if option.name in ("start", "end"):
        return _time
    if option.name == "download_password":
        return st.text(string.printable[:95], max_size=40)
    return st.text(max_size=255)


def _options(valid_only: bool) -> st.SearchStrategy:
    values = {option.name: _valid(option) if valid_only else st.one_of(_valid(option), _garbage)
              for option in FUZZED}
    return st.fixed_dictionaries({}, optional=values)


def _as_form(options: dict) -> dict[str, str]:
    return {name: value if isinstance(value, str) else json.dumps(value) for name, value in options.items()}


def _checked(options: dict) -> dict | None:
    """validate_options' verdict; asserts that a refusal names each bad option."""
    try:
        return validate_options(options)
    except OptionsInvalid as exc:
        assert exc.errors and set(exc.errors) <= set(options)
        assert all(name in str(exc) and message for name, message in exc.errors.items())
        return None


def form_validates_anything(client, alice, team, options):
    client.force_login(alice)
    data = _as_form(options)
    response = client.post("/options/validate/", data)
    assert response.status_code == 200
    try:
        validate_options(data)
    except OptionsInvalid as exc:
        page = response.content.decode()
        assert all(escape(message) in page for message in exc.errors.values())


def api_validates_anything(client, issued_key, options):
    body = {"conversion": [{"category": "audio", "target": "flac", "options": options}], "process": False}
    response = client.post("/v2/jobs", json.dumps(body), content_type="application/json",
                           headers={"X-Api2convert-Api-Key": issued_key})
    clean = _checked(options)
    if clean is None:
        assert response.status_code == 400
        message = response.json()["message"]
        assert any(name in message for name in options)
    else:
        assert response.status_code == 201, response.content


def _fuzz(check, examples: int | None = None):
    """check as a hypothesis test over random option dictionaries."""
    tuned = FIXTURES_OK if examples is None else settings(FIXTURES_OK, max_examples=examples)
    return tuned(given(options=_options(valid_only=False))(check))


test_the_form_validates_anything = _fuzz(form_validates_anything)
test_the_api_validates_anything = _fuzz(api_validates_anything)
test_soak_the_form_validates_anything = pytest.mark.soak(_fuzz(form_validates_anything, 3000))
test_soak_the_api_validates_anything = pytest.mark.soak(_fuzz(api_validates_anything, 3000))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=_options(valid_only=True))
def test_valid_options_convert_or_explain(tmp_path_factory, options):
    clean = _checked(options)
    if clean is None:  # e.g. start after end: refused by name, nothing to convert
        return
    work = tmp_path_factory.mktemp("fuzz")
    source = work / "in.wav"
    source.write_bytes(wav_bytes(0.5))
    produced, failures = engine.convert([engine.EngineInput(path=source, name="in.wav")], work / "out", clean)
    assert produced or (failures and all(failure.message for failure in failures))
    for output in produced:
        assert output.path.stat().st_size > 0
