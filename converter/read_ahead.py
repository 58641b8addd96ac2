"""An iterable's next items made in a thread of their own while the caller uses the current one.

A streamed ZIP of results (services/zips.py) reads each file and computes its CRC-32, and the
response sends the bytes; in one thread the two take turns. Both let go of the GIL (file reads,
zlib.crc32, socket writes), so with the reading in a thread of its own they overlap: a 1 GiB ZIP
of 8 results through gunicorn went from 1,802-1,824 to 2,350-2,579 MiB/s (bench/zips.py). At most
`depth` items wait, so memory stays at a few chunks.

Not prefetch-generator's BackgroundGenerator: when a client leaves mid-download, the response
closes this iterator, and the reading thread must then stop and close its source (the file it
has open) instead of waiting for ever on a full queue.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_END = object()
_PUT_WAIT = 0.5  # seconds between two looks of a blocked reader at whether its consumer has gone


@dataclass
class _Failed:
    error: BaseException


def read_ahead(items: Iterable, depth: int = 8) -> Iterator:
    """Yield what `items` yields, read ahead by up to `depth` items in a daemon thread. An error
    of `items` is raised here, after the items before it; closing this iterator stops the thread
    and closes `items`' iterator."""
    waiting: queue.Queue = queue.Queue(depth)
    gone = threading.Event()

    def put(item) -> bool:
        while not gone.is_set():
            try:
                waiting.put(item, timeout=_PUT_WAIT)
                return True
            except queue.Full:
                pass
        return False

    def read() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failed(error))
        finally:
            if close := getattr(source, "close", None):
                close()

    threading.Thread(target=read, name="read-ahead", daemon=True).start()
    try:
        while (item := waiting.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        gone.set()
