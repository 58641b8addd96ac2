"""The default conversion of a 10-minute 44.1 kHz stereo WAV, submitted through the convert form
until the job is completed, against bare `ffmpeg -i in.wav out.flac` on the same file.

Target: <= 1.10x. The web side runs from the start of the upload to the worker's final status
write (the job's modified_at, read once the bench sees the job ended), on the embedded default
(gunicorn, a 2-process worker). It includes the upload (106 MB), the queue, the conversion, the
output's SHA-256 and storing it. The two sides run interleaved, best of --repeats each: load only
ever adds time. Each side starts with no dirty pages (os.sync()), each job and its files are
deleted after it, and the guest's memory is touched once first (harness.warm_memory says why).
bench/engine.py gives the engine's own time on the same kind of file. The best run's phases are
printed too: the upload, the queue and the worker's part.

Run: .venv/bin/python bench/conversion.py [--repeats 5]
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from batch import wait_for
from engine import music_like
from harness import (
    VAR_DIR,
    bare_ffmpeg_seconds,
    bench_start,
    celery_worker,
    gunicorn,
    jobs_delete,
    post_file,
    report,
    signed_in,
    warm_memory,
)


def through_the_web(url: str, source: Path, cookie: str, worker) -> tuple[float, dict[str, float]]:
    """Seconds from the start of the upload to the job's final status write, and that time's
    phases from the job's own stamps: the upload (until the job is created), the queue (until a
    worker claims it) and the worker's part (the conversion, the output's SHA-256, storing it)."""
    from converter.models import Job

    start = time.time()
    response, _ = post_file(url + "/", source, cookie)
    if response.status != 302:
        raise RuntimeError(f"convert form answered {response.status}")
    job_id = response.getheader("Location").rstrip("/").rsplit("/", 1)[-1]
    ended = wait_for([job_id], worker)
    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.COMPLETED:
        raise RuntimeError(f"job {job_id} did not complete")
    created, claimed = job.created_at.timestamp(), job.started_at.timestamp()
    return ended - start, {"upload": created - start, "queue": claimed - created, "worker": ended - claimed}


def main() -> None:
    args = bench_start("conversion", "10-minute WAV through the web, best of {repeats}", repeats=5)
    user, team, cookie = signed_in("bench-conversion")
    with tempfile.TemporaryDirectory(dir=VAR_DIR) as tmp, gunicorn() as server, celery_worker(2) as worker:
        work = Path(tmp)
        source = work / "in.wav"
        music_like(source, 10)

        warm_memory(4 * source.stat().st_size)  # the upload, its stored copy, the outputs

        def bare() -> float:
            os.sync()
            return bare_ffmpeg_seconds(source, work)

        def web() -> tuple[float, dict[str, float]]:
            os.sync()
            result = through_the_web(server.url, source, cookie, worker)
            jobs_delete(user, team)
            return result

        web()  # warm up: the worker's first job
        times = [(bare(), *web()) for _ in range(args.repeats)]
    baseline = min(side for side, _, _ in times)
    measured, phases = min((web, phases) for _, web, phases in times)
    report("default conversion of a 10-minute WAV, submitted through the web until completed",
           f"bare ffmpeg -i in.wav out.flac, best {baseline:.2f} s", f"best {measured:.2f} s",
           measured / baseline, "<= 1.10x", measured / baseline <= 1.10,
           "pairs " + ", ".join(f"{web:.2f}/{side:.2f}" for side, web, _ in times))
    # Where the best run's time went; the worker's part alone is the figure to set against ffmpeg's.
    print("  best run: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in phases.items())
          + f"; the worker's part {phases['worker'] / baseline:.2f}x of bare ffmpeg", flush=True)


if __name__ == "__main__":
    main()
