"""One run of the analytics for an `as_of`: every signal computed once, when first asked for, from
one world (analytics/world.py), and the results kept in the data dir's cache keyed by what they
read — the data's version (graph/version.py: every load changes it), the event log's parts, the
configuration and the moment — so that a second question is answered from the cache and a load
makes the next one recompute.

    analysis = open_analysis(store, settings, as_of=…)
    analysis.health()           # list[Health]
    analysis.card("acme.com")   # one customer: health, churn risk, anomalies, onboarding, level,
                                # timeline
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import os
import pickle
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from analytics.activity import (
    AccountActivity,
    PersonActivity,
    accounts_activity,
    people_activity,
)
from analytics.anomalies import Anomaly, anomalies
from analytics.cohorts import Cohorts, cohorts
from analytics.config import AnalyticsConfig, load_config
from analytics.customers import CustomerCount, customer_count
from analytics.drift import Drift, competitor_drift
from analytics.engine import Engine, engine_from_env
from analytics.health import Health, health
from analytics.levels import Level, levels
from analytics.onboarding import Onboarding, onboarding
from analytics.outreach import Reach, outreach
from analytics.surge import Surge, topic_surge
from analytics.world import World, build_world
from connectors.pipeline import MEANINGFUL
from graph import version as graph_version
from graph.eventlog import EventLog
from graph.model import as_utc
from graph.store import GraphStore

CACHE_DIR = "analytics-cache"
_KEEP = 32  # cached runs kept on disk
_MEMORY: OrderedDict[str, dict[str, Any]] = OrderedDict()  # in this process, by key
_LOCK = threading.Lock()


def default_as_of(now: datetime | None = None) -> datetime:
    """`as_of` when none is given: the start of the current hour (UTC), so repeated questions
    within the hour share one computation; a load still makes it recompute."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def fingerprint(*, data_dir: Path, as_of: datetime, config: AnalyticsConfig, store: GraphStore,
                engine: Engine, events_uri: str | None) -> str:
    parts = [p.name for p in EventLog(data_dir / "events").live_parts()] \
        if events_uri is None else [events_uri]
    config_bytes = config.path.read_bytes() if config.path is not None else b""
    text = json.dumps({
        "version": graph_version.current(data_dir), "parts": parts,
        "config": hashlib.sha256(config_bytes).hexdigest(), "as_of": as_of.isoformat(),
        "store": store.kind.value, "engine": engine.kind,
        "graph": _graph_stamp(data_dir), "code": _code_digest()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@functools.cache
def _code_digest() -> str:
    """The analytics package's own source: a change to how anything is computed is a miss."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def _graph_stamp(data_dir: Path) -> list[float]:
    """The embedded store's file, as its size and time (writes that keep no version file), and
    its write-ahead log's size when it holds anything. Not the log's time: opening the store
    creates an empty log afresh, and each process would otherwise miss the others' cache."""
    found: list[float] = []
    try:
        stat = (data_dir / "graph.sqlite").stat()
        found += [stat.st_size, stat.st_mtime]
    except OSError:
        pass
    try:
        wal = (data_dir / "graph.sqlite-wal").stat().st_size
    except OSError:
        wal = 0
    if wal:
        found.append(wal)
    return found


# a timeline as the cache keeps it: (epoch seconds, the moment when it is not an event's whole
# second, kind, who, the text when it is not an event's own)
_Moment = tuple[float, datetime | None, str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    kind: str  # an event type, "concern", "trigger"
    who: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CustomerCard:
    customer_id: str
    name: str
    health: Health | None
    churn: dict[str, Any] | None  # {probability, factors: [{feature, text, contribution}]}
    anomalies: tuple[Anomaly, ...]
    onboarding: Onboarding | None
    level: Level | None
    timeline: tuple[TimelineItem, ...]


class Analysis:
    """The world is built when a signal first needs it: answers from the cache need none."""

    def __init__(self, world: Callable[[], World], *, as_of: datetime, config: AnalyticsConfig,
                 key: str, cache_dir: Path | None) -> None:
        self._make_world = world
        self._world: World | None = None
        self._as_of = as_of
        self._config = config
        self.key = key
        self.cache_dir = cache_dir
        self._results: dict[str, Any] = {}
        self._lock = threading.RLock()  # one computation of each signal, whatever asks
        with _LOCK:
            held = _MEMORY.get(key)
        if held is not None:
            self._results = held
        elif cache_dir is not None:
            self._results = _read(cache_dir / f"{key}.pickle")
        self._dirty = False

    @property
    def world(self) -> World:
        with self._lock:
            if self._world is None:
                self._world = self._make_world()
            return self._world

    @property
    def as_of(self) -> datetime:
        return self._as_of

    @property
    def config(self) -> AnalyticsConfig:
        return self._config

    def names(self) -> dict[str, str]:
        """customer id -> name, of every customer."""
        return self._get("names", lambda: self.world.names())

    def customers(self) -> dict[str, dict[str, Any]]:
        """customer id -> name, plan, mrr, status, churned (what a customer's card shows)."""
        def read() -> dict[str, dict[str, Any]]:
            return {a.customer_id: {
                "name": a.account_name or a.properties.get("name"),
                "plan": a.properties.get("plan"), "mrr": a.properties.get("mrr"),
                "status": a.properties.get("status"),
                "churned": a.properties.get("churned")} for a in self.world.accounts}
        return self._get("customers", read)

    def _get(self, name: str, compute: Any) -> Any:
        with self._lock:
            if name not in self._results:
                self._results[name] = compute()
                self._dirty = True
            return self._results[name]

    def save(self) -> None:
        """Keep what was computed (in this process, and in the data dir's cache)."""
        with self._lock:
            if not self._dirty:
                return
            with _LOCK:
                _MEMORY[self.key] = self._results
                _MEMORY.move_to_end(self.key)
                while len(_MEMORY) > 8:
                    _MEMORY.popitem(last=False)
            if self.cache_dir is not None:
                _write(self.cache_dir, f"{self.key}.pickle", self._results)
            self._dirty = False

    # --- the signals ----------------------------------------------------------------------

    def activity(self) -> dict[str, AccountActivity]:
        return self._get("activity", lambda: accounts_activity(self.world))

    def people(self) -> dict[str, PersonActivity]:
        return self._get("people", lambda: people_activity(self.world))

    def health(self) -> list[Health]:
        return self._get("health", lambda: health(self.world, self.activity()))

    def anomalies(self, *, include_expected: bool = True) -> list[Anomaly]:
        found = self._get("anomalies", lambda: anomalies(self.world, self.activity()))
        return found if include_expected else [a for a in found if not a.expected]

    def onboarding(self) -> list[Onboarding]:
        return self._get("onboarding", lambda: onboarding(self.world))

    def cohorts(self, period: str | None = None, active: str | None = None,
                periods: int | None = None) -> Cohorts:
        key = f"cohorts:{period}:{active}:{periods}"
        return self._get(key, lambda: cohorts(self.world, period=period, active=active,
                                              periods=periods))

    def count(self, window_days: int | None = None) -> CustomerCount:
        return self._get(f"count:{window_days}",
                         lambda: customer_count(self.world, window_days=window_days))

    def levels(self) -> list[Level]:
        return self._get("levels", lambda: levels(self.world, self.people()))

    def drift(self, since: datetime | None = None, *, everyone: bool = False) -> list[Drift]:
        return self._get(f"drift:{since}:{everyone}",
                         lambda: competitor_drift(self.world, since=since, everyone=everyone))

    def surge(self, company: str | None = None, *, everyone: bool = False) -> list[Surge]:
        return self._get(f"surge:{company}:{everyone}",
                         lambda: topic_surge(self.world, company=company, everyone=everyone))

    def outreach(self, size: int | None = None) -> list[Reach]:
        return self._get(f"outreach:{size}", lambda: outreach(
            self.world, size=size, activity=self.activity(), people=self.people(),
            healths=self.health(), found=self.anomalies(include_expected=False),
            starts=self.onboarding()))

    def churn(self, features: tuple[str, ...] | None = None) -> Any:
        """The fitted churn model (analytics/churn.py ChurnResult) on the churn table."""
        def fit() -> Any:
            from analytics.churn_table import churn_table

            # scikit-learn (with scipy.stats) takes a second or more to import: on a thread,
            # while the churn table's queries leave the interpreter idle in DuckDB
            importing = threading.Thread(target=importlib.import_module,
                                         args=("analytics.churn",), daemon=True)
            importing.start()
            table = churn_table(self.world)
            importing.join()
            from analytics.churn import fit_churn

            return fit_churn(table.frame, id_column="id", label="churned",
                             time_column=table.time_column, features=features,
                             definition=table.definition)
        return self._get(f"churn:{features}", fit)

    def transactions(self) -> pd.DataFrame:
        """Purchases: customer (the account, else the person), at, amount — for CLV."""
        def read() -> pd.DataFrame:
            from analytics.activity import amount

            e = self.world.events
            bought = e.filter(e.type == "purchase")
            expr = bought.select(customer=bought.account.coalesce(bought.who), at=bought["at"],
                                 amount=amount(bought))
            frame = self.world.engine.execute(expr.filter(expr.customer.notnull()))
            if not frame.empty:
                frame["at"] = pd.to_datetime(frame["at"], utc=True)
            return frame
        return self._get("transactions", read)

    def clv(self, *, calibration_end: datetime | None = None, time_unit: str = "week",
            horizon: float = 52.0) -> Any:
        from analytics.clv import clv

        end = calibration_end or self.as_of
        return self._get(f"clv:{end.isoformat()}:{time_unit}:{horizon}", lambda: clv(
            self.transactions(), calibration_end=end, time_unit=time_unit, horizon=horizon))

    def at_risk(self) -> list[Health]:
        """Customers at risk, lowest health first; the churn model's probability breaks ties."""
        return [h for h in self.health() if h.status == "at risk"]

    # --- one customer ---------------------------------------------------------------------

    def timeline(self, customer_id: str, limit: int = 50) -> tuple[TimelineItem, ...]:
        """A customer's latest `limit` meaningful moments, newest first: its events (logins and
        the kinds in MEANINGFUL), its people's concerns and its triggers."""
        def read() -> dict[str, list[_Moment]]:
            e = self.world.events
            shown = e.filter(e.account.notnull() & e.type.isin(sorted(MEANINGFUL | {"login"})))
            # each account's newest `limit` events, cut in the engine: a customer's timeline
            # never shows more, and the log holds millions
            ranked = shown.select("account", "type", "ts", "who", rank=ibis.row_number().over(
                group_by=shown.account, order_by=[shown.ts.desc(), shown.type]))
            latest = ranked.filter(ranked["rank"] < limit)
            table = self.world.engine.to_arrow(latest.select("account", "type", "ts", "who"))
            items: dict[str, list[_Moment]] = {}
            for account, kind, ts, who in zip(*(table.column(c).to_pylist() for c in (
                    "account", "type", "ts", "who")), strict=True):
                items.setdefault(account, []).append((int(ts), None, kind, who, None))
            for account in self.world.accounts:
                bucket = items.setdefault(account.customer_id, [])
                for p in account.people:
                    bucket.extend((c.at.timestamp(), c.at, "concern", p.person_id,
                                   f"{p.person_id} raised {c.concern_id}"
                                   + (f" ({c.status})" if c.status else ""))
                                  for c in p.concerns)
                bucket.extend((t.at.timestamp(), t.at, "trigger", None, t.headline or t.type)
                              for t in account.triggers)
            # compact tuples, not TimelineItems: the cache holds every customer's timeline and
            # a card turns only its own into items
            return {k: sorted(v, key=lambda m: (-m[0], m[2]))[:limit] for k, v in items.items()}
        moments = self._get(f"timeline:{limit}", read).get(customer_id, ())
        return tuple(TimelineItem(
            at if at is not None else datetime.fromtimestamp(seconds, UTC), kind, who,
            text if text is not None else f"{who or 'someone'}: {kind.replace('_', ' ')}")
            for seconds, at, kind, who, text in moments)

    def card(self, customer_id: str) -> CustomerCard | None:
        names = self.names()
        if customer_id not in names:
            return None
        healths = {h.customer_id: h for h in self.health()}
        starts = {o.customer_id: o for o in self.onboarding()}
        level = {x.customer_id: x for x in self.levels()}
        risk = None
        try:
            model = self.churn()
        except ValueError:
            model = None  # too few customers or one class only: no model, said in `churn`
        if model is not None:
            found = {a.id: a for a in model.accounts}.get(customer_id)
            if found is not None:
                risk = {"probability": found.probability,
                        "factors": [{"feature": f.feature, "text": f.text,
                                     "contribution": f.contribution} for f in found.factors]}
        return CustomerCard(
            customer_id, names[customer_id], healths.get(customer_id), risk,
            tuple(a for a in self.anomalies() if a.customer_id == customer_id),
            starts.get(customer_id), level.get(customer_id), self.timeline(customer_id))


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            found = pickle.load(f)  # noqa: S301 - our own cache file in our own data dir
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return {}
    return found if isinstance(found, dict) else {}


@functools.cache
def _fields_of(cls: type) -> tuple[str, ...] | None:
    """The init fields, in order, of one of the analytics' slotted dataclasses (None for any
    other type): each is rebuilt from them by its constructor."""
    if not (cls.__module__.startswith("analytics.") and dataclasses.is_dataclass(cls)
            and "__slots__" in cls.__dict__):
        return None
    fields = dataclasses.fields(cls)
    return tuple(f.name for f in fields) if all(f.init for f in fields) else None


class _Pickler(pickle.Pickler):
    """Pickles the analytics' dataclasses as (class, field values). The default for a frozen
    slotted dataclass calls dataclasses.fields() once per object: 3.4 s of a 6 s save for
    the half-million results of a 10k-customer analysis."""

    def reducer_override(self, obj: Any) -> Any:
        cls: type = type(obj)
        names = _fields_of(cls)
        if names is None:
            return NotImplemented
        return cls, tuple(getattr(obj, n) for n in names)


def _write(directory: Path, name: str, results: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "wb") as f:
            _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(results)
        os.replace(tmp, directory / name)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        tmp.unlink(missing_ok=True)
        return
    kept = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[_KEEP:]:
        old.unlink(missing_ok=True)


def open_analysis(store: GraphStore, *, data_dir: Path, as_of: datetime | None = None,
                  config: AnalyticsConfig | None = None, engine: Engine | None = None,
                  events_uri: str | None = None, cache: bool = True) -> Analysis:
    config = config or load_config()
    engine = engine or engine_from_env()
    moment = as_utc(as_of) if as_of is not None else default_as_of()
    key = fingerprint(data_dir=data_dir, as_of=moment, config=config, store=store,
                      engine=engine, events_uri=events_uri)

    def world() -> World:
        return build_world(store, data_dir=data_dir, as_of=moment, config=config,
                           engine=engine, events_uri=events_uri)

    return Analysis(world, as_of=moment, config=config, key=key,
                    cache_dir=data_dir / CACHE_DIR if cache else None)


__all__ = ["Analysis", "CACHE_DIR", "CustomerCard", "TimelineItem", "default_as_of",
           "fingerprint", "open_analysis"]
