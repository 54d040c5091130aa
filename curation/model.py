"""The curation's shared vocabulary: feed sources, fetched entries, candidates, roundup issues.

Two halves build on it (see docs/dev/curation-brief.md): *feeds* (sources, fetch, parse,
de-duplication, candidates: curation/sources.py, fetch.py, parse.py, dedup.py, candidates.py)
and *issues* (ranking, drafting, the editorial workflow, rendering, feedback: curation/rank.py,
draft.py, issues.py, render.py). What one half writes the other reads through these types and
the tables of `curation/db.py`.

The graph holds what the rest of the product asks about: every candidate is a Content node
(canonical URL) with ABOUT topics, PUBLISHED_BY its Source node(s); a published issue is a
Roundup node that FEATURES its items (section, position, blurb, verdict). The curation database
(`<data dir>/curation.sqlite`) holds what only the editor's tools need: feed state for
conditional GETs, raw entry text for blurbs and near-duplicate detection, issues in progress
and their edit history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SourceKind(StrEnum):
    """`--kind` of a feed, and the roundup section its items go to."""

    COMPANY = "company"  # "From the companies and pontificators"
    VENDOR = "vendor"  # "From the vendors"
    OURS = "ours"  # "From us"

    @property
    def graph_kind(self) -> str:
        """The Source node's `kind` in the graph schema."""
        return {"company": "pontificator", "vendor": "vendor", "ours": "own"}[self.value]

    @property
    def section(self) -> str:
        return {"company": "From the companies and pontificators", "vendor": "From the vendors",
                "ours": "From us"}[self.value]


SECTIONS = tuple(kind.section for kind in SourceKind)


class IssueStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"  # frozen: no edit is accepted any more


@dataclass(frozen=True, slots=True)
class FeedSource:
    url: str  # the feed's URL as the editor gave it (canonical_url of it is the Source key)
    kind: SourceKind
    name: str | None = None
    weight: float = 1.0  # the editor's trust in this source, used by ranking (0.1 .. 10)
    etag: str | None = None  # conditional GET state
    last_modified: str | None = None
    moved_to: str | None = None  # a permanent redirect seen: fetch there from now on
    last_fetched_at: datetime | None = None
    last_status: str | None = None  # the last fetch's one-line outcome


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of one feed, as fetched (several feeds may carry the same story)."""

    id: str  # stable: feed URL + GUID (else link)
    feed_url: str
    guid: str | None
    url: str  # canonical URL of the linked article (graph.keys.canonical_url)
    title: str
    author: str | None
    published_at: datetime  # published, else updated, else first seen
    first_seen_at: datetime
    summary: str  # plain text (sanitised, tags dropped), for blurbs and near-duplicates
    content_html: str | None = None  # sanitised HTML (nh3), when the feed carries the content
    topics: tuple[str, ...] = ()  # the feed's own categories


@dataclass(frozen=True, slots=True)
class Candidate:
    """One story that may go into an issue: a cluster of entries that are the same story."""

    content_id: str  # canonical URL of the representative entry (a Content node's key)
    title: str
    url: str
    author: str | None
    outlet: str | None  # the representative source's name
    kind: SourceKind  # of the representative source (decides the section)
    published_at: datetime
    summary: str
    topics: tuple[str, ...]  # topic ids (graph ABOUT)
    sources: tuple[str, ...]  # every feed URL that carried it
    entry_ids: tuple[str, ...]
    source_weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Reason:
    """One part of a candidate's ranking score, shown to the editor."""

    name: str  # relevance, freshness, source weight, audience interest …
    value: float
    why: str


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    score: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
