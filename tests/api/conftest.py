"""Fixtures for the api2convert-compatible API: keys, a JSON client, a tiny WAV."""

import io
import json

import pytest
from api2convert import Api2Convert

from converter.models import Membership
from converter.services.api_keys import key_issue
from converter.services.jobs import job_run
from tests.media import wav_bytes

CREATE = {"conversion": [{"category": "audio", "target": "flac", "options": {}}], "process": False}


class Api:
    """Django's test client speaking JSON with an API key, as an SDK would."""

    def __init__(self, client, key: str | None, header: str = "X-Api2convert-Api-Key"):
        self.client, self.headers = client, ({header: key} if key else {})

    def __call__(self, method: str, path: str, body=None, **extra):
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        return getattr(self.client, method.lower())(
            "/v2" + path, data=data, content_type="application/json", headers={**self.headers, **extra})

    def create(self, body=None, **extra):
        return self("POST", "/jobs", CREATE if body is None else body, **extra)

    def upload(self, job: dict, content: bytes | None = None, *, headers=None, name="tone.wav"):
        """POST {server}/upload-file/{id}; the server is absolute, the test client wants the path."""
        path = job["server"].split("://", 1)[1].split("/", 1)[1]
        file = io.BytesIO(wav_bytes() if content is None else content)
        file.name = name
        headers = {"X-Api2convert-Token": job["token"]} if headers is None else headers
        return self.client.post(f"/{path}/upload-file/{job['id']}", {"file": file}, headers=headers)


def new_job(api: Api, body=None) -> dict:
    """A new job (incomplete unless `body` says otherwise), as the API's JSON."""
    response = api.create(body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def issued(team, alice):
    return key_issue(team=team, user=alice, name="Tests")


@pytest.fixture
def api(client, issued):
    return Api(client, issued.key)


@pytest.fixture
def charlie_api(client, charlie):
    return Api(client, key_issue(team=charlie.teams.get(), user=charlie, name="Charlie's").key)


@pytest.fixture
def private_urls(settings):
    """Callbacks and remote inputs on 127.0.0.1 (refused in production)."""
    settings.ALLOW_PRIVATE_URLS = True


@pytest.fixture
def bob_api(client, team, bob):
    """A member's key (bob is a member of alice's team)."""
    return Api(client, key_issue(team=team, user=bob, name="Bob's").key)


def demote(team, user) -> None:
    """The user becomes a viewer: their key still reads, it may no longer change anything."""
    Membership.objects.filter(team=team, user=user).update(role=Membership.Role.VIEWER)


@pytest.fixture
def sdk(live_server, issued, monkeypatch):
    """The vendor's SDK against a live server. No worker here: the server thread converts as soon
    as the job is queued."""
    monkeypatch.setattr("converter.tasks.job_run.delay", job_run)
    with Api2Convert(issued.key, base_url=live_server.url + "/v2", poll_interval=0.5) as client:
        yield client


@pytest.fixture
def completed(api, monkeypatch, django_capture_on_commit_callbacks):
    """A job converted by the real engine, with the download password "pw"."""
    monkeypatch.setattr("converter.tasks.job_run.delay", job_run)
    job = api.create({"conversion": [{"target": "flac"}], "process": False,
                      "download_passwords": ["pw", "other"]}).json()
    api.upload(job)
    with django_capture_on_commit_callbacks(execute=True):
        api("PATCH", f"/jobs/{job['id']}", {"process": True})
    return api("GET", f"/jobs/{job['id']}").json()


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "tone.wav"
    path.write_bytes(wav_bytes())
    return path
