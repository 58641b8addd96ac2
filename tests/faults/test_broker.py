"""The embedded broker never shows a worker a message that is still being written
(converter/broker.py: kombu issue #1551 lost such messages and stopped the worker), lets an
idle worker see a shutdown soon, and wakes a waiting worker when a message comes."""

import os
import select
import threading
from queue import Empty
from types import SimpleNamespace

import pytest
from inotify_simple import INotify
from kombu import Connection, Consumer, Queue
from kombu.transport import filesystem

from converter.broker import SHUTDOWN_CHECK


@pytest.fixture
def channel(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {"data_folder_in": str(folders["queue"]), "data_folder_out": str(folders["queue"]),
               "processed_folder": str(folders["processed"]), "control_folder": str(folders["control"])}
    with Connection("filesystem://", transport="converter.broker:Transport",
                    transport_options=options) as connection:
        yield connection.default_channel


def test_a_message_appears_only_once_it_is_whole(channel, monkeypatch):
    payload = {"body": "x" * 200_000, "headers": {"task": "converter.job_run"}}
    polled = []
    real_replace = os.replace

    def replace(source, destination):
        # A worker polls while the bytes are on disk but not yet under their name.
        with pytest.raises(Empty):
            channel._get("celery")
        polled.append(source)
        real_replace(source, destination)

    monkeypatch.setattr("converter.broker.os.replace", replace)
    channel._put("celery", payload)
    assert polled and channel._get("celery") == payload
    with pytest.raises(Empty):
        channel._get("celery")


def test_messages_go_to_their_own_queue(channel):
    for number in range(5):
        channel._put("celery", {"n": number})
    channel._put("other", {"n": "elsewhere"})
    # In name order, as kombu's: by millisecond, then at random within one.
    assert sorted(channel._get("celery")["n"] for _ in range(5)) == [0, 1, 2, 3, 4]
    assert channel._get("other") == {"n": "elsewhere"}


def test_the_embedded_default_uses_it(settings):
    assert settings.CELERY_BROKER_URL.startswith("filesystem://")
    assert settings.CELERY_BROKER_TRANSPORT == "converter.broker:Transport"


@pytest.fixture
def consumer(channel):
    """The channel consuming the "celery" queue, as a worker's; what it receives in .received."""
    consumer = Consumer(channel, [Queue("celery")], accept=["json"])
    consumer.received = []
    consumer.register_callback(lambda body, message: consumer.received.append(body) or message.ack())
    with consumer:
        yield consumer


@pytest.fixture
def reads(monkeypatch):
    """The timeouts (ms) of the waits on the inotify watch; .before runs before each wait."""
    seen, real_read = SimpleNamespace(timeouts=[], before=lambda: None), INotify.read

    def read(self, timeout=None, read_delay=None):
        seen.timeouts.append(timeout)
        seen.before()
        return real_read(self, timeout=timeout)

    monkeypatch.setattr(INotify, "read", read)
    return seen


def test_a_waiting_worker_wakes_on_a_message_instead_of_polling(channel, consumer, reads, monkeypatch):
    monkeypatch.setattr(select, "select", lambda *args: pytest.fail("waited for a place"))
    looks = []
    real_get = channel._get
    monkeypatch.setattr(channel, "_get", lambda queue: looks.append(queue) or real_get(queue))
    # The message is queued while the worker waits; the wait ends on it, at once.
    reads.before = lambda: channel.connection.client.Producer().publish({"n": 1}, routing_key="celery")
    channel.connection.client.drain_events(timeout=2.0)
    assert consumer.received == [{"n": 1}]
    [timeout] = reads.timeouts
    assert 0 < timeout <= SHUTDOWN_CHECK * 1000
    assert len(looks) == 2  # one look before the wait, one after it


def test_a_bounded_wait_for_a_message_is_cut_short_so_the_worker_sees_a_shutdown(channel, consumer, reads):
    """Celery's loop for polled brokers checks for a shutdown between waits of 2 s: each wait
    ends after SHUTDOWN_CHECK instead."""
    with pytest.raises(TimeoutError):
        channel.connection.client.drain_events(timeout=2.0)
    assert reads.timeouts and all(0 < timeout <= SHUTDOWN_CHECK * 1000 for timeout in reads.timeouts)
    assert consumer.received == []


def test_a_worker_with_its_prefetch_full_wakes_when_one_of_its_jobs_ends(channel, reads, monkeypatch):
    """No file event says that a job has ended and freed a place for the next message: the
    acknowledgement wakes the wait. The worker's remote-control channel (it consumes, with no
    prefetch) once sent it to wait for a file event instead, up to SHUTDOWN_CHECK a job."""
    client, held, waiting = channel.connection.client, [], threading.Event()
    real_select = select.select

    def select_(*args):
        waiting.set()
        return real_select(*args)

    monkeypatch.setattr(select, "select", select_)
    reads.before = waiting.set
    jobs = Consumer(channel, [Queue("celery")], accept=["json"], prefetch_count=1,
                    callbacks=[lambda body, message: held.append(message)])
    control = Consumer(client.channel(), [Queue("control")], accept=["json"])
    with jobs, control:
        for number in (1, 2):
            client.Producer().publish({"n": number}, routing_key="celery")
        client.drain_events(timeout=0.05)
        assert len(held) == 1  # its prefetch is full
        worker = threading.Thread(target=client.drain_events, daemon=True)  # no timeout: until a message
        worker.start()
        assert waiting.wait(10)
        held[0].ack()
        worker.join(10)
        assert not worker.is_alive() and sorted(message.payload["n"] for message in held) == [1, 2]
        held[1].ack()
    assert reads.timeouts == []  # it never waited for a file event


def test_without_inotify_kombu_polls_with_the_wait_cut_short(channel, monkeypatch):
    """Where inotify is missing (not Linux); an unbounded wait stays unbounded."""
    waits = []
    monkeypatch.setattr("converter.broker._arrivals_watch", lambda folder: None)
    monkeypatch.setattr(filesystem.Transport, "drain_events",
                        lambda self, connection, timeout=None: waits.append(timeout))
    connection = channel.connection.client
    connection.transport.drain_events(connection, timeout=2.0)
    connection.transport.drain_events(connection, timeout=0.05)
    connection.transport.drain_events(connection)
    assert waits == [SHUTDOWN_CHECK, 0.05, None]
