"""A batch of 40 30-second clips on the embedded default with 2 worker processes, against the
sum of the single-job engine times divided by 2 (perfect use of both processes).

Target: <= 1.15x. The 40 jobs are stored first and queued in one transaction (the workers' part
is what the baseline describes): the batch starts when that transaction commits and its 40
messages go out, and ends when the worker wrote the last job's final status (its modified_at).
The bench polls the database only to learn that it is over, every 0.1 s, so neither its polling
interval nor its queries' CPU time on the shared cores is in the figure (both clocks are the
system's wall clock). The same batch through the convert form, one upload after another, is
printed for comparison.

Run: .venv/bin/python bench/batch.py [--jobs 40] [--seconds 30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from harness import (
    VAR_DIR,
    bench_user,
    celery_worker,
    engine_seconds,
    gunicorn,
    jobs_delete,
    machine,
    post_file,
    prepare,
    purge_queue,
    report,
    session_cookie,
)


def staged_jobs(user, team, clips: list[Path]) -> list:
    """The jobs with their inputs stored, not yet sent to a worker."""
    from django.core.files import File

    from converter.services.jobs import job_create

    jobs = []
    for clip in clips:
        with clip.open("rb") as stream:
            jobs.append(job_create(team=team, user=user, options={}, uploads=[File(stream, name=clip.name)],
                                   process=False))
    return jobs


def _pin_to_next_core(started) -> None:
    """A pool process's initializer: the next core, as the worker's cores.py gives each busy
    pool process one of its own."""
    with started.get_lock():
        core, started.value = started.value, started.value + 1
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[core % len(cores)]})


def parallel_engine_seconds(clips: list[Path], work: Path, *, pinned: bool) -> float:
    """Wall time of the engine alone on the clips in 2 processes: what the two cores give when
    two conversions share them, with no app, queue or database around them; pinned, each
    process keeps to a core of its own."""
    context = multiprocessing.get_context("fork")
    options = {"initializer": _pin_to_next_core, "initargs": (context.Value("i", 0),)} if pinned else {}
    with ProcessPoolExecutor(2, mp_context=context, **options) as pool:
        list(pool.map(engine_seconds, clips[:2], [work, work]))  # both processes started and warm
        start = time.perf_counter()
        list(pool.map(engine_seconds, clips, [work] * len(clips)))
        return time.perf_counter() - start


def wait_for(ids: list, worker) -> float:
    """The moment (time.time()) the last of the jobs ended: its final status write."""
    from django.db.models import Max

    from converter.models import Job

    jobs = Job.objects.filter(pk__in=ids)
    while jobs.exclude(status__in=Job.TERMINAL).exists():
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}: see {VAR_DIR / 'worker.log'}")
        time.sleep(0.1)
    return jobs.aggregate(last=Max("modified_at"))["last"].timestamp()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    prepare()
    purge_queue()
    print(f"== batch: {args.jobs} clips of {args.seconds:g} s, 2 worker processes, {machine()}")
    from django.db import transaction

    from converter.models import Job
    from converter.services.jobs import job_enqueue
    from tests import media

    user, team = bench_user("bench-batch")
    cookie = session_cookie(user)
    with tempfile.TemporaryDirectory(dir=VAR_DIR) as tmp:
        work = Path(tmp)
        clips = [media.tone(work / f"clip-{n:02}.wav", seconds=args.seconds, frequency=220 + 10 * n)
                 for n in range(args.jobs)]
        engine_seconds(clips[0], work)  # the first conversion in a process loads what it needs
        engine_total = sum(engine_seconds(clip, work) for clip in clips)
        engine_parallel = parallel_engine_seconds(clips, work, pinned=True)
        engine_floating = parallel_engine_seconds(clips, work, pinned=False)
        jobs = staged_jobs(user, team, clips)
        ids = [job.pk for job in jobs]
        with celery_worker(2) as worker:
            queuing, sent = time.time(), []
            with transaction.atomic():  # all 40 messages go out at the commit
                transaction.on_commit(lambda: sent.append(time.time()))  # runs before the sends
                for job in jobs:
                    job_enqueue(job)
            staged = wait_for(ids, worker) - sent[0]
            queuing = sent[0] - queuing
        failed = Job.objects.filter(pk__in=ids).exclude(status=Job.Status.COMPLETED).count()
        with gunicorn() as server, celery_worker(2) as worker:
            start = time.time()
            for clip in clips:
                response, _ = post_file(server.url + "/", clip, cookie)
                assert response.status == 302, response.status
            submitted = time.time() - start
            newest = Job.objects.filter(team=team).order_by("-created_at").values_list("pk", flat=True)
            through_form = wait_for(list(newest[:len(clips)]), worker) - start
    jobs_delete(user, team)
    baseline = engine_total / 2
    report(f"batch of {args.jobs} x {args.seconds:g}-second clips, 2 worker processes (jobs queued at once)",
           f"sum of engine times / 2 = {baseline:.2f} s (sum {engine_total:.2f} s)", f"{staged:.2f} s",
           staged / baseline, "<= 1.15x", staged / baseline <= 1.15 and not failed,
           f"failed jobs {failed}; marking the {args.jobs} jobs queued took {queuing * 1000:.0f} ms before")
    print(f"  the engine alone in 2 processes, no app, each on a core of its own (as the worker runs "
          f"them): {engine_parallel:.2f} s ({engine_parallel / baseline:.2f}x), free to move between "
          f"the cores: {engine_floating:.2f} s ({engine_floating / baseline:.2f}x); the app and queue add "
          f"{(staged - engine_parallel) / args.jobs * 2 * 1000:.0f} ms per job per process")
    print(f"  through the convert form, one upload after another: {through_form:.2f} s "
          f"({through_form / baseline:.2f}x; the uploads alone took {submitted:.2f} s on the same two cores)")

if __name__ == "__main__":
    main()
