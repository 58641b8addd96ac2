"""The vendor's official Python SDK, unchanged, against a live server: only the base URL differs."""

import httpx
import pytest
from api2convert import Api2Convert, AuthenticationError, NotFoundError, ValidationError

from converter.models import Job


def test_convert_and_download_with_the_sdk(sdk, wav, tmp_path, team):
    result = sdk.convert(wav, "flac", {"frequency": 16000, "channels": "stereo"}, category="audio",
                         download_password="pw")
    saved = result.save(tmp_path / "out.flac")
    assert saved.read_bytes()[:4] == b"fLaC" and saved.stat().st_size == result.output().size
    assert result.output().filename == "tone.flac"
    job = Job.objects.get(pk=result.job.id)
    assert job.team == team and job.status == Job.Status.COMPLETED  # in the team's history

    # The URI itself: the password is needed, by header or cookie.
    assert httpx.get(result.url()).status_code == 403
    assert httpx.get(result.url(), headers={"X-Oc-Download-Password": "pw"}).content == saved.read_bytes()
    assert httpx.get(result.url(), cookies={"x-oc-download-password": "pw"}).status_code == 200
    assert sdk.jobs.outputs(result.job.id)[0].uri == result.url()


def test_step_by_step_with_the_sdk(sdk, wav):
    created = sdk.jobs.create({"conversion": [{"target": "flac"}], "process": False})
    assert created.status.code == "incomplete"
    uploaded = sdk.jobs.upload(created, wav)
    assert uploaded.filename == "tone.wav" and uploaded.type == "upload"
    sdk.jobs.upload(created, wav, filename="again.wav")
    sdk.jobs.start(created.id)
    done = sdk.jobs.wait(created.id)
    assert done.is_completed() and len(done.output) == 1  # two inputs, one ZIP by default
    assert [job.id for job in sdk.jobs.list()] == [created.id]
    assert sdk.download(done.output[0]).contents()[:2] == b"PK"


def test_options_and_errors_through_the_sdk(sdk, live_server):
    assert sdk.options("flac", "audio")["audio_bitdepth"]["enum"] == [8, 16, 24, 32]
    with pytest.raises(ValidationError, match="frequency"):
        sdk.jobs.create({"conversion": [{"target": "flac", "options": {"frequency": 7}}]})
    with pytest.raises(ValidationError, match="target"):
        sdk.jobs.create({"conversion": [{"target": "mp3"}]})
    created = sdk.jobs.create({"conversion": [{"target": "flac"}], "process": False})
    sdk.jobs.cancel(created.id)
    assert sdk.jobs.get(created.id).is_canceled()
    with pytest.raises(NotFoundError):
        sdk.jobs.get("00000000-0000-4000-8000-000000000000")
    with Api2Convert("fk_not-a-key", base_url=live_server.url + "/v2") as stranger, \
            pytest.raises(AuthenticationError, match="Invalid api key"):
        stranger.jobs.list()
