"""What every signal reads, gathered once per run: the customer accounts from the graph (the
store's ACCOUNTS question, the same on both stores) and the event log with each event credited
to who its person is *now* and to its account.

An event's person is the key it was logged under, followed through the graph's folds (an
e-mail learned later, an alias, an anonymous visitor identified); its account is the Customer it
names (followed through folded customers), else the account of its person (the customer whose
company they work at, or whose B2C account they are). Events after `as_of` are not seen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
from ibis.expr.types import Table

from analytics.config import AnalyticsConfig
from analytics.engine import Engine, epoch
from graph.eventlog import EventLog
from graph.model import as_utc
from graph.questions.accounts import ACCOUNTS, Account, AccountsQuery
from graph.store import GraphStore

_STR = "string"


@dataclass
class World:
    as_of: datetime
    config: AnalyticsConfig
    engine: Engine
    accounts: tuple[Account, ...]
    events: Table  # id, type, at, ts (epoch seconds), who, account, url, properties, named_feature
    store: GraphStore | None = None  # for the graph measures' own questions (drift, surge)
    by_id: dict[str, Account] = field(default_factory=dict)
    person_account: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {a.customer_id: a for a in self.accounts}
        for account in self.accounts:
            for person in account.people:
                self.person_account.setdefault(person.person_id, account.customer_id)

    @property
    def now(self) -> int:
        return epoch(self.as_of)

    def weeks_ago(self, weeks: float) -> int:
        return epoch(self.as_of - timedelta(weeks=weeks))

    def account(self, customer_id: str) -> Account | None:
        return self.by_id.get(customer_id)

    def names(self) -> dict[str, str]:
        """customer id -> the name a person reads (the account's, else the customer's)."""
        return {a.customer_id: a.account_name or a.properties.get("name") or a.customer_id
                for a in self.accounts}

    def people_names(self) -> dict[str, str | None]:
        return {p.person_id: p.name for a in self.accounts for p in a.people}


def _seconds(engine: Engine, at: Any) -> Any:
    """`at` in whole epoch seconds, the same on both engines. DuckDB's EPOCH() is fractional and
    its cast to BIGINT rounds half to even; Spark's UNIX_TIMESTAMP() floors. Spark rounds here as
    DuckDB does (from the microseconds, which both format with %f), so that a sub-second event
    falls in the same day and week on both; DuckDB keeps its own (fast) expression."""
    if engine.kind != "spark":
        return at.epoch_seconds().cast("int64")
    whole = at.epoch_seconds().cast("int64")
    micros = at.strftime("%f").cast("int64")
    up = (micros > 500_000) | ((micros == 500_000) & (whole % 2 == 1))
    return whole + up.cast("int64")


# the feature a `feature_used` event names in its JSON properties ({"feature": "export"})
FEATURE_PROPERTY = r'"feature"\s*:\s*"([^"]*)"'


def resolve_events(engine: Engine, raw: Table, *, people: dict[str, str],
                   customers: dict[str, str], person_account: dict[str, str],
                   as_of: datetime) -> Table:
    """`raw` (the log's rows) with `who` and `account` as they are now; events up to `as_of`;
    `named_feature`: the feature a feature_used event names (read from its properties once
    here, not in each signal that asks)."""
    ids = engine.table({"p_alias": list(people), "p_now": list(people.values())},
                       {"p_alias": _STR, "p_now": _STR})
    anon = engine.table({"a_alias": list(people), "a_now": list(people.values())},
                        {"a_alias": _STR, "a_now": _STR})
    folded = engine.table({"c_alias": list(customers), "c_now": list(customers.values())},
                          {"c_alias": _STR, "c_now": _STR})
    theirs = engine.table({"pa_person": list(person_account),
                           "pa_customer": list(person_account.values())},
                          {"pa_person": _STR, "pa_customer": _STR})
    # the moment itself, not epoch seconds: Spark's UNIX_TIMESTAMP() drops the fraction (an
    # event half a second after as_of would pass), DuckDB's EPOCH() keeps it
    until = ibis.literal(datetime.fromtimestamp(epoch(as_of), UTC))
    e = raw.filter(raw["at"] <= until)
    step = e.left_join(ids, e.person == ids.p_alias)
    # each step is made its own relation (view): Ibis would otherwise read the next join's
    # predicate as reaching into the previous join
    step = step.select(*[c for c in raw.columns if c != "loaded_at"],
                       person_now=step.p_now.coalesce(step.person)).view()
    step = step.left_join(anon, step.anonymous_id == anon.a_alias)
    step = step.select(*[c for c in step.columns if c not in ("a_alias", "a_now")],
                       who=step.person_now.coalesce(step.a_now)).view()
    step = step.left_join(folded, step.account == folded.c_alias)
    step = step.select(*[c for c in step.columns if c not in ("c_alias", "c_now")],
                       account_now=step.c_now.coalesce(step.account)).view()
    step = step.left_join(theirs, step.who == theirs.pa_person)
    return step.select(
        "id", "type", "at", ts=_seconds(engine, step["at"]), who=step.who,
        account=step.account_now.coalesce(step.pa_customer), url=step.url,
        properties=step.properties,
        named_feature=(step.type == "feature_used").ifelse(
            step.properties.re_extract(FEATURE_PROPERTY, 1).nullif(""), None).cast("string"),
    ).view()


def build_world(store: GraphStore, *, data_dir: Path, as_of: datetime | None,
                config: AnalyticsConfig, engine: Engine, events_uri: str | None = None,
                customers: Iterable[str] | None = None) -> World:
    """The accounts at `as_of` and the resolved event log (from `events_uri` when the log lives
    elsewhere, e.g. object storage read by Spark; else the data dir's)."""
    moment = as_utc(as_of)
    reads_since = moment - timedelta(days=config.levels.reads_days)
    accounts = store.ask(ACCOUNTS, AccountsQuery(
        moment, reads_since, None if customers is None else tuple(customers)))
    people = store.aliases("Person")
    folded = store.aliases("Customer")
    world = World(moment, config, engine, accounts, engine.table({"x": [1]}), store)
    # the data dir's log is read under its readers' lock: a compaction does not swap its parts
    # while DuckDB copies them into the session (Spark's stays lazy: see graph/eventlog.py)
    log = EventLog(data_dir / "events") if events_uri is None else None
    with log.reading() if log is not None else contextlib.nullcontext():
        raw = engine.events(events_uri or data_dir / "events")
        world.events = resolve_events(engine, raw, people=people, customers=folded,
                                      person_account=world.person_account, as_of=moment)
        world.events = engine.materialise(world.events, owner=world)
    return world


__all__ = ["World", "FEATURE_PROPERTY", "build_world", "resolve_events"]
