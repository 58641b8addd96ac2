"""The password that opens a protected input (the vendor's credentials.decrypt_password): given in
the job's input list, on POST /jobs/{id}/input, or by PATCH /jobs/{id}/input/{file_id}; kept
encrypted, never returned, and forgotten once the job has run."""

import json

import pytest

from converter.models import Job, JobInput
from converter.services.jobs import job_finish
from converter.services.passwords import input_password
from tests.api.conftest import CREATE, demote, new_job

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/archive.zip"


def _stored(input_id: str) -> JobInput:
    return JobInput.objects.get(pk=input_id)


def test_a_url_in_the_job_body_keeps_its_password_encrypted_and_unseen(api, private_urls):
    protected = {"type": "remote", "source": URL, "credentials": {"decrypt_password": "s3cret"}}
    body = {**CREATE, "input": [protected, {"type": "remote", "source": "http://127.0.0.1:9/plain.wav"}]}
    job = new_job(api, body)
    protected, plain = (_stored(item["id"]) for item in job["input"])
    assert input_password(protected) == "s3cret" and "s3cret" not in protected.decrypt_password_encrypted
    assert input_password(plain) == ""
    assert "s3cret" not in json.dumps(api("GET", f"/jobs/{job['id']}").json())


def test_an_added_input_takes_its_password(api, private_urls):
    job = new_job(api)
    response = api("POST", f"/jobs/{job['id']}/input",
                   {"type": "remote", "source": URL, "credentials": {"decrypt_password": "s3cret"}})
    assert response.status_code == 201 and "s3cret" not in response.content.decode()
    assert input_password(_stored(response.json()["id"])) == "s3cret"


def test_patch_gives_changes_and_removes_an_uploaded_inputs_password(api):
    job = new_job(api)
    uploaded = api.upload(job).json()
    path = f"/jobs/{job['id']}/input/{uploaded['id']}"
    response = api("PATCH", path, {"credentials": {"decrypt_password": "first"}, "parameters": {}})
    assert response.status_code == 200 and response.json()["id"] == uploaded["id"]
    assert "first" not in response.content.decode()
    assert input_password(_stored(uploaded["id"])) == "first"
    api("PATCH", path, {"credentials": {"decrypt_password": "second"}})
    assert input_password(_stored(uploaded["id"])) == "second"
    api("PATCH", path, {"credentials": {"decrypt_password": None}})
    assert _stored(uploaded["id"]).decrypt_password_encrypted == ""


@pytest.mark.parametrize(("body", "named"), [
    ({"credentials": {"token": "abc"}}, "credentials.token"),  # cloud credentials: not fetched here
    ({"credentials": {"decrypt_password": 5}}, "credentials.decrypt_password"),
    ({"credentials": {"decrypt_password": "x" * 201}}, "credentials.decrypt_password"),
    ({"credentials": "s3cret"}, "credentials"),
    ({"parameters": {"delete_after_use": True}, "credentials": {}}, "parameters"),
    ({"options": {}}, "options"),
    ({}, "credentials"),
])
def test_a_bad_patch_is_400_naming_the_field(api, body, named):
    job = new_job(api)
    uploaded = api.upload(job).json()
    response = api("PATCH", f"/jobs/{job['id']}/input/{uploaded['id']}", body)
    assert response.status_code == 400 and named in response.json()["errors"], response.json()
    assert _stored(uploaded["id"]).decrypt_password_encrypted == ""


def test_a_bad_password_in_the_job_body_is_400_and_makes_no_job(api, private_urls):
    bad = {"type": "remote", "source": URL, "credentials": {"decrypt_password": ["x"]}}
    response = api.create({**CREATE, "input": [bad]})
    assert response.status_code == 400
    assert "input[0].credentials.decrypt_password" in response.json()["errors"]
    assert not Job.objects.exists()


def test_only_an_incomplete_job_and_whoever_may_change_it_patch_a_password(api, bob_api, team, bob):
    job = new_job(api)
    uploaded = api.upload(job).json()
    path = f"/jobs/{job['id']}/input/{uploaded['id']}"
    patch = {"credentials": {"decrypt_password": "s3cret"}}
    demote(team, bob)
    assert bob_api("PATCH", path, patch).status_code == 403
    missing = f"/jobs/{job['id']}/input/00000000-0000-4000-8000-000000000000"
    assert api("PATCH", missing, patch).status_code == 404
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.QUEUED)
    assert api("PATCH", path, patch).status_code == 409
    assert _stored(uploaded["id"]).decrypt_password_encrypted == ""


def test_an_ended_job_forgets_its_inputs_passwords(api, private_urls):
    protected = {"type": "remote", "source": URL, "credentials": {"decrypt_password": "s3cret"}}
    job = Job.objects.get(pk=new_job(api, {**CREATE, "input": [protected]})["id"])
    job_finish(job, Job.Status.FAILED, info="Gave up.")
    assert job.inputs.get().decrypt_password_encrypted == ""
