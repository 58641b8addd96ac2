"""Proxied downloads of a 1 GiB result through the app (gunicorn gthread, DEBUG off):

1. from local storage, against a plain sendfile() copy of the same file to a socket;
2. from a remote api2convert output on the fake server (tests/fake_api2convert.py, a process of
   its own), against downloading it directly from that server.

Targets: >= 0.8x throughput, and the gunicorn workers' resident memory grows by <= 50 MiB
(peak VmHWM during the download minus VmRSS before it). The 1 GiB file is deleted afterwards.

Either side can be up to ~1.7x faster in one run than in the next: a transfer whose sender and
receiver happen to share a core copies cache-hot (sendfile to this client, pinned with
sched_setaffinity: 2700-4500 MiB/s on one core, 2400-2900 on two). Best of 7 gives both their turn.

Run: .venv/bin/python bench/downloads.py [--mib 1024] [--repeats 7]
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

from harness import (
    MIB,
    REPO,
    VAR_DIR,
    MemoryWatch,
    bench_start,
    best_of,
    big_file,
    download,
    gunicorn,
    report,
    signed_in,
    timed_download,
)

MEMORY_LIMIT = 50 * MIB


def serve_sendfile(path: Path) -> None:
    """The local baseline: answer each GET with the file, by sendfile(). Prints its port."""
    size = path.stat().st_size
    with socket.create_server(("127.0.0.1", 0)) as server:
        print(server.getsockname()[1], flush=True)
        while True:
            connection, _ = server.accept()
            with connection, path.open("rb") as source:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/flac\r\n"
                                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size)
                connection.sendfile(source)


def serve_fake(path: Path) -> None:
    """The remote side: the fake api2convert server with one finished job whose output is path.
    Prints the output's download URL."""
    from tests.fake_api2convert import FakeApi2convert, FakeJob

    fake = FakeApi2convert().start()
    job = FakeJob(id=str(uuid.uuid4()), token="bench", payload={}, status="completed")
    job.outputs.append({"id": "out", "filename": path.name, "path": path})
    fake.jobs[job.id] = job
    print(f"{fake.url}/dl/{job.id}/out", flush=True)
    fake._thread.join()


def side_process(mode: str, path: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, __file__, mode, str(path)], cwd=REPO, stdout=subprocess.PIPE,
                               text=True)
    return process, process.stdout.readline().strip()


def completed_output(team, user, path: Path, *, remote_uri: str = ""):
    """A completed job whose one output is the big file (stored in place) or a remote URI."""
    from converter.models import Job, JobOutput

    job = Job.objects.create(team=team, created_by=user, status=Job.Status.COMPLETED, progress=100)
    return JobOutput.objects.create(job=job, download_name="big.flac", size=path.stat().st_size,
                                    file="" if remote_uri else str(path.relative_to(VAR_DIR / "media")),
                                    remote_uri=remote_uri)


def compare(name: str, server, baseline_url: str, proxied_url: str, cookie: str, repeats: int) -> None:
    memory = MemoryWatch(server.workers())
    sizes: list[int] = []
    download(proxied_url, {"Cookie": cookie})  # warm up the page cache and both sides
    with memory:
        direct, proxied = best_of(repeats, timed_download(baseline_url, None, sizes),
                                 timed_download(proxied_url, {"Cookie": cookie}, sizes))
    size = sizes[0]
    assert all(got == size for got in sizes), sizes
    ratio = direct / proxied  # throughput ratio: the same bytes over each time
    report(f"proxied download of {size / MIB:.0f} MiB, {name}",
           f"{size / MIB / direct:.0f} MiB/s", f"{size / MIB / proxied:.0f} MiB/s, worker memory growth "
           f"{memory.growth / MIB:.1f} MiB", ratio, ">= 0.8x and <= 50 MiB",
           ratio >= 0.8 and memory.growth <= MEMORY_LIMIT)


def main() -> None:
    args = bench_start("downloads", "{mib} MiB", mib=1024, repeats=7)
    user, team, cookie = signed_in("bench-downloads")
    folder = VAR_DIR / "media" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = big_file(folder / "big.flac", args.mib * MIB)
    sides = []
    try:
        with gunicorn() as server:
            sendfile, sendfile_url = side_process("--serve-sendfile", path)
            sides.append(sendfile)
            local = completed_output(team, user, path)
            compare("from local storage (baseline: sendfile to a socket)", server,
                    f"http://127.0.0.1:{sendfile_url}/", f"{server.url}/outputs/{local.pk}/download", cookie,
                    args.repeats)
            fake, remote_url = side_process("--serve-fake", path)
            sides.append(fake)
            remote = completed_output(team, user, path, remote_uri=remote_url)
            compare("from a remote api2convert output (baseline: straight from the fake server)", server,
                    remote_url, f"{server.url}/outputs/{remote.pk}/download", cookie, args.repeats)
    finally:
        for process in sides:
            process.terminate()
            process.wait()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--serve-sendfile", "--serve-fake"):
        {"--serve-sendfile": serve_sendfile, "--serve-fake": serve_fake}[sys.argv[1]](Path(sys.argv[2]))
    else:
        main()
