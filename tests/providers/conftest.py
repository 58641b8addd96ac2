"""A fake api2convert server per test, the team's key stored, and the Celery re-scheduling
recorded instead of sent: tests call the task bodies and loop over the poll themselves."""


import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from converter import tasks
from converter.models import Team
from converter.providers.api2convert import client, poll
from converter.providers.api2convert.provider import Api2convertProvider
from converter.services.api2convert import api2convert_key_store
from converter.services.jobs import job_create
from tests.fake_api2convert import VALID_KEY, FakeApi2convert
from tests.media import wav_bytes


@pytest.fixture
def fake(settings, db):
    server = FakeApi2convert().start()
    settings.API2CONVERT_BASE_URL = server.base_url
    settings.PUBLIC_URL = ""
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def pauses(monkeypatch) -> list[float]:
    """The SDK's sleeps between its retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(client, "pause", recorded.append)
    return recorded


@pytest.fixture
def scheduled(monkeypatch) -> list[tuple[str, tuple, float]]:
    """Tasks the provider would send to the broker: (name, args, countdown)."""
    sent: list[tuple[str, tuple, float]] = []
    for task in (tasks.job_run, tasks.api2convert_poll, tasks.api2convert_refresh):
        monkeypatch.setattr(task, "apply_async",
                            lambda args, countdown=None, name=task.name: sent.append((name, args, countdown)))
        monkeypatch.setattr(task, "delay", lambda *args, name=task.name: sent.append((name, args, None)))
    return sent


@pytest.fixture
def account(team, alice, fake):
    return api2convert_key_store(team=team, user=alice, key=VALID_KEY)


@pytest.fixture
def make_job(team, alice, account):
    def make(options=None, *, name="song.wav"):
        upload = SimpleUploadedFile(name, wav_bytes(), content_type="audio/wav")
        return job_create(team=team, user=alice, options=options or {}, uploads=[upload],
                          engine=Team.Engine.API2CONVERT)

    return make


def poll_until_done(job, limit: int = 20) -> list[float]:
    """Run the poll task's body until it stops re-scheduling; the delays it asked for."""
    delays, interval = [], poll.first_interval()
    for _ in range(limit):
        interval = poll.job_poll(job.pk, interval)
        if interval is None:
            job.refresh_from_db()
            return delays
        delays.append(interval)
    raise AssertionError(f"still polling after {limit} rounds: {delays}")


def submit(job) -> None:
    """The job_run task's body for this engine (needs the `scheduled` fixture)."""
    Api2convertProvider().run(job)
    job.refresh_from_db()


def run_job(job, scheduled) -> list[float]:
    """Submit, then poll to the end if the submit handed over to the poll task."""
    submit(job)
    return poll_until_done(job) if any(name == "converter.api2convert_poll" for name, *_ in scheduled) else []
