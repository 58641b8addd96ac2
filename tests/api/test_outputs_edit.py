"""PATCH and DELETE of a finished job's outputs: a new download name, download passwords of the
output's own, deletion; who may, and when."""

import pytest

from converter.models import Job, JobEvent, JobOutput
from tests.api.conftest import Api, demote

pytestmark = pytest.mark.django_db


def _output_path(job: dict) -> str:
    return f"/jobs/{job['id']}/output/{job['output'][0]['id']}"


def _download(client, output: dict, password: str | None = None):
    path = "/" + output["uri"].split("://", 1)[1].split("/", 1)[1]
    return client.get(path, headers={"X-Oc-Download-Password": password} if password else {})


def test_rename_keeps_the_extension_and_names_the_download(api, client, completed):
    response = api("PATCH", _output_path(completed), {"filename": "Side A: take 2.flac"})
    assert response.status_code == 200, response.content
    assert response.json()["filename"] == "Side A_ take 2.flac"  # made safe, ".flac" not doubled
    download = _download(client, response.json(), "pw")
    assert 'filename="Side A_ take 2.flac"' in download["Content-Disposition"]
    assert JobEvent.objects.filter(message__contains="renamed to “Side A_ take 2.flac”").exists()


def test_an_output_password_replaces_the_jobs(api, client, completed):
    response = api("PATCH", _output_path(completed), {"download_password": "new-one"})
    assert response.status_code == 200, response.content
    output = response.json()
    assert _download(client, output, "pw").status_code == 403  # the job's no longer opens it
    assert _download(client, output, "new-one").status_code == 200
    # An empty password opens it to anyone with the link; the job keeps its own.
    assert api("PATCH", _output_path(completed), {"download_password": ""}).status_code == 200
    assert _download(client, output).status_code == 200
    assert Job.objects.get().has_password


def test_patch_of_all_outputs_at_once(api, client, completed):
    response = api("PATCH", f"/jobs/{completed['id']}/output", {"filename": "all", "download_password": "x"})
    assert response.status_code == 200, response.content
    [output] = response.json()
    assert output["filename"] == "all.flac" and _download(client, output, "x").status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"filename": "  "}, "filename"), ({"filename": 3}, "filename"), ({"name": "x"}, "name"),
    ({"download_password": "é"}, "download_password"),
])
def test_bad_patches_are_400_naming_the_field(api, completed, body, field):
    response = api("PATCH", _output_path(completed), body)
    assert response.status_code == 400 and field in response.json()["message"], response.content
    assert JobOutput.objects.get().download_name == "tone.flac"


def test_delete_removes_the_file_and_keeps_the_usage(api, client, completed,
                                                     django_capture_on_commit_callbacks):
    output = JobOutput.objects.get()
    stored, storage = output.file.name, output.file.storage
    with django_capture_on_commit_callbacks(execute=True):
        assert api("DELETE", _output_path(completed)).status_code == 204
    assert not storage.exists(stored) and not JobOutput.objects.exists()
    assert api("GET", _output_path(completed)).status_code == 404
    assert _download(client, completed["output"][0], "pw").status_code == 404
    job = Job.objects.get()
    assert job.status == Job.Status.COMPLETED and job.output_bytes == completed["output"][0]["size"]
    assert JobEvent.objects.filter(message="Output “tone.flac” deleted.").exists()


def test_who_may_change_outputs(api, client, team, alice, completed, bob_api, charlie_api):
    assert bob_api("DELETE", _output_path(completed)).status_code == 403  # a member, not the creator
    assert charlie_api("PATCH", _output_path(completed), {"filename": "x"}).status_code == 404  # another team
    assert Api(client, None)("DELETE", _output_path(completed)).status_code == 401
    demote(team, alice)  # the creator, now a viewer
    assert api("PATCH", _output_path(completed), {"filename": "x"}).status_code == 403
    assert JobOutput.objects.get().download_name == "tone.flac"


def test_only_once_the_job_has_ended_and_not_an_api2convert_password(api, completed):
    Job.objects.update(status=Job.Status.PROCESSING)
    response = api("PATCH", _output_path(completed), {"filename": "x"})
    assert response.status_code == 409 and "processing" in response.json()["message"]
    Job.objects.update(status=Job.Status.COMPLETED)
    JobOutput.objects.update(remote_uri="https://api2convert.example/dl/x.flac")
    response = api("PATCH", _output_path(completed), {"download_password": "x"})
    assert response.status_code == 409 and "api2convert" in response.json()["message"]
    assert api("PATCH", _output_path(completed), {"filename": "x"}).status_code == 200


def test_changing_every_output_of_a_job_without_any_is_refused_as_for_one(api, team, alice, completed):
    """A running job has no outputs yet, and a viewer may change none: the list answers as one
    output would, not 200 with nothing done."""
    every_output = f"/jobs/{completed['id']}/output"
    Job.objects.update(status=Job.Status.PROCESSING)
    JobOutput.objects.all().delete()
    response = api("PATCH", every_output, {"filename": "x"})
    assert response.status_code == 409 and "processing" in response.json()["message"]
    Job.objects.update(status=Job.Status.FAILED)
    assert api("PATCH", every_output, {"filename": "x"}).json() == []  # ended: none to change
    demote(team, alice)
    assert api("PATCH", every_output, {"filename": "x"}).status_code == 403


def test_the_page_follows_the_outputs_own_password(api, client, alice, completed):
    client.force_login(alice)
    page = f"/jobs/{completed['id']}/"
    play = f"/outputs/{completed['output'][0]['id']}/play"
    assert play not in client.get(page).content.decode()  # the job's password: locked
    api("PATCH", _output_path(completed), {"download_password": ""})
    assert play in client.get(page).content.decode()  # the output has none of its own
