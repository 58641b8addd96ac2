"""A job's uploads are stored before the transaction that saves its rows: on SQLite that
transaction holds the database's write lock (every worker's status writes wait for it), and moving
a large upload to a MEDIA_ROOT on another disk, or to S3, is a copy."""

from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from converter.models import Job
from converter.services import jobs
from tests.media import wav_bytes

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction around job_create's own


def _uploads() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"take-{n}.wav", wav_bytes(), content_type="audio/wav") for n in range(2)]


def test_uploads_are_stored_outside_the_transaction(team, alice, monkeypatch):
    in_transaction = []
    real_save = FileSystemStorage._save

    def save(storage, name, content):
        in_transaction.append(connection.in_atomic_block)
        return real_save(storage, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save)
    job = jobs.job_create(team=team, user=alice, options={}, uploads=_uploads(), process=False)
    assert in_transaction == [False, False]
    assert [Path(item.file.path).read_bytes() == wav_bytes() for item in job.inputs.all()] == [True, True]


def test_a_job_whose_rows_are_not_saved_leaves_no_file(team, alice, settings, monkeypatch):
    def refused(job):
        raise RuntimeError("the queue is gone")

    monkeypatch.setattr(jobs, "job_enqueue", refused)
    with pytest.raises(RuntimeError, match="the queue is gone"):
        jobs.job_create(team=team, user=alice, options={}, uploads=_uploads())
    assert not Job.objects.exists()
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == []
