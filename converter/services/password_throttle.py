"""Wrong download passwords, counted per output and per client, so that guessing is slow.

A small counter on Django's cache rather than django-ratelimit: only wrong passwords count (a
right one, or a page visit without one, costs nothing), each password of a comma-separated list
counts as one, and two keys are counted at once. A request's passwords are counted *before* any
is checked (throttle_reserve), and given back when one was right (throttle_refund): checking
first and counting after let simultaneous guesses all pass a count that none had raised yet.
Counting first also means no hash is computed for a refused request.

Redis counts atomically. The file cache (the default) reads then rewrites a file, so
simultaneous guesses would overwrite each other's counts (16 at once: 25 checked for a limit
of 10); its counting takes turns (converter/cache_turns.py). With web processes on several
machines, CACHE_URL must name a shared cache (Redis).

An address that gave an output's right password is not held back by that output's count for a
window after it (only by its own): a guesser spread over many addresses cannot lock out the
recipients already downloading, and gains nothing from it, since that address knows the password.
The mark names the password hashes it was earned with: once the output's password changes, no
address knows the new one.

A window starts at its counter's first counted password and lasts WINDOW_SECONDS on every
backend: its start is kept beside the count, and the count's timeout is set again after each
incr (the file and database caches' incr re-sets their default timeout, 300 s).
"""

import hashlib
import math
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from django.core.cache import cache

from converter.cache_turns import cache_turns

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_OUTPUT = 20  # from everywhere: a distributed guesser
MAX_FAILURES_PER_CLIENT = 10  # from one address, over all outputs


class PasswordThrottled(Exception):
    def __init__(self, retry_after: int):
        minutes = math.ceil(retry_after / 60)
        super().__init__(f"Too many wrong download passwords. Try again in {minutes} minutes.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reservation:
    """A request's passwords, counted as wrong until throttle_refund says otherwise."""

    attempts: int
    windows: tuple[tuple[str, float], ...]  # (counter key, when its window began)
    known: str  # the key that marks this address as knowing the output's password


def _known(output_id, hashes: Sequence[str], client: str) -> str:
    fingerprint = hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:16]
    return f"dlpw:known:{output_id}:{fingerprint}:{client}"


def _counters(output_id, known: str, client: str) -> list[tuple[str, int]]:
    """The client's counter, and the output's unless the mark `known` says the client knows it."""
    counters = [(f"dlpw:client:{client}", MAX_FAILURES_PER_CLIENT)]
    if not cache.get(known):
        counters.append((f"dlpw:output:{output_id}", MAX_FAILURES_PER_OUTPUT))
    return counters


def _seconds_left(since: float, now: float) -> int:
    return max(1, math.ceil(since + WINDOW_SECONDS - now))


def _refuse_past(key: str, limit: int, count: int, now: float) -> None:
    if count > limit:
        raise PasswordThrottled(_seconds_left(cache.get(f"{key}:since") or now, now))


def throttle_check(output_id, hashes: Sequence[str], client: str, attempts: int = 1) -> None:
    """Raise PasswordThrottled when `attempts` more passwords would pass either limit; hashes:
    the output's password hashes."""
    _check(_counters(output_id, _known(output_id, hashes, client), client), attempts)


def _check(counters: list[tuple[str, int]], attempts: int) -> None:
    now = time.time()
    for key, limit in counters:
        _refuse_past(key, limit, (cache.get(key) or 0) + attempts, now)


def _count(key: str, attempts: int, now: float) -> tuple[int, float]:
    """Add attempts to key's count: (the new count, when its window began)."""
    # add() never rewrites an existing key, so the start keeps its own full timeout.
    since = cache.get_or_set(f"{key}:since", now, WINDOW_SECONDS)
    left = _seconds_left(since, now)
    if cache.add(key, attempts, left):
        return attempts, since
    try:
        count = cache.incr(key, attempts)
    except ValueError:  # it expired between add and incr
        cache.add(key, attempts, left)
        return attempts, since
    cache.touch(key, left)  # incr may have set the cache's default timeout
    return count, since


def throttle_reserve(output_id, hashes: Sequence[str], client: str, attempts: int) -> Reservation:
    """Count a request's `attempts` passwords as wrong before they are checked. Raise
    PasswordThrottled, counting nothing, if they would pass a limit; or, counted, if
    simultaneous requests took the count past it in the meantime."""
    known = _known(output_id, hashes, client)
    with cache_turns("download-passwords"):
        counters = _counters(output_id, known, client)
        _check(counters, attempts)
        now, windows = time.time(), []
        for key, limit in counters:
            count, since = _count(key, attempts, now)
            windows.append((key, since))
            _refuse_past(key, limit, count, now)
    return Reservation(attempts, tuple(windows), known)


def throttle_refund(reservation: Reservation) -> None:
    """One of the passwords was right: they cost nothing, and the address knows the password."""
    now = time.time()
    with cache_turns("download-passwords"):
        for key, since in reservation.windows:
            _give_back(key, since, reservation.attempts, now)
        cache.set(reservation.known, True, WINDOW_SECONDS)


def _give_back(key: str, since: float, attempts: int, now: float) -> None:
    # In a new window the count does not hold these attempts: taking them off would give credit.
    if cache.get(f"{key}:since") == since:
        with suppress(ValueError):  # expired meanwhile
            cache.decr(key, attempts)
            cache.touch(key, _seconds_left(since, now))
