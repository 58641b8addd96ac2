"""The embedded broker: kombu's filesystem transport, with each message complete before it appears.

kombu creates a message file under its final name and writes the bytes after; a worker polling
the folder in between takes the empty or partial file, cannot decode it, stops with
"Unrecoverable error", and the message is lost (kombu issue #1551, still open; seen here about
once in 1,000 messages under load). Here the bytes go to a name the workers' listing skips, and
the file is then renamed into place: a rename within one folder is atomic.

Celery runs a polled broker in its blocking loop (synloop), which looks for a shutdown only
between two waits for a message of up to 2 s each: here a wait ends after SHUTDOWN_CHECK, so a
stopped idle worker exits ~3 s sooner (~3.2 s in all, against ~6.2 s: under the 5 s that honcho,
`make run`, waits before it kills).

kombu looks for a message every polling_interval. On Linux a worker here instead sleeps until a
message is renamed into the folder (inotify): it takes a job as soon as it is queued, not up to
a polling interval later, and an idle worker wakes 5 times a second instead of 50 (~1.2 % of a
core before, docs/performance.md). While it holds as many messages as its prefetch allows, it
sleeps until one of its jobs ends: each acknowledgement (made in the pool's result thread)
writes a byte to a pipe the waiting loop selects on. It polls only where inotify is missing.
"""

import os
import select
import uuid
from contextlib import suppress
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError, OperationalError
from kombu.transport import filesystem
from kombu.utils.json import dumps

# What sending a task raises when its broker, whichever it is, cannot be reached: kombu's error for
# Redis and RabbitMQ (after its own retries, ~1 s), an OSError for this one's folder (a full disk).
BROKER_UNREACHABLE = (OperationalError, OSError)
SHUTDOWN_CHECK = 0.2  # seconds; each check costs the loop a few microseconds


class Channel(filesystem.Channel):
    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self.connection.place_freed()

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue)
        self.connection.place_freed()

    def _put(self, queue, payload, **kwargs):
        # kombu's own name: the time first (messages are taken in name order), then the queue;
        # the workers take only names ending in ".<queue>.msg".
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        name = os.path.join(self.data_folder_out, name)
        partial = name + ".part"
        try:
            with open(partial, "wb") as message:
                message.write(dumps(payload).encode())
            os.replace(partial, name)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


def _arrivals_watch(folder: str):
    """An inotify watch for messages renamed into folder (Channel._put's last step), or None where
    inotify is missing (not Linux): the caller then polls."""
    try:
        from inotify_simple import INotify, flags

        watch = INotify()
    except (ImportError, OSError, AttributeError):
        return None
    watch.add_watch(folder, flags.MOVED_TO)
    return watch


class Transport(filesystem.Transport):
    Channel = Channel
    _arrivals = None  # the inotify watch, made by the first wait; False where there is none
    _freed = None  # (read end, write end) of the pipe an acknowledgement writes to, with the watch
    # A folder, not a host: without this, kombu warns "No hostname was supplied" on every start.
    default_connection_params = {}

    def place_freed(self) -> None:
        """A message was acknowledged or rejected: wake a loop waiting for a place to take one."""
        if self._freed:
            with suppress(BlockingIOError):  # full: the loop has wake-ups enough to read
                os.write(self._freed[1], b"\0")

    def drain_events(self, connection, timeout=None):
        # Only a bounded wait is shortened: None still means "until a message comes".
        if timeout is not None:
            timeout = min(timeout, SHUTDOWN_CHECK)
        if self._arrivals is None:
            self._arrivals = _arrivals_watch(self.client.transport_options["data_folder_in"]) or False
            if self._arrivals:
                self._freed = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        if not self._arrivals:
            return super().drain_events(connection, timeout=timeout)
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            try:
                return self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                pass
            left = None if deadline is None else deadline - monotonic()
            if left is not None and left <= 0:
                raise TimeoutError()  # socket.timeout, which Celery expects
            # A message renamed in, or a job ended, after the look above is still unread: no gap.
            # The worker's remote-control channel has no prefetch: only a consuming channel's counts.
            if all(channel.qos.can_consume() for channel in self.channels if channel._consumers):
                self._arrivals.read(timeout=None if left is None else max(1, int(left * 1000)))
            elif select.select([self._freed[0]], [], [], left)[0]:
                with suppress(BlockingIOError):
                    os.read(self._freed[0], 4096)

    def close_connection(self, connection):
        if self._arrivals:
            self._arrivals.close()
            for end in self._freed:
                os.close(end)
        self._arrivals = self._freed = None
        super().close_connection(connection)
