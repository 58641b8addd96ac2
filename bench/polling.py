"""The job-status fragment under 200 concurrent pollers, against a trivial Django view in the same
server (gunicorn gthread, 2 x 8, DEBUG off), same middleware and same session cookie.

Target: >= 0.5x the trivial view's requests/s, no errors. The pollers ask as htmx does once the
page is loaded: with the version and token rendered into the fragment (?v=, ?t=), so an unchanged
running job costs one indexed query and a 204, answered before the session's middleware
(converter/web/polls.py). The full fragment (no ?v=) is printed for comparison, and so is the
API's poll of a job (GET /v2/jobs/{id} with an account key, as the vendor's SDKs poll).

Run: .venv/bin/python bench/polling.py [--pollers 200] [--seconds 10]
"""

from __future__ import annotations

import asyncio
import time

from harness import bench_start, bench_user, best_of, gunicorn, report, session_cookie


async def _poller(port: int, request: bytes, until: float, counts: dict) -> None:
    """One keep-alive connection sending the same GET back to back (reconnecting when the
    server closes it, as a browser would)."""
    while time.perf_counter() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            counts["errors"] += 1
            await asyncio.sleep(0.1)
            continue
        try:
            while time.perf_counter() < until:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                if length:
                    await reader.readexactly(length)
                counts["ok" if status in (200, 204) else "errors"] += 1
                if b"connection: close" in head.lower():
                    counts["closed"] += 1
                    break
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()


def requests_per_second(port: int, path: str, headers: str, pollers: int, seconds: float
                        ) -> tuple[float, int]:
    """(requests/s, errors) of `pollers` connections polling path for `seconds`, sending headers
    (lines ending in CRLF)."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
               f"Connection: keep-alive\r\n\r\n").encode()
    counts = {"ok": 0, "errors": 0, "closed": 0}

    async def run() -> float:
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(*(_poller(port, request, until, counts) for _ in range(pollers)))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    return counts["ok"] / elapsed, counts["errors"]


def main() -> None:
    args = bench_start("polling", "{pollers} pollers", pollers=200, seconds=10.0, repeats=2)

    from converter.models import Job, JobInput
    from converter.services.api_keys import key_issue
    from converter.web.cards import JobCard

    user, team = bench_user("bench-poller")
    job = Job.objects.create(team=team, created_by=user, status=Job.Status.PROCESSING, progress=40)
    JobInput.objects.create(job=job, type=JobInput.Type.UPLOAD, filename="song.wav", size=1234)
    cookie = session_cookie(user)
    session_key = cookie.split(";")[0].split("=", 1)[1]
    status_path = f"/jobs/{job.pk}/status/"
    api_path = f"/v2/jobs/{job.pk}"
    polled_path = f"{status_path}?{JobCard(job, [], session_key=session_key).poll_query}"  # as on the page
    browser = f"HX-Request: true\r\nCookie: {cookie}\r\n"
    issued = key_issue(team=team, user=user, name="bench")
    sdk = f"X-Api2convert-Api-Key: {issued.key}\r\n"
    errors: dict[str, int] = {}

    def measure(path: str, headers: str = browser):
        def rate() -> float:
            per_second, failed = requests_per_second(server.port, path, headers, args.pollers, args.seconds)
            errors[path] = errors.get(path, 0) + failed
            return -per_second  # best_of keeps the minimum: the highest rate
        return rate

    with gunicorn() as server:
        measure("/bench/trivial/")()  # warm both workers up (imports, templates, connections)
        errors.clear()
        trivial, polled, full, api = (-rate for rate in best_of(
            args.repeats, measure("/bench/trivial/"), measure(polled_path),
            measure(status_path), measure(api_path, sdk)))
    job.delete()
    issued.api_key.delete()
    report("job-status fragment, unchanged job (204 after one query)", f"trivial view {trivial:.0f} req/s",
           f"{polled:.0f} req/s", polled / trivial, ">= 0.5x, no errors",
           polled / trivial >= 0.5 and not errors[polled_path], f"errors {errors[polled_path]}")
    print(f"  for comparison, the whole fragment every poll (no ?v=): {full:.0f} req/s, "
          f"{full / trivial:.2f}x")
    print(f"  for comparison, the API's GET /v2/jobs/{{id}} with an account key: {api:.0f} req/s, "
          f"{api / trivial:.2f}x, errors {errors[api_path]}")


if __name__ == "__main__":
    main()
