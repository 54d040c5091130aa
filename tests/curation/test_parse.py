"""Parsing feed bytes: the fast parser, the fallback to feedparser, what each entry comes out as."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.parse import (
    FAST,
    TOLERANT,
    NotAFeed,
    escape_text,
    html_to_text,
    parse_feed,
    title_text,
)

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "curation" / "feeds"
NOW = datetime(2024, 3, 10, tzinfo=UTC)


def parse(name: str):  # type: ignore[no-untyped-def]
    return parse_feed((FEEDS / name).read_bytes(), url=f"https://feeds.example/{name}", now=NOW)


# (file, parser, fell back, titles, links)
CASES = [
    ("rss2.xml", FAST, False, ["Churn is a symptom, not a disease", "Renewal season checklist"],
     ["https://brightpath.example/blog/churn-symptom?utm_source=rss&utm_medium=feed",
      "https://brightpath.example/blog/renewals"]),
    ("atom.xml", FAST, False, ["New onboarding metrics", "Only an id"],
     ["https://vendor.example/posts/onboarding-metrics",
      "https://feeds.example/atom.xml?relgraph-entry=8ae11f8656d5a990"]),
    ("rdf.xml", FAST, False, ["RSS one point oh"], ["https://rdf.example/a"]),
    ("jsonfeed.json", FAST, False, ["A JSON Feed item"], ["https://json.example/1"]),
    ("bozo.xml", TOLERANT, True, ["Unescaped & ampersand", "Second"],
     ["https://bozo.example/1", "https://bozo.example/2"]),
    ("latin1-declared-utf8.xml", TOLERANT, True, ["Café culture and customer success"],
     ["https://latin.example/cafe"]),
    ("missing-fields.xml", FAST, False,
     ["A post with no title but with text that says something about onboarding.",
      "No link, a permalink GUID", "No link, an opaque GUID"],
     ["https://gaps.example/untitled", "https://gaps.example/guid-link",
      "https://feeds.example/missing-fields.xml?relgraph-entry=32667d0322812763"]),
]


@pytest.mark.parametrize(("name", "parser", "fell_back", "titles", "links"), CASES,
                         ids=[c[0] for c in CASES])
def test_feeds_parse_to_the_same_entries_whichever_parser(
        name: str, parser: str, fell_back: bool, titles: list[str], links: list[str]) -> None:
    feed = parse(name)
    assert (feed.parser, feed.fell_back) == (parser, fell_back)
    assert [e.title for e in feed.entries] == titles
    assert [e.link for e in feed.entries] == links
    assert all(e.usable for e in feed.entries)


def test_rss_entry_fields_are_text_and_safe_html() -> None:
    churn = parse("rss2.xml").entries[0]
    assert churn.guid == "brightpath-post-101"
    assert churn.author == "Lina Ortiz"
    assert churn.published_at == datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)
    assert churn.summary == "Teams that treat the causes of churn keep their customers."
    assert churn.categories == ("Churn", "Uncategorized")
    html = churn.content_html or ""
    assert "<script" not in html and "onclick" not in html and "javascript:" not in html
    assert 'href="https://brightpath.example/blog/onboarding"' in html  # made absolute
    assert 'rel="noopener noreferrer"' in html


def test_atom_entry_title_markup_dropped_and_plain_text_escaped() -> None:
    metrics, only_id = parse("atom.xml").entries
    assert metrics.title == "New onboarding metrics"
    assert metrics.summary == "Time to first value < two weeks."
    assert metrics.published_at == datetime(2024, 3, 6, 8, tzinfo=UTC)  # +02:00 -> UTC
    assert metrics.author == "Sam Lee"
    assert only_id.synthetic_link
    assert only_id.guid == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert only_id.content_html == "<p>Plain text &amp; a line<br>with a break.</p>"


def test_dates_fall_back_published_updated_then_none() -> None:
    undated, updated, future = parse("no-dates.xml").entries
    assert undated.published_at is None and not undated.future_date  # dated when first seen
    assert updated.published_at == datetime(2024, 3, 3, tzinfo=UTC)
    assert future.published_at is None and future.future_date


def test_a_guid_is_never_read_as_a_date() -> None:
    """fastfeedparser dates an undated RSS item by parsing its GUID ("1" -> the 1st of this
    month); the entry must stay undated instead."""
    data = (b'<rss version="2.0"><channel><title>x</title><item><title>t</title>'
            b"<link>https://x.example/1</link><guid>1</guid></item></channel></rss>")
    assert parse_feed(data, url="https://x.example/feed").entries[0].published_at is None


def test_missing_fields_are_skipped_or_filled_and_counted() -> None:
    feed = parse("missing-fields.xml")
    untitled = feed.entries[0]
    assert untitled.titled_from_text
    assert feed.skipped == 2  # no id or link at all; a link but neither title nor text


def test_a_malformed_feed_with_usable_entries_is_a_warning() -> None:
    feed = parse("bozo.xml")
    assert feed.warning and "malformed feed" in feed.warning
    assert feed.fallback_reason == "fastfeedparser found 1 of 2 entries"


def test_a_broken_encoding_falls_back_and_decodes() -> None:
    feed = parse("latin1-declared-utf8.xml")
    assert feed.fallback_reason and "not the UTF-8 declared" in feed.fallback_reason
    assert feed.entries[0].summary == "Crème brûlée."


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty response"),
    (b"   \n\t", "empty response"),
    ((FEEDS / "page.html").read_bytes(), "an HTML page, not a feed"),
    (b'{"error": "not found"}', "JSON that is not a JSON Feed"),
    (b"garbage \x00\xff", "not a readable RSS or Atom feed"),
    (b"<note><to>x</to></note>", "not"),
])
def test_what_is_not_a_feed_says_so_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(NotAFeed) as caught:
        parse_feed(data, url="https://x.example/feed")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_feed_without_entries_is_a_feed() -> None:
    feed = parse_feed(b'<rss version="2.0"><channel><title>Empty</title></channel></rss>',
                      url="https://x.example/feed")
    assert feed.entries == [] and feed.title == "Empty"


def test_an_author_address_alone_is_no_name() -> None:
    data = (b'<rss version="2.0"><channel><title>x</title>'
            b"<item><title>a</title><link>https://x.example/a</link>"
            b"<author>jo@x.example (Jo Park)</author></item>"
            b"<item><title>b</title><link>https://x.example/b</link>"
            b"<author>jo@x.example</author></item></channel></rss>")
    assert [e.author for e in parse_feed(data, url="https://x.example/f").entries] == \
        ["Jo Park", None]


@pytest.mark.parametrize(("raw", "text"), [
    ("<b>New</b> pricing", "New pricing"),
    ("Fish &amp; chips", "Fish & chips"),
    ("Why x < y", "Why x < y"),
    ("Styling <table> layouts", "Styling <table> layouts"),
    ("  spread\n  out  ", "spread out"),
])
def test_title_text(raw: str, text: str) -> None:
    assert title_text(raw) == text


def test_html_to_text_and_escape() -> None:
    assert html_to_text("<p>a</p><p>b<br>c</p><style>p{}</style>") == "a b c"
    assert html_to_text("x " * 50, limit=20) == "x x x x x x x x x x…"
    assert escape_text("<b>\n\nsecond") == "<p>&lt;b&gt;</p><p>second</p>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    try:
        feed = parse_feed(data, url="https://x.example/feed")
    except NotAFeed:
        return
    assert all(e.usable for e in feed.entries)


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_TEXT, link=_TEXT, guid=_TEXT, date=_TEXT, body=_TEXT,
       cut=st.integers(min_value=0, max_value=400))
def test_feed_shaped_noise_never_crashes_the_parser(title: str, link: str, guid: str,
                                                    date: str, body: str, cut: int) -> None:
    """Feed-like documents with arbitrary field values, sometimes cut short."""
    doc = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
           f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
           f"<pubDate>{date}</pubDate><description>{body}</description></item>"
           "</channel></rss>").encode("utf-8", "surrogatepass")
    for data in (doc, doc[:cut]):
        try:
            feed = parse_feed(data, url="https://x.example/feed")
        except NotAFeed:
            continue
        for entry in feed.entries:
            assert entry.usable and entry.link.startswith(("http://", "https://"))


def test_a_bare_ampersand_is_read_as_meant_by_the_fast_parser() -> None:
    """lxml's recovery drops the text after a bare "&" ("Q&A: pricing" -> "Q pricing") and
    feedparser mangles it ("Q&A;: pricing"): the bytes are repaired and parsed fast again. An
    "&" inside CDATA is fine as it is."""
    data = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
            b"<item><title>Q&A: pricing</title><link>https://x.example/a?b=1&c=2</link>"
            b"<description><![CDATA[<p>R&D &amp; more</p>]]></description></item>"
            b"</channel></rss>")
    feed = parse_feed(data, url="https://x.example/feed")
    (entry,) = feed.entries
    assert (feed.parser, feed.fell_back) == (FAST, False)
    assert feed.warning == 'malformed feed (an unescaped "&", read as "&amp;")'
    assert entry.title == "Q&A: pricing" and entry.link == "https://x.example/a?b=1&c=2"
    assert entry.summary == "R&D & more"
