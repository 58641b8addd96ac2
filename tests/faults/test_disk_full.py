"""The disk fills up while an output is written: a clear error, and no partial file left."""

import errno
import os

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.models import Job, JobOutput
from converter.providers.local import DISK_FULL
from converter.services.jobs import job_create
from tests.media import wav_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def disk_fills_on_output(monkeypatch):
    """Outputs' storage writes half the file, then the disk is full (inputs save normally)."""
    real_save = FileSystemStorage._save

    def save(storage, name, content):
        if "/output/" not in name:
            return real_save(storage, name, content)
        path = storage.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as partial:
            partial.write(content.read(100))
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(FileSystemStorage, "_save", save)


def test_disk_full_fails_the_job_clearly_and_removes_the_partial_file(settings, team, alice,
                                                                       disk_fills_on_output):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    upload = SimpleUploadedFile("tone.wav", wav_bytes(), content_type="audio/wav")
    job = job_create(team=team, user=alice, options={}, uploads=[upload])
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.errors[0]["code"] == "DISK_FULL" and job.status_info == DISK_FULL
    assert not JobOutput.objects.filter(job=job).exists()
    outputs_dir = settings.MEDIA_ROOT / "jobs" / str(job.pk) / "output"
    assert not [path for path in outputs_dir.rglob("*") if path.is_file()]
    assert not (settings.CONVERTER_WORK_DIR / str(job.pk)).exists()
