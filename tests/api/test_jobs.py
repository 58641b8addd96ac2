"""The JSON endpoints: auth, creating, listing, reading, starting, cancelling, scope."""

import pytest

from converter.models import Job, Team
from converter.providers.api2convert import crypto
from converter.services.api_keys import key_revoke
from tests.api.conftest import CREATE, Api

pytestmark = pytest.mark.django_db

INVALID_KEY = {"message": "Invalid api key"}


@pytest.mark.parametrize("header", ["X-Api2convert-Api-Key", "X-Oc-Api-Key"])
def test_both_key_headers_authenticate(client, issued, header):
    response = Api(client, issued.key, header)("GET", "/jobs")
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("key", [None, "", "fk_wrong", "x" * 1000])
def test_missing_or_wrong_key_is_401(client, issued, key):
    response = Api(client, key)("GET", "/jobs")
    assert response.status_code == 401 and response.json() == INVALID_KEY


def test_revoked_key_is_401(client, issued):
    key_revoke(issued.api_key)
    response = Api(client, issued.key).create()
    assert response.status_code == 401 and response.json() == INVALID_KEY


def test_create_answers_the_vendors_job(api, team, issued, private_urls):
    response = api.create({**CREATE, "callback": "https://example.com/hook", "notify_status": True})
    assert response.status_code == 201
    body = response.json()
    assert body["status"]["code"] == "incomplete" and body["type"] == "job"
    assert body["server"] == "http://testserver/v2/dl" and len(body["token"]) == 32
    assert body["conversion"][0]["target"] == "flac" and body["input"] == body["output"] == []
    assert body["callback"] == "https://example.com/hook" and body["notify_status"] is True
    job = Job.objects.get(pk=body["id"])
    assert job.team == team and job.api_key == issued.api_key and job.engine == team.default_engine
    assert job.api_base_url == "http://testserver/v2"


def test_create_with_options_and_passwords(api):
    body = {**CREATE, "download_passwords": ["one", "two"],
            "conversion": [{"target": "flac", "options": {"frequency": "48000", "channels": "mono",
                                                          "normalize_type": "rms"}}]}
    response = api.create(body)
    assert response.status_code == 201, response.json()
    assert response.json()["conversion"][0]["options"] == {"frequency": 48000, "channels": "mono"}
    assert response.json()["download_passwords"] == []
    assert len(Job.objects.get().password_hashes) == 2


@pytest.mark.parametrize(("conversion", "named"), [
    ([{"target": "mp3"}], "conversion[0].target"),
    ([{"target": "flac", "category": "video"}], "conversion[0].category"),
    ([{"target": "flac", "options": {"frequency": 12345}}], "frequency"),
    ([{"target": "flac", "options": {"bitrate": "320"}}], "bitrate"),
    ([{"target": "flac", "options": {"start": "00:00:10", "end": "00:00:05"}}], "end"),
    ([{"target": "flac"}, {"target": "flac"}], "conversion"),
    ([], "conversion"),
])
def test_bad_conversions_are_400_naming_the_field(api, conversion, named):
    response = api.create({"conversion": conversion})
    assert response.status_code == 400
    assert named in response.json()["message"] and named in response.json()["errors"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(("extra", "named"), [
    ({"input": [{"type": "upload", "source": "x"}]}, "input[0].type"),
    ({"input": [{"type": "remote", "source": "ftp://example.com/a.wav"}]}, "input[0].source"),
    ({"input": [{"type": "remote", "source": "http://127.0.0.1/a.wav"}]}, "input[0].source"),
    ({"callback": "http://10.0.0.1/hook"}, "callback"),
    ({"download_passwords": ["a,b"]}, "download_passwords"),
    ({"download_passwords": ["é"]}, "download_passwords"),
    ({"process": "maybe"}, "process"),
])
def test_bad_job_fields_are_400(api, extra, named):
    response = api.create({**CREATE, **extra})
    assert response.status_code == 400 and named in response.json()["message"]


def test_a_callback_that_is_no_web_address_is_named_as_such(api):
    """The shared URL check once said "can be converted" of a callback, which is not converted."""
    response = api.create({**CREATE, "callback": "file:///etc/passwd"})
    assert response.json()["message"] == "callback: Only http:// and https:// URLs are accepted."


def test_remote_input_queues_at_once(api, private_urls, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("converter.tasks.job_run.delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.create({**CREATE, "process": True,
                               "input": [{"type": "remote", "source": "http://127.0.0.1:9/a.wav"}]})
    assert response.status_code == 201
    body = response.json()
    assert body["status"]["code"] == "queued" and body["input"][0]["type"] == "remote"
    assert queued == [body["id"]]


def test_start_needs_an_input_then_queues(api, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("converter.tasks.job_run.delay", queued.append)
    job = api.create().json()
    response = api("PATCH", f"/jobs/{job['id']}", {"process": True})
    assert response.status_code == 400 and "input" in response.json()["message"]

    assert api.upload(job).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = api("PATCH", f"/jobs/{job['id']}", {"process": True})
    assert response.status_code == 200 and response.json()["status"]["code"] == "queued"
    assert queued == [job["id"]]
    # Starting again is harmless; a finished job cannot be restarted.
    assert api("PATCH", f"/jobs/{job['id']}", {"process": True}).status_code == 200
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.COMPLETED)
    assert api("PATCH", f"/jobs/{job['id']}", {"process": True}).status_code == 409


def test_patch_changes_callback_and_passwords(api, private_urls):
    job = api.create().json()
    response = api("PATCH", f"/jobs/{job['id']}", {"callback": "https://example.com/new",
                                                   "download_passwords": ["s3cret"]})
    assert response.status_code == 200 and response.json()["callback"] == "https://example.com/new"
    assert response.json()["status"]["code"] == "incomplete"
    assert len(Job.objects.get().password_hashes) == 1


def test_patched_passwords_of_an_api2convert_job_are_kept_for_its_submission(api, private_urls):
    job = api.create().json()
    Job.objects.filter(pk=job["id"]).update(engine=Team.Engine.API2CONVERT)
    assert api("PATCH", f"/jobs/{job['id']}", {"download_passwords": ["s3cret"]}).status_code == 200
    stored = Job.objects.get()
    assert crypto.decrypt(stored.remote_password_encrypted) == "s3cret"
    # Once sent to api2convert, they are what api2convert checks: they cannot change any more.
    Job.objects.update(status=Job.Status.PROCESSING)
    response = api("PATCH", f"/jobs/{job['id']}", {"download_passwords": ["other"]})
    assert response.status_code == 409 and "cannot change" in response.json()["message"]
    assert Job.objects.get().password_hashes == stored.password_hashes


def test_delete_cancels(api):
    job = api.create().json()
    response = api("DELETE", f"/jobs/{job['id']}")
    assert response.status_code == 204
    assert api("GET", f"/jobs/{job['id']}").json()["status"]["code"] == "canceled"
    other = api.create().json()
    Job.objects.filter(pk=other["id"]).update(status=Job.Status.COMPLETED)
    assert api("DELETE", f"/jobs/{other['id']}").status_code == 409


def test_list_is_paged_with_a_count(api, monkeypatch):
    monkeypatch.setattr("converter.api.views_jobs.PAGE_SIZE", 2)
    ids = [api.create().json()["id"] for _ in range(3)]
    first = api("GET", "/jobs")
    assert first["X-Count"] == "3" and [job["id"] for job in first.json()] == ids[::-1][:2]
    assert [job["id"] for job in api("GET", "/jobs?page=2").json()] == ids[:1]
    assert api("GET", "/jobs?page=3").json() == []
    assert api("GET", "/jobs?status=completed")["X-Count"] == "0"
    assert api("GET", "/jobs?page=abc").status_code == 400
    assert api("GET", "/jobs?page=-1").json()["errors"] == {"page": "Must be 1 or more."}
    misspelt = api("GET", "/jobs?status=complete")  # not a status: named, not an empty list
    assert misspelt.status_code == 400 and "completed" in misspelt.json()["errors"]["status"]


def test_other_teams_jobs_do_not_exist(api, charlie_api):
    job = api.create().json()
    for path in ("", "/input", "/output", "/history"):
        response = charlie_api("GET", f"/jobs/{job['id']}{path}")
        assert response.status_code == 404 and "message" in response.json()
    assert charlie_api("DELETE", f"/jobs/{job['id']}").status_code == 404
    assert charlie_api("GET", "/jobs").json() == []


def test_job_parts_and_history(api):
    job = api.create().json()
    api.upload(job)
    inputs = api("GET", f"/jobs/{job['id']}/input").json()
    assert [item["filename"] for item in inputs] == ["tone.wav"]
    assert api("GET", f"/jobs/{job['id']}/input/{inputs[0]['id']}").json() == inputs[0]
    assert api("GET", f"/jobs/{job['id']}/output").json() == []
    assert api("GET", f"/jobs/{job['id']}/output/{inputs[0]['id']}").status_code == 404
    history = api("GET", f"/jobs/{job['id']}/history").json()
    assert [event["status"] for event in history] == ["incomplete"]


def test_ids_are_read_in_either_case(api):
    """RFC 9562 reads UUIDs case-insensitively: a client printing them in upper case finds the job."""
    job = api.create().json()
    api.upload(job)
    upper = job["id"].upper()
    assert upper != job["id"] and api("GET", f"/jobs/{upper}").json()["id"] == job["id"]
    input_id = api("GET", f"/jobs/{upper}/input").json()[0]["id"]
    assert api("GET", f"/jobs/{upper}/input/{input_id.upper()}").json()["id"] == input_id
    assert api("GET", f"/jobs/{job['id'][:-1]}g").status_code == 404  # still a UUID's digits only


def test_statuses_conversions_and_openapi(client):
    codes = [status["code"] for status in client.get("/v2/statuses").json()]
    assert codes[0] == "incomplete" and {"completed", "failed", "canceled"} <= set(codes)

    catalogue = client.get("/v2/conversions?category=audio&target=flac").json()
    options = catalogue[0]["options"]
    assert catalogue[0]["target"] == "flac" and options["frequency"]["enum"][0] == 1000
    assert options["normalize_target_level"] == {**options["normalize_target_level"], "type": "integer",
                                                 "minimum": -99, "maximum": 0, "default": -23}
    assert client.get("/v2/conversions?target=mp3").json() == []

    document = client.get("/v2/openapi.json").json()
    assert document["servers"][0]["url"] == "http://testserver/v2"
    assert "frequency" in document["components"]["schemas"]["FlacOptions"]["properties"]
    assert "/jobs/{job_id}" in document["paths"] and "/dl/upload-file/{job_id}" in document["paths"]


def test_unknown_paths_and_methods_answer_json(api):
    response = api("GET", "/nothing/here")
    assert response.status_code == 404 and response.json() == {"message": "Not found."}
    assert api("GET", "/jobs/not-a-uuid").status_code == 404
    response = api("PUT", "/jobs")
    assert response.status_code == 405 and "POST" in response["Allow"] and response.json()["message"]


def test_public_url_sets_the_absolute_urls(api, settings):
    settings.PUBLIC_URL = "https://flac.example"
    assert api.create().json()["server"] == "https://flac.example/v2/dl"
