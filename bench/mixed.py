"""A long file with short ones behind it, on the embedded default with 2 worker processes: a
10-minute WAV queued alone, then 20 30-second clips 0.1 s later (a podcaster's episode and its
clips). No target in the issue; printed against the sum of single-job engine times divided by 2
(perfect use of both processes), as the batch is.

The long job starts alone and may use both cores; the clips then each want one
(providers/cores.py). This measures how well the two share them: the time to the last job's
end, and the long job's own time against the engine's alone on every core.

Run: .venv/bin/python bench/mixed.py [--rounds 3] [--clips 20]
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from batch import queue_at_once, staged_jobs, wait_for
from harness import (
    VAR_DIR,
    bench_start,
    bench_user,
    celery_worker,
    engine_seconds,
    jobs_delete,
    median,
)


def timed_round(user, team, long: Path, clips: list[Path], work: Path) -> tuple[float, float, float, float]:
    """(all done, the long job's claim to end, the engine alone on the long file, on the clips summed)."""
    from converter.models import Job

    os.sync()
    engine_long = engine_seconds(long, work)
    engine_clips = sum(engine_seconds(clip, work) for clip in clips)
    warm, first, rest = (staged_jobs(user, team, files) for files in (clips[:2], [long], clips))
    with celery_worker(2) as worker:
        queue_at_once(warm)
        wait_for([job.pk for job in warm], worker)
        os.sync()
        start, _ = queue_at_once(first)
        time.sleep(0.1)
        queue_at_once(rest)
        end = wait_for([job.pk for job in first + rest], worker)
    job = Job.objects.get(pk=first[0].pk)
    return end - start, (job.finished_at - job.started_at).total_seconds(), engine_long, engine_clips


def main() -> None:
    args = bench_start("mixed", "a 10-minute WAV, then {clips} 30-second clips 0.1 s later, 2 worker "
                       "processes, {rounds} rounds", rounds=3, clips=20)
    from tests import media

    user, team = bench_user("bench-mixed")
    with tempfile.TemporaryDirectory(dir=VAR_DIR) as tmp:
        work = Path(tmp)
        long = media.tone(work / "long.wav", seconds=600)
        clips = [media.tone(work / f"clip-{n:02}.wav", seconds=30, frequency=220 + 10 * n)
                 for n in range(args.clips)]
        engine_seconds(clips[0], work)  # the first conversion in a process loads what it needs
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(timed_round(user, team, long, clips, work))
            done, long_job, engine_long, engine_clips = rounds[-1]
            baseline = (engine_long + engine_clips) / 2
            print(f"  round {number}: all done in {done:.2f} s against {baseline:.2f} s "
                  f"({done / baseline:.2f}x); the long job {long_job:.2f} s against {engine_long:.2f} s "
                  f"alone ({long_job / engine_long:.2f}x)", flush=True)
    jobs_delete(user, team)
    ratios = [done / ((engine_long + engine_clips) / 2) for done, _, engine_long, engine_clips in rounds]
    print(f"  median {median(ratios):.2f}x of the sum of engine times / 2 "
          "(no target; the batch's is <= 1.15x)")


if __name__ == "__main__":
    main()
