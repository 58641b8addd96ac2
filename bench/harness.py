"""What the server benches share: the app served as production serves it (gunicorn gthread,
DEBUG off, a real `celery worker`, the embedded filesystem broker) on a VAR_DIR of their own,
signed-in sessions, process memory from /proc, a load-average note, and the printed lines.

Import this module first: it sets the environment Django reads before anything imports it.
"""

from __future__ import annotations

import argparse
import fcntl
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BENCH_VAR_DIR", "/tmp/bench-var"))
ENV = {
    **os.environ, "VAR_DIR": str(VAR_DIR), "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "bench.settings",
    "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
sys.path.insert(0, str(REPO))

import django  # noqa: E402

django.setup()

from converter.providers.cores import children, stat_fields  # noqa: E402  (/proc readers the worker uses too)

# --- printing ---------------------------------------------------------------------------------

def load() -> str:
    """The one-minute load average: other engineers' test suites share the two cores."""
    return f"load {os.getloadavg()[0]:.2f}"


def machine() -> str:
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return (f"{platform.machine()}, {os.cpu_count()} cores, {int(memory) / 1024**2:.0f} GiB, "
            f"Python {platform.python_version()}, Django {django.get_version()}")


def report(what: str, baseline: str, measured: str, ratio: float, target: str, met: bool,
           note: str = "") -> None:
    """One figure: what was measured, against which baseline, the ratio and the target."""
    verdict = "met" if met else "MISSED"
    print(f"{what}\n  baseline {baseline}\n  measured {measured}\n  ratio {ratio:.2f}x, target {target}: "
          f"{verdict} ({load()}){'; ' + note if note else ''}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- state ------------------------------------------------------------------------------------

def prepare() -> None:
    """Migrate the bench's own database and collect static files (both idempotent)."""
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=ENV, check=True)


def no_other_worker() -> None:
    """Stop if a worker already runs on the bench's VAR_DIR: one left by an interrupted bench would
    take some of the jobs, and the figures would be wrong without a sign (a batch at "50 % busy").
    Every worker holds VAR_DIR/celery/worker.lock shared for its life (services/reaper.py)."""
    lock = VAR_DIR / "celery" / "worker.lock"
    if not lock.exists():
        return
    with lock.open("a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit(f"a Celery worker is already running on {VAR_DIR} (left by an interrupted bench?): "
                     f"stop it first (pkill -f 'celery -A config worker')")


def bench_start(name: str, heading: str, **defaults: float) -> argparse.Namespace:
    """A bench's start: its options (--name for each default, of the default's type), the state
    prepared (migrated, no messages left by an interrupted run) and its heading printed, formatted
    with the options. Returns the options."""
    parser = argparse.ArgumentParser(prog=f"bench/{name}.py")
    for option, default in defaults.items():
        parser.add_argument(f"--{option}", type=type(default), default=default)
    args = parser.parse_args()
    no_other_worker()
    prepare()
    purge_queue()
    print(f"== {name}: {heading.format(**vars(args))}, {machine()}")
    return args


def signed_in(username: str):
    """A bench user with a team of their own and a signed-in session: (user, team, cookie)."""
    user, team = bench_user(username)
    return user, team, session_cookie(user)


def bench_user(username: str):
    """A user with a team of their own; returns (user, team)."""
    from django.contrib.auth import get_user_model

    from converter.models import Membership
    from converter.services.teams import team_create

    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
        team_create(name=f"{username}'s team", owner=user)
    return user, Membership.objects.filter(user=user).select_related("team").first().team


CSRF_TOKEN = "benchcsrftoken0123456789abcdefgh"  # 32 letters and digits: a valid unmasked secret


def session_cookie(user) -> str:
    """A signed-in session for the user, as a Cookie header (no login form, no axes)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF_TOKEN}"


# --- processes ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"port {port} not open:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's CPU time (user and system) and that of the children it has waited for."""
    fields = stat_fields(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, (int(fields[13]) + int(fields[14])) / ticks


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen

    def workers(self) -> list[int]:
        return children(self.process.pid)


@contextmanager
def gunicorn(*, workers: int = 2, log_name: str = "gunicorn.log", **env) -> Iterator[Server]:
    """The web server of Procfile.dev (config/gunicorn.conf.py: gthread, 2 workers x 8 threads,
    glibc's malloc tuned), without the access log, serving bench/wsgi.py: the app plus the
    benches' baseline endpoints."""
    port = free_port()
    log = VAR_DIR / log_name
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bench.wsgi", "-c", "config/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "300"],
            cwd=REPO, env={**ENV, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        while len(children(process.pid)) < workers:
            time.sleep(0.05)
        yield Server(f"http://127.0.0.1:{port}", port, process)
    finally:
        _stop(process)


@contextmanager
def celery_worker(concurrency: int = 2) -> Iterator[subprocess.Popen]:
    """`celery worker` as Procfile.dev starts it, once it is ready to take jobs."""
    log = VAR_DIR / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "-O", "fair", "--concurrency", str(concurrency)],
            cwd=REPO, env=ENV, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        _stop(process)


def purge_queue() -> None:
    """Messages a previous, interrupted bench left in the filesystem queue."""
    for message in (VAR_DIR / "celery" / "queue").glob("*"):
        message.unlink(missing_ok=True)


# --- memory -----------------------------------------------------------------------------------

def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


class MemoryWatch:
    """Peak growth of each process's resident memory over a block: the peak (VmHWM) is reset
    first (clear_refs 5), so only what happens inside the block counts."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.before: dict[int, int] = {}
        self.growth = 0

    def __enter__(self) -> MemoryWatch:
        for pid in self.pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.before[pid] = _status(pid, "VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        self.growth = max((_status(pid, "VmHWM") - self.before[pid] for pid in self.pids), default=0)


MIB = 1024**2


def warm_memory(size: int) -> None:
    """Touch `size` bytes of fresh memory once, and free them. On a Firecracker guest (the VMs of
    2026-11-25 to 2026-12-06, docs/performance-log.md) the host backs guest memory lazily: the
    first write to a page costs ~5x a later one (485 against 2400 MiB/s, measured), so a bench
    writing a GiB to the page cache on a freshly booted machine measures the host's page faults,
    not the program. Freed pages stay backed."""
    import mmap

    with mmap.mmap(-1, size) as block:
        for offset in range(0, size, mmap.PAGESIZE):
            block[offset] = 1


# --- HTTP -------------------------------------------------------------------------------------

def download(url: str, headers: dict | None = None) -> tuple[int, float]:
    """GET url, reading the body into one reused buffer; (bytes, seconds). The client must cost
    less than any server it measures, so it copies nothing it does not have to."""
    parsed = http.client.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    buffer = memoryview(bytearray(4 * MIB))
    start = time.perf_counter()
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    connection.request("GET", target, headers=headers or {})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status} {response.read()[:500]!r}")
    total = 0
    while count := response.readinto(buffer):
        total += count
    elapsed = time.perf_counter() - start
    connection.close()
    return total, elapsed


def timed_download(url: str, headers: dict | None, sizes: list[int]):
    """An action for best_of: download url, note its size in `sizes`, return its seconds."""
    def run() -> float:
        size, seconds = download(url, headers)
        sizes.append(size)
        return seconds
    return run


def best_of(repeats: int, *actions) -> list[float]:
    """Best wall time of each action over interleaved runs: load only ever adds time."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, samples in zip(actions, times, strict=True):
            samples.append(action())
    return [min(samples) for samples in times]


def big_file(path: Path, size: int) -> Path:
    """size bytes of incompressible data (written once, in 16 MiB blocks)."""
    if not path.exists() or path.stat().st_size != size:
        block = os.urandom(16 * MIB)
        with path.open("wb") as out:
            for _ in range(size // len(block)):
                out.write(block)
            out.write(block[:size % len(block)])
    return path


def post_file(url: str, path: Path, cookie: str, *, field: str = "files",
              headers: dict | None = None) -> tuple[http.client.HTTPResponse, float]:
    """POST one file as multipart/form-data, streamed from disk in 1 MiB blocks (as a browser
    sends it), with the CSRF token; (response, seconds until the answer's headers)."""
    boundary = "----bench" + os.urandom(8).hex()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n"
            f"{CSRF_TOKEN}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with path.open("rb") as source:
            while block := source.read(MIB):
                yield block
        yield tail

    parsed = http.client.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
    start = time.perf_counter()
    connection.putrequest("POST", parsed.path)
    for name, value in {"Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Content-Length": str(len(head) + path.stat().st_size + len(tail)),
                        "X-CSRFToken": CSRF_TOKEN, **(headers or {})}.items():
        connection.putheader(name, value)
    connection.endheaders()
    for block in body():
        connection.send(block)
    response = connection.getresponse()
    elapsed = time.perf_counter() - start
    response.read()
    connection.close()
    return response, elapsed


def engine_seconds(clip: Path, work: Path) -> float:
    """The embedded engine's own time for one default conversion of clip, in this process."""
    import shutil

    from converter.engine import EngineInput, convert

    out = work / f"engine-{clip.stem}"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    convert([EngineInput(clip, clip.name)], out, {})
    elapsed = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


def bare_ffmpeg_seconds(source: Path, work: Path) -> float:
    """Bare `ffmpeg -i source out.flac`'s time: the baseline the engine's speed does not move."""
    from tests import media

    start = time.perf_counter()
    media.ffmpeg("-i", str(source), str(work / "bare.flac"))
    return time.perf_counter() - start


def jobs_delete(user, team) -> None:
    """Delete the team's jobs and their stored files (a batch run leaves ~300 MB of them)."""
    from converter.models import Job
    from converter.services.jobs import job_delete

    membership = user.memberships.get(team=team)
    Job.objects.filter(team=team).exclude(status__in=Job.TERMINAL).update(status=Job.Status.CANCELED)
    for job in Job.objects.filter(team=team):
        job_delete(job, membership=membership)
