"""Reader for our content catalogue: one CSV row per piece of content we publish.

Columns (names matched case-insensitively, aliases in brackets; only `url` is required):

    url [URL, Link], title [Title, Name], kind [Type, Format, Content type],
    topics [Tags, Topic], published_at [Published, Published at, Date], author, summary
    [Description]

Each row becomes a `Content` node keyed by its URL (the store canonicalises it) and a `Tag` of
its title and summary with the topics the row names. Topics are separated by `;` or `|`; a cell
with neither is split on commas. `kind` must be one of the schema's content kinds or a common
synonym ("whitepaper" -> white_paper, "blog" -> blog_post, "e-book" -> ebook, "case study" ->
case_study …); an empty kind is left unset, any other kind rejects the row with the list of
allowed kinds.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "catalog.csv"
    >>> _ = p.write_text("url,title,kind,topics,published_at\\n"
    ...                  "https://acme.com/churn,Churn 101,Whitepaper,churn;retention,2024-03-05\\n"
    ...                  "https://acme.com/x,X,brochure,,\\n")
    >>> node, tag, bad = read(p, ReadContext("catalog"))
    >>> node.ref, node.props["kind"], node.props["published_at"].isoformat()
    (KeyRef(label='Content', key='https://acme.com/churn'), 'white_paper', '2024-03-05T00:00:00+00:00')
    >>> tag.text, tag.topics
    ('Churn 101', ('churn', 'retention'))
    >>> bad.line, bad.field, bad.reason[:32]
    (3, 'kind', "unknown kind 'brochure'; allowed")
"""  # noqa: E501

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.csvio import CsvFile, Row
from connectors.errors import BadLine
from connectors.records import KeyRef, Node, ReadItem, Tag
from connectors.sniff import Header
from connectors.source import ReadContext, Source
from graph.keys import canonical_url
from graph.schema import CONTENT_KINDS

_SYNONYMS = {
    "article": "article", "news": "article", "news article": "article", "story": "article",
    "press release": "article", "report": "white_paper",
    "white paper": "white_paper", "whitepaper": "white_paper", "research paper": "white_paper",
    "webinar": "webinar", "webcast": "webinar", "online event": "webinar",
    "video": "video", "youtube": "video", "youtube video": "video",
    "newsletter": "newsletter_item", "newsletter item": "newsletter_item",
    "newsletter issue": "newsletter_item",
    "podcast": "podcast", "podcast episode": "podcast", "episode": "podcast",
    "case study": "case_study", "casestudy": "case_study", "customer story": "case_study",
    "success story": "case_study", "case studies": "case_study",
    "ebook": "ebook", "e book": "ebook", "e-book": "ebook",
    "blog": "blog_post", "blog post": "blog_post", "blogpost": "blog_post", "post": "blog_post",
}
_SPACES = re.compile(r"[\s_\-]+")
_TOPIC_SPLIT = re.compile(r"[;|]")


def content_kind(text: str | None) -> str | None:
    """The schema's content kind for a kind as people write it; None when it is not one.

    >>> [content_kind(k) for k in ("White Paper", "e-Book", "Blogs", "x")]
    ['white_paper', 'ebook', 'blog_post', None]
    """
    raw = (text or "").strip().casefold()
    if not raw:
        return None
    if raw in CONTENT_KINDS:
        return raw
    key = _SPACES.sub(" ", raw).strip()
    for candidate in (key, key.replace(" ", ""), key[:-1] if key.endswith("s") else key):
        if candidate in _SYNONYMS:
            return _SYNONYMS[candidate]
        if candidate.replace(" ", "_") in CONTENT_KINDS:
            return candidate.replace(" ", "_")
    return None


def split_topics(text: str | None) -> tuple[str, ...]:
    """Topics of one cell: split on `;` or `|`, else on commas; blanks and repeats dropped.

    >>> split_topics("Churn; retention | churn"), split_topics("AI, ML")
    (('Churn', 'retention'), ('AI', 'ML'))
    """
    raw = (text or "").strip()
    parts = _TOPIC_SPLIT.split(raw) if _TOPIC_SPLIT.search(raw) else raw.split(",")
    seen: dict[str, str] = {}
    for part in parts:
        topic = " ".join(part.split())
        if topic and topic.casefold() not in seen:
            seen[topic.casefold()] = topic
    return tuple(seen.values())


def check_url(text: str) -> str | None:
    """Why `text` is not a usable http(s) URL, or None when it is.

    >>> check_url("https://acme.com/a"), check_url("not a url"), check_url("/blog/x")
    (None, "not a web URL: 'not a url' (it has spaces)", "not a web URL: '/blog/x'")
    """
    if any(c.isspace() for c in text.strip()):  # canonical_url would make "https://not a url/"
        return f"not a web URL: {text!r} (it has spaces)"
    try:
        url = canonical_url(text)
    except ValueError as exc:
        return str(exc)
    host = url.split("://", 1)[1].split("/", 1)[0]
    if "." not in host and not host.startswith("["):
        return f"not a web URL: {text!r} (no domain name)"
    return None


def csv_rows(path: Path, *, required: list[tuple[str, ...]],
             optional: list[tuple[str, ...]]) -> Iterator[Row | BadLine]:
    """The rows of a CSV file of this family (zendesk, notes, catalog, funding)."""
    return CsvFile(path, required=required, optional=optional).rows()


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    rows = csv_rows(
        path,
        required=[("url", "URL", "Link", "Content URL")],
        optional=[("title", "Name"), ("kind", "Type", "Format", "Content type", "Content kind"),
                  ("topics", "Tags", "Topic"),
                  ("published_at", "Published", "Published at", "Publish date", "Date"),
                  ("author", "Authors", "By"), ("summary", "Description", "Abstract")],
    )
    allowed = ", ".join(sorted(CONTENT_KINDS))
    for row in rows:
        if isinstance(row, BadLine):
            yield row
            continue
        url = row["url"]
        if not url:
            yield BadLine(path, row.line, "url", "no URL: a content item is keyed by its URL")
            continue
        problem = check_url(url)
        if problem:
            yield BadLine(path, row.line, "url", problem)
            continue
        kind = None
        if row["kind"]:
            kind = content_kind(row["kind"])
            if kind is None:
                yield BadLine(path, row.line, "kind",
                              f"unknown kind {row['kind']!r}; allowed: {allowed} (or a synonym "
                              "such as whitepaper, blog, e-book, case study)")
                continue
        try:
            published = ctx.clock.parse_or_none(row["published_at"])
        except ValueError as exc:
            yield BadLine(path, row.line, "published_at", str(exc))
            continue
        props: dict[str, Any] = {name: value for name, value in (
            ("title", row["title"]), ("kind", kind), ("published_at", published),
            ("author", row["author"]), ("summary", row["summary"])) if value}
        ref = KeyRef("Content", url)
        yield Node(ref, props, line=row.line)
        text = "\n".join(t for t in (row["title"], row["summary"]) if t)
        yield Tag(ref, text=text, topics=split_topics(row["topics"]), line=row.line)


SOURCE = Source("catalog", read, "our content catalogue CSV (url, title, kind, topics …) -> "
                "Content nodes tagged with topics", what="a content catalogue CSV",
                headers=(Header("a content catalogue CSV", ("url", "URL", "Link", "Content URL"),
                                ("title", "kind", "Format", "Content type", "Content kind",
                                 "topics")),))
