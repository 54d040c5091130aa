"""A fixed week of candidates and the issue built from them (the issues half's tests and bench)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from curation.db import connect
from curation.draft import Built, build
from curation.model import Candidate, SourceKind
from graph.store import GraphStore

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
EDITOR = "maya"


def _c(slug: str, title: str, author: str | None, outlet: str | None, kind: SourceKind,
       hours_old: float, summary: str, topics: tuple[str, ...] = (),
       feeds: tuple[str, ...] | None = None, weight: float = 1.0) -> Candidate:
    host = {SourceKind.COMPANY: "thinkers.example", SourceKind.VENDOR: "vendor.example",
            SourceKind.OURS: "relgraph.io"}[kind]
    url = f"https://{host}/{slug}"
    sources = feeds or (f"https://{host}/feed.xml",)
    return Candidate(url, title, url, author, outlet, kind,
                     NOW - timedelta(hours=hours_old), summary, topics, sources,
                     tuple(f"{s}#{slug}" for s in sources), weight)


def week() -> list[Candidate]:
    """Eight stories: four from companies and pontificators, three vendors, one of ours."""
    return [
        _c("churn-signals", "The Churn Signals Hiding in Your Support Queue", "Dana Whitfield",
           "The Retention Desk", SourceKind.COMPANY, 30,
           "Most teams notice churn when the cancellation arrives. Dana Whitfield argues the "
           "warning signs show up weeks earlier in support tickets: slower replies, repeated "
           "escalations and a champion who stops writing. She walks through a simple scoring "
           "sheet any team can start on Monday. The post The Churn Signals Hiding in Your "
           "Support Queue appeared first on The Retention Desk.", ("Churn",)),
        _c("renewal-playbook", "A Renewal Playbook for Accounts You Barely Know",
           "Priya Raman", "Customer Success Weekly", SourceKind.COMPANY, 52,
           "Renewals go wrong when the only contact has left. This playbook maps who else to "
           "reach, how to open the conversation and when to bring in an executive sponsor. It "
           "ends with a checklist for the 90 days before the renewal date.",
           feeds=("https://thinkers.example/feed.xml", "https://syndicate.example/rss")),
        _c("nps-is-not-enough", "NPS Is Not Enough", "Tom Okafor", "Okafor on Customers",
           SourceKind.COMPANY, 80,
           "A single score hides the reasons behind it. Tom Okafor pairs the net promoter "
           "score with three follow-up questions and shows what each one told his team that "
           "the number alone never did.", ("NPS",)),
        _c("remote-teams", "How Remote Teams Keep Their Rituals", None, "Work Notes",
           SourceKind.COMPANY, 140,
           "Stand-ups, retros and the Friday demo: which of them survive when nobody shares an "
           "office, and which quietly die."),
        _c("onboarding-benchmarks", "Onboarding Benchmarks for B2B SaaS in 2026",
           "Lena Fischer", "Vendor Blog", SourceKind.VENDOR, 20,
           "How long does onboarding take, really? Lena Fischer looked at 400 customer "
           "onboarding projects and reports the median time to value by segment. Enterprise "
           "accounts took three times longer than mid-market ones, mostly waiting on data.",
           weight=1.5),
        _c("pricing-page-teardown", "A Pricing Page Teardown", "Sam Ortiz", "Vendor Blog",
           SourceKind.VENDOR, 100,
           "Twelve pricing pages, one question: can a buyer tell what they will pay? Sam Ortiz "
           "scores each page and explains why per-seat pricing confuses more buyers than it "
           "should. [&hellip;]", ("Pricing",)),
        _c("crm-hygiene", "CRM Hygiene in Fifteen Minutes a Week", "admin", "Vendor Blog",
           SourceKind.VENDOR, 60,
           "Duplicate contacts, stale titles and companies that changed their name: a weekly "
           "routine that keeps the CRM honest. Continue reading →"),
        _c("graph-of-concerns", "What Our Customers Worried About This Quarter",
           "Maya Chen", "Relgraph", SourceKind.OURS, 10,
           "We read every concern our customers raised this quarter and grouped them by topic. "
           "Pricing and onboarding led, churn fears fell. Here is what we changed because of "
           "it.", ("Pricing", "Onboarding")),
    ]


@contextmanager
def curation_db(path: Path) -> Iterator[sqlite3.Connection]:
    with connect(path / "curation.sqlite") as db:
        yield db


def built(db: sqlite3.Connection, store: GraphStore | None = None,
          candidates: list[Candidate] | None = None, day: date = DAY,
          now: datetime = NOW) -> Built:
    return build(db, store, day=day, candidates=week() if candidates is None else candidates,
                 who=EDITOR, now=now, name="What's new in Customer Success",
                 intro="Welcome to this week's roundup.\n\nThree things stood out: churn "
                       "signals, renewals and onboarding.")
