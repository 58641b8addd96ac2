"""/healthz and /readyz, as a load balancer sees them."""

import socket

import pytest

from config.celery import app as celery_app
from converter.engine.ffmpeg import ffmpeg_binary

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_ffmpeg_lookup():
    ffmpeg_binary.cache_clear()
    yield
    ffmpeg_binary.cache_clear()


def _closed_port() -> int:
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_when_everything_is_there(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "ok", "ffmpeg": "ok"}


def test_readyz_names_an_unreachable_broker(client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", f"redis://127.0.0.1:{_closed_port()}/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport", None)  # the filesystem default's own
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"].startswith("error:") and checks["database"] == "ok"


def test_readyz_names_a_missing_ffmpeg(client, monkeypatch, fresh_ffmpeg_lookup):
    monkeypatch.setenv("FFMPEG_BINARY", "/nonexistent/ffmpeg")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "/nonexistent/ffmpeg" in response.json()["checks"]["ffmpeg"]
    assert response["Cache-Control"].startswith("max-age=0")
