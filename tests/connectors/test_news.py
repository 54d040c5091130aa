"""The news reader: company-news feeds -> triggers, recognised from headlines by patterns."""

from __future__ import annotations

import contextlib
import doctest
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import news as module
from connectors.errors import BadLine, UnreadableFile
from connectors.news import SOURCE, article_url, read, recognise, subject_name
from connectors.records import CompanyRef, KeyRef, Link, Node, Tag
from connectors.source import ReadContext, source
from graph.schema import TRIGGER_TYPES

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "news"

# (headline, type, companies, amount, currency, round) — None type: must NOT be a trigger.
HEADLINES = [
    # funding
    ("Acme raises $20M Series B", "funding_round", ("Acme",), "20000000", "USD", "Series B"),
    ("Acme closes $5 million seed round", "funding_round", ("Acme",), "5000000", "USD", "Seed"),
    ("Acme secures €10M in Series A funding", "funding_round", ("Acme",), "10000000", "EUR",
     "Series A"),
    ("Acme lands $12M", "funding_round", ("Acme",), "12000000", "USD", None),
    ("Berlin-based fintech Acme raises €15 million to expand across Europe", "funding_round",
     ("Acme",), "15000000", "EUR", None),
    ("Acme Health raises $100M Series C led by Sequoia - TechCrunch", "funding_round",
     ("Acme Health",), "100000000", "USD", "Series C"),
    ("Exclusive: Acme bags $8M seed round", "funding_round", ("Acme",), "8000000", "USD",
     "Seed"),
    ("Acme raises Series A from Index Ventures", "funding_round", ("Acme",), None, None,
     "Series A"),
    ("Acme Raises $1.2 Billion At $10 Billion Valuation", "funding_round", ("Acme",),
     "1200000000", "USD", None),
    ("Acme snags £2.5m pre-seed", "funding_round", ("Acme",), "2500000", "GBP", "Pre-Seed"),
    ("Acme, the CRM maker, raises $20M", "funding_round", ("Acme",), "20000000", "USD", None),
    ("monday.com raises 5 million euros", "funding_round", ("monday.com",), "5000000", "EUR",
     None),
    # leadership
    ("Acme appoints Jane Doe as VP of Sales", "leadership_change", ("Acme",), None, None, None),
    ("Acme names new CFO", "leadership_change", ("Acme",), None, None, None),
    ("Acme hires former Salesforce exec as Chief Revenue Officer", "leadership_change",
     ("Acme",), None, None, None),
    ("Jane Doe joins Acme as VP Marketing", "leadership_change", ("Acme",), None, None, None),
    ("Acme names Jane Doe CEO", "leadership_change", ("Acme",), None, None, None),
    ("Acme CEO steps down", "leadership_change", ("Acme",), None, None, None),
    ("Acme's CFO Jane Doe resigns", "leadership_change", ("Acme",), None, None, None),
    # acquisitions
    ("Acme acquires Beta", "acquisition", ("Acme", "Beta"), None, None, None),
    ("Acme to acquire Beta for $1B", "acquisition", ("Acme", "Beta"), "1000000000", "USD", None),
    ("Beta acquired by Acme", "acquisition", ("Acme", "Beta"), None, None, None),
    ("Acme acquires AI startup Beta Labs for $250 million", "acquisition", ("Acme", "Beta Labs"),
     "250000000", "USD", None),
    ("Beta to be acquired by Acme in $2B deal", "acquisition", ("Acme", "Beta"), "2000000000",
     "USD", None),
    # hiring surge, layoffs, expansion
    ("Acme to hire 500", "hiring_surge", ("Acme",), None, None, None),
    ("Acme plans to add 1,000 jobs in Texas", "hiring_surge", ("Acme",), None, None, None),
    ("Acme lays off 200 employees", "layoffs", ("Acme",), None, None, None),
    ("Acme cuts 10% of staff", "layoffs", ("Acme",), None, None, None),
    ("Acme opens new office in Berlin", "expansion", ("Acme",), None, None, None),
    ("Acme expands to Europe", "expansion", ("Acme",), None, None, None),
    ("Acme enters UK market", "expansion", ("Acme",), None, None, None),
    # must not match
    ("Acme raises prices", None, (), None, None, None),
    ("Why startups raise too much", None, (), None, None, None),
    ("How Acme raised $20M?", None, (), None, None, None),
    ("Acme raises concerns over new EU rules", None, (), None, None, None),
    ("Acme raises guidance after strong quarter", None, (), None, None, None),
    ("Acme raises the bar for CRM", None, (), None, None, None),
    ("Acme lands $12M contract with NASA", None, (), None, None, None),
    ("Acme secures $50M contract", None, (), None, None, None),
    ("Acme closes $30M deal with Beta", None, (), None, None, None),
    ("Acme reports $20M revenue", None, (), None, None, None),
    ("Acme buys back shares", None, (), None, None, None),
    ("Acme acquires stake in Beta", None, (), None, None, None),
    ("Acme hires 3 engineers", None, (), None, None, None),
    ("Acme hires Jane Doe", None, (), None, None, None),
    ("Acme cuts prices by 20%", None, (), None, None, None),
    ("Acme opens up about its roadmap", None, (), None, None, None),
    ("Acme expands product line", None, (), None, None, None),
    ("Acme names Berlin as European HQ", None, (), None, None, None),
    ("Acme launches new AI assistant", None, (), None, None, None),
    ("The state of SaaS funding in 2024", None, (), None, None, None),
    ("Investors raise concerns about AI valuations", None, (), None, None, None),
    ("Is Globex the next unicorn?", None, (), None, None, None),
]


def run(path: Path, ctx: ReadContext | None = None) -> list:
    return list(read(path, ctx or ReadContext("news")))


def write(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "news.xml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rss(*items: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>N</title>'
            + "".join(f"<item>{i}</item>" for i in items) + "</channel></rss>")


def triggers(items: list) -> list[Node]:
    return [i for i in items if isinstance(i, Node) and isinstance(i.ref, KeyRef)]


def test_registered() -> None:
    assert source("news") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("title", "kind", "companies", "amount", "currency", "round_name"),
                         HEADLINES)
def test_headlines(title: str, kind: str | None, companies: tuple[str, ...],
                   amount: str | None, currency: str | None, round_name: str | None) -> None:
    found = recognise(title)
    if kind is None:
        assert found is None, found
        return
    assert found is not None
    assert (found.type, found.companies, found.amount, found.currency, found.round) == (
        kind, companies, Decimal(amount) if amount else None, currency, round_name)


def test_overlong_titles_are_not_headlines() -> None:
    assert recognise("Acme raises $20M Series B " + "and more " * 40) is None


def test_headline_table_covers_every_supported_type() -> None:
    kinds = {row[1] for row in HEADLINES if row[1]}
    assert kinds <= TRIGGER_TYPES
    assert kinds == {"funding_round", "leadership_change", "acquisition", "hiring_surge",
                     "layoffs", "expansion"}
    assert sum(1 for row in HEADLINES if row[1] is None) >= 15


@pytest.mark.parametrize(("title", "facts"), [
    ("Acme appoints Jane Doe as VP of Sales",
     (("role", "VP of Sales"), ("person", "Jane Doe"), ("change", "appointed"))),
    ("Jane Doe joins Acme as VP Marketing",
     (("role", "VP Marketing"), ("person", "Jane Doe"), ("change", "joined"))),
    ("Acme CEO Jane Doe to step down",
     (("role", "CEO"), ("person", "Jane Doe"), ("change", "departed"))),
    ("Acme to acquire Beta for $1B", (("acquirer", "Acme"), ("acquired", "Beta"))),
    ("Acme opens European headquarters in Dublin", (("place", "Dublin"),
                                                    ("opens", "headquarters"))),
])
def test_facts(title: str, facts: tuple) -> None:
    found = recognise(title)
    assert found is not None and found.facts == facts


@pytest.mark.parametrize(("subject", "name"), [
    ("Acme", "Acme"), ("Berlin-based fintech Acme Health", "Acme Health"),
    ("AI startup Acme", "Acme"), ("Acme's", "Acme"), ("Why startups", None),
    ("The", None), ("After layoffs, Acme", "Acme"), ("Bank of America", "Bank of America"),
])
def test_subject_names(subject: str, name: str | None) -> None:
    assert subject_name(subject) == name


def test_rss_fixture() -> None:
    ctx = ReadContext("news")
    items = run(FIXTURES / "company-news.xml", ctx)
    found = triggers(items)
    assert [(n.line, n.props["type"]) for n in found] == [
        (1, "funding_round"), (2, "leadership_change"), (3, "acquisition"), (6, "expansion"),
        (7, "hiring_surge"), (9, "layoffs")]
    series_b = found[0]
    assert series_b.props["at"] == datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)
    assert series_b.props["amount"] == 20_000_000.0 and series_b.props["currency"] == "USD"
    assert series_b.props["round"] == "Series B"
    assert series_b.props["source_url"] == "https://saaswire.example.com/2024/03/05/acme-series-b/"
    assert series_b.props["details"].startswith("round: Series B\n\nBerlin-based Acme has raised")
    # the acquisition is on both companies
    acquisition = found[2].ref
    had = [(i.start, i.end) for i in items if isinstance(i, Link)]
    assert (CompanyRef(name="Initech"), acquisition) in had
    assert (CompanyRef(name="Hooli"), acquisition) in had
    # entry 8 matched (Hooli CEO steps down) but has no date
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [(8, "published")]
    assert ctx.notes == ["company-news.xml: 2 of 9 headlines matched no trigger pattern and "
                         "were skipped"]


def test_google_alerts_fixture() -> None:
    items = run(FIXTURES / "google-alerts.xml")
    found = triggers(items)
    assert [n.props["headline"] for n in found] == [
        "Globex secures €10M in Series A funding", "Jane Doe joins Globex as Chief Revenue Officer"]
    assert found[0].props["source_url"] == "https://news.example.org/globex-series-a"
    assert found[0].ref.key.startswith("news:")
    assert [i.ref for i in items if isinstance(i, Node) and isinstance(i.ref, CompanyRef)] == [
        CompanyRef(name="Globex"), CompanyRef(name="Globex")]  # never the outlet's domain


def test_ids_come_from_guid_else_link(tmp_path: Path) -> None:
    date = "<pubDate>Tue, 05 Mar 2024 14:22:10 +0000</pubDate>"
    one = triggers(run(write(tmp_path, rss(
        f"<title>Acme raises $5M</title><link>https://n.com/a</link><guid>g1</guid>{date}"))))
    two = triggers(run(write(tmp_path, rss(
        f"<title>Acme raises $5M seed</title><link>https://n.com/b</link><guid>g1</guid>{date}"))))
    assert one[0].ref == two[0].ref
    three = triggers(run(write(tmp_path, rss(
        f"<title>Acme raises $5M</title><link>https://n.com/a</link>{date}"))))
    assert three[0].ref != one[0].ref


def test_tag_text(tmp_path: Path) -> None:
    items = run(write(tmp_path, rss(
        "<title>Acme raises $5M</title><link>https://n.com/a</link>"
        "<pubDate>Tue, 05 Mar 2024 14:22:10 +0000</pubDate>"
        "<description>&lt;p&gt;For &lt;b&gt;churn&lt;/b&gt; analytics&lt;/p&gt;</description>")))
    assert [i.text for i in items if isinstance(i, Tag)] == ["Acme raises $5M\nFor churn analytics"]


def test_article_url() -> None:
    assert article_url("https://www.google.com/url?rct=j&url=https://a.com/x&ct=ga") == (
        "https://a.com/x")
    assert article_url("https://www.google.com/url?url=javascript:alert(1)") == (
        "https://www.google.com/url?url=javascript:alert(1)")
    assert article_url("https://n.com/url?url=https://a.com") == "https://n.com/url?url=https://a.com"


@pytest.mark.parametrize("name", ["empty.xml", "not-a-feed.html", "truncated-header.xml"])
def test_unreadable_feeds(name: str) -> None:
    with pytest.raises(UnreadableFile):
        run(ROOT / "fixtures" / "feed" / name)


def test_malformed_feed_loads_what_it_can(tmp_path: Path) -> None:
    ctx = ReadContext("news")
    data = rss("<title>Acme raises $5M</title><link>https://n.com/a</link>"
               "<pubDate>Tue, 05 Mar 2024 14:22:10 +0000</pubDate>")[:-20]
    items = run(write(tmp_path, data), ctx)
    assert len(triggers(items)) == 1
    assert any("malformed" in note for note in ctx.notes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(UnreadableFile):
        run(write(Path(tmp), data))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_random_headlines_never_crash(title: str) -> None:
    found = recognise(title)
    if found is not None:
        assert found.type in TRIGGER_TYPES and found.companies and all(found.companies)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([h[0] for h in HEADLINES]) | st.text(max_size=40),
                          st.text(max_size=30)), max_size=5))
def test_random_entries_never_crash(entries: list[tuple[str, str]]) -> None:
    body = rss(*(f"<title>{escape(t)}</title><link>https://n.com/{i}</link>"
                 f"<pubDate>{escape(d)}</pubDate>" for i, (t, d) in enumerate(entries)))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            items = run(write(Path(tmp), body.encode("utf-8", "surrogatepass")))
        except UnreadableFile:
            return
    for node in triggers(items):
        assert node.props["type"] in TRIGGER_TYPES and node.props["at"].tzinfo is not None
