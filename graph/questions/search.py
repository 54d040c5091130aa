"""Search: people, companies, content and topics whose names (and keys) hold the words typed.

The rules, in words:
- Text is *folded* before it is compared: compatibility-decomposed (NFKD), combining marks
  dropped, case-folded; so "ZOE" finds "Zoë" and "strasse" finds "Straße". Its *words* are the
  runs of letters and digits of the folded text ("ada@acme.com" is ada, acme, com).
- A node's searchable fields: Person name, e-mail (and its key when the key is an e-mail);
  Company name, key (domain) and domain; Content title and key (URL); Topic name, key (slug)
  and synonyms.
- A node matches when every word of the query is a word of one of its fields, except the last
  query word, which need only begin one (so results come while typing: "ada lov").
- Score: 3 when one field's words are exactly the query's ("Zoë Brontë" for "zoe bronte"),
  2 when a field begins with the query ("Ada Lovelace" for "ada lov"), 1 otherwise. Best first,
  ties by label, then key. At most `limit` (1..100) hits. Blank text is a `QueryError`.

Both stores compute matches and scores in Python (`score` below) from the same fields, so they
agree exactly. Neo4j only narrows the candidates, with one regular expression per word passed
as a parameter (`candidate_pattern`) and matched against each field's NFKD form: every field
whose folded form holds the word matches (a test walks every code point that folding changes),
so no true match is lost, and few others pass. There is no index to anchor on (matching folded
words of a property cannot use one): each query scans the four labels. Measured with 100,000
people on a busy 2-core machine: about 1-2 s a query on Neo4j, 0.3-0.7 s embedded, and a
one-letter query that every name matches 2.5 s and 0.7 s. A folded search property written on
upsert, with a text index, is the way on when that is too slow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graph.model import QueryError
from graph.questions import Cypher, Question, Record
from graph.view import GraphView

MAX_HITS = 100
LABELS = ("Company", "Content", "Person", "Topic")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    limit: int = 20


@dataclass(frozen=True, slots=True)
class SearchHit:
    label: str  # Person | Company | Content | Topic
    key: str
    name: str | None
    score: float


@lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def fold(text: str) -> str:
    # ASCII folds to its lower case: the fast path for most names, keys and URLs.
    return text.lower() if text.isascii() else _fold(text)


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(text)))


def _prepare(q: SearchQuery) -> SearchQuery:
    if not isinstance(q.text, str) or not q.text.strip():
        raise QueryError("search text must not be blank")
    if not words(q.text):
        raise QueryError(f"search text {q.text!r} holds no letters or digits")
    if not 1 <= q.limit <= MAX_HITS:
        raise QueryError(f"limit must be between 1 and {MAX_HITS}, got {q.limit}")
    return q


def score(query: Sequence[str], fields: Iterable[str]) -> float:
    """3, 2 or 1 as the module says; 0 when the fields do not match the query words."""
    return _score(tuple(query), [words(f) for f in fields])


def _score(query: tuple[str, ...], split: list[tuple[str, ...]]) -> float:
    *whole, last = query
    pool = {w for ws in split for w in ws}
    if not all(w in pool for w in whole) or not any(w.startswith(last) for w in pool):
        return 0.0
    n, best = len(query), 1.0
    for ws in split:
        if ws == query:
            return 3.0
        if len(ws) >= n and ws[:n - 1] == tuple(whole) and ws[n - 1].startswith(last):
            best = 2.0
    return best


def _fields(label: str, key: str, attrs: dict[str, Any]) -> list[str]:
    """The searchable fields of a node, as the module says (the Cypher below mirrors it)."""
    if label == "Person":
        found = [attrs.get("name"), attrs.get("email"), key if "@" in key else None]
    elif label == "Company":
        found = [attrs.get("name"), key, attrs.get("domain")]
    elif label == "Content":
        found = [attrs.get("title"), key]
    else:
        found = [attrs.get("name"), key, *(attrs.get("synonyms") or ())]
    return [f for f in found if isinstance(f, str)]


def _ranked(query: Sequence[str], candidates: Iterable[tuple[str, str, str | None, list[str]]],
            limit: int) -> list[SearchHit]:
    query = tuple(query)
    hits = []
    for label, key, name, fields in candidates:
        folded = [fold(f) for f in fields]
        if not all(any(w in f for f in folded) for w in query):
            continue  # a match needs each word inside some folded field: most nodes stop here
        value = _score(query, [tuple(_WORD.findall(f)) for f in folded])
        if value:
            hits.append(SearchHit(label, key, name, value))
    hits.sort(key=lambda h: (-h.score, h.label, h.key))
    return hits[:limit]


# After NFKD, the only characters whose case folding is longer than one character (a test
# walks every code point): each may stand for one or two of the word's "s".
_LONG_FOLDS = {"s": "ßẞ"}
# A character the server's Unicode tables do not know (its Java may be older than our Python):
# it may be a mark, a letter of any case, or decompose into anything.
_UNKNOWN = r"\p{Cn}"


def candidate_pattern(word: str) -> str:
    """A Java regex that the NFKD form of every field whose folded form holds `word` matches:
    so Neo4j narrows the candidates without losing a true match.

    The folded form is the NFKD form with combining marks dropped and case folded, character by
    character. So in the NFKD form each character of `word` is the same character in any case
    (Unicode case-insensitive), or part of a "ß", or part of a character the server does not
    know; marks (or unknown characters) may follow any of them. `word` holds letters and digits
    only (see `words`), which are never regex syntax. Where words start is not checked: a
    letter to the server may be a separator to Python when their Unicode versions differ."""
    parts = []
    for ch in word:
        assert ch.isalnum(), word
        alternatives = [ch, _UNKNOWN, f"(?<={_UNKNOWN})"]
        long = _LONG_FOLDS.get(ch)
        if long:
            alternatives += [f"[{long}]", f"(?<=[{long}])"]
        parts.append(f"(?:{'|'.join(alternatives)})[\\p{{M}}{_UNKNOWN}]*")
    return r"(?su).*(?iu:" + "".join(parts) + ").*"


_NAME = {"Person": "name", "Company": "name", "Content": "title", "Topic": "name"}

SEARCH_CYPHER = """CALL () {
  MATCH (n:Person)
  RETURN 'Person' AS label, n.id AS key, n.name AS name,
         [n.name, n.email, CASE WHEN n.id CONTAINS '@' THEN n.id END] AS fields
  UNION ALL
  MATCH (n:Company)
  RETURN 'Company' AS label, n.id AS key, n.name AS name, [n.name, n.id, n.domain] AS fields
  UNION ALL
  MATCH (n:Content)
  RETURN 'Content' AS label, n.id AS key, n.title AS name, [n.title, n.id] AS fields
  UNION ALL
  MATCH (n:Topic)
  RETURN 'Topic' AS label, n.id AS key, n.name AS name,
         [n.name, n.id] + coalesce(n.synonyms, []) AS fields
}
WITH label, key, name, [f IN fields WHERE f IS NOT NULL] AS fields
WITH label, key, name, fields, [f IN fields | normalize(f, NFKD)] AS decomposed
WHERE all(p IN $patterns WHERE any(f IN decomposed WHERE f =~ p))
RETURN collect([label, key, name, fields]) AS candidates"""
# One record holding every candidate: the driver spends ~100 µs on each record it receives.


def _cypher(q: SearchQuery) -> Cypher:
    return Cypher(SEARCH_CYPHER, {"patterns": [candidate_pattern(w) for w in words(q.text)]})


def _from_records(q: SearchQuery, records: Sequence[Record]) -> list[SearchHit]:
    (r,) = records
    return _ranked(words(q.text), (tuple(c) for c in r["candidates"]),  # type: ignore[misc]
                   q.limit)


def _embedded(view: GraphView, q: SearchQuery) -> list[SearchHit]:
    def candidates() -> Iterable[tuple[str, str, str | None, list[str]]]:
        for label in LABELS:
            for key in view.keys(label):
                attrs = view.attrs((label, key))
                yield label, key, attrs.get(_NAME[label]), _fields(label, key, attrs)

    return _ranked(words(q.text), candidates(), q.limit)


SEARCH: Question[SearchQuery, list[SearchHit]] = Question(
    "search", _prepare, _cypher, _from_records, _embedded)

__all__ = ["SEARCH", "SearchHit", "SearchQuery"]
