"""config/gunicorn.conf.py, which Procfile, Procfile.dev and the Dockerfile start gunicorn with."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import REPO, run_python

# Where a fresh 2 MiB bytes object lands: in the heap ("[heap]" in /proc/self/maps) or in a
# mapping of its own. Run after the worker's post_fork hook, or without it (the control).
WHERE_2_MIB_LANDS = """
import runpy, sys
if sys.argv[1] == "hook":
    runpy.run_path("config/gunicorn.conf.py")["post_fork"](None, None)
block = b"x" * (2 * 1024 * 1024)
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[heap]"):
        start, end = (int(bound, 16) for bound in line.split()[0].split("-"))
        print("heap" if start <= id(block) < end else "mmap")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_post_fork_keeps_megabyte_buffers_in_the_heap(production_env):
    placed = {hook: run_python(production_env, "-c", WHERE_2_MIB_LANDS, hook).stdout.strip()
              for hook in ("hook", "none")}
    assert placed == {"hook": "heap", "none": "mmap"}


def test_gunicorn_serves_with_the_config(production_env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**production_env, "PRODUCTION": "0", "ALLOWED_HOSTS": "127.0.0.1", "WEB_CONCURRENCY": "1"}
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py",
               "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    assert "Using worker: gthread" in log
    assert log.count("Booting worker") == 1  # WEB_CONCURRENCY
