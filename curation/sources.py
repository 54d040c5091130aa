"""The feed list: `relgraph roundup sources add|import|list|remove`.

A source is a feed URL with a kind (company, vendor or ours: the roundup section its stories go
to), an optional display name (else the feed's own title, learnt on the first fetch) and a weight
(the editor's trust, 0.1 .. 10, used by ranking). Sources live in the `sources` table of the
curation database, beside their conditional-GET state; each is also a `Source` node of the graph
(key: the canonical feed URL; name; kind pontificator, vendor or own), written through the load
pipeline like any other record.

Two spellings of one feed URL with the same canonical form (`https://Blog.Example.com/feed` and
`https://blog.example.com/feed?utm_source=x`) are one source: adding the second updates the
first. Adding a source that exists changes its kind, name and weight and keeps its fetch state,
so re-importing an OPML file is harmless.

Removing a source stops fetching it and keeps everything it brought: its entries stay in the
database (issues that featured them are unchanged) and its Source node stays in the graph (what
it published is still true); its entries are no longer offered as candidates.

    >>> import tempfile, pathlib
    >>> from curation.db import connect
    >>> with connect(pathlib.Path(tempfile.mkdtemp()) / "curation.sqlite") as db:
    ...     added = save_source(db, "https://Blog.Example.com/feed/", kind="vendor", weight=2)
    ...     again = save_source(db, "https://blog.example.com/feed/?utm_source=x", kind="vendor")
    ...     rows = [(s.url, s.kind.value, s.weight) for s in list_sources(db)]
    >>> rows, added.created, again.created
    ([('https://Blog.Example.com/feed/', 'vendor', 2.0)], True, False)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors.pipeline import Loader, LoadSummary
from connectors.records import KeyRef, Node, ReadItem
from curation.errors import CurationError, NotFound
from curation.model import FeedSource, SourceKind
from graph.keys import canonical_url
from graph.store import GraphStore

MIN_WEIGHT, MAX_WEIGHT = 0.1, 10.0
PROVENANCE = "curation:sources"


class BadSource(CurationError, ValueError):
    """A feed URL, kind or weight that cannot be used (names which and why)."""


@dataclass(frozen=True, slots=True)
class Saved:
    source: FeedSource
    created: bool  # False: an existing source was updated


def feed_key(url: str) -> str:
    """The Source node's key (and how two spellings of one feed are found to be one)."""
    try:
        return canonical_url(url)
    except ValueError as exc:
        raise BadSource(f"{url!r} is not a feed URL: {exc}") from None


def check_url(url: str) -> str:
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        raise BadSource(f"{url!r} is not a feed URL: give an http:// or https:// address")
    feed_key(url)
    return url


def parse_kind(kind: str | SourceKind) -> SourceKind:
    try:
        return SourceKind(str(kind).strip().lower())
    except ValueError:
        raise BadSource(f"kind {kind!r}: use one of "
                        f"{', '.join(k.value for k in SourceKind)}") from None


def check_weight(weight: float) -> float:
    if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        raise BadSource(f"weight {weight:g}: give a number from {MIN_WEIGHT:g} to "
                        f"{MAX_WEIGHT:g} (1 is neutral)")
    return float(weight)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _row(row: sqlite3.Row | tuple) -> FeedSource:  # type: ignore[type-arg]
    (url, kind, name, weight, etag, last_modified, moved_to, last_fetched_at, last_status) = row
    return FeedSource(url=url, kind=SourceKind(kind), name=name, weight=weight, etag=etag,
                      last_modified=last_modified, moved_to=moved_to,
                      last_fetched_at=_moment(last_fetched_at), last_status=last_status)


_COLUMNS = "url, kind, name, weight, etag, last_modified, moved_to, last_fetched_at, last_status"


def list_sources(db: sqlite3.Connection) -> list[FeedSource]:
    return [_row(r) for r in db.execute(f"SELECT {_COLUMNS} FROM sources ORDER BY kind, url")]


def find_source(db: sqlite3.Connection, url: str) -> FeedSource | None:
    """The source whose URL has the same canonical form as `url` (or its moved-to URL)."""
    key = feed_key(url)
    for source in list_sources(db):
        if key in (feed_key(source.url), _key_or_none(source.moved_to)):
            return source
    return None


def _key_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url)
    except ValueError:
        return None


def save_source(db: sqlite3.Connection, url: str, *, kind: str | SourceKind,
                name: str | None = None, weight: float | None = None) -> Saved:
    """Add a source, or update the kind, name and weight of the one with the same canonical URL
    (a weight or name not given leaves the stored one)."""
    url = check_url(url)
    kind = parse_kind(kind)
    name = " ".join(name.split()) if name and name.strip() else None
    if weight is not None:
        weight = check_weight(weight)
    existing = find_source(db, url)
    if existing is None:
        db.execute("INSERT INTO sources (url, kind, name, weight, added_at) VALUES (?, ?, ?, ?, ?)",
                   (url, kind.value, name, weight if weight is not None else 1.0,
                    datetime.now(UTC).isoformat(timespec="seconds")))
        created = True
        url_key = url
    else:
        db.execute("UPDATE sources SET kind = ?, name = coalesce(?, name), "
                   "weight = coalesce(?, weight) WHERE url = ?",
                   (kind.value, name, weight, existing.url))
        created = False
        url_key = existing.url
    saved = find_source(db, url_key)
    assert saved is not None
    return Saved(saved, created)


def remove_source(db: sqlite3.Connection, url: str) -> FeedSource:
    """Stop fetching a source; its entries and graph node stay (see the module docstring)."""
    source = find_source(db, url)
    if source is None:
        raise NotFound(f"no feed source {url!r} (see `relgraph roundup sources list`)")
    db.execute("DELETE FROM sources WHERE url = ?", (source.url,))
    return source


def source_records(sources: Iterable[FeedSource]) -> list[ReadItem]:
    """Source nodes for the graph: key = canonical feed URL, name, kind."""
    records: list[ReadItem] = []
    for source in sources:
        props: dict[str, object] = {"kind": source.kind.graph_kind}
        if source.name:
            props["name"] = source.name
        records.append(Node(KeyRef("Source", source.url), props))
    return records


def write_sources(store: GraphStore, sources: Iterable[FeedSource], *,
                  data_dir: Path) -> LoadSummary:
    """Upsert the sources' graph nodes (one pipeline run for all of them)."""
    return Loader(store, data_dir=data_dir).apply(source_records(sources), source="curation",
                                                  provenance=PROVENANCE)


def add_source(db: sqlite3.Connection, store: GraphStore, url: str, *, kind: str | SourceKind,
               name: str | None = None, weight: float | None = None,
               data_dir: Path) -> Saved:
    """`relgraph roundup sources add`: save the source, then its Source node in the graph."""
    saved = save_source(db, url, kind=kind, name=name, weight=weight)
    write_sources(store, [saved.source], data_dir=data_dir)
    return saved


__all__ = ["BadSource", "Saved", "add_source", "check_url", "check_weight", "feed_key",
           "find_source", "list_sources", "parse_kind", "remove_source", "save_source",
           "source_records", "write_sources"]
