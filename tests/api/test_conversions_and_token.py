"""A job's one conversion (/jobs/{id}/conversions), its threads, and the job's token on its endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from converter.models import Job, Team
from converter.options import BUILTIN_PRESETS
from tests.api.conftest import Api, demote, new_job

pytestmark = pytest.mark.django_db


AT_48K = {"conversion": [{"target": "flac", "options": {"frequency": 48000}}], "process": False}


def _conversion_path(job: dict) -> str:
    return f"/jobs/{job['id']}/conversions/{job['conversion'][0]['id']}"


def test_the_one_conversion_is_listed_and_read(api):
    job = new_job(api, AT_48K)
    listed = api("GET", f"/jobs/{job['id']}/conversions").json()
    assert listed == job["conversion"] and listed[0]["target"] == "flac" and listed[0]["category"] == "audio"
    assert api("GET", _conversion_path(job)).json() == listed[0]
    response = api("GET", f"/jobs/{job['id']}/conversions/other-id")
    assert response.status_code == 404 and response.json()["message"]


def test_patch_replaces_the_options_validated_as_at_creation(api):
    job = new_job(api, AT_48K)
    response = api("PATCH", _conversion_path(job), {"options": {"channels": "mono", "audio_bitdepth": "16"}})
    assert response.status_code == 200
    assert response.json()["options"] == {"channels": "mono", "audio_bitdepth": 16}
    assert Job.objects.get(pk=job["id"]).options == {"channels": "mono", "audio_bitdepth": 16}
    assert api("GET", f"/jobs/{job['id']}").json()["conversion"][0]["options"]["channels"] == "mono"
    # A preset fills what is not given; what is given wins.
    response = api("PATCH", _conversion_path(job), {"options": {"preset": "CD quality", "frequency": 48000}})
    assert response.json()["options"] == {**BUILTIN_PRESETS["CD quality"], "preset": "CD quality",
                                          "frequency": 48000}
    # No options: nothing changes.
    assert api("PATCH", _conversion_path(job), {}).json() == response.json()


@pytest.mark.parametrize(("body", "named"), [
    ({"options": {"frequency": 12345}}, "frequency"),
    ({"options": {"bitrate": "320"}}, "bitrate"),
    ({"options": {"start": "00:00:10", "end": "00:00:05"}}, "end"),
    ({"options": {"preset": "Nope"}}, "preset"),
    ({"options": "x"}, "options"),
    ({"metadata": {"author": "me"}}, "metadata"),
    ({"target": "mp3", "options": {}}, "target"),
])
def test_bad_patches_are_400_naming_the_option(api, body, named):
    job = new_job(api)
    response = api("PATCH", _conversion_path(job), body)
    assert response.status_code == 400 and named in response.json()["errors"], response.json()
    assert named in response.json()["message"]
    assert Job.objects.get(pk=job["id"]).options == {}


def test_a_download_password_in_the_options_replaces_the_jobs(api):
    job = new_job(api, {"conversion": [{"target": "flac"}], "process": False, "download_passwords": ["old"]})
    assert len(Job.objects.get(pk=job["id"]).password_hashes) == 1
    api("PATCH", _conversion_path(job), {"options": {"download_password": "one,two"}})
    stored = Job.objects.get(pk=job["id"])
    assert len(stored.password_hashes) == 2 and "download_password" not in stored.options
    api("PATCH", _conversion_path(job), {"options": {"frequency": 8000}})
    assert len(Job.objects.get(pk=job["id"]).password_hashes) == 2  # not named: kept


def test_a_remote_engine_job_keeps_the_new_password_for_api2convert(api, team):
    job = new_job(api)
    Job.objects.filter(pk=job["id"]).update(engine=Team.Engine.API2CONVERT)
    api("PATCH", _conversion_path(job), {"options": {"download_password": "s3cret"}})
    assert Job.objects.get(pk=job["id"]).remote_password_encrypted


def test_options_change_only_before_the_start_and_by_whom_may(api, bob_api, team, bob):
    job = new_job(api)
    response = bob_api("PATCH", _conversion_path(job), {"options": {"frequency": 8000}})
    assert response.status_code == 403  # a member, not the creator
    bobs = new_job(bob_api)
    demote(team, bob)
    assert bob_api("PATCH", _conversion_path(bobs), {"options": {"frequency": 8000}}).status_code == 403
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.QUEUED)
    response = api("PATCH", _conversion_path(job), {"options": {"frequency": 8000}})
    assert response.status_code == 409 and "queued" in response.json()["message"]
    assert Job.objects.get(pk=job["id"]).options == {}


def test_no_second_conversion_and_no_removal(api):
    job = new_job(api)
    second = {"target": "flac", "options": {"frequency": 8000}}
    response = api("POST", f"/jobs/{job['id']}/conversions", second)
    assert response.status_code == 400
    assert "exactly one conversion" in response.json()["message"] and "PATCH" in response.json()["message"]
    response = api("POST", f"/jobs/{job['id']}/conversions", {"target": "mp3"})
    assert response.status_code == 400 and "target" in response.json()["errors"]
    response = api("POST", f"/jobs/{job['id']}/conversions", {"target": "flac", "options": {"frequency": 7}})
    assert response.status_code == 400 and "frequency" in response.json()["errors"]
    response = api("DELETE", _conversion_path(job))
    assert response.status_code == 409 and "cancel" in response.json()["message"]
    assert len(api("GET", f"/jobs/{job['id']}/conversions").json()) == 1


def test_threads(api):
    job = new_job(api)
    assert api("GET", f"/jobs/{job['id']}/threads").json() == []
    started = timezone.now() - timedelta(seconds=30)
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.PROCESSING, started_at=started, progress=42.4)
    [thread] = api("GET", f"/jobs/{job['id']}/threads").json()
    assert thread["status"] == 42 and thread["info"] == "processing" and 29 <= thread["exec_time"] <= 60
    assert set(thread) == {"hash", "status", "info", "exec_time", "created_at", "modified_at"}


@pytest.mark.parametrize("header", ["X-Api2convert-Token", "X-Oc-Token"])
def test_the_jobs_token_opens_its_own_endpoints(client, api, header, private_urls):
    job = new_job(api)
    holder = Api(client, job["token"], header)
    assert holder("GET", f"/jobs/{job['id']}").json()["id"] == job["id"]
    for part in ("/input", "/output", "/history", "/conversions", "/threads"):
        assert holder("GET", f"/jobs/{job['id']}{part}").status_code == 200, part
    added = holder("POST", f"/jobs/{job['id']}/input", {"source": "http://127.0.0.1:9/a.wav"})
    assert added.status_code == 201
    response = holder("PATCH", _conversion_path(job), {"options": {"frequency": 8000}})
    assert response.status_code == 200
    assert holder("DELETE", f"/jobs/{job['id']}").status_code == 204
    assert api("GET", f"/jobs/{job['id']}").json()["status"]["code"] == "canceled"


def test_a_token_opens_no_other_job_and_no_account_endpoint(client, api):
    job, other = new_job(api), new_job(api)
    holder = Api(client, job["token"], "X-Api2convert-Token")
    response = holder("GET", f"/jobs/{other['id']}")
    assert response.status_code == 401 and response.json() == {"message": "Invalid token"}
    assert holder("GET", "/jobs/00000000-0000-4000-8000-000000000000").status_code == 404
    for path in ("/jobs", "/presets", "/contracts"):
        assert holder("GET", path).json() == {"message": "Invalid api key"}, path
    assert Api(client, "0" * 32, "X-Api2convert-Token")("GET", f"/jobs/{job['id']}").status_code == 401


def test_with_both_the_key_decides(client, api, charlie_api, issued):
    job = new_job(api)
    response = client.get(f"/v2/jobs/{job['id']}", headers={"X-Api2convert-Token": job["token"],
                                                             "X-Api2convert-Api-Key": "fk_wrong"})
    assert response.status_code == 401 and response.json() == {"message": "Invalid api key"}
    charlie_key = charlie_api.headers["X-Api2convert-Api-Key"]
    response = client.get(f"/v2/jobs/{job['id']}", headers={"X-Api2convert-Token": job["token"],
                                                             "X-Api2convert-Api-Key": charlie_key})
    assert response.status_code == 404


def test_a_token_acts_for_the_jobs_creator(client, bob_api, team, bob):
    job = new_job(bob_api)
    holder = Api(client, job["token"], "X-Api2convert-Token")
    demote(team, bob)
    assert holder("GET", f"/jobs/{job['id']}").status_code == 200
    assert holder("DELETE", f"/jobs/{job['id']}").status_code == 403
