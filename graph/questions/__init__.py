"""One home per question: its typed input and answer, its Cypher and its embedded implementation.

A question module defines a `Question` (below): `prepare` checks and normalises the input the
same way for both stores; `cypher` gives the one Cypher round trip (text fixed by the input's
*shape*, user values only as parameters); `from_records` shapes the Neo4j records into the
answer; `embedded` computes the same answer by walking the embedded graph (`graph.view`). The
stores only run them: `store.ask(QUESTION, query)` (sync, the CLI) or
`await store.ask_async(QUESTION, query)` (the API: the Neo4j async driver; the embedded store in a
worker thread, so the event loop never blocks). The conformance suite runs every question on
both stores from one table of cases.

Plan each question from its most selective anchor (the rarest thing it asks for: concerns in a
window, one person's key …), in Cypher and in the embedded walk alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Generic, TypeVar

from graph.errors import NodeNotFound
from graph.view import GraphView

Q = TypeVar("Q")
A = TypeVar("A")
Record = Mapping[str, Any]  # one Neo4j record as a dict, values already native Python


@dataclass(frozen=True)
class Cypher:
    text: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Question(Generic[Q, A]):
    name: str
    prepare: Callable[[Q], Q]
    cypher: Callable[[Q], Cypher]
    from_records: Callable[[Q, Sequence[Record]], A]
    embedded: Callable[[GraphView, Q], A]


def same(query: Q) -> Q:
    """`prepare` for questions whose input needs no normalising."""
    return query


MAX_REKEYS = 3  # a question names at most this many nodes by key (warm paths: two)


def rekeyed(question: Question[Q, A], query: Q, key: str, now: str) -> Q | None:
    """The query with every field that names `key` (as prepared) naming `now` instead: how a
    store answers a question asked with a key folded into another node (an old e-mail, a
    LinkedIn profile URL). None when no field names it (the missing node is something else).

    >>> from graph.questions.profile import PROFILE, ProfileQuery
    >>> rekeyed(PROFILE, ProfileQuery("Ada@Old.example"), "ada@old.example", "ada@new.example")
    ProfileQuery(person='ada@new.example', as_of=None)
    """
    prepared = question.prepare(query)
    if not is_dataclass(prepared):
        return None
    changes = {f.name: now for f in fields(prepared) if getattr(prepared, f.name) == key}
    if not changes:
        return None
    return replace(query, **changes)  # type: ignore[type-var]


def rekey(question: Question[Q, A], query: Q, missing: NodeNotFound, now: str | None,
          attempt: int) -> Q:
    """The query to ask again after `missing`, with the key it named replaced by `now` (the
    node holding it as an alias); `missing` itself when there is none, or after MAX_REKEYS
    attempts. What each store's `ask` calls, with the holder it found its own way."""
    retry = rekeyed(question, query, missing.key, now) \
        if now is not None and attempt < MAX_REKEYS else None
    if retry is None:
        raise missing
    return retry
