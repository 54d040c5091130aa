"""The week's candidates: one per story, in the graph, never one an earlier issue featured.

`candidates(db, store, since=…, until=…)`:

1. takes the entries (of the current sources) whose date — published, else updated, else first
   seen — falls in [since, until);
2. groups the entries that are one story (`curation.dedup`: GUID, canonical URL, near-duplicate
   text across feeds) and keeps the grouping in the `clusters` table;
3. drops every story an earlier *published* issue featured: a picked item's content id, matched
   against every URL of the story — and since the entries of featured stories (whatever their
   date) are grouped with the window's, a later syndicated copy of a featured story, under
   another URL, is recognised and dropped too;
4. makes one `Candidate` per remaining story. Its representative entry — the one whose link is
   on its own feed's site (the original, not a copy), then the earliest, then the one from the
   most trusted source — gives the title, URL (the Content key), author, outlet and kind
   (section); the candidate lists every feed that carried the story and every entry id, and
   takes the highest weight of its sources;
5. writes the graph through the load pipeline: each story a `Content` node (title, kind
   article, published_at, author, summary), PUBLISHED_BY each feed's `Source` node, tagged with
   the taxonomy (`connectors/tagging.py`) from its title and text plus the feed categories that
   name a topic of the taxonomy (a blog's "Uncategorized" or "News" makes no topic). The
   candidate's `topics` are the ABOUT topics written, strongest first. Node and tags are
   *inferred* (the kind is a guess, the rest what other people's feeds say): they fill what
   the graph does not know and never overwrite it, so a story whose URL our catalogue holds
   keeps the catalogue's kind, date and topics (its ABOUT topics are then the catalogue's).

Candidates come newest first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.pipeline import Loader, LoadSummary
from connectors.records import KeyRef, Link, Node, ReadItem, Tag
from connectors.tagging import Taxonomy, default_taxonomy, load_taxonomy
from curation.dedup import Clusters, cluster
from curation.fetch import entries_of
from curation.model import Candidate, Entry, FeedSource
from curation.parse import clip
from curation.sources import list_sources, source_records
from graph.keys import registrable_domain
from graph.settings import get_settings
from graph.store import GraphStore

PROVENANCE = "curation:feeds"
GRAPH_SUMMARY = 1_000  # characters of summary kept on the Content node


@dataclass(frozen=True, slots=True)
class Found:
    """What `find` returns: the candidates and what it took to make them (for reports)."""

    candidates: list[Candidate]
    entries: int  # entries in the window
    featured_dropped: int  # stories dropped because a published issue featured them
    clusters: Clusters
    load: LoadSummary | None  # the graph write (None when not written)


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: give an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def featured(db: sqlite3.Connection) -> set[str]:
    """Content ids a published issue featured (picked items): never offered again."""
    rows = db.execute("SELECT DISTINCT i.content_id FROM items i JOIN issues s "
                      "ON s.id = i.issue_id WHERE s.status = 'published' AND i.picked = 1")
    return {r[0] for r in rows}


def _site_domain(url: str) -> str | None:
    try:
        return registrable_domain(url)
    except ValueError:
        return None


def _representative(members: Sequence[Entry], sources: dict[str, FeedSource]) -> Entry:
    def order(entry: Entry) -> tuple[bool, datetime, float, str]:
        own = _site_domain(entry.url) == _site_domain(entry.feed_url)
        return (not own, entry.published_at, -sources[entry.feed_url].weight, entry.id)

    return min(members, key=order)


def _outlet(source: FeedSource) -> str | None:
    if source.name:
        return source.name
    return _site_domain(source.url)


def _mapped_categories(taxonomy: Taxonomy, categories: Iterable[str]) -> tuple[str, ...]:
    """The feed categories that name a topic of the taxonomy (others would invent topics)."""
    kept = []
    for category in categories:
        if any(m.topic_id in taxonomy.by_id for m in taxonomy.explicit([category])):
            kept.append(category)
    return tuple(kept)


def _candidate(members: list[Entry], sources: dict[str, FeedSource],
               taxonomy: Taxonomy) -> tuple[Candidate, tuple[str, ...], str]:
    rep = _representative(members, sources)
    source = sources[rep.feed_url]
    feeds = [rep.feed_url] + sorted({m.feed_url for m in members} - {rep.feed_url})
    summary = rep.summary or max((m.summary for m in members), key=len)
    author = rep.author or next((m.author for m in members if m.author), None)
    categories: dict[str, str] = {}
    for member in [rep, *members]:
        for category in member.topics:
            categories.setdefault(category.casefold(), category)
    mapped = _mapped_categories(taxonomy, categories.values())
    text = f"{rep.title}\n{summary}"
    matches = taxonomy.topics_of(text, mapped)
    topics = tuple(m.topic_id for m in sorted(matches, key=lambda m: -m.weight))
    candidate = Candidate(
        content_id=rep.url, title=rep.title, url=rep.url, author=author,
        outlet=_outlet(source), kind=source.kind,
        published_at=min(m.published_at for m in members), summary=summary, topics=topics,
        sources=tuple(feeds), entry_ids=tuple(sorted(m.id for m in members)),
        source_weight=max(sources[f].weight for f in feeds))
    return candidate, mapped, text


def _records(found: list[tuple[Candidate, tuple[str, ...], str]],
             sources: dict[str, FeedSource]) -> list[ReadItem]:
    used = {f for c, _, _ in found for f in c.sources}
    records: list[ReadItem] = list(source_records(s for u, s in sources.items() if u in used))
    for candidate, mapped, text in found:
        ref = KeyRef("Content", candidate.content_id)
        props: dict[str, Any] = {"title": candidate.title, "kind": "article",
                                 "published_at": candidate.published_at}
        if candidate.author:
            props["author"] = candidate.author
        if candidate.summary:
            props["summary"] = clip(candidate.summary, GRAPH_SUMMARY)
        records.append(Node(ref, props, inferred=True))
        for feed in candidate.sources:
            records.append(Link("PUBLISHED_BY", ref, KeyRef("Source", feed)))
        records.append(Tag(ref, text=text, topics=mapped, inferred=True))
    return records


def _known_clusters(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, str]:
    known: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        known.update(db.execute(f"SELECT entry_id, cluster FROM clusters WHERE entry_id IN "
                                f"({marks})", chunk).fetchall())
    return known


def find(db: sqlite3.Connection, store: GraphStore | None, *, since: datetime,
         until: datetime, data_dir: Path | None = None, taxonomy: Taxonomy | None = None
         ) -> Found:
    """`candidates` with its figures; `store` None leaves the graph alone (previews, tests)."""
    sources = {s.url: s for s in list_sources(db)}
    if taxonomy is None:
        path = get_settings().taxonomy
        taxonomy = load_taxonomy(path) if path else default_taxonomy()
    if not sources:
        return Found([], 0, 0, Clusters(), None)
    marks = ",".join("?" * len(sources))
    window = entries_of(db, f"published_at >= ? AND published_at < ? AND feed_url IN ({marks})",
                        [_stamp(since), _stamp(until), *sources])
    done = featured(db)
    anchors: list[Entry] = []
    if done:
        in_window = {e.id for e in window}
        listed = sorted(done)
        for start in range(0, len(listed), 500):
            chunk = listed[start:start + 500]
            anchors += [e for e in entries_of(
                db, f"url IN ({','.join('?' * len(chunk))})", chunk) if e.id not in in_window]
    everything = window + anchors
    groups = cluster(everything, known=_known_clusters(db, [e.id for e in everything]))
    db.executemany("INSERT INTO clusters (entry_id, cluster) VALUES (?, ?) ON CONFLICT "
                   "(entry_id) DO UPDATE SET cluster = excluded.cluster",
                   sorted(groups.of.items()))
    by_id = {e.id: e for e in window}
    made: list[tuple[Candidate, tuple[str, ...], str]] = []
    dropped = 0
    for ids in groups.members.values():
        members = [by_id[i] for i in ids if i in by_id]
        if not members:
            continue  # only featured entries from before the window
        if len(members) < len(ids) or any(m.url in done for m in members):
            dropped += 1
            continue
        made.append(_candidate(members, sources, taxonomy))
    made.sort(key=lambda m: (-m[0].published_at.timestamp(), m[0].title, m[0].content_id))
    load = None
    if store is not None and made:
        loader = Loader(store, data_dir=data_dir or get_settings().data_dir, taxonomy=taxonomy)
        load = loader.apply(_records(made, sources), source="curation", provenance=PROVENANCE)
    return Found([c for c, _, _ in made], len(window), dropped, groups, load)


def candidates(db: sqlite3.Connection, store: GraphStore, *, since: datetime, until: datetime,
               data_dir: Path | None = None, taxonomy: Taxonomy | None = None
               ) -> list[Candidate]:
    """The stories of [since, until) that may go into an issue (see the module docstring);
    each is written to the graph as Content with its topics and sources."""
    return find(db, store, since=since, until=until, data_dir=data_dir,
                taxonomy=taxonomy).candidates


__all__ = ["Found", "candidates", "featured", "find"]
