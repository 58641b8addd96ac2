"""Whatever arrives, the answer is the vendor's error shape, never a 500."""

import json

import pytest

from tests.api.conftest import CREATE

pytestmark = pytest.mark.django_db

BODIES = [
    "", "   ", "{", "null", "[]", '"x"', "42", "\xff\xfe", "[" * 100_000 + "]" * 100_000,
    {"input": "x"}, {"conversion": {}}, {"conversion": "flac"}, {"conversion": [None]},
    {"conversion": [{"target": None}]}, {"conversion": [{"target": "flac", "options": "x"}]},
    {"conversion": [{"target": "flac", "options": {"frequency": [1]}}]},
    {"conversion": [{"target": "flac", "options": {"normalize_target_level_ebu": "NaN"}}]},
    {"conversion": [{"target": {"a": 1}}]}, {**CREATE, "input": [1]}, {**CREATE, "input": [{"source": 5}]},
    {**CREATE, "callback": 7}, {**CREATE, "callback": "x" * 5000}, {**CREATE, "notify_status": {}},
    {**CREATE, "download_passwords": "pw"}, {**CREATE, "download_passwords": [None]},
    {**CREATE, "process": 1.5}, {**CREATE, "input": [{"type": "remote", "source": "http://[::1"}]},
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_create_never_500(api, body):
    response = api.create(body if isinstance(body, str) else json.dumps(body))
    assert response.status_code == 400, response.content[:300]
    assert isinstance(response.json()["message"], str)


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_patch_never_500(api, body):
    job = api.create().json()
    response = api("PATCH", f"/jobs/{job['id']}", body if isinstance(body, str) else json.dumps(body))
    assert response.status_code in (200, 400), response.content[:300]


def test_lenient_decoding(api):
    # Booleans as strings and an empty array for an empty object, as the vendor's clients send.
    body = {"conversion": [{"target": "FLAC", "category": "audio", "options": []}], "process": "false",
            "notify_status": 0}
    assert api.create(body).status_code == 201


def test_huge_body_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.create(json.dumps({**CREATE, "pad": "x" * 2000}))
    assert response.status_code == 413 and response.json()["message"]


@pytest.mark.parametrize(("body", "message"), [
    ("{", "The body is not valid JSON."),
    ("[" * 100_000 + "]" * 100_000, "The JSON body is nested too deeply to read."),
    ("  ", "The JSON body is empty."),
])
def test_unreadable_bodies_say_why(api, body, message):
    assert api.create(body).json()["message"] == message
