"""Feedback: tracked links land on the story's Content key, and what readers click in a published
issue — loaded with `relgraph load clicks` — changes the next build's ranking, on every store."""

from __future__ import annotations

import email
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.pipeline import load_files
from connectors.source import ReadContext, source
from curation import issues
from curation.draft import Built
from curation.feedback import campaign_of, clicks_by_issue, track
from curation.model import Candidate, SourceKind
from graph import keys
from graph.questions.interest import INTEREST, InterestQuery
from graph.store import GraphStore
from tests.curation.roundup_fixtures import NOW, _c, built, curation_db

ISSUE = "roundup-2026-11-27"
NEXT_WEEK = NOW + timedelta(days=7)


@pytest.mark.parametrize("url", [
    "https://acme.com/blog/crm-guide",
    "https://acme.com/blog/crm-guide?page=2",
    "https://acme.com/blog/crm-guide?utm_source=rss&utm_medium=feed&id=4#comments",
    "https://ACME.com:443/blog/../blog/crm-guide?b=2&a=1",
])
def test_tracked_links_have_the_same_content_key(url: str) -> None:
    for medium in ("email", "web", "feed"):
        tracked = track(url, ISSUE, medium)
        assert f"utm_campaign={ISSUE}" in tracked and f"utm_medium={medium}" in tracked
        assert keys.canonical_url(tracked) == keys.canonical_url(url)
        assert campaign_of(tracked) == ISSUE
    with pytest.raises(ValueError, match="medium 'sms'"):
        track(url, ISSUE, "sms")


def test_clicks_by_issue_counts_roundup_links_only() -> None:
    a = track("https://x.org/a", ISSUE)
    counted = clicks_by_issue([a, a, track("https://x.org/b?z=1", "roundup-2026-12-04"),
                               "https://x.org/a?utm_source=other&utm_campaign=roundup-x",
                               "mailto:someone@example.com", "https://x.org/plain"])
    assert counted == {(ISSUE, "https://x.org/a"): 2,
                       ("roundup-2026-12-04", "https://x.org/b?z=1"): 1}


def audience(store: GraphStore) -> None:
    """Our team is me@us.io; ann@a.com is a contact, bob@b.com works at a customer, zed@z.com is
    nobody of ours."""
    store.upsert_nodes("Company", [{"id": "us.io", "own": True}, {"id": "a.com"},
                                   {"id": "b.com"}, {"id": "z.com"}], source="t")
    store.upsert_nodes("Person", [{"id": p} for p in ("me@us.io", "ann@a.com", "bob@b.com",
                                                      "zed@z.com")], source="t")
    store.upsert_nodes("Customer", [{"id": "company:b.com"}], source="t")
    store.upsert_relationships("ACCOUNT_OF", [{"from": "company:b.com", "to": "b.com"}],
                               source="t", to_label="Company")
    store.upsert_relationships("WORKS_AT", [
        {"from": "me@us.io", "to": "us.io"}, {"from": "ann@a.com", "to": "a.com"},
        {"from": "bob@b.com", "to": "b.com"}, {"from": "zed@z.com", "to": "z.com"}], source="t")
    store.upsert_relationships("KNOWS", [{"from": "ann@a.com", "to": "me@us.io"}], source="t")


def next_week() -> list[Candidate]:
    """Two vendor stories, as strong as each other on their own: pricing a little fresher."""
    return [
        _c("onboarding-in-30-days", "Onboarding in Thirty Days", "Ida Berg", "Vendor Blog",
           SourceKind.VENDOR, 30 + 24 * 7,
           "A customer onboarding plan that fits in a month. Ida Berg shares the kickoff call "
           "agenda and the go-live checklist."),
        _c("pricing-experiments", "Pricing Experiments That Paid Off", "Ivo Lang", "Vendor Blog",
           SourceKind.VENDOR, 20 + 24 * 7,
           "Three pricing page changes and what they did to conversion. Ivo Lang explains the "
           "price increase nobody noticed and the discount that backfired."),
    ]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with curation_db(tmp_path) as db:
        yield db


def the_email(data: Path) -> EmailMessage:
    raw = (data / "roundup" / "mail" / f"{ISSUE}.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def link_to(msg: EmailMessage, slug: str) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    (link,) = [line.strip() for line in body.get_content().splitlines()
               if line.strip().startswith("https://") and f"/{slug}?" in line]
    return link


def audience_reason(made: Built, slug: str) -> str:
    item = next(i for i in made.items if i.content_id.endswith(slug))
    return next(r.why for r in item.reasons if r.name == "audience")


def test_clicks_on_a_published_issue_move_the_next_ranking(
        store: GraphStore, db: sqlite3.Connection, tmp_path: Path) -> None:
    data = tmp_path / "data"
    audience(store)
    first = built(db, store)
    assert first.issue.id == ISSUE
    issues.publish(db, store, ISSUE, data_dir=data, who="maya", now=NOW)

    # The next issue, before anyone clicked: pricing leads, nobody read about onboarding.
    before = built(db, store, candidates=next_week(), day=NEXT_WEEK.date(), now=NEXT_WEEK)
    assert [i.content_id.rsplit("/", 1)[1] for i in before.items] == [
        "pricing-experiments", "onboarding-in-30-days"]
    assert audience_reason(before, "onboarding-in-30-days").startswith(
        "none of our contacts or customers")

    # The sending tool's click export of the first issue: the tracked links of its e-mail.
    msg = the_email(data)
    onboarding = link_to(msg, "onboarding-benchmarks")
    assert campaign_of(onboarding) == ISSUE
    clicks = tmp_path / "activity.csv"
    clicks.write_text(
        "email,url,action,timestamp\n"
        f"ann@a.com,{onboarding},click,2026-11-27 09:15:00\n"
        f"bob@b.com,{onboarding},click,2026-11-27 10:02:00\n"
        f"bob@b.com,{onboarding},click,2026-11-28 08:00:00\n"  # twice: one reader
        f"zed@z.com,{onboarding},click,2026-11-27 11:00:00\n"  # not ours: never counted
        "ann@a.com,,open,2026-11-27 09:14:00\n", encoding="utf-8")
    summary = load_files(store, source("clicks"), [clicks], data_dir=data,
                         ctx=ReadContext("clicks"))
    assert summary.rejected == 0
    assert summary.relationships["READ"] == 3  # ann, bob and zed: newsletter READs

    # "Who read onboarding content" now includes the newsletter readers of our audience.
    interest = store.ask(INTEREST, InterestQuery(("onboarding",), NOW - timedelta(days=30),
                                                 NEXT_WEEK))
    assert (interest["onboarding"].readers, interest["onboarding"].concerned) == (2, 0)

    # And the next build learns from them: onboarding now leads, and says why.
    after = built(db, store, candidates=next_week(), day=NEXT_WEEK.date(), now=NEXT_WEEK)
    assert [i.content_id.rsplit("/", 1)[1] for i in after.items] == [
        "onboarding-in-30-days", "pricing-experiments"]
    assert audience_reason(after, "onboarding-in-30-days") == (
        "our contacts and customers, last 30 days: onboarding: 2 read")
    boost = {i.content_id: i.score for i in after.items}
    plain = {i.content_id: i.score for i in before.items}
    assert boost["https://vendor.example/onboarding-in-30-days"] > \
        plain["https://vendor.example/onboarding-in-30-days"]
    assert boost["https://vendor.example/pricing-experiments"] == \
        plain["https://vendor.example/pricing-experiments"]
