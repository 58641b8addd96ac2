"""Upload of a 1 GiB file through the convert form, against posting the same body to a trivial
WSGI sink in the same server (bench/wsgi.py: reads the body and drops it).

Targets: >= 0.6x throughput, and the gunicorn workers' resident memory grows by <= 50 MiB,
watched over each upload through the form alone (a sink's first 1 GiB body in a thread grows
its worker by 26-31 MiB of gunicorn's buffers kept by malloc: the baseline's, not the form's). The
form's time runs until its answer (the redirect to the job's page): body parsed to a temporary
file, the job and its stored input created. No worker runs: the job stays queued and is deleted
with its file afterwards, as is the 1 GiB source.

The form writes every byte to disk and the sink does not: the machine's own cost of that is
printed too (the same bytes written to a file in VAR_DIR), and so is the kernel's share without
the app (bench/loopback.py: received and dropped, spliced into a file, spliced and searched for a
boundary, as the form's body is). Dirty pages are flushed before each
run, and the guest's memory is touched once first (harness.warm_memory says why).

Run: .venv/bin/python bench/uploads.py [--mib 1024] [--repeats 5]
"""

from __future__ import annotations

import os
import time

from harness import (
    MIB,
    VAR_DIR,
    MemoryWatch,
    bench_start,
    best_of,
    big_file,
    gunicorn,
    jobs_delete,
    post_file,
    purge_queue,
    report,
    signed_in,
    warm_memory,
)
from loopback import WAYS, receive_seconds

MEMORY_LIMIT = 50 * MIB


def write_copy(path) -> float:
    """Seconds to write path's bytes to a new file beside it (what any upload must cost the disk)."""
    block = os.urandom(MIB)
    copy = path.with_suffix(".copy")
    os.sync()
    start = time.perf_counter()
    with copy.open("wb") as out:
        for _ in range(path.stat().st_size // MIB):
            out.write(block)
    elapsed = time.perf_counter() - start
    copy.unlink()
    return elapsed


def main() -> None:
    args = bench_start("uploads", "{mib} MiB", mib=1024, repeats=5)
    user, team, cookie = signed_in("bench-uploads")
    path = big_file(VAR_DIR / "upload.bin", args.mib * MIB)
    small = big_file(VAR_DIR / "upload-small.bin", 4 * MIB)
    warm_memory(4 * args.mib * MIB)  # the form's upload, the copy, the source, with room

    growth = []  # of each upload through the form, not the sink's (gunicorn's buffers, its own)

    def post(url: str, expected: int, workers: list[int] | None = None):
        def run() -> float:
            os.sync()
            with MemoryWatch(workers or []) as memory:
                response, seconds = post_file(url, path, cookie)
            assert response.status == expected, response.status
            if workers:
                growth.append(memory.growth)
            # The stored upload goes at once, so the next run's page cache reuses its pages
            # instead of taking memory the VM has not backed yet (warm_memory).
            jobs_delete(user, team)
            return seconds
        return run

    try:
        with gunicorn() as server:
            # Warm up the page cache and both workers' code paths: a worker's first request through
            # the app imports and builds what every later one reuses (views, templates, the upload
            # parser; ~60 MiB measured), which is not the upload's own memory.
            for _ in range(8):
                post_file(f"{server.url}/", small, cookie)
            post(f"{server.url}/bench/sink", 200)()
            sink, form = best_of(args.repeats, post(f"{server.url}/bench/sink", 200),
                                 post(f"{server.url}/", 302, server.workers()))
            small_sink, = best_of(args.repeats, post(f"{server.url}/bench/sink?chunk=65536", 200))
        written, = best_of(args.repeats, lambda: write_copy(path))
        received = best_of(args.repeats, *(lambda way=way: receive_seconds(way, args.mib * MIB, VAR_DIR)
                                           for way in WAYS))
    finally:
        path.unlink(missing_ok=True)
        small.unlink(missing_ok=True)
        jobs_delete(user, team)
        purge_queue()
    ratio = sink / form
    report(f"upload of {args.mib} MiB through the convert form", f"WSGI sink {args.mib / sink:.0f} MiB/s",
           f"{args.mib / form:.0f} MiB/s, worker memory growth {max(growth) / MIB:.1f} MiB", ratio,
           ">= 0.6x and <= 50 MiB", ratio >= 0.6 and max(growth) <= MEMORY_LIMIT)
    print(f"  writing the same bytes to a file in VAR_DIR, 1 MiB at a time: {args.mib / written:.0f} MiB/s")
    print(f"  the sink reading 64 KiB at a time (Django's default upload chunk): "
          f"{args.mib / small_sink:.0f} MiB/s (the form is {small_sink / form:.2f}x of it)")
    read, spliced, searched = received
    print(f"  no app, over loopback (bench/loopback.py): read and dropped {args.mib / read:.0f} MiB/s, "
          f"spliced into a file {args.mib / spliced:.0f} MiB/s ({read / spliced:.2f}x), with the "
          f"boundary search after each splice {args.mib / searched:.0f} MiB/s ({read / searched:.2f}x)")


if __name__ == "__main__":
    main()
