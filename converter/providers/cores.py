"""Which cores an embedded conversion may use, shared by the pool processes of one worker.

ffmpeg's command line runs its demuxer, decoder, filters, encoder and muxer in threads of
their own that hand every packet on: alone, a conversion spreads over the cores and finishes
sooner (a 10-minute WAV: 0.54 s on two cores, 0.73 s on one). When every core already has a
conversion, the hand-overs cross cores instead, and each costs a wake-up on another core:
40 clips in 2 parallel streams took 1.10-1.30x the time of the same clips one after another
on one core per stream, and 0.98-1.06x with each stream kept on a core of its own
(docs/performance-log.md, Batch). So a conversion that starts while another of the worker's is
running gets a core of its own; one that starts alone may use all of them until another
starts, which then keeps it (and its ffmpeg) to a core of its own. ffmpeg inherits the mask of
the process that starts it, and so do the engine's own encoder processes (engine/pcm_direct.py: it
cuts a long WAV into as many parts as its mask has cores, each encoded by a process it forks).

The slots live in shared memory made by the worker's main process before its pool forks
(share_create), so every pool process sees them; outside a worker (tests, eager tasks) there is
no share and nothing is pinned. A slot holds the pid converting in it and that process's start
time: a pool process killed mid-conversion leaves a pid that no longer runs (or, reused, runs
another process), and its slot counts as free.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from contextlib import contextmanager, suppress
from multiprocessing.sharedctypes import RawArray
from pathlib import Path

_share: _CoreShare | None = None
_slot: int | None = None  # this process's, while it converts
_alone_checks = 0  # widen_when_alone's checks in a row that found no other conversion
_alone_checked = 0.0  # when it last checked (time.monotonic())
WIDEN_CHECK_EVERY = 0.05  # seconds
LOCK_WAIT = 1.0  # seconds
NICENESS = 10  # batch_scheduling


class _CoreShare:
    def __init__(self, slots: int):
        self.pids = RawArray("i", 2 * slots)  # room for pids that outlive their process's slot
        # Each pid's start time: a killed process's pid, once reused, names another process, which
        # must neither hold the slot nor be moved to a core.
        self.starts = RawArray("Q", 2 * slots)
        self.lock = multiprocessing.Lock()
        self.cores = sorted(os.sched_getaffinity(0))

    def _live(self) -> dict[int, int]:
        """The slots whose process still converts: {slot: pid}."""
        return {index: pid for index, pid in enumerate(self.pids)
                if pid and _started(pid) == self.starts[index]}

    def take(self) -> int | None:
        """Take a free slot for this process (None if there is none) and set its cores: its own
        core while other conversions run, every core when alone. A conversion that started alone
        took every core: it is kept to its own now. All under the lock, so that of two starting
        together the second sees the first. A process killed while it held the lock (a window of
        well under a millisecond) would hold it for ever: after a second's wait the conversion
        goes on on every core, without a slot."""
        if not self.lock.acquire(timeout=LOCK_WAIT):
            os.sched_setaffinity(0, self.cores)
            return None
        try:
            live = self._live()
            slot = next((index for index in range(len(self.pids)) if index not in live), None)
            wanted = set(self.cores)
            if slot is not None:
                self.starts[slot] = _started(os.getpid())  # before the pid: no lock for readers
                self.pids[slot] = os.getpid()
                if live:
                    wanted = self.core(slot)
                    for index, pid in live.items():
                        _keep_to(pid, self.core(index))
            if os.sched_getaffinity(0) != wanted:
                os.sched_setaffinity(0, wanted)
            return slot
        finally:
            self.lock.release()

    def core(self, slot: int) -> set[int]:
        return {self.cores[slot % len(self.cores)]}

    def give_back(self, slot: int) -> None:
        self.pids[slot] = 0  # one aligned int: no lock needed to clear the process's own slot

    def others_running(self, slot: int) -> bool:
        return any(index != slot for index in self._live())


def _started(pid: int) -> int | None:
    """When the process started (clock ticks since boot), None if it is gone."""
    try:
        return int(stat_fields(pid)[19])  # field 22
    except OSError:
        return None


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the process's name (which may hold spaces and ")"),
    so that field N of proc(5) is at index N - 3."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def share_create(processes: int | None) -> None:
    """In the worker's main process, before the pool forks: a slot per pool process (one per
    core when the count is not known yet: `--concurrency auto`)."""
    global _share
    cores = len(os.sched_getaffinity(0))
    _share = _CoreShare(processes or cores) if cores > 1 else None


def batch_scheduling(*, every_thread: bool = False) -> None:
    """In each pool process: the kernel's batch policy (SCHED_BATCH) for it and the ffmpeg it
    starts. ffmpeg hands every packet from thread to thread; under the normal policy each
    hand-over wakes the next thread at once, so a conversion kept to one core switched threads
    ~3,400 times for a 30-second WAV (perf stat); as a batch task a woken thread waits for the
    running one's time slice: ~850 switches, 107 ms instead of 114 of CPU. Alone on every core
    it changes nothing measurable. A batch of 40 (bench/batch.py): 1.19-1.20x with it against
    1.25-1.28x without, alternated. The kernel also mildly disfavours batch tasks against the
    web server's threads, which keep the normal policy. Unprivileged, Linux only.

    And a niceness of NICENESS (10): when conversions and the web server share the cores (the
    embedded default), a page, a poll or an upload gets the CPU first. 40 form uploads of a
    30-second WAV while the worker converted: 1.53-1.58 s against 1.92-2.06 s, the batch as fast
    (bench/batch.py, alternated twice). A process cannot lower its niceness again: pool processes
    and the worker's main process only ever do batch work.

    every_thread: each thread the process runs now (the policy is a thread's; threads started
    later take their starter's), for the embedded worker's main process (tasks.py)."""
    for thread in _threads(os.getpid()) if every_thread else [0]:
        with suppress(AttributeError, OSError):  # OSError also when the thread has just ended
            os.sched_setscheduler(thread, os.SCHED_BATCH, os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, thread, NICENESS)


@contextmanager
def conversion_cores():
    """Around a conversion: a core of its own while others convert, every core when alone
    (until another starts: a 10-minute WAV that started alone, with 20 clips queued behind it,
    took 1.61-1.63x its time alone when it kept both cores, 1.02-1.44x kept to one; bench/mixed.py).

    The mask stays as it is after the conversion: a pool process usually takes the same slot
    again, and moving a running process to another core waits for that core (py-spy: ~1.4 ms
    per job when the mask went back to every core in between)."""
    if _share is None:
        yield
        return
    global _slot, _alone_checks, _alone_checked
    slot = _slot = _share.take()
    _alone_checks, _alone_checked = 0, time.monotonic()
    try:
        yield
    finally:
        _slot = None
        if slot is not None:
            _share.give_back(slot)


def widen_when_alone() -> None:
    """During a conversion kept to one core: once no other conversion runs, let this process and
    the ffmpeg it started (every thread of it) use every core again. Called from the engine's
    loops through the local provider's cancel check, as often as they like: it looks every
    WIDEN_CHECK_EVERY (each look reads /proc/<pid>/stat of every slot, ~60-100 us a read here; the
    direct path's loop calls it every 1 MiB read, and a batch's clips paid ~1-3 ms each, py-spy).
    A long file that started beside a short one would otherwise finish on one core with the other
    idle (~35 % slower on a 10-minute WAV). Only once two looks in a row find it alone: in a
    batch, the other process spends ~3 ms between two jobs, and would take its core back at once."""
    global _alone_checks, _alone_checked
    if _share is None or _slot is None:
        return
    now = time.monotonic()
    if now - _alone_checked < WIDEN_CHECK_EVERY:
        return
    _alone_checked = now
    _alone_checks = 0 if _share.others_running(_slot) else _alone_checks + 1
    if _alone_checks >= 2:
        _keep_to(os.getpid(), set(_share.cores))


def _keep_to(pid: int, cores: set[int]) -> None:
    """Move a pool process, and the ffmpeg or encoder processes it started (every thread of each),
    onto `cores`."""
    with suppress(OSError):  # it has just ended
        if os.sched_getaffinity(pid) == cores:
            return
    for process in [pid, *children(pid)]:
        for thread in _threads(process):
            with suppress(OSError):  # it has just ended
                os.sched_setaffinity(thread, cores)


def children(pid: int) -> list[int]:
    """The processes pid started, from any of its threads (each thread lists its own)."""
    pids = []
    for thread in _threads(pid):
        with suppress(OSError):  # the thread has just ended
            pids += [int(child) for child in Path(f"/proc/{pid}/task/{thread}/children").read_text().split()]
    return pids


def _threads(pid: int) -> list[int]:
    try:
        return [int(thread) for thread in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []
