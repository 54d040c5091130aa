"""Small worlds where the right answer is known by hand: companies with customer accounts, their
people, our team, concerns, and product events in the event log — written through the stores'
own upserts and the event log's append, as a load would leave them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics.config import AnalyticsConfig, load_config
from analytics.engine import Engine
from analytics.world import World, build_world
from graph.eventlog import EventLog, LoggedEvent
from graph.store import GraphStore

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # a Sunday, midnight UTC
US = "relgraph.io"
ME = "maya@relgraph.io"


def at(days_before: float, *, hours: float = 12, base: datetime = AS_OF) -> datetime:
    """A moment `days_before` days before `base` (at noon by default)."""
    return base - timedelta(days=days_before) + timedelta(hours=hours - 24)


@dataclass
class Builder:
    store: GraphStore
    data_dir: Path
    companies: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    knows: list[dict[str, Any]] = field(default_factory=list)
    concerns: list[dict[str, Any]] = field(default_factory=list)
    raised: list[dict[str, Any]] = field(default_factory=list)
    about: list[dict[str, Any]] = field(default_factory=list)
    topics: set[str] = field(default_factory=set)
    events: list[LoggedEvent] = field(default_factory=list)
    person_accounts: list[dict[str, Any]] = field(default_factory=list)
    contents: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    content_about: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.companies.append({"id": US, "name": "Relgraph", "own": True})
        self.people.append({"id": ME, "name": "Maya Chen"})
        self.jobs.append({"from": ME, "to": US, "title": "CSM"})

    def customer(self, domain: str, *, name: str | None = None, **props: Any) -> str:
        """A company and its customer account (keyed by the domain)."""
        self.companies.append({"id": domain, "name": name or domain.split(".")[0].title(),
                               "customer": True})
        self.customers.append({"id": domain, **props})
        self.accounts.append({"from": domain, "to": domain})
        return domain

    def person_customer(self, cid: str, person: str, **props: Any) -> str:
        """A B2C customer account of a person (who need not work anywhere)."""
        if not any(p["id"] == person for p in self.people):
            self.people.append({"id": person, "name": person.split("@")[0].title()})
        self.customers.append({"id": cid, **props})
        self.person_accounts.append({"from": cid, "to": person})
        return cid

    def content(self, url: str, *topics: str, kind: str = "article") -> str:
        self.contents.append({"id": url, "title": url.rsplit("/", 1)[-1], "kind": kind})
        for t in topics:
            self.topics.add(t)
            self.content_about.append({"from": url, "to": t})
        return url

    def read(self, person: str, url: str, first: datetime, last: datetime,
             count: int = 1) -> None:
        self.reads.append({"from": person, "to": url, "first_at": first, "last_at": last,
                           "count": count})

    def person(self, email: str, company: str, *, title: str | None = None,
               known: float | None = None, since: datetime | None = None) -> str:
        self.people.append({"id": email, "name": email.split("@")[0].title()})
        job: dict[str, Any] = {"from": email, "to": company}
        if title:
            job["title"] = title
        if since:
            job["since"] = since
        self.jobs.append(job)
        if known is not None:
            self.knows.append({"from": ME, "to": email, "strength": known})
        return email

    def concern(self, cid: str, person: str, when: datetime, *, topics: tuple[str, ...] = (),
                status: str | None = None, solved_at: datetime | None = None) -> None:
        row: dict[str, Any] = {"id": cid, "text": f"concern {cid}", "at": when,
                               "channel": "ticket"}
        if status:
            row["status"] = status
        if solved_at:
            row["solved_at"] = solved_at
        self.concerns.append(row)
        self.raised.append({"from": person, "to": cid})
        for t in topics:
            self.topics.add(t)
            self.about.append({"from": cid, "to": t})

    def event(self, type_: str, when: datetime, person: str | None, *,
              account: str | None = None, url: str | None = None, **props: Any) -> None:
        self.events.append(LoggedEvent(
            f"ev{len(self.events):06d}", type_, when, person, None, account, url,
            json.dumps(props), "test"))

    def build(self) -> None:
        s = _Strict(self.store)
        s.upsert_nodes("Company", self.companies, source="test")
        s.upsert_nodes("Person", self.people, source="test")
        if self.customers:
            s.upsert_nodes("Customer", self.customers, source="test")
        if self.topics:  # before anything is ABOUT them
            s.upsert_nodes("Topic", [{"id": t} for t in sorted(self.topics)], source="test")
        if self.concerns:
            s.upsert_nodes("Concern", self.concerns, source="test")
        s.upsert_relationships("WORKS_AT", self.jobs, source="test")
        if self.accounts:
            s.upsert_relationships("ACCOUNT_OF", self.accounts, source="test",
                                   to_label="Company")
        if self.person_accounts:
            s.upsert_relationships("ACCOUNT_OF", self.person_accounts, source="test",
                                   to_label="Person")
        if self.contents:
            s.upsert_nodes("Content", self.contents, source="test")
        if self.content_about:
            s.upsert_relationships("ABOUT", self.content_about, source="test",
                                   from_label="Content")
        if self.reads:
            s.upsert_relationships("READ", self.reads, source="test")
        if self.knows:
            s.upsert_relationships("KNOWS", self.knows, source="test")
        if self.raised:
            s.upsert_relationships("RAISED", self.raised, source="test")
        if self.about:
            s.upsert_relationships("ABOUT", self.about, source="test", from_label="Concern")
        self.store.checkpoint()
        if self.events:
            EventLog(self.data_dir / "events").append(self.events)

    def world(self, as_of: datetime = AS_OF, config: AnalyticsConfig | None = None,
              engine: Engine | None = None) -> World:
        return build_world(self.store, data_dir=self.data_dir, as_of=as_of,
                           config=config or load_config(), engine=engine or Engine.duckdb())


class _Strict:
    """The store's writes, failing on any rejected row: a test world that quietly lost a node or
    an edge would test something else than it says."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def upsert_nodes(self, label: str, rows: list[dict[str, Any]], **kw: Any) -> None:
        self._check(label, self.store.upsert_nodes(label, rows, **kw))

    def upsert_relationships(self, rel: str, rows: list[dict[str, Any]], **kw: Any) -> None:
        self._check(rel, self.store.upsert_relationships(rel, rows, **kw))

    @staticmethod
    def _check(what: str, result: Any) -> None:
        assert not result.rejects, f"the test world's {what} rows were rejected: {result.rejects}"


def daily(b: Builder, type_: str, person: str, days: range, *, per_day: int = 1,
          account: str | None = None, **props: Any) -> None:
    """`per_day` events of `type_` by `person` on each of `days` (days before AS_OF)."""
    for day in days:
        for k in range(per_day):
            b.event(type_, at(day, hours=9 + k * 0.25), person, account=account, **props)


def steady(b: Builder) -> None:
    """Two people logging in every day for 16 weeks, two key features of four, an invoice of
    500 every 30 days, one concern raised and solved."""
    b.customer("steady.io", plan="pro", mrr=500.0, status="active")
    ann = b.person("ann@steady.io", "steady.io", title="CTO", known=0.8)
    bob = b.person("bob@steady.io", "steady.io")
    daily(b, "login", ann, range(112))
    daily(b, "login", bob, range(112))
    b.event("report_created", at(10), ann)
    b.event("feature_used", at(50), ann, feature="dashboard_shared")
    for day in (5, 35, 65, 95):
        b.event("invoice_paid", at(day), None, account="steady.io", amount=500)
    b.concern("z1", ann, at(30), topics=("billing-issue",), status="solved",
              solved_at=at(20))


__all__ = ["AS_OF", "Builder", "ME", "US", "at", "daily", "steady"]
