"""Adding, reusing, patching and removing a job's inputs through /jobs/{id}/input, before it starts."""

import os

import pytest

from converter.models import Job, JobInput
from converter.services import job_edits
from converter.services.jobs import stored_again
from tests.api.conftest import demote, new_job

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/talk.mp3"


def test_add_a_url_then_start(api, private_urls, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("converter.tasks.job_run.delay", queued.append)
    job = new_job(api)
    response = api("POST", f"/jobs/{job['id']}/input", {"type": "remote", "source": URL})
    assert response.status_code == 201
    added = response.json()
    assert added["type"] == "remote" and added["source"] == URL and added["filename"] == "talk.mp3"
    assert api("GET", f"/jobs/{job['id']}/input").json() == [added]
    with django_capture_on_commit_callbacks(execute=True):
        started = api("PATCH", f"/jobs/{job['id']}", {"process": True})
    assert started.json()["status"]["code"] == "queued" and queued == [job["id"]]


@pytest.mark.parametrize(("body", "named"), [
    ({"type": "remote", "source": "http://127.0.0.1/a.wav"}, "source"),  # private, as at creation
    ({"type": "remote", "source": "ftp://example.com/a.wav"}, "source"),
    ({"type": "remote"}, "source"),
    ({"source": 5}, "source"),
    ({"type": "base64", "source": "AAAA"}, "type"),
    ({"type": "cloud", "source": "amazons3"}, "type"),
    ({"type": "input_id", "source": "not-an-id"}, "source"),
    ({"type": "input_id", "source": "00000000-0000-4000-8000-000000000000"}, "source"),
])
def test_refused_inputs_are_400_naming_the_field(api, body, named):
    job = new_job(api)
    response = api("POST", f"/jobs/{job['id']}/input", body)
    assert response.status_code == 400 and named in response.json()["errors"], response.json()
    assert not JobInput.objects.exists()


def test_an_upload_input_points_to_the_upload_endpoint(api):
    job = new_job(api)
    response = api("POST", f"/jobs/{job['id']}/input", {"type": "upload", "source": "tone.wav"})
    assert response.status_code == 400
    assert f"http://testserver/v2/dl/upload-file/{job['id']}" in response.json()["message"]


def test_inputs_are_added_only_while_incomplete_and_within_the_limit(api, private_urls, settings):
    job = new_job(api)
    settings.MAX_UPLOAD_FILES = 1
    assert api("POST", f"/jobs/{job['id']}/input", {"source": URL}).status_code == 201
    response = api("POST", f"/jobs/{job['id']}/input", {"source": URL})
    assert response.status_code == 400 and "At most 1" in response.json()["message"]
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.QUEUED)
    settings.MAX_UPLOAD_FILES = 50
    response = api("POST", f"/jobs/{job['id']}/input", {"source": URL})
    assert response.status_code == 409 and "queued" in response.json()["message"]


def test_reuse_an_uploaded_input_of_another_job(api, charlie_api):
    first = new_job(api)
    uploaded = api.upload(first).json()
    second = new_job(api)
    response = api("POST", f"/jobs/{second['id']}/input", {"type": "input_id", "source": uploaded["id"]})
    assert response.status_code == 201
    copy = JobInput.objects.get(pk=response.json()["id"])
    original = JobInput.objects.get(pk=uploaded["id"])
    assert copy.job_id != original.job_id and copy.filename == "tone.wav"
    assert copy.file.name != original.file.name
    assert copy.file.read() == original.file.read()
    # Another team's input does not exist for this caller.
    theirs = new_job(charlie_api)
    reuse = {"type": "input_id", "source": uploaded["id"]}
    response = charlie_api("POST", f"/jobs/{theirs['id']}/input", reuse)
    assert response.status_code == 400 and "source" in response.json()["errors"]


def test_a_job_started_while_its_reused_file_was_copied_keeps_no_copy(api, monkeypatch):
    """The file is linked or copied outside the transaction (services/jobs.py stored_again); a job
    started meanwhile refuses it under the lock, and the copy goes again."""
    first = new_job(api)
    uploaded = api.upload(first).json()
    storage = JobInput.objects.get(pk=uploaded["id"]).file.storage
    second = new_job(api)

    def copied_then_started(job, source, password_encrypted):
        copy = stored_again(job, source, password_encrypted)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # another request's start
        return copy

    monkeypatch.setattr(job_edits, "stored_again", copied_then_started)
    response = api("POST", f"/jobs/{second['id']}/input", {"type": "input_id", "source": uploaded["id"]})
    assert response.status_code == 409 and "queued" in response.json()["message"]
    assert [names for _, _, names in os.walk(storage.path(f"jobs/{second['id']}")) if names] == []
    assert JobInput.objects.filter(job_id=second["id"]).count() == 0


def test_reuse_a_url_input_adds_the_url_again(api, private_urls):
    first = new_job(api)
    added = api("POST", f"/jobs/{first['id']}/input", {"source": URL}).json()
    second = new_job(api)
    response = api("POST", f"/jobs/{second['id']}/input", {"type": "input_id", "source": added["id"]})
    assert response.status_code == 201 and response.json()["type"] == "remote"
    assert response.json()["source"] == URL


def test_remove_an_input_and_its_file(api, django_capture_on_commit_callbacks):
    job = new_job(api)
    uploaded = api.upload(job).json()
    stored = JobInput.objects.get(pk=uploaded["id"]).file
    storage, name = stored.storage, stored.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = api("DELETE", f"/jobs/{job['id']}/input/{uploaded['id']}")
    assert response.status_code == 204 and not storage.exists(name)
    assert api("GET", f"/jobs/{job['id']}/input/{uploaded['id']}").status_code == 404
    assert api("DELETE", f"/jobs/{job['id']}/input/{uploaded['id']}").status_code == 404


def test_inputs_of_a_started_job_stay(api):
    job = new_job(api)
    uploaded = api.upload(job).json()
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.PROCESSING)
    response = api("DELETE", f"/jobs/{job['id']}/input/{uploaded['id']}")
    assert response.status_code == 409 and JobInput.objects.filter(pk=uploaded["id"]).exists()


def test_patch_inputs(api):
    job = new_job(api)
    uploaded = api.upload(job).json()
    response = api("PATCH", f"/jobs/{job['id']}/input", [{"id": uploaded["id"], "options": {}}])
    assert response.status_code == 200 and [item["id"] for item in response.json()] == [uploaded["id"]]
    # The errors name the fields as the body has them: in one object, or in a list.
    response = api("PATCH", f"/jobs/{job['id']}/input", {"id": uploaded["id"], "options": {"x": 1}})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["options"]
    response = api("PATCH", f"/jobs/{job['id']}/input", {"a": 1})
    assert response.json()["message"] == "id: Give the id of one of the job's inputs."
    response = api("PATCH", f"/jobs/{job['id']}/input", [{"id": uploaded["id"]}, {"id": "nope"}])
    assert response.status_code == 400 and list(response.json()["errors"]) == ["[1].id"]
    response = api("PATCH", f"/jobs/{job['id']}/input", [{"id": "00000000-0000-4000-8000-000000000000"}])
    assert response.status_code == 404
    assert api("PATCH", f"/jobs/{job['id']}/input", "[1]").json()["errors"] == {"[0]": "Must be an object."}
    response = api("PATCH", f"/jobs/{job['id']}/input", "5")
    assert response.json()["message"] == "The JSON body must be an input object or a list of them."
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.COMPLETED)
    assert api("PATCH", f"/jobs/{job['id']}/input", [{"id": uploaded["id"]}]).status_code == 409


def test_roles_decide_who_changes_inputs(api, bob_api, team, bob, private_urls):
    """As deleting a job: its creator, or an owner or admin; never a viewer."""
    alices = new_job(api)
    uploaded = api.upload(alices).json()
    response = bob_api("DELETE", f"/jobs/{alices['id']}/input/{uploaded['id']}")
    assert response.status_code == 403 and "message" in response.json()
    assert bob_api("POST", f"/jobs/{alices['id']}/input", {"source": URL}).status_code == 403
    assert bob_api("GET", f"/jobs/{alices['id']}/input").status_code == 200  # members read
    bobs = new_job(bob_api)
    assert bob_api("POST", f"/jobs/{bobs['id']}/input", {"source": URL}).status_code == 201
    assert api("POST", f"/jobs/{bobs['id']}/input", {"source": URL}).status_code == 201  # the owner may
    # bob, demoted to viewer, may no longer change his own job.
    demote(team, bob)
    assert bob_api("POST", f"/jobs/{bobs['id']}/input", {"source": URL}).status_code == 403
    assert bob_api("DELETE", f"/jobs/{bobs['id']}").status_code == 403
    assert bob_api("GET", f"/jobs/{bobs['id']}").status_code == 200


def test_other_teams_inputs_do_not_exist(api, charlie_api, private_urls):
    job = new_job(api)
    uploaded = api.upload(job).json()
    assert charlie_api("POST", f"/jobs/{job['id']}/input", {"source": URL}).status_code == 404
    assert charlie_api("DELETE", f"/jobs/{job['id']}/input/{uploaded['id']}").status_code == 404
    assert charlie_api("PATCH", f"/jobs/{job['id']}/input", [{"id": uploaded["id"]}]).status_code == 404
    assert JobInput.objects.filter(job_id=job["id"]).count() == 1
