"""Wrong download passwords, counted per output and per client, so that guessing is slow.

A small counter on Django's cache rather than django-ratelimit: only failures count (a right
password, or a page visit without one, costs nothing), and two keys are checked at once. The
count is checked before any hash is computed, so a guesser cannot burn CPU either. With
several web processes, CACHE_URL must name a shared cache (Redis), or each counts alone.
"""

import time

from django.core.cache import cache

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_OUTPUT = 20  # from everywhere: a distributed guesser
MAX_FAILURES_PER_CLIENT = 10  # from one address, over all outputs


class PasswordThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"Too many wrong download passwords. Try again in {retry_after // 60 + 1} minutes.")
        self.retry_after = retry_after


def _counters(output_id, client: str) -> list[tuple[str, int]]:
    return [(f"dlpw:output:{output_id}", MAX_FAILURES_PER_OUTPUT),
            (f"dlpw:client:{client}", MAX_FAILURES_PER_CLIENT)]


def throttle_check(output_id, client: str) -> None:
    """Raise PasswordThrottled while either counter is at its limit."""
    for key, limit in _counters(output_id, client):
        if (cache.get(key) or 0) >= limit:
            since = cache.get(f"{key}:since") or time.time()
            raise PasswordThrottled(max(1, int(since + WINDOW_SECONDS - time.time())))


def throttle_failed(output_id, client: str) -> None:
    for key, _limit in _counters(output_id, client):
        if cache.add(key, 1, WINDOW_SECONDS):  # the window starts at the first failure
            cache.set(f"{key}:since", time.time(), WINDOW_SECONDS)
        else:
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, WINDOW_SECONDS)
