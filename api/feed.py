"""The live customer feed's bus: who hears about a new interaction, and how.

A `Broker` delivers `FeedItem`s (graph/feed.py) to the subscribers of this process. It is
pluggable: the server takes any object with `publish` and `subscription`.

- `LocalBroker` (the default) fans items out to in-process subscribers through bounded queues;
  a subscriber that falls `QUEUE_SIZE` items behind loses the oldest ones (it never slows the
  others or the writer).
- Items reach it from two places: this process's own mutations, published the moment their write
  is checkpointed (`PublishingOutbox`); and every other process that writes the same data dir
  (`relgraph load`, other server workers), through the outbox files `OutboxFeed` tails.

So several workers sharing one data dir (`relgraph serve --workers N`, or processes on one host)
all see every interaction: the outbox *is* their bus. Processes on different hosts need a bus
they share instead: implement `Broker` over Redis pub/sub, NATS or Postgres LISTEN/NOTIFY,
publish each process's own items to it (as `PublishingOutbox` does locally) and drop the tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Protocol

from graph.feed import FeedItem, Outbox, OutboxTail, process_origin

QUEUE_SIZE = 1000
log = logging.getLogger("relgraph.feed")


class Broker(Protocol):
    def publish(self, items: Sequence[FeedItem]) -> None:
        """Hand items to every current subscriber (called on the event loop; never blocks)."""
        ...

    def subscription(self) -> AbstractAsyncContextManager[AsyncIterator[FeedItem]]:
        """Items published from now on, for as long as the context is open."""
        ...


class LocalBroker:
    def __init__(self, *, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._queues: set[asyncio.Queue[FeedItem]] = set()
        self.dropped = 0

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, items: Sequence[FeedItem]) -> None:
        for queue in self._queues:
            for item in items:
                if queue.full():
                    queue.get_nowait()  # the slow subscriber loses its oldest item
                    self.dropped += 1
                queue.put_nowait(item)

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[AsyncIterator[FeedItem]]:
        queue: asyncio.Queue[FeedItem] = asyncio.Queue(self.queue_size)
        self._queues.add(queue)

        async def items() -> AsyncIterator[FeedItem]:
            while True:
                yield await queue.get()

        try:
            yield items()
        finally:
            self._queues.discard(queue)


class PublishingOutbox(Outbox):
    """The outbox of this process's mutations: appended as every writer does, and published to
    the local broker at once (the write runs in a worker thread; the broker lives on the loop)."""

    def __init__(self, directory: Path, publish: Callable[[Sequence[FeedItem]], None],
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(directory)
        self._publish = publish
        self._loop = loop

    def append(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        written = super().append(items)
        if written:
            self._loop.call_soon_threadsafe(self._publish, written)
        return written


class OutboxFeed:
    """Tails the data dir's outbox and publishes what other processes wrote."""

    def __init__(self, directory: Path, broker: Broker, *, poll: float) -> None:
        self.directory = directory
        self.broker = broker
        self.poll = poll
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        tail = await asyncio.to_thread(OutboxTail, self.directory)
        self._task = asyncio.create_task(self._run(tail), name="relgraph-outbox-feed")

    async def _run(self, tail: OutboxTail) -> None:
        me = process_origin()
        while True:
            try:
                items = await asyncio.to_thread(tail.poll)
            except OSError as exc:  # a data dir on a flaky disk: say so, keep trying
                log.warning("outbox: %s", exc)
                items = []
            foreign = [item for item in items if item.origin != me]
            if foreign:
                self.broker.publish(foreign)
            await asyncio.sleep(self.poll)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


__all__ = ["Broker", "LocalBroker", "OutboxFeed", "PublishingOutbox"]
