"""providers/cores.py: a conversion that starts while another of the worker's runs keeps to a core
of its own; one that starts alone may use every core; a dead process's slot is free."""

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from converter.providers import cores

ALL = os.sched_getaffinity(0)
pytestmark = pytest.mark.skipif(len(ALL) < 2, reason="pinning needs two cores")


@pytest.fixture
def share():
    cores.share_create(2)
    yield cores._share
    cores._share = None
    os.sched_setaffinity(0, ALL)


def _hold_a_slot(taken, release, ffmpeg) -> None:
    with cores.conversion_cores():
        child = subprocess.Popen([sys.executable, "-c", THREADS_THAT_WAIT])  # its ffmpeg
        ffmpeg.value = child.pid
        _wait_for_threads(child.pid)
        taken.set()
        release.wait(30)
        child.kill()
        child.wait()


class OtherConversion:
    """Another pool process (forked, as Celery's are) in the middle of a conversion, with the
    ffmpeg it started (`ffmpeg`: a stand-in with threads of its own)."""

    def __init__(self):
        context = multiprocessing.get_context("fork")
        taken, self.release, ffmpeg = context.Event(), context.Event(), context.Value("i", 0)
        self.process = context.Process(target=_hold_a_slot, args=(taken, self.release, ffmpeg))
        self.process.start()
        assert taken.wait(30)
        self.ffmpeg = ffmpeg.value

    def finish(self) -> None:
        self.release.set()
        self.process.join(30)


@pytest.fixture
def other_conversion(share):
    other = OtherConversion()
    yield other
    other.finish()


def test_without_a_worker_nothing_is_pinned():
    assert cores._share is None
    with cores.conversion_cores():
        assert os.sched_getaffinity(0) == ALL


def test_a_conversion_alone_may_use_every_core(share):
    with cores.conversion_cores():
        assert os.sched_getaffinity(0) == ALL
    assert list(share.pids) == [0] * len(share.pids)  # the slot is given back


def test_beside_another_conversion_it_keeps_to_a_core_of_its_own(other_conversion):
    with cores.conversion_cores():
        # The other process took the first slot, so the first core.
        assert os.sched_getaffinity(0) == {sorted(ALL)[1]}
    other_conversion.finish()
    with cores.conversion_cores():  # alone again: every core
        assert os.sched_getaffinity(0) == ALL


def test_one_that_started_alone_is_kept_to_its_own_core_when_another_starts(other_conversion):
    pids = [other_conversion.process.pid, other_conversion.ffmpeg]
    assert all(_affinities(pid) == {frozenset(ALL)} for pid in pids)  # it started alone
    with cores.conversion_cores():
        assert os.sched_getaffinity(0) == {sorted(ALL)[1]}
        # Every thread of the other pool process and of its ffmpeg, on the first core only.
        assert all(_affinities(pid) == {frozenset({sorted(ALL)[0]})} for pid in pids)


def _affinities(pid: int) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(int(thread))) for thread in os.listdir(f"/proc/{pid}/task")}


def test_a_slot_left_by_a_killed_process_is_free(share):
    context = multiprocessing.get_context("fork")
    gone = context.Process(target=os.getpid)
    gone.start()
    gone.join()
    share.pids[0] = gone.pid  # it died mid-conversion, its pid still in the slot
    with cores.conversion_cores():
        assert os.sched_getaffinity(0) == ALL
        assert share.pids[0] == os.getpid()


def test_a_reused_pid_is_another_process_which_keeps_its_cores(share):
    """A killed pool process's pid, reused by a process that is not converting, frees the slot;
    that process is not moved onto a core."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        share.pids[0], share.starts[0] = stranger.pid, 1  # the killed process started at tick 1
        with cores.conversion_cores():
            assert os.sched_getaffinity(0) == ALL  # alone
            assert share.pids[0] == os.getpid()
        assert os.sched_getaffinity(stranger.pid) == ALL
    finally:
        stranger.kill()
        stranger.wait()


def test_a_lock_left_held_by_a_killed_process_does_not_stop_conversions(share, monkeypatch):
    monkeypatch.setattr(cores, "LOCK_WAIT", 0.05)
    share.lock.acquire()  # as if its holder had been killed
    with cores.conversion_cores():
        assert os.sched_getaffinity(0) == ALL
    assert list(share.pids) == [0] * len(share.pids)


def test_alone_again_a_pinned_conversion_and_its_ffmpeg_get_every_core(other_conversion, monkeypatch):
    monkeypatch.setattr(cores, "WIDEN_CHECK_EVERY", 0)
    with cores.conversion_cores():
        # ffmpeg (here a stand-in with threads of its own) inherits the one core.
        child = subprocess.Popen([sys.executable, "-c", THREADS_THAT_WAIT])
        try:
            assert child.stdout is None and _wait_for_threads(child.pid) >= 3
            assert os.sched_getaffinity(child.pid) == {sorted(ALL)[1]}
            cores.widen_when_alone()  # the other conversion still runs: nothing changes
            assert os.sched_getaffinity(0) == {sorted(ALL)[1]}
            other_conversion.finish()
            cores.widen_when_alone()  # alone once: it may be between two jobs of a batch
            assert os.sched_getaffinity(0) == {sorted(ALL)[1]}
            cores.widen_when_alone()  # alone twice in a row
            assert os.sched_getaffinity(0) == ALL
            threads = os.listdir(f"/proc/{child.pid}/task")
            assert all(os.sched_getaffinity(int(thread)) == ALL for thread in threads)
        finally:
            child.kill()
            child.wait()


THREADS_THAT_WAIT = """
import threading, time
for _ in range(2):
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
time.sleep(30)
"""


def _wait_for_threads(pid: int) -> int:
    deadline = time.monotonic() + 10
    while len(os.listdir(f"/proc/{pid}/task")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(os.listdir(f"/proc/{pid}/task"))


def _policy_after_batch_scheduling(_) -> tuple[int, int]:
    cores.batch_scheduling()
    return os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)


def test_a_pool_process_converts_as_batch_work_yielding_to_the_web_server():
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map(_policy_after_batch_scheduling, [0]) == [(os.SCHED_BATCH, cores.NICENESS)]
    # The caller's own policy and niceness are left alone.
    assert (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)) == (os.SCHED_OTHER, 0)


def test_looks_for_other_conversions_are_spaced_however_often_the_engine_asks(other_conversion, monkeypatch):
    """The direct path asks every 1 MiB it reads, and each look reads /proc for every slot."""
    looks = []
    monkeypatch.setattr(cores._CoreShare, "others_running", lambda share, slot: looks.append(slot) or False)
    with cores.conversion_cores():
        for _ in range(100):
            cores.widen_when_alone()
        assert looks == []  # none within WIDEN_CHECK_EVERY of the start
        assert os.sched_getaffinity(0) == {sorted(ALL)[1]}
        time.sleep(cores.WIDEN_CHECK_EVERY)
        for _ in range(100):
            cores.widen_when_alone()
        assert len(looks) == 1
