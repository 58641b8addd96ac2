"""Taking turns on the default cache, for the processes of one machine.

Django's file cache (the default) reads, then rewrites, a key's file: two processes can both
`add` the same key, or lose each other's `incr`. Redis counts and adds atomically, and needs no
turns. Inside `cache_turns(name)` the file cache is used by one thread or process at a time,
through a lock file beside its files; that holds for the web processes of one machine, which is
all a file cache serves (several machines share Redis: CACHE_URL).
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache


@contextmanager
def cache_turns(name: str) -> Iterator[None]:
    """One holder of `name` at a time on the file cache; no wait on any other cache."""
    if not isinstance(caches["default"], FileBasedCache):
        yield
        return
    directory = settings.CACHES["default"]["LOCATION"]
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"{name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield
