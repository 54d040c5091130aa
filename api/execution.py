"""Where GraphQL runs, and how long it may.

graphql-core resolves and completes a selection set synchronously wherever it can, and what it
awaits it gathers in one go: a page of thousands of objects is long stretches of Python between
which the event loop runs thousands of callbacks in one turn. On the event loop of the server
that stretch kept every other request waiting, the health checks too, and no time limit could
fire (`asyncio.timeout` only cancels at an `await`): a read key's fan-out query held a worker
for minutes. Two things make that impossible:

- **A deadline checked while resolving** (`DeadlineExecutor`): every few fields the executor
  looks at the clock; past the request's deadline every field still to run fails at once, the
  walk unwinds in milliseconds, and the request answers TIMEOUT. The deadline is known before
  execution starts, so no signal has to reach a busy thread.
- **Costly queries run off the server's event loop** (`ExecutionThread`): a query whose cost
  (api/cost.py) is over `INLINE_COST` runs on an event loop of its own in one thread; the
  server's loop only waits for its answer, and the interpreter hands it the GIL every few
  milliseconds, so it keeps serving `/healthz`, look-ups and everything else meanwhile.
  Cheap queries (a look-up) and every mutation and subscription run where they arrive: a thread
  hop would cost them more than they take.

The cost limit bounds how much work a query can ask for; these bound how long it can take and
where it can get in anyone's way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.errors import RequestTimeout

log = logging.getLogger("relgraph.api")
T = TypeVar("T")
INLINE_COST = 1_000  # queries that may return more objects than this run on the thread
_EVERY = 32  # fields between two looks at the clock


class PastDeadline(RequestTimeout):
    """Raised by every field once the request's deadline has passed."""


class DeadlineExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with the request's deadline (`context.deadline`, a
    `time.monotonic()` instant, or None) checked every `_EVERY` fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fields = 0
        self._deadline: float | None = getattr(self.context_value, "deadline", None)
        self._expired = False

    def execute_field(self, *args: Any) -> Any:  # type: ignore[override]
        if self._deadline is not None:
            self._fields += 1
            if self._expired or (self._fields % _EVERY == 0
                                 and time.monotonic() > self._deadline):
                self._expired = True
                setattr(self.context_value, "expired", True)  # noqa: B010 - any context
                raise PastDeadline("the request ran past its time limit and was stopped")
        return super().execute_field(*args)


class ExecutionThread:
    """One thread running its own event loop, for the queries too costly to run on the
    server's. Started with the app, stopped (after `closing` ran on it) when the app stops."""

    def __init__(self, name: str = "relgraph-graphql") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    def submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work` run on the thread; cancelling this cancels it there too."""
        return await asyncio.wrap_future(self.submit(work))

    def stop(self, closing: Coroutine[Any, Any, None] | None = None,
             timeout: float = 10.0) -> None:
        """Run `closing` on the thread's loop (what belongs to it: an async driver), then stop."""
        if closing is not None:
            try:
                self.submit(closing).result(timeout)
            except Exception:  # noqa: BLE001 - stopping goes on; the reason is logged
                log.warning("closing the GraphQL execution thread's resources failed",
                            exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()


__all__ = ["DeadlineExecutor", "ExecutionThread", "INLINE_COST", "PastDeadline"]
