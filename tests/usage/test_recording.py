"""Every job records its usage: input bytes at creation, the rest when it ends (the real local engine)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.models import Job, JobOutput
from converter.providers.local import LocalProvider
from converter.services.jobs import job_create, job_finish
from converter.services.usage import usage_at_finish
from tests.usage.conftest import wav_upload

pytestmark = pytest.mark.django_db


def _run_locally(team, user, upload) -> Job:
    job = job_create(team=team, user=user, options={}, uploads=[upload], process=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # as job_enqueue, without a worker
    job.refresh_from_db()
    LocalProvider().run(job)
    job.refresh_from_db()
    return job


def test_a_completed_local_job_records_its_usage(team, alice):
    upload = wav_upload(seconds=1.0)
    job = _run_locally(team, alice, upload)
    assert job.status == Job.Status.COMPLETED
    output = job.outputs.get()
    assert job.created_by == alice and job.team == team and job.engine == "local"
    assert job.input_bytes == upload.size
    assert job.output_bytes == output.size > 0
    assert job.audio_seconds == pytest.approx(1.0, abs=0.01)
    assert 0 <= job.processing_seconds < 60
    assert job.error_code == "" and job.spent == 0
    assert job.expires_at == job.finished_at + timedelta(days=7)


def test_a_failed_job_records_its_error_code(team, alice):
    job = _run_locally(team, alice, SimpleUploadedFile("broken.wav", b"RIFF" + bytes(range(256)) * 4))
    assert job.status == Job.Status.FAILED
    assert job.error_code and job.error_code == job.errors[0]["code"]
    assert job.output_bytes == 0 and job.audio_seconds == 0


def test_input_bytes_are_known_at_creation(team, alice):
    upload = wav_upload()
    job = job_create(team=team, user=alice, options={}, uploads=[upload], process=False)
    assert Job.objects.get(pk=job.pk).input_bytes == upload.size


def test_a_zip_counts_its_members_audio(team, alice):
    job = Job.objects.create(team=team, created_by=alice, status=Job.Status.PROCESSING)
    JobOutput.objects.create(job=job, download_name="all.zip", size=900, content_type="application/zip",
                             report={"members": [{"duration": 1.5}, {"duration": 2.25}]})
    fields = usage_at_finish(job, Job.Status.COMPLETED, [], job.created_at)
    assert fields["audio_seconds"] == 3.75 and fields["output_bytes"] == 900


def test_api_key_and_spent_stay_on_the_finished_job(team, alice, issued):
    job = Job.objects.create(team=team, created_by=alice, api_key=issued.api_key, engine="api2convert",
                             status=Job.Status.PROCESSING, spent=3)
    job_finish(job, Job.Status.COMPLETED)
    job.refresh_from_db()
    assert job.api_key == issued.api_key and job.spent == 3 and job.engine == "api2convert"
