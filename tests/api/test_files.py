"""Uploads with the job's token, and downloads of real results through the output URIs."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.models import Job, JobOutput
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", ["X-Api2convert-Token", "X-Oc-Token"])
def test_upload_with_the_jobs_token(api, header):
    job = api.create().json()
    first = api.upload(job, headers={header: job["token"]})
    assert first.status_code == 200
    body = first.json()
    assert body["type"] == "upload" and body["filename"] == "tone.wav" and body["status"] == "ready"
    assert body["size"] > 0
    assert api.upload(job, name="second.wav").status_code == 200
    assert len(api("GET", f"/jobs/{job['id']}").json()["input"]) == 2


def test_upload_refuses_the_account_key_and_wrong_tokens(api, issued):
    job = api.create().json()
    response = api.upload(job, headers={"X-Api2convert-Api-Key": issued.key})
    assert response.status_code == 401 and "account key" in response.json()["message"]
    assert api.upload(job, headers={"X-Api2convert-Token": "0" * 32}).json() == {"message": "Invalid token"}
    assert api.upload(job, headers={}).status_code == 401
    assert not Job.objects.get().inputs.exists()


def test_upload_refusals(api, client, settings):
    job = api.create().json()
    url = f"/v2/dl/upload-file/{job['id']}"
    token = {"X-Api2convert-Token": job["token"]}
    refused = client.post(url, {"other": "x"}, headers=token)  # no "file" field
    assert refused.status_code == 400 and "with a file name" in refused.json()["errors"]["file"]
    # Two files in one request: refused, rather than one kept and the other dropped unsaid.
    two = [SimpleUploadedFile(name, b"RIFF....WAVE", content_type="audio/wav") for name in ("a.wav", "b.wav")]
    refused = client.post(url, {"file": two}, headers=token)
    assert refused.status_code == 400 and "One file per request: this one held 2." in refused.content.decode()
    assert not Job.objects.get().inputs.exists()
    assert client.post(url, "garbage", content_type="multipart/form-data; boundary=zz",
                       headers=token).status_code == 400
    settings.MAX_UPLOAD_BYTES = 10
    assert api.upload(job).status_code == 413
    settings.MAX_UPLOAD_BYTES = 10**9
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.QUEUED)
    assert api.upload(job).status_code == 409
    missing = {**job, "id": "00000000-0000-4000-8000-000000000000"}
    assert api.upload(missing).status_code == 404


def _path(uri: str) -> str:
    return "/" + uri.split("://", 1)[1].split("/", 1)[1]


def test_completed_job_lists_its_output(api, completed):
    assert completed["status"]["code"] == "completed", completed
    [output] = completed["output"]
    assert output["uri"] == f"http://testserver/v2/dl/output/{output['id']}"
    assert output["filename"] == "tone.flac" and output["content_type"] == "audio/flac"
    assert output["status"] == "enabled" and output["size"] > 0
    stored = JobOutput.objects.get(pk=output["id"]).file
    with stored.open("rb") as stream:
        assert output["checksum"] == hashlib.file_digest(stream, "sha256").hexdigest()
    assert output["source"]["input"] == [completed["input"][0]["id"]]
    assert output["metadata"]["sample_rate"] == 8000
    assert api("GET", f"/jobs/{completed['id']}/output").json() == [output]
    history = [event["status"] for event in api("GET", f"/jobs/{completed['id']}/history").json()]
    assert history == ["incomplete", "processing", "completed"]  # an upload: nothing downloaded


@pytest.mark.parametrize("how", [{"headers": {"X-Api2convert-Download-Password": "pw"}},
                                 {"headers": {"X-Oc-Download-Password": "wrong,other"}},
                                 {"cookie": "pw"}])
def test_download_with_the_password(client, completed, how):
    output = completed["output"][0]
    if "cookie" in how:
        client.cookies["x-oc-download-password"] = how["cookie"]
    response = client.get(_path(output["uri"]), headers=how.get("headers", {}))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content[:4] == b"fLaC" and len(content) == output["size"]
    assert JobOutput.objects.get().downloads_counter == 1


@pytest.mark.parametrize("headers", [{}, {"X-Api2convert-Download-Password": "nope"}])
def test_download_without_the_password_gives_no_bytes(client, completed, headers):
    response = client.get(_path(completed["output"][0]["uri"]), headers=headers)
    assert response.status_code == 403 and "password" in response.json()["message"]


def test_download_ranges_and_expiry(client, completed):
    uri = _path(completed["output"][0]["uri"])
    password = {"X-Api2convert-Download-Password": "pw"}
    response = client.get(uri, headers={**password, "Range": "bytes=0-3"})
    assert response.status_code == 206 and b"".join(response.streaming_content) == b"fLaC"
    JobOutput.objects.update(status=JobOutput.Status.EXPIRED)
    assert client.get(uri, headers=password).status_code == 410
    assert client.get("/v2/dl/output/00000000-0000-4000-8000-000000000000").status_code == 404


def test_download_needs_no_account_key_but_job_reads_do(client, completed):
    assert Api(client, None)("GET", f"/jobs/{completed['id']}").status_code == 401
