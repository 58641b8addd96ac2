"""Callbacks: the job's JSON POSTed to a real HTTP server, signed, retried on 5xx only, each kept
as a row written with its status change (the outbox) until it is delivered or given up."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import api2convert
import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from converter import tasks
from converter.models import CallbackDelivery, Job, JobEvent
from converter.services.jobs import job_run, job_set
from converter.services.reaper import jobs_reap
from tests.media import wav_bytes

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on 127.0.0.1 answering POSTs with the scripted statuses (then 200), and
    serving GETs of self.files (path: bytes)."""

    def __init__(self, statuses=()):
        self.statuses, self.received, self.files = list(statuses), [], {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = receiver.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.url = f"{self.origin}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_for(private_urls, monkeypatch):
    """Callbacks delivered at once (eager Celery, retries included, their countdowns skipped) to a
    Receiver."""
    monkeypatch.setattr(tasks.callback_deliver, "apply_async",
                        lambda args, countdown=0: tasks.callback_deliver.apply(args))
    monkeypatch.setattr(tasks.job_run, "delay", job_run)
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _run_job(api, callback, django_capture_on_commit_callbacks, **fields):
    job = api.create({"conversion": [{"target": "flac"}], "process": False, "callback": callback,
                      **fields}).json()
    api.upload(job)
    with django_capture_on_commit_callbacks(execute=True):
        api("PATCH", f"/jobs/{job['id']}", {"process": True})
    return job


def test_completion_is_posted_and_signed(api, issued, receiver_for, django_capture_on_commit_callbacks):
    receiver = receiver_for()
    job = _run_job(api, receiver.url, django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.received
    event = api2convert.webhooks().construct_event(body, headers["X-Oc-Signature"], issued.signing_secret)
    assert event.job.id == job["id"] and event.job.is_completed()
    assert event.job.output[0].uri.startswith("http://testserver/v2/dl/output/")
    with pytest.raises(api2convert.SignatureVerificationError):
        api2convert.webhooks().construct_event(body, headers["X-Oc-Signature"], "another secret")


def test_notify_status_posts_every_change(api, receiver_for, django_capture_on_commit_callbacks):
    receiver = receiver_for()
    _run_job(api, receiver.url, django_capture_on_commit_callbacks, notify_status=True)
    codes = [api2convert.webhooks().parse(body).job.status.code for _, body in receiver.received]
    assert codes == ["queued", "processing", "completed"]  # an upload is not downloaded


def test_notify_status_posts_the_download_of_a_url_input(api, receiver_for,
                                                        django_capture_on_commit_callbacks):
    receiver = receiver_for()
    receiver.files["/tone.wav"] = wav_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        job = api.create({"conversion": [{"target": "flac"}], "input": [
            {"type": "remote", "source": f"{receiver.origin}/tone.wav"}], "callback": receiver.url,
            "notify_status": True}).json()
    codes = [api2convert.webhooks().parse(body).job.status.code for _, body in receiver.received]
    assert codes == ["queued", "downloading", "processing", "completed"]
    history = [event["status"] for event in api("GET", f"/jobs/{job['id']}/history").json()]
    assert history == ["incomplete", "downloading", "completed"]


def test_notify_status_posts_a_cancel(api, receiver_for, django_capture_on_commit_callbacks):
    receiver = receiver_for()
    job = api.create({"conversion": [{"target": "flac"}], "process": False, "callback": receiver.url,
                      "notify_status": True}).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert api("DELETE", f"/jobs/{job['id']}").status_code == 204
    [(_, body)] = receiver.received
    assert api2convert.webhooks().parse(body).job.status.code == "canceled"


def test_retried_on_5xx_not_on_4xx(api, receiver_for, django_capture_on_commit_callbacks):
    flaky = receiver_for([503, 500])
    _run_job(api, flaky.url, django_capture_on_commit_callbacks)
    assert len(flaky.received) == 3 and flaky.received[0][1] == flaky.received[2][1]
    refusing = receiver_for([404])
    _run_job(api, refusing.url, django_capture_on_commit_callbacks)
    assert len(refusing.received) == 1


def test_a_redirect_is_not_followed_nor_taken_for_a_delivery(api, receiver_for,
                                                             django_capture_on_commit_callbacks):
    moved = receiver_for([302])
    job = _run_job(api, moved.url, django_capture_on_commit_callbacks)
    assert len(moved.received) == 1 and _deliveries(job["id"]) == [("completed", "failed", 1)]
    assert CallbackDelivery.objects.get(job_id=job["id"]).last_error == (
        "answered 302, a redirect, which is not followed")


def test_gives_up_after_ten_attempts(api, receiver_for, django_capture_on_commit_callbacks):
    down = receiver_for([500] * 20)
    _run_job(api, down.url, django_capture_on_commit_callbacks)
    assert len(down.received) == 10


def _deliveries(job_id) -> list[tuple]:
    return list(CallbackDelivery.objects.filter(job_id=job_id).values_list("status", "state", "attempts"))


def test_each_callback_is_kept_with_its_outcome_and_logged_on_the_job(
        api, client, alice, receiver_for, django_capture_on_commit_callbacks):
    flaky = receiver_for([503])
    job = _run_job(api, flaky.url, django_capture_on_commit_callbacks, notify_status=True)
    assert _deliveries(job["id"]) == [("queued", "delivered", 2), ("processing", "delivered", 1),
                                      ("completed", "delivered", 1)]
    assert CallbackDelivery.objects.filter(job_id=job["id"]).first().last_error == "answered 503"
    refusing = receiver_for([410])
    refused = _run_job(api, refusing.url, django_capture_on_commit_callbacks)
    assert _deliveries(refused["id"]) == [("completed", "failed", 1)]
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[refused["id"]])).content.decode()
    assert f"Callback (completed) to {refusing.url} failed: answered 410" in page
    page = client.get(reverse("job_detail", args=[job["id"]])).content.decode()
    assert f"Callback (completed) delivered to {flaky.url}." in page


def test_a_given_up_callback_says_how_often_it_was_tried(api, receiver_for,
                                                         django_capture_on_commit_callbacks):
    down = receiver_for([500] * 20)
    job = _run_job(api, down.url, django_capture_on_commit_callbacks)
    assert _deliveries(job["id"]) == [("completed", "failed", 10)]
    event = JobEvent.objects.filter(job_id=job["id"], level="warning").last()
    assert event.message == f"Callback (completed) to {down.url} failed after 10 attempts: answered 500"


def test_a_message_sent_twice_posts_once(api, receiver_for, django_capture_on_commit_callbacks):
    """The commit's message and the reaper's (say) for the same attempt: the first claims it."""
    receiver = receiver_for()
    job = _run_job(api, receiver.url, django_capture_on_commit_callbacks)
    delivery = CallbackDelivery.objects.get(job_id=job["id"])
    tasks.callback_deliver(delivery.pk, 0)
    assert len(receiver.received) == 1 and _deliveries(job["id"]) == [("completed", "delivered", 1)]


def test_a_retry_lost_with_its_worker_is_sent_by_the_reaper_once_due(
        api, receiver_for, monkeypatch, settings, django_capture_on_commit_callbacks):
    """The embedded broker's countdowns wait in the worker's memory: a worker stopped during one
    loses the message, not the callback."""
    receiver = receiver_for([502])
    lost = []

    def send(args, countdown=0):
        return lost.append(args) if countdown else tasks.callback_deliver.apply(args)

    monkeypatch.setattr(tasks.callback_deliver, "apply_async", send)
    job = _run_job(api, receiver.url, django_capture_on_commit_callbacks)
    [delivery] = CallbackDelivery.objects.filter(job_id=job["id"])
    assert lost == [(delivery.pk, 1)] and delivery.state == "pending" and len(receiver.received) == 1
    assert jobs_reap()["callbacks"] == 0  # its retry may still come: not due yet
    due = delivery.due_at - timezone.now()
    lease = timedelta(seconds=settings.JOB_STALE_SECONDS)
    assert lease < due <= lease + timedelta(seconds=5)
    CallbackDelivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())  # the lease is over
    assert jobs_reap()["callbacks"] == 1
    assert len(receiver.received) == 2 and _deliveries(job["id"]) == [("completed", "delivered", 2)]


def test_a_status_change_rolled_back_leaves_no_callback(api, receiver_for,
                                                        django_capture_on_commit_callbacks):
    receiver = receiver_for()
    created = api.create({"conversion": [{"target": "flac"}], "process": False, "callback": receiver.url,
                          "notify_status": True}).json()
    job = Job.objects.get(pk=created["id"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        job_set(job, status=Job.Status.QUEUED)
        raise RuntimeError("the request failed after the write")
    assert not CallbackDelivery.objects.filter(job=job).exists() and receiver.received == []


def test_an_administrator_sends_ended_callbacks_again(api, client, django_user_model, receiver_for,
                                                       django_capture_on_commit_callbacks):
    """The receiver was down for all ten attempts and is fixed now; a pending one is left alone."""
    receiver = receiver_for([500] * 10)
    job = _run_job(api, receiver.url, django_capture_on_commit_callbacks)
    failed = CallbackDelivery.objects.get(job_id=job["id"])
    pending = CallbackDelivery.objects.create(job_id=job["id"], status="completed", body="{}",
                                              due_at=timezone.now() + timedelta(hours=1))
    client.force_login(django_user_model.objects.create_superuser("root", password="root-password-123"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:converter_callbackdelivery_changelist"), {
            "action": "send_again", "_selected_action": [failed.pk, pending.pk]}, follow=True)
    assert "1 failed callback(s) sent again" in response.content.decode()
    assert len(receiver.received) == 11
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.last_error) == ("delivered", 1, "answered 500")
    assert receiver.received[-1][1] == receiver.received[0][1] and failed.body == ""  # kept until delivered
    assert CallbackDelivery.objects.get(pk=pending.pk).state == "pending"


def test_staff_who_may_not_change_jobs_cannot_send_callbacks_again(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_callbackdelivery"))
    client.force_login(staff)
    page = client.get(reverse("admin:converter_callbackdelivery_changelist")).content.decode()
    assert "send_again" not in page


def test_a_callback_queued_before_the_outbox_is_kept_and_delivered(api, receiver_for,
                                                                   django_capture_on_commit_callbacks):
    """An upgrade with a callback message of the earlier version, (job id, body), in the queue."""
    receiver = receiver_for()
    job = api.create({"conversion": [{"target": "flac"}], "process": False, "callback": receiver.url}).json()
    body = json.dumps({"id": job["id"], "status": {"code": "completed", "info": ""}})
    tasks.callback_deliver(job["id"], body)
    assert receiver.received[0][1] == body.encode()
    assert _deliveries(job["id"]) == [("completed", "delivered", 1)]
