"""The analytics as the API serves them: one `Analysis` per moment and data version, shared by
every request, computed in a worker thread (the event loop never waits on it), kept until a
load changes the data.

A request names an `asOf` (default: the start of the current hour, analytics/run.py); the
service looks up the analysis whose fingerprint — the data's version, the event log's parts,
the configuration, the moment — matches, else opens one (its results come from the data dir's
cache when another process computed them). Concurrent requests for a signal not computed yet
wait for the one computation (the analysis holds a lock per run).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from analytics.config import AnalyticsConfig, load_config
from graph.model import as_utc
from graph.settings import Settings
from graph.store import GraphStore

if TYPE_CHECKING:  # the analytics (Ibis, pandas) load when first asked, not with the app
    from analytics.engine import Engine
    from analytics.run import Analysis

T = TypeVar("T")
_KEEP = 4  # analyses held at once (moments and versions)


class AnalyticsService:
    def __init__(self, store: GraphStore, settings: Settings,
                 config: AnalyticsConfig | None = None) -> None:
        self.store = store
        self.settings = settings
        self.config = config or load_config(settings.analytics_config)
        self._engine: Engine | None = None
        self._held: OrderedDict[str, Analysis] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from analytics.engine import Engine

            self._engine = Engine.duckdb()
        return self._engine

    def moment(self, as_of: datetime | None) -> datetime:
        from analytics.run import default_as_of

        return as_utc(as_of) if as_of is not None else default_as_of()

    def analysis(self, as_of: datetime | None) -> Analysis:
        """The analysis for this moment and the data as it is now (call from a thread)."""
        from analytics.run import fingerprint, open_analysis

        moment = self.moment(as_of)
        key = fingerprint(data_dir=self.settings.data_dir, as_of=moment, config=self.config,
                          store=self.store, engine=self.engine,
                          events_uri=self.settings.events_uri)
        with self._lock:
            found = self._held.get(key)
            if found is not None:
                self._held.move_to_end(key)
                return found
        opened = open_analysis(self.store, data_dir=self.settings.data_dir, as_of=moment,
                               config=self.config, engine=self.engine,
                               events_uri=self.settings.events_uri)
        with self._lock:
            found = self._held.setdefault(opened.key, opened)
            while len(self._held) > _KEEP:
                self._held.popitem(last=False)
        return found

    async def ask(self, as_of: datetime | None, question: Callable[[Analysis], T]) -> T:
        """`question(analysis)` in a worker thread; what it computed is kept for next time."""
        def run() -> T:
            analysis = self.analysis(as_of)
            answer = question(analysis)
            analysis.save()
            return answer
        return await asyncio.to_thread(run)


__all__ = ["AnalyticsService"]
