"""A real gunicorn, as `make run` starts it (config/gunicorn.conf.py), for the live tests."""

import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.workers import REPO


@dataclass
class Gunicorn:
    process: subprocess.Popen
    port: int

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it: its worker exits gracefully. Its exit status."""
        return _stopped(self.process)


def _stopped(process: subprocess.Popen) -> int:
    process.terminate()  # nothing once it has exited and been waited for
    return process.wait(timeout=30)


@contextmanager
def gunicorn_running(env: dict, log: Path):
    """One gunicorn worker serving config.wsgi on a free port of 127.0.0.1, its output in log."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py",
             "--bind", "127.0.0.1:0", "--workers", "1"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (bound := re.search(rb"Listening at: http://127\.0\.0\.1:(\d+)", log.read_bytes())):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        yield Gunicorn(process, int(bound.group(1)))
    finally:
        _stopped(process)
