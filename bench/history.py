"""The first page of the history with 100,000 jobs, against the same page with 100 jobs (two
teams of the same database, served by gunicorn gthread, DEBUG off).

Targets: <= 1.5x the time, and the same number of queries (counted in this process with the
test client on the same database: the server runs with DEBUG off and counts nothing). The
query plans of the page's job query are printed (EXPLAIN QUERY PLAN on SQLite).

The rows are made once, in batches (bulk_create), and kept in the bench's database (VAR_DIR):
a second run reuses them.

Run: .venv/bin/python bench/history.py [--jobs 100000] [--repeats 20]
"""

from __future__ import annotations

import http.client
import time
from datetime import timedelta

from harness import bench_start, bench_user, gunicorn, median, report, session_cookie

BATCH = 5000


def fill(team, user, count: int) -> None:
    """count jobs one second apart (newest last), each with an input, a third with an output."""
    from django.db import transaction
    from django.utils import timezone

    from converter.models import Job, JobInput, JobOutput

    have = Job.objects.filter(team=team).count()
    if have == count:
        return
    Job.objects.filter(team=team).delete()
    start = timezone.now() - timedelta(seconds=count)
    statuses = [Job.Status.COMPLETED, Job.Status.FAILED, Job.Status.CANCELED]
    created_at = Job._meta.get_field("created_at")
    created_at.auto_now_add = False  # the rows carry their own times (this process only)
    try:
        for first in range(0, count, BATCH):
            with transaction.atomic():
                jobs = Job.objects.bulk_create([
                    Job(team=team, created_by=user, status=statuses[n % 3], progress=100,
                        created_at=start + timedelta(seconds=n), modified_at=start + timedelta(seconds=n))
                    for n in range(first, min(first + BATCH, count))])
                JobInput.objects.bulk_create([
                    JobInput(job=job, type=JobInput.Type.UPLOAD, filename=f"take-{first + n:06}.wav",
                             size=1000)
                    for n, job in enumerate(jobs)])
                JobOutput.objects.bulk_create([
                    JobOutput(job=job, download_name=f"take-{first + n:06}.flac", size=1000, duration=3.0)
                    for n, job in enumerate(jobs) if job.status == Job.Status.COMPLETED])
    finally:
        created_at.auto_now_add = True


def page_seconds(port: int, cookie: str, repeats: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        connection.request("GET", "/history/", headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append(time.perf_counter() - start)
    connection.close()
    return times


def queries_and_plan(user) -> tuple[int, str]:
    """The page's query count (test client, same database) and the plan of its job query."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")  # one of ALLOWED_HOSTS
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/history/").status_code == 200
    job_query = next(query["sql"] for query in captured.captured_queries
                     if 'FROM "converter_job"' in query["sql"] and "LIMIT 26" in query["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {job_query}")
        plan = "; ".join(row[-1] for row in cursor.fetchall())
    return len(captured), plan


def main() -> None:
    args = bench_start("history", "first page, {jobs:,} jobs vs {small:,}", jobs=100_000, small=100,
                       repeats=20)
    small_user, small_team = bench_user("bench-history-small")
    big_user, big_team = bench_user("bench-history-big")
    start = time.perf_counter()
    fill(small_team, small_user, args.small)
    fill(big_team, big_user, args.jobs)
    print(f"  rows ready in {time.perf_counter() - start:.1f} s")
    small_queries, small_plan = queries_and_plan(small_user)
    big_queries, big_plan = queries_and_plan(big_user)
    small_cookie, big_cookie = session_cookie(small_user), session_cookie(big_user)
    with gunicorn(workers=1) as server:  # one worker: every request sees the same warm process
        page_seconds(server.port, small_cookie, 3)
        page_seconds(server.port, big_cookie, 3)
        small, big = [], []
        for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
            small += page_seconds(server.port, small_cookie, 1)
            big += page_seconds(server.port, big_cookie, 1)
    ratio = median(big) / median(small)
    report(f"history, first page with {args.jobs:,} jobs",
           f"{args.small} jobs: median {median(small) * 1000:.1f} ms, {small_queries} queries",
           f"median {median(big) * 1000:.1f} ms, {big_queries} queries", ratio,
           "<= 1.5x, same query count", ratio <= 1.5 and big_queries == small_queries)
    print(f"  plan ({args.jobs:,} jobs): {big_plan}")


if __name__ == "__main__":
    main()
