"""The whole api2convert flow against the fake server: submit → poll → completed → proxied download."""

from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from converter.models import Job, JobInput, JobOutput
from converter.providers.api2convert import poll
from converter.services.downloads import output_response
from converter.services.jobs import job_create
from tests.media import wav_bytes
from tests.providers.conftest import poll_until_done, run_job, submit


def _download(output, **headers):
    request = RequestFactory().get("/download", headers=headers)
    request.session = SessionStore()
    response = output_response(request, output)
    return response, b"".join(response.streaming_content) if response.streaming else response.content


def test_submit_poll_complete_and_download(fake, make_job, scheduled):
    job = make_job({"channels": "mono"})
    assert job.engine == "api2convert" and job.remote_password_encrypted == ""

    delays = run_job(job, scheduled)

    assert job.status == Job.Status.COMPLETED and job.progress == 100 and job.spent == 1
    assert job.remote_id in fake.jobs and job.remote_token and job.remote_server
    assert scheduled == [("converter.api2convert_poll", (str(job.pk), 1.0), 1.0)]
    assert delays == [1.5]  # the fake finishes on the second read
    created = fake.jobs[job.remote_id].payload
    assert created["process"] is False and created["conversion"][0]["options"] == {"channels": "mono"}
    assert "download_passwords" not in created and "callback" not in created
    assert len(fake.calls("POST", "/v2/jobs")) == 1 and len(fake.calls("PATCH")) == 1
    upload = fake.calls("POST", "/upload/upload-file/")[0]
    assert upload["X-Api2convert-Token"] == job.remote_token and "X-Api2convert-Api-Key" not in upload

    output = job.outputs.get()
    assert output.remote_uri.startswith(fake.url) and not output.file and output.download_name == "song.flac"
    response, body = _download(output)
    assert response.status_code == 200 and body.startswith(b"fLaC")
    assert body == fake.jobs[job.remote_id].outputs[0]["path"].read_bytes()
    assert response["Content-Length"] == str(len(body))
    assert 'filename="song.flac"' in response["Content-Disposition"]
    output.refresh_from_db()
    assert output.downloads_counter == 1

    response, part = _download(output, Range="bytes=4-9")
    assert response.status_code == 206 and part == body[4:10]
    assert response["Content-Range"] == f"bytes 4-9/{len(body)}"
    response, _ = _download(output, Range=f"bytes={len(body) + 10}-")
    assert response.status_code == 416


def test_download_password_is_sent_once_then_forwarded_from_the_user(fake, make_job, scheduled):
    job = make_job({"download_password": "s3cret,other"})
    assert job.remote_password_encrypted and "s3cret" not in job.remote_password_encrypted

    run_job(job, scheduled)

    assert fake.jobs[job.remote_id].payload["download_passwords"] == ["s3cret", "other"]
    assert job.remote_password_encrypted == ""  # sent: wiped
    output = job.outputs.get()
    response, body = _download(output)
    assert response.status_code == 403 and b"password" in body
    response, body = _download(output, **{"X-Oc-Download-Password": "wrong,other"})
    assert response.status_code == 200 and body.startswith(b"fLaC")
    forwarded = fake.calls("GET", "/dl/")[-1]
    assert forwarded["X-Api2convert-Download-Password"] == "wrong,other"


def test_a_session_that_unlocked_the_output_keeps_streaming_it(fake, make_job, scheduled):
    job = make_job({"download_password": "s3cret"})
    run_job(job, scheduled)
    output = job.outputs.get()
    session = SessionStore()
    factory = RequestFactory()
    first = factory.get("/", headers={"X-Api2convert-Download-Password": "s3cret"})
    first.session = session
    assert output_response(first, output).status_code == 200
    assert "s3cret" not in str(dict(session))  # remembered encrypted
    player = factory.get("/", headers={"Range": "bytes=0-3"})
    player.session = session
    response = output_response(player, output)
    assert response.status_code == 206 and b"".join(response.streaming_content) == b"fLaC"


def test_url_inputs_are_added_as_remote(fake, team, alice, account, scheduled):
    fake.files["in.wav"] = wav_bytes()
    job = Job.objects.create(team=team, created_by=alice, engine="api2convert")
    JobInput.objects.create(job=job, type=JobInput.Type.REMOTE, source=f"{fake.url}/files/in.wav",
                            filename="in.wav")
    run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED
    remote_inputs = fake.jobs[job.remote_id].payload["input"]
    assert remote_inputs == [{"type": "remote", "source": f"{fake.url}/files/in.wav"}]
    assert not fake.calls("POST", "/upload/")
    assert job.outputs.get().download_name == "in.flac"


def test_input_passwords_are_sent_as_credentials_then_forgotten(fake, team, alice, account, scheduled,
                                                               settings):
    settings.ALLOW_PRIVATE_URLS = True  # the fake's files are on 127.0.0.1
    fake.files["in.wav"] = wav_bytes()
    job = job_create(team=team, user=alice, options={}, engine="api2convert", input_password="s3cret",
                     uploads=[SimpleUploadedFile("up.wav", wav_bytes(), content_type="audio/wav")],
                     urls=[f"{fake.url}/files/in.wav"])
    assert all(item.decrypt_password_encrypted for item in job.inputs.all())
    run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED
    remote = fake.jobs[job.remote_id]
    assert remote.payload["input"] == [{"type": "remote", "source": f"{fake.url}/files/in.wav",
                                        "credentials": {"decrypt_password": "s3cret"}}]
    assert remote.credentials == {"1": {"decrypt_password": "s3cret"}}  # the uploaded input, PATCHed
    assert not job.inputs.exclude(decrypt_password_encrypted="").exists()


def test_inputs_without_a_password_send_no_credentials(fake, make_job, scheduled):
    job = make_job()
    run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED and not fake.jobs[job.remote_id].credentials


def test_unknown_remote_status_is_not_terminal(fake, make_job, scheduled):
    fake.unknown_status_first = True
    fake.polls_until_done = 3
    job = make_job()
    submit(job)
    status_before = Job.objects.get(pk=job.pk).status
    assert poll.job_poll(job.pk, 1.0) == 1.5
    job.refresh_from_db()
    assert job.status == status_before and not job.is_terminal
    poll_until_done(job)
    assert job.status == Job.Status.COMPLETED


def test_backoff_grows_by_half_caps_and_has_a_floor(settings):
    intervals = [1.0]
    for _ in range(5):
        intervals.append(poll.next_interval(intervals[-1]))
    assert intervals == [1.0, 1.5, 2.25, 3.375, 5.0, 5.0]
    settings.API2CONVERT_POLL_INTERVAL = 0.01
    settings.API2CONVERT_POLL_MAX_INTERVAL = 0.01
    assert poll.first_interval() == 0.5 and poll.next_interval(0.01) == 0.5


def test_a_redelivered_submit_starts_over_when_the_remote_job_never_started(fake, make_job, scheduled):
    job = make_job()
    submit(job)
    # As if the first worker had died after creating the remote job, before starting it.
    first_remote = job.remote_id
    fake.jobs[first_remote].process, fake.jobs[first_remote].status = False, "incomplete"
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DOWNLOADING)

    submit(job)
    assert job.remote_id != first_remote and fake.jobs[first_remote].status == "canceled"
    poll_until_done(job)
    assert job.status == Job.Status.COMPLETED and JobOutput.objects.filter(job=job).count() == 1


def test_a_redelivered_submit_of_a_started_job_only_polls(fake, make_job, scheduled):
    job = make_job()
    submit(job)
    remote = job.remote_id
    submit(job)
    assert job.remote_id == remote and len(fake.calls("POST", "/v2/jobs")) == 1
    assert [name for name, *_ in scheduled] == ["converter.api2convert_poll"] * 2
