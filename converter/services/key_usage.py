"""An API key's use (its row's last_used_at and usage_count) written at most once every
API_KEY_USAGE_WRITE_EVERY seconds per key and web process, instead of on every request.

An SDK polls its jobs every second or so, each request authenticated by the key: writing the key's
row every time made every API poll a write, taken in turn by every web thread (on SQLite, the
database's one write lock, which the workers' status writes need too): at ~250 polls/s, ~250
writes/s. (Throughput, bench/polling.py: within the bench VM's noise, docs/performance.md.)

So the first request after a quiet spell writes at once (the keys page shows the key used to the
second) and opens an interval; the requests within it are counted in the process and written
together when it ends, which opens the next one. A process that exits writes what it holds
(atexit); one killed outright loses at most an interval's count. The standard library's timer
thread, not a periodic task: the counts live in this process's memory.
"""

from __future__ import annotations

import atexit
import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F
from django.utils import timezone

from converter.models import ApiKey

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_pending: dict[int, int] = {}  # key id -> requests counted, not yet written
_intervals: dict[int, threading.Timer] = {}  # key id -> the timer ending its open interval


def key_used(key_id: int) -> None:
    """Count one request authenticated by the key."""
    with _lock:
        if key_id in _intervals:
            _pending[key_id] = _pending.get(key_id, 0) + 1
            return
        if settings.API_KEY_USAGE_WRITE_EVERY > 0:
            _interval_open(key_id)
    _write(key_id, 1)


def _interval_open(key_id: int) -> None:
    """(Under _lock.)"""
    timer = threading.Timer(settings.API_KEY_USAGE_WRITE_EVERY, _interval_end, (key_id,))
    timer.daemon = True  # never keeps a process from exiting: atexit writes what it holds
    _intervals[key_id] = timer
    timer.start()


def _interval_end(key_id: int) -> None:
    """In the timer's thread: write the interval's count, and open the next interval if there
    was one (steady polling: one write an interval); none leaves the key quiet."""
    with _lock:
        if _intervals.get(key_id) is not threading.current_thread():
            return  # ended by pending_write while this timer fired: it wrote the count
        count = _pending.pop(key_id, 0)
        del _intervals[key_id]
        if count:
            _interval_open(key_id)
    if count:
        try:
            _write(key_id, count)
        finally:
            connection.close()  # this thread's own connection: the thread ends here


def _write(key_id: int, count: int) -> None:
    try:
        ApiKey.objects.filter(pk=key_id).update(last_used_at=timezone.now(),
                                                usage_count=F("usage_count") + count)
    except DatabaseError:  # the database away: the request is answered all the same
        logger.warning("API key %s: %d requests not counted", key_id, count, exc_info=True)


@atexit.register
def pending_write() -> None:
    """Write every count this process holds (at its exit; tests call it)."""
    with _lock:
        counts = dict(_pending)
        _pending.clear()
        for timer in _intervals.values():
            timer.cancel()
        _intervals.clear()
    for key_id, count in counts.items():
        _write(key_id, count)
