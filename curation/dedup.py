"""De-duplication: which entries are one story, in three layers.

1. **GUID** — entries whose GUID names one story wherever it appears (a URL, a `tag:` or `urn:`
   URI: `curation.fetch.global_guid`). Feed-local GUIDs ("1", "post-42") never join entries of
   two feeds: two blogs both numbering their posts from 1 are not syndicating each other.
2. **Canonical URL** — entries linking to the same page once `graph.keys.canonical_url` has
   folded case, default ports, fragments and tracking parameters (`?utm_source=feed`).
3. **Near-duplicate text across feeds** — MinHash signatures (datasketch, 64 permutations) of
   word 3-grams of the title and the first `LEAD_WORDS` words of the text, bucketed by LSH at
   Jaccard `THRESHOLD`; every pair LSH proposes is checked on the exact shingle sets, so only
   pairs really over the threshold join. Comparing the lead, not the whole text, lets a copy that
   carries an excerpt meet an original that carries the full article. Entries of one feed never
   join on text alone (a weekly series repeats its boilerplate), and texts shorter than
   `MIN_WORDS` words are too short to tell.

Layers combine transitively (union-find): a copy that shares a URL with one entry and text with
another joins both. A cluster's id is stable across runs: the id it had in the `clusters`
table (the smallest, when two known clusters merge), else its smallest entry id.

    >>> from datetime import UTC, datetime
    >>> def entry(i, feed, url, title, text=""):
    ...     t = datetime(2024, 3, 5, tzinfo=UTC)
    ...     return Entry(i, feed, None, url, title, None, t, t, text)
    >>> story = "Churn is a symptom not a disease and the teams that treat causes keep customers"
    >>> found = cluster([
    ...     entry("a", "f1", "https://a.example/churn", "Churn is a symptom", story),
    ...     entry("b", "f2", "https://a.example/churn?utm_source=rss", "Churn, a symptom"),
    ...     entry("c", "f3", "https://mirror.example/p/9", "Churn is a symptom", story + " ok"),
    ...     entry("d", "f1", "https://a.example/other", "Onboarding metrics that matter")])
    >>> sorted(found.members.values())
    [['a', 'b', 'c'], ['d']]
    >>> sorted(found.layers.values())
    ['canonical URL', 'near-duplicate text']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

from curation.fetch import global_guid
from curation.model import Entry
from graph.keys import canonical_url

THRESHOLD = 0.6  # Jaccard similarity of shingle sets over which two texts are one story
NUM_PERM = 64
LEAD_WORDS = 60
MIN_WORDS = 8
SHINGLE = 3

_WORD = re.compile(r"\w+")


@dataclass(slots=True)
class Clusters:
    of: dict[str, str] = field(default_factory=dict)  # entry id -> cluster id
    members: dict[str, list[str]] = field(default_factory=dict)  # cluster id -> entry ids
    layers: dict[tuple[str, str], str] = field(default_factory=dict)  # joined pair -> layer


class _Union:
    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def join(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


def shingles(title: str, text: str) -> set[str]:
    """Word 3-grams of the title and the lead of the text (lower-cased words)."""
    words = _WORD.findall(title.lower()) + _WORD.findall(text.lower())[:LEAD_WORDS]
    if len(words) < MIN_WORDS:
        return set()
    return {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)  # stored entries already are; kept safe for any caller
    except ValueError:
        return url


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def cluster(entries: Sequence[Entry], *, known: Mapping[str, str] | None = None,
            threshold: float = THRESHOLD) -> Clusters:
    """Group entries that are one story (see the module docstring). `known`: entry id ->
    cluster id from an earlier run (keeps ids stable)."""
    union = _Union(e.id for e in entries)
    result = Clusters()

    def join(a: str, b: str, layer: str) -> None:
        if union.join(a, b):
            result.layers[(min(a, b), max(a, b))] = layer

    by_guid: dict[str, str] = {}
    by_url: dict[str, str] = {}
    for entry in entries:
        if entry.guid and global_guid(entry.guid):
            first = by_guid.setdefault(entry.guid, entry.id)
            if first != entry.id:
                join(first, entry.id, "GUID")
    for entry in entries:
        first = by_url.setdefault(_canonical(entry.url), entry.id)
        if first != entry.id:
            join(first, entry.id, "canonical URL")

    texts = {e.id: shingles(e.title, e.summary) for e in entries}
    with_text = [e for e in entries if texts[e.id]]
    if len(with_text) > 1:
        signatures = MinHash.bulk([[s.encode("utf-8", "surrogatepass") for s in texts[e.id]]
                                   for e in with_text], num_perm=NUM_PERM)
        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        feed_of = {e.id: e.feed_url for e in with_text}
        for entry, signature in zip(with_text, signatures, strict=True):
            for other in lsh.query(signature):
                if feed_of[other] != entry.feed_url and \
                        _jaccard(texts[entry.id], texts[other]) >= threshold:
                    join(other, entry.id, "near-duplicate text")
            lsh.insert(entry.id, signature)

    groups: dict[str, list[str]] = {}
    for entry in entries:
        groups.setdefault(union.find(entry.id), []).append(entry.id)
    known = known or {}
    for ids in groups.values():
        ids.sort()
        earlier = sorted(known[i] for i in ids if i in known and known[i] not in result.members)
        cluster_id = earlier[0] if earlier else ids[0]  # a split cluster keeps its id once
        result.members[cluster_id] = ids
        for i in ids:
            result.of[i] = cluster_id
    return result


__all__ = ["LEAD_WORDS", "MIN_WORDS", "NUM_PERM", "THRESHOLD", "Clusters", "cluster",
           "shingles"]
