"""Reader for our own RSS or Atom feed (a file on disk, parsed with feedparser, never fetched).

Each entry becomes a `Content` node keyed by its link: title, published (else updated) date,
author, summary as plain text (HTML stripped) and kind — the first entry category that names a
content kind ("Webinar", "Case study", "White paper" …), else `blog_post`. A `Tag` carries the
title and summary, with the entry's other categories as explicit topics. When the feed names its
own site (`<link>` of the channel, or the Atom self link) each entry is also PUBLISHED_BY a
`Source` node of that URL with kind "own".

The Content node and its tags are *inferred* (`Node.inferred`, `Tag.inferred`): a feed only
adds what is missing. Its entries announce content that our catalogue (or another file) may
describe with authority: the feed's date is when the post went out, not when the white paper
was published; its kind is blog_post unless a category says otherwise; its categories are a
blog's tags. So a catalogued item keeps the catalogue's kind, date, title and topics in any
load order, and the feed fills only what the catalogue left blank. What the feed itself set
stays its own: a re-load of a corrected feed updates the titles and dates it filled.

Lines are entry indexes (1-based). An entry without a usable link is a `BadLine`. A malformed
feed whose entries could still be read loads them, with one note saying it was malformed; a file
that is empty, not a feed, or so broken that no entry survives raises `UnreadableFile`.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "feed.xml"
    >>> _ = p.write_text('''<rss version="2.0"><channel><title>Acme blog</title>
    ... <link>https://acme.com/blog</link>
    ... <item><title>Cutting churn</title><link>https://acme.com/blog/churn</link>
    ... <category>Webinar</category><category>Churn</category>
    ... <pubDate>Tue, 05 Mar 2024 14:22:10 +0000</pubDate>
    ... <description>&lt;p&gt;How to &lt;b&gt;keep&lt;/b&gt; customers&lt;/p&gt;</description>
    ... </item></channel></rss>''')
    >>> items = list(read(p, ReadContext("feed")))
    >>> [type(i).__name__ for i in items]
    ['Node', 'Node', 'Link', 'Tag']
    >>> items[1].props["kind"], items[1].props["summary"], items[3].topics
    ('webinar', 'How to keep customers', ('Churn',))
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser

from connectors.catalog import check_url, content_kind
from connectors.errors import BadLine, UnreadableFile
from connectors.records import KeyRef, Link, Node, ReadItem, Tag
from connectors.source import ReadContext, Source

MAX_FEED_BYTES = 64 << 20  # a feed is parsed whole; larger files are refused, not loaded

_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                         "tr", "td", "th", "blockquote", "pre", "section", "article", "hr"})


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str | None) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed.

    >>> html_to_text("<p>Fish &amp; <b>chips</b></p><script>x()</script><p>today</p>")
    'Fish & chips today'
    """
    if not markup:
        return ""
    parser = _TextOnly()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; anything it still refuses stays as written
        return " ".join(markup.split())
    return " ".join("".join(parser.parts).split())


def parse_feed(path: Path, ctx: ReadContext) -> Any:
    """The parsed feed, or `UnreadableFile` when nothing in it can be read (empty, not a feed,
    too broken). A malformed feed that still has entries gets one note."""
    try:
        size = path.stat().st_size
        if size > MAX_FEED_BYTES:
            raise UnreadableFile(path, f"{size:,} bytes is more than the {MAX_FEED_BYTES:,} a "
                                 "feed may have (it is parsed whole)")
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, exc.strerror or str(exc)) from None
    if not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise UnreadableFile(path, "it is empty: there is nothing to load")
    try:
        # A stream, not the bytes: feedparser would try to open bytes that look like a path.
        parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False)
    except Exception as exc:  # feedparser catches most parse errors itself; not all
        raise UnreadableFile(path, f"not a readable feed ({type(exc).__name__}: {exc})") from None
    entries = parsed.get("entries") or []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        if problem is not None:
            raise UnreadableFile(path, f"not a readable RSS or Atom feed: {problem}")
        if not parsed.get("version"):
            raise UnreadableFile(path, "not an RSS or Atom feed (no feed element was found)")
        ctx.note(f"{path.name}: the feed has no entries")
    elif problem is not None:
        count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        ctx.note(f"{path.name}: the feed is malformed ({problem}); {count} could still be "
                 "read and were loaded as far as they go")
    return parsed


def entry_time(entry: Any, ctx: ReadContext, *names: str) -> tuple[datetime | None, str | None]:
    """The first of `names` ("published", "updated") the entry has, as aware UTC, and which one.
    feedparser's parsed UTC time is used, else the raw text through the load's clock; a date
    that is present but unreadable raises ValueError."""
    for name in names:
        # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning
        raw = dict.get(entry, name)
        if not raw:
            continue
        parsed = dict.get(entry, f"{name}_parsed")
        if isinstance(parsed, time.struct_time):
            try:
                return datetime(*parsed[:6], tzinfo=UTC), name
            except (ValueError, OverflowError):
                pass
        return ctx.clock.parse(str(raw)), name
    return None, None


def entry_terms(entry: Any) -> list[str]:
    """The entry's categories / tags, as written, without repeats."""
    terms: dict[str, str] = {}
    for tag in entry.get("tags") or []:
        term = " ".join(str(tag.get("term") or tag.get("label") or "").split())
        if term and term.casefold() not in terms:
            terms[term.casefold()] = term
    return list(terms.values())


def entry_summary(entry: Any) -> str:
    summary = entry.get("summary")
    if not summary:
        for content in entry.get("content") or []:
            if content.get("value"):
                summary = content["value"]
                break
    return html_to_text(summary)


def own_site(parsed: Any) -> str | None:
    """The URL the feed gives for itself: the channel link, else its self link."""
    info = parsed.get("feed") or {}
    candidates = [info.get("link")]
    candidates += [link.get("href") for link in info.get("links") or []
                   if link.get("rel") == "self"]
    for url in candidates:
        if url and check_url(str(url)) is None:
            return str(url)
    return None


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    parsed = parse_feed(path, ctx)
    site = own_site(parsed)
    source_ref = KeyRef("Source", site) if site else None
    source_sent = False
    for index, entry in enumerate(parsed.get("entries") or [], start=1):
        link = str(entry.get("link") or "").strip()
        if not link:
            yield BadLine(path, index, "link", "the entry has no link: content is keyed by URL")
            continue
        problem = check_url(link)
        if problem:
            yield BadLine(path, index, "link", problem)
            continue
        try:
            at, _ = entry_time(entry, ctx, "published", "updated")
        except ValueError as exc:
            yield BadLine(path, index, "published", str(exc))
            continue
        terms = entry_terms(entry)
        kind = next((k for k in map(content_kind, terms) if k), None)
        topics = tuple(t for t in terms if content_kind(t) is None)
        title = html_to_text(str(entry.get("title") or ""))
        summary = entry_summary(entry)
        props: dict[str, Any] = {"kind": kind or "blog_post"}
        if title:
            props["title"] = title
        if at is not None:
            props["published_at"] = at
        author = " ".join(str(entry.get("author") or "").split())
        if author:
            props["author"] = author
        if summary:
            props["summary"] = summary
        ref = KeyRef("Content", link)
        if source_ref is not None and not source_sent:
            info = parsed.get("feed") or {}
            source_props: dict[str, Any] = {"kind": "own"}
            if info.get("title"):
                source_props["name"] = " ".join(str(info["title"]).split())
            yield Node(source_ref, source_props, line=index)
            source_sent = True
        yield Node(ref, props, line=index, inferred=True)
        if source_ref is not None:
            yield Link("PUBLISHED_BY", ref, source_ref, line=index)
        yield Tag(ref, text="\n".join(t for t in (title, summary) if t), topics=topics,
                  line=index, inferred=True)


SOURCE = Source("feed", read, "our own RSS/Atom feed (a file) -> Content nodes, tagged, "
                "published by our Source", format="feed", what="an RSS/Atom feed")
