"""Callbacks: the job's JSON POSTed to a real HTTP server, signed, retried on 5xx only."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import api2convert
import pytest

from converter import tasks
from converter.services.jobs import job_run
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
    """Callbacks delivered at once (eager Celery, retries included) to a Receiver."""
    monkeypatch.setattr(tasks.callback_deliver, "delay", lambda *args: tasks.callback_deliver.apply(args))
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


def test_gives_up_after_ten_attempts(api, receiver_for, django_capture_on_commit_callbacks):
    down = receiver_for([500] * 20)
    _run_job(api, down.url, django_capture_on_commit_callbacks)
    assert len(down.received) == 10
