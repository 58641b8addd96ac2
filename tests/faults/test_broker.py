"""The embedded broker never shows a worker a message that is still being written
(converter/broker.py: kombu issue #1551 lost such messages and stopped the worker), and lets an
idle worker see a shutdown soon."""

import os
from queue import Empty

import pytest
from kombu import Connection
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


def test_a_bounded_wait_for_a_message_is_cut_short_so_the_worker_sees_a_shutdown(channel, monkeypatch):
    """Celery's loop for polled brokers checks for a shutdown between waits of 2 s: each wait
    ends after SHUTDOWN_CHECK instead, and an unbounded one stays unbounded."""
    waits = []
    monkeypatch.setattr(filesystem.Transport, "drain_events",
                        lambda self, connection, timeout=None: waits.append(timeout))
    connection = channel.connection.client
    connection.transport.drain_events(connection, timeout=2.0)
    connection.transport.drain_events(connection, timeout=0.05)
    connection.transport.drain_events(connection)
    assert waits == [SHUTDOWN_CHECK, 0.05, None]
