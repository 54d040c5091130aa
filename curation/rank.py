"""Ranking the week's candidates, every score with the reasons that make it up.

A candidate's score is the sum of four parts, each shown to the editor as a `Reason`:

- **relevance** (0 .. `Weights.relevance`): how much the story is about the taxonomy's topics
  (`connectors/tagging.py`, the same taxonomy that tags Content in the graph). The title and
  summary are tagged; a topic found there weighs what the tagger says (one mention 0.5, two
  different phrases 0.75 …); a taxonomy topic the feed names but the text does not mention
  weighs 0.5. The topics combine like independent evidence: `1 − Π(1 − weight)`.
- **freshness** (0 .. `Weights.freshness`): halves every `Weights.half_life` of age at the
  issue's moment (a story published after that moment counts as brand new).
- **source**: the editor's trust in the feed (`--weight`, 0.1 .. 10; 1 is neutral):
  `Weights.source × log2(weight)`, so weight 2 adds 0.5 and weight 0.5 takes 0.5 away; plus
  `Weights.syndication` for each further feed that carried the same story (at most 3).
- **audience** (0 .. `Weights.audience`): the graph signal — how many of our contacts and
  customers read about the story's topics, or raised concerns on them, in the
  `interest_window` before the issue (graph/questions/interest.py). Per topic `readers + 2 ×
  concerned` (a concern says more than a read); the candidate takes its best topic and the
  part saturates: `1 − 0.5^(signal / 5)` (5 people: half of it). Newsletter clicks are READs
  too (connectors/clicks.py), so what the last issue's readers clicked moves the next ranking.

Ranked best first; ties by the newer story, then content id (the same order on every run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.tagging import Taxonomy, default_taxonomy
from curation.model import Candidate, Ranked, Reason
from graph.questions.interest import INTEREST, InterestQuery, TopicInterest
from graph.store import GraphStore

INTEREST_WINDOW = timedelta(days=30)
AUDIENCE_HALF = 5.0  # people (readers + 2 × concerned) that give half the audience part
FEED_TOPIC_WEIGHT = 0.5  # a taxonomy topic the feed names but the text does not mention
MAX_SYNDICATION = 3


@dataclass(frozen=True, slots=True)
class Weights:
    relevance: float = 1.0
    freshness: float = 1.0
    half_life: timedelta = timedelta(days=3)
    source: float = 0.5
    syndication: float = 0.15
    audience: float = 1.5


@dataclass(frozen=True, slots=True)
class TopicHit:
    topic: str
    name: str
    weight: float
    evidence: str  # the phrases that matched, or "named by the feed"


def _text(candidate: Candidate) -> str:
    return f"{candidate.title}.\n{candidate.summary}"


def topic_hits(candidate: Candidate, taxonomy: Taxonomy) -> list[TopicHit]:
    """The taxonomy topics of a candidate: found in its title and summary, or named by its feed."""
    hits: dict[str, TopicHit] = {}
    for m in taxonomy.tag(_text(candidate)):
        evidence = ", ".join(p if n == 1 else f"{p} ×{n}" for p, n in m.phrases)
        hits[m.topic_id] = TopicHit(m.topic_id, m.name, m.weight, evidence)
    for m in taxonomy.explicit(candidate.topics):
        if m.topic_id in taxonomy.by_id and m.topic_id not in hits:
            hits[m.topic_id] = TopicHit(m.topic_id, m.name, FEED_TOPIC_WEIGHT, "named by the feed")
    return list(hits.values())


def graph_topics(candidate: Candidate, taxonomy: Taxonomy) -> tuple[str, ...]:
    """The topic ids the story is ABOUT in the graph: what the pipeline tags a Content with
    (`Tag(text=title and summary, topics=the feed's topics)`), feed topics outside the taxonomy
    included."""
    return tuple(m.topic_id for m in taxonomy.topics_of(_text(candidate), candidate.topics))


def relevance(hits: Sequence[TopicHit], w: Weights) -> Reason:
    if not hits:
        return Reason("relevance", 0.0, "about no topic of the taxonomy")
    miss = math.prod(1.0 - h.weight for h in hits)
    value = w.relevance * (1.0 - miss)
    why = "about " + "; ".join(f"{h.name} {h.weight:g} ({h.evidence})" for h in hits)
    return Reason("relevance", round(value, 4), why)


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    if days < 1:
        hours = round(days * 24)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{days:.1f} days"


def freshness(candidate: Candidate, as_of: datetime, w: Weights) -> Reason:
    age = max(as_of - candidate.published_at, timedelta(0))
    value = w.freshness * 0.5 ** (age / w.half_life)
    return Reason("freshness", round(value, 4),
                  f"published {_days(age)} before the issue (half-life {_days(w.half_life)})")


def source(candidate: Candidate, w: Weights) -> Reason:
    weight = min(max(candidate.source_weight, 0.1), 10.0)
    extra = min(max(len(candidate.sources) - 1, 0), MAX_SYNDICATION)
    value = w.source * math.log2(weight) + w.syndication * extra
    who = candidate.outlet or (candidate.sources[0] if candidate.sources else "its feed")
    why = f"{who}: source weight {weight:g}"
    if len(candidate.sources) > 1:
        why += f"; carried by {len(candidate.sources)} feeds"
    return Reason("source", round(value, 4), why)


def audience(topics: Iterable[str], interest: Mapping[str, TopicInterest] | None,
             w: Weights, window: timedelta = INTEREST_WINDOW) -> Reason:
    if interest is None:
        return Reason("audience", 0.0, "the graph was not asked")
    found = [interest[t] for t in topics if t in interest]
    signal = max((t.readers + 2 * t.concerned for t in found), default=0)
    days = round(window / timedelta(days=1))
    active = [t for t in found if t.readers or t.concerned]
    if not active:
        return Reason("audience", 0.0, f"none of our contacts or customers read about or "
                      f"raised concerns on its topics in the last {days} days")
    parts = []
    for t in sorted(active, key=lambda t: (-(t.readers + 2 * t.concerned), t.topic)):
        said = [f"{t.readers} read"] if t.readers else []
        if t.concerned:
            said.append(f"{t.concerned} raised concerns")
        parts.append(f"{t.topic}: {', '.join(said)}")
    value = w.audience * (1.0 - 0.5 ** (signal / AUDIENCE_HALF))
    return Reason("audience", round(value, 4),
                  f"our contacts and customers, last {days} days: " + "; ".join(parts))


def rank(candidates: Iterable[Candidate], *, as_of: datetime,
         interest: Mapping[str, TopicInterest] | None, taxonomy: Taxonomy | None = None,
         weights: Weights | None = None, window: timedelta = INTEREST_WINDOW) -> list[Ranked]:
    """Every candidate scored, with its reasons, best first."""
    tax = taxonomy or default_taxonomy()
    w = weights or Weights()
    ranked = []
    for c in candidates:
        hits = topic_hits(c, tax)
        reasons = (relevance(hits, w), freshness(c, as_of, w), source(c, w),
                   audience(graph_topics(c, tax), interest, w, window))
        ranked.append(Ranked(c, round(sum(r.value for r in reasons), 4), reasons))
    ranked.sort(key=lambda r: (-r.score, -r.candidate.published_at.timestamp(),
                               r.candidate.content_id))
    return ranked


def audience_interest(store: GraphStore, candidates: Iterable[Candidate], *, as_of: datetime,
                      taxonomy: Taxonomy | None = None,
                      window: timedelta = INTEREST_WINDOW) -> dict[str, TopicInterest]:
    """The graph signal for every topic of the candidates: one question to the store."""
    tax = taxonomy or default_taxonomy()
    topics: dict[str, None] = {}
    for c in candidates:
        topics.update(dict.fromkeys(graph_topics(c, tax)))
    if not topics:
        return {}
    return store.ask(INTEREST, InterestQuery(tuple(topics), as_of - window, as_of))


def explain(ranked: Ranked) -> str:
    """One line: the score and its parts, as the build command prints them."""
    parts = " + ".join(f"{r.name} {r.value:.2f}" for r in ranked.reasons)
    return f"{ranked.score:.2f} = {parts}"
