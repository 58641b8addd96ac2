"""Page fixtures: logged-in clients and jobs made directly as rows (no worker needed)."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.core.files.base import ContentFile

from converter.models import Job, JobInput, JobOutput

FLAC_BYTES = b"fLaC" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def _pages(db, settings):
    """Every page test uses the database; none runs a conversion (jobs stay queued)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def alice_client(client, alice, team):
    client.force_login(alice)
    return client


class _QuickHasher(PBKDF2PasswordHasher):
    # check_password reads the iteration count from the hash: one iteration keeps tests fast.
    iterations = 1


def make_job(team, user, *, status=Job.Status.PROCESSING, progress=40.0, passwords=(), **fields):
    hashes = [make_password(password, hasher=_QuickHasher()) for password in passwords]
    job = Job.objects.create(team=team, created_by=user, status=status, progress=progress,
                             password_hashes=hashes, **fields)
    JobInput.objects.create(job=job, type=JobInput.Type.UPLOAD, filename="song.wav", size=1234)
    return job


def add_output(job, name="song.flac", report=None):
    output = JobOutput(job=job, download_name=name, size=len(FLAC_BYTES), duration=125.4, sample_rate=44100,
                       bits_per_sample=16, channels=2, report=report or {})
    output.file.save(name, ContentFile(FLAC_BYTES), save=False)
    output.save()
    return output


@pytest.fixture
def running_job(team, alice):
    return make_job(team, alice)


@pytest.fixture
def completed_job(team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    add_output(job, report={
        "duration": 125.4, "samples": 5530140, "sample_rate": 44100, "compression_ratio": 0.58,
        "integrated_lufs_before": -31.24, "integrated_lufs_after": -23.0, "md5": "ab" * 16,
    })
    return job


@pytest.fixture
def protected_output(team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0, passwords=["red", "blue"])
    return add_output(job)
