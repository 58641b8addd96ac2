"""Health endpoints for load balancers: /healthz (process up) and /readyz (dependencies).

The one place outside the worker that touches the engine: readiness means the ffmpeg the
workers will run is there.
"""

import shutil
import subprocess
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app
from converter.engine.ffmpeg import ffmpeg_binary


def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _storage() -> None:
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


def _ffmpeg() -> None:
    binary = ffmpeg_binary()
    if not shutil.which(binary):
        raise FileNotFoundError(binary)
    subprocess.run([binary, "-hide_banner", "-version"], check=True, capture_output=True, timeout=5)


CHECKS = {"database": _database, "broker": _broker, "storage": _storage, "ffmpeg": _ffmpeg}


@never_cache
def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # every failure is a "not ready", with its reason
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    ready = all(value == "ok" for value in results.values())
    body = {"status": "ok" if ready else "error", "checks": results}
    return JsonResponse(body, status=200 if ready else 503)
