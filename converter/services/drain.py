"""A pool process that has run a job's message takes the next queued local jobs from the
database itself, for up to JOB_DRAIN_SECONDS, before it goes back to Celery for a message.

A message costs ~4 ms of CPU (2.9 ms in the pool process, 1.4 ms in the worker's main one: the
acknowledgement, the next message through the main process and the pool's pipe, the task's
tracing; docs/performance.md, Batch), about a third of what a job costs beyond the engine.
Taken from the database, the next job starts at once, and in the order the jobs were queued,
whatever worker's prefetch holds their messages. A message whose job was taken this way finds
it running or finished and ends at once (local.py, the claim). The claim is the same either
way: of two processes, or of a drain and a message, only one runs a job.

Nothing else changes for safety: a drained job writes its progress as any other, so the reaper
re-sends it if its worker dies, and jobs_recover takes it back on the embedded broker.

JOB_DRAIN_SECONDS counts from the task's start, as Celery's time limits do: a drained job starts
within it, so its CELERY_TASK_SOFT_TIME_LIMIT is at most that much shorter (counted from the drain's
start, a job drained after a 3-hour one would have minutes left). It also keeps a pool process's
other tasks (api2convert polls, callbacks, waveforms) from waiting behind a long queue of jobs; a
warm shutdown (worker_shutting_down, tasks.py) stops the
drain at once, so that the worker exits after the jobs it is running, as it would without it. The
flag is shared memory made by the worker's main process before its pool forks.
"""

from __future__ import annotations

import time
from multiprocessing.sharedctypes import RawValue

from django.conf import settings

from converter.services.jobs import job_run_oldest_queued

_stopping = None  # a RawValue("b") in a worker, set once it shuts down; None outside one


def share_create() -> None:
    """In the worker's main process, before the pool forks."""
    global _stopping
    _stopping = RawValue("b", 0)


def stop() -> None:
    """In the worker's main process, when it starts shutting down."""
    if _stopping is not None:
        _stopping.value = 1


def queued_jobs_run(task_started: float) -> int:
    """Run queued local jobs, oldest first, until none is left, JOB_DRAIN_SECONDS have passed since
    task_started (time.monotonic()) or the worker shuts down. Returns how many it took."""
    deadline = task_started + settings.JOB_DRAIN_SECONDS
    taken = 0
    while time.monotonic() < deadline and not (_stopping is not None and _stopping.value):
        if not job_run_oldest_queued():
            break
        taken += 1
    return taken
