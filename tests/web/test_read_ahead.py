"""read_ahead: the same items in order, the source's error raised where they are used, at most
`depth` items read ahead, and a consumer that leaves ends the reading thread and closes its source
(a client leaving a ZIP download mid-way must not leave a thread and an open file behind)."""

import threading
import time

import pytest

from converter.read_ahead import read_ahead


def _wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_items_come_in_order():
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(read_ahead([])) == []


def test_an_error_of_the_source_comes_after_the_items_before_it():
    def source():
        yield b"first"
        raise FileNotFoundError("a result deleted while zipped")

    items = read_ahead(source())
    assert next(items) == b"first"
    with pytest.raises(FileNotFoundError, match="deleted while zipped"):
        next(items)


def test_at_most_depth_items_are_read_ahead():
    made = []

    def source():
        for number in range(100):
            made.append(number)
            yield number

    items = read_ahead(source(), depth=4)
    assert next(items) == 0
    time.sleep(0.2)  # time for the thread to fill the queue
    assert len(made) <= 1 + 4 + 1  # the one used, the queue, and one waiting to be put
    items.close()


def test_a_consumer_that_leaves_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            while True:
                yield b"x" * 1024
        finally:
            closed.set()  # where the ZIP's file would be closed

    before = threading.active_count()
    items = read_ahead(source(), depth=2)
    next(items)
    items.close()  # what the response does when the client has gone
    _wait_until(closed.is_set)
    _wait_until(lambda: threading.active_count() == before)
