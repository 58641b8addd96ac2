"""The broker unreachable when a job is submitted (Redis restarting, a network cut): the job is
committed by then, so it is kept, queued with its files, says so on its page, and the stuck-job
reaper sends it once the broker is back."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from converter import tasks
from converter.models import CallbackDelivery, Job
from converter.services import jobs
from converter.services.jobs import job_create, job_run, job_run_oldest_queued
from converter.services.reaper import jobs_reap
from tests.api.test_callbacks import Receiver
from tests.usage.conftest import wav_upload

pytestmark = pytest.mark.django_db

REFUSED = "Error 111 connecting to 127.0.0.1:6379. Connection refused."  # what kombu raises (Redis)


@pytest.fixture
def refuse(monkeypatch):
    """refuse(task, how="delay"): sending `task` fails as it does with the broker unreachable."""
    def refused(*args, **kwargs):
        raise OperationalError(REFUSED)

    return lambda task, how="delay": monkeypatch.setattr(task, how, refused)


def record_resends(monkeypatch) -> list:
    """What the reaper sends from now on (job_run.apply_async's args), the broker back."""
    sent = []
    monkeypatch.setattr(tasks.job_run, "apply_async", lambda args, **options: sent.append(args))
    return sent


def test_a_job_submitted_while_the_broker_is_unreachable_is_kept_and_sent_at_the_next_sweep(
        alice_client, refuse, monkeypatch, django_capture_on_commit_callbacks):
    refuse(tasks.job_run)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("convert"), {"files": [wav_upload()]})
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == reverse("job_detail", args=[job.pk])
    assert job.status == Job.Status.QUEUED and job.unsent
    upload = job.inputs.get()
    assert upload.file.storage.exists(upload.file.name)
    page = alice_client.get(response.url).content.decode()
    assert "The task queue could not be reached" in page and "tried again every 60 s" in page  # its log
    assert job.status_info == jobs.UNSENT and jobs.UNSENT in page  # its card's status line

    # The broker still down at the next sweep: the job waits on, marked.
    refuse(tasks.job_run, "apply_async")
    assert jobs_reap() == {"resent": 0, "failed": 0, "callbacks": 0} and Job.objects.get().unsent
    # Back: sent at once, not JOB_STALE_SECONDS after it was queued.
    sent = record_resends(monkeypatch)
    assert jobs_reap() == {"resent": 1, "failed": 0, "callbacks": 0} and sent == [(str(job.pk),)]
    assert (Job.objects.get().unsent, Job.objects.get().status_info) == (False, "")
    assert "Sent to a worker." in alice_client.get(response.url).content.decode()
    assert jobs_reap() == {"resent": 0, "failed": 0, "callbacks": 0} and len(sent) == 1


def test_a_stale_job_the_reaper_cannot_send_is_sent_at_its_next_sweep(team, alice, refuse, monkeypatch,
                                                                       settings):
    job = job_create(team=team, user=alice, options={}, uploads=[wav_upload()], process=False)
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PROCESSING, attempts=1, modified_at=stale)
    refuse(tasks.job_run, "apply_async")
    assert jobs_reap() == {"resent": 0, "failed": 0, "callbacks": 0}
    job.refresh_from_db()
    assert (job.status, job.unsent) == (Job.Status.QUEUED, True)
    sent = record_resends(monkeypatch)
    assert jobs_reap() == {"resent": 1, "failed": 0, "callbacks": 0} and sent == [(str(job.pk),)]


def test_a_job_a_drain_takes_before_the_reaper_sends_it_is_not_sent_again(
        team, alice, refuse, monkeypatch, django_capture_on_commit_callbacks):
    refuse(tasks.job_run)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(team=team, user=alice, options={}, uploads=[wav_upload()])
    assert Job.objects.get().unsent
    assert job_run_oldest_queued()  # a pool process that has just run another job
    job.refresh_from_db()
    assert (job.status, job.unsent, job.status_info) == (Job.Status.COMPLETED, False, "")
    sent = record_resends(monkeypatch)
    assert jobs_reap() == {"resent": 0, "failed": 0, "callbacks": 0} and sent == []


@pytest.fixture
def receiver(settings):
    settings.ALLOW_PRIVATE_URLS = True  # the receiver is on 127.0.0.1
    made = Receiver()
    yield made
    made.close()


def _posted(receiver) -> list[str]:
    return [json.loads(body)["status"]["code"] for _, body in receiver.received]


def record_callback_sends(monkeypatch) -> list:
    """The callbacks sent from now on, the broker back: each attempted at once, as a worker would."""
    sent = []

    def send(args, countdown=0):
        sent.append(args)
        tasks.callback_deliver(*args)

    monkeypatch.setattr(tasks.callback_deliver, "apply_async", send)
    return sent


def test_a_callback_that_cannot_be_queued_is_kept_and_posted_at_the_next_sweep_and_the_job_still_goes(
        team, alice, refuse, receiver, monkeypatch, django_capture_on_commit_callbacks):
    """The `queued` callback's message is the first sent after the commit."""
    sent = []
    refuse(tasks.callback_deliver, "apply_async")
    monkeypatch.setattr(tasks.job_run, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(team=team, user=alice, options={}, uploads=[wav_upload()],
                         fields={"callback": receiver.url, "notify_status": True})
    assert sent == [str(job.pk)] and Job.objects.get().status == Job.Status.QUEUED
    upload = job.inputs.get()
    assert upload.file.storage.exists(upload.file.name)
    [delivery] = CallbackDelivery.objects.all()
    assert (delivery.state, delivery.attempts) == (CallbackDelivery.State.PENDING, 0)
    assert delivery.due_at <= timezone.now() and receiver.received == []  # due at the next sweep

    assert jobs_reap()["callbacks"] == 0  # the broker still down: it waits on
    callbacks_sent = record_callback_sends(monkeypatch)
    assert jobs_reap()["callbacks"] == 1 and callbacks_sent == [(delivery.pk, 0)]
    assert _posted(receiver) == ["queued"]
    assert CallbackDelivery.objects.get().state == CallbackDelivery.State.DELIVERED
    assert jobs_reap()["callbacks"] == 0 and len(receiver.received) == 1


def test_a_finished_job_stays_finished_when_its_callbacks_cannot_be_queued(transactional_db, team, alice,
                                                                           refuse, receiver, monkeypatch):
    """In the worker, outside any transaction, on_commit runs at once: a refused callback message
    raised out of the job's status writes, and a job with nothing wrong with it was failed."""
    refuse(tasks.callback_deliver, "apply_async")
    job = job_create(team=team, user=alice, options={}, uploads=[wav_upload()], process=False,
                     fields={"callback": receiver.url, "notify_status": True})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    job_run(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.outputs.count() == 1
    record_callback_sends(monkeypatch)
    assert jobs_reap()["callbacks"] == 2
    assert _posted(receiver) == ["processing", "completed"]


def test_a_saved_job_keeps_its_files_whatever_fails_after_the_commit(transactional_db, team, alice,
                                                                      monkeypatch):
    """The database gone too, say, when the unsent job is marked: the error reaches the caller, and
    the job, committed by then, keeps its uploads."""
    def fails(job):
        raise RuntimeError("the database went away as well")

    monkeypatch.setattr(jobs, "_job_send", fails)
    with pytest.raises(RuntimeError):
        job_create(team=team, user=alice, options={}, uploads=[wav_upload()])
    upload = Job.objects.get().inputs.get()
    assert upload.file.storage.exists(upload.file.name)
