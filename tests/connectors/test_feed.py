"""The feed reader: our own RSS/Atom feed (a file) -> Content, tags, PUBLISHED_BY our Source."""

from __future__ import annotations

import doctest
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import feed as module
from connectors.catalog import check_url
from connectors.errors import BadLine, UnreadableFile
from connectors.feed import SOURCE, html_to_text, read
from connectors.records import KeyRef, Link, Node, Tag
from connectors.source import ReadContext, source
from graph.schema import CONTENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "feed"
SITE = KeyRef("Source", "https://www.acme.com/blog")


def run(path: Path, ctx: ReadContext | None = None) -> list:
    return list(read(path, ctx or ReadContext("feed")))


def write(tmp_path: Path, data: str | bytes, name: str = "feed.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def contents(items: list) -> dict[str, Node]:
    return {i.ref.key: i for i in items
            if isinstance(i, Node) and isinstance(i.ref, KeyRef) and i.ref.label == "Content"}


def rss(*items: str, channel: str = "<title>T</title><link>https://www.acme.com/blog</link>"
        ) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}'
            + "".join(f"<item>{i}</item>" for i in items) + "</channel></rss>")


def test_registered() -> None:
    assert source("feed") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("url", "line", "kind", "title", "published"), [
    ("https://www.acme.com/blog/cutting-churn?utm_source=rss", 1, "blog_post",
     "Cutting churn in B2B SaaS", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
    ("https://www.acme.com/webinars/sso", 2, "webinar", "SSO without tears (recording)",
     datetime(2024, 3, 7, 17, 0, tzinfo=UTC)),
    ("https://www.acme.com/customers/globex", 3, "case_study", "How Globex doubled pipeline",
     None),
    ("https://www.acme.com/blog/formulas", 6, "blog_post", '=HYPERLINK("http://evil","x")',
     datetime(2024, 3, 9, 10, 0, tzinfo=UTC)),
])
def test_rss_fixture(url: str, line: int, kind: str, title: str,
                     published: datetime | None) -> None:
    node = contents(run(FIXTURES / "blog.xml"))[url]
    assert (node.line, node.props["kind"], node.props["title"],
            node.props.get("published_at")) == (line, kind, title, published)


def test_rss_fixture_details() -> None:
    items = run(FIXTURES / "blog.xml")
    first = contents(items)["https://www.acme.com/blog/cutting-churn?utm_source=rss"]
    assert first.props["author"] == "Ada Lovelace"
    assert first.props["summary"] == "Five habits of teams that keep their customers & grow them."
    assert items[0] == Node(SITE, {"kind": "own", "name": "Acme Blog"}, line=1)
    published_by = [i for i in items if isinstance(i, Link)]
    assert len(published_by) == 4 and all(i.type == "PUBLISHED_BY" and i.end == SITE
                                          for i in published_by)
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [(4, "link"),
                                                                           (5, "published")]
    tags = {i.ref.key: i.topics for i in items if isinstance(i, Tag)}
    assert tags["https://www.acme.com/blog/cutting-churn?utm_source=rss"] == ("Churn",
                                                                             "Retention")
    assert tags["https://www.acme.com/webinars/sso"] == ("Security",)  # Webinar is the kind


def test_atom_fixture() -> None:
    items = run(FIXTURES / "blog-atom.xml")
    found = contents(items)
    webhooks = found["https://eng.acme.com/posts/scaling-webhooks"]
    assert webhooks.props == {
        "kind": "podcast", "title": "Scaling webhooks to 1B events",
        "published_at": datetime(2024, 3, 10, 18, 30, 2, tzinfo=UTC), "author": "Linus",
        "summary": "Queues, retries & idempotency keys."}
    notes = found["https://eng.acme.com/posts/release-notes-march"]
    assert notes.props["published_at"] == datetime(2024, 3, 1, 7, 0, tzinfo=UTC)  # not updated
    assert items[0].ref == KeyRef("Source", "https://eng.acme.com/atom.xml")  # the self link


def test_unclosed_tags_load_what_can_be_read() -> None:
    ctx = ReadContext("feed")
    items = run(FIXTURES / "broken-unclosed.xml", ctx)
    assert list(contents(items)) == ["https://www.acme.com/blog/cutting-churn"]
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [(2, "link")]
    assert len(ctx.notes) == 1 and "malformed" in ctx.notes[0]


def test_wrong_encoding_declaration_is_recovered() -> None:
    ctx = ReadContext("feed")
    node = contents(run(FIXTURES / "wrong-encoding.xml", ctx))["https://www.acme.com/blog/cafe"]
    assert node.props["title"] == "Café culture at Acme"
    assert node.props["summary"] == "Crème brûlée Fridays."
    assert "malformed" in ctx.notes[0] and "utf-8" in ctx.notes[0]


@pytest.mark.parametrize(("name", "reason"), [
    ("not-a-feed.html", "not a readable RSS or Atom feed"),
    ("empty.xml", "empty"),
    ("truncated-header.xml", "not a readable RSS or Atom feed"),
])
def test_unreadable_feeds(name: str, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        run(FIXTURES / name)


def test_plain_text_is_not_a_feed(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, "just some words, no markup at all"))


def test_file_content_that_looks_like_a_path_is_not_opened(tmp_path: Path) -> None:
    # feedparser would open() bytes that name a file: the reader hands it a stream instead.
    secret = write(tmp_path, rss("<title>secret</title><link>https://x.com/s</link>"), "s.xml")
    decoy = write(tmp_path, str(secret).encode(), "decoy.xml")
    with pytest.raises(UnreadableFile):
        run(decoy)


def test_valid_feed_without_entries(tmp_path: Path) -> None:
    ctx = ReadContext("feed")
    assert run(write(tmp_path, rss()), ctx) == []
    assert ctx.notes == ["feed.xml: the feed has no entries"]


def test_no_site_link_means_no_source(tmp_path: Path) -> None:
    items = run(write(tmp_path, rss("<title>A</title><link>https://x.com/a</link>",
                                    channel="<title>T</title>")))
    assert [type(i).__name__ for i in items] == ["Node", "Tag"]


@pytest.mark.parametrize(("item", "field"), [
    ("<title>A</title><link>/relative/path</link>", "link"),
    ("<title>A</title><link>not a link</link>", "link"),
    ("<title>A</title>", "link"),
    ("<title>A</title><link>https://x.com/a</link><pubDate>32 Foo 2024</pubDate>", "published"),
])
def test_bad_entries(tmp_path: Path, item: str, field: str) -> None:
    items = run(write(tmp_path, rss(item, "<title>B</title><link>https://x.com/b</link>")))
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [(1, field)]
    assert list(contents(items)) == ["https://x.com/b"]


def test_category_kinds(tmp_path: Path) -> None:
    items = run(write(tmp_path, rss(
        "<title>A</title><link>https://x.com/a</link><category>White Paper</category>",
        "<title>B</title><link>https://x.com/b</link><category>eBook</category>"
        "<category>Pricing</category>")))
    found = contents(items)
    assert found["https://x.com/a"].props["kind"] == "white_paper"
    assert found["https://x.com/b"].props["kind"] == "ebook"
    assert [i.topics for i in items if isinstance(i, Tag)] == [(), ("Pricing",)]


@pytest.mark.parametrize(("markup", "text"), [
    ("<p>a</p><p>b</p>", "a b"), ("x &amp; y &lt;z&gt;", "x & y <z>"),
    ("<style>p{}</style>ok", "ok"), ("", ""), ("<p>unclosed <b>tag", "unclosed tag"),
])
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            items = run(write(Path(tmp), data))
        except UnreadableFile:
            return
    assert all(isinstance(i, Node | Link | Tag | BadLine) for i in items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=40), st.text(max_size=30),
                          st.text(max_size=20)), max_size=5),
       st.booleans())
def test_random_entries_never_crash(entries: list[tuple[str, str, str, str]],
                                    cut: bool) -> None:
    body = rss(*(f"<title>{escape(t)}</title><link>{escape(link)}</link>"
                 f"<pubDate>{escape(d)}</pubDate><category>{escape(c)}</category>"
                 for t, link, d, c in entries))
    data = body.encode("utf-8", "surrogatepass")
    if cut:
        data = data[: len(data) // 2]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            items = run(write(Path(tmp), data))
        except UnreadableFile:
            return
    for item in items:
        if isinstance(item, Node) and item.ref.label == "Content":
            assert check_url(item.ref.key) is None
            assert item.props["kind"] in CONTENT_KINDS
