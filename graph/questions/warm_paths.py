"""Warm paths: who can introduce `source` to `target`, through people who know each other.

The rules, in words:
- A path is a chain of KNOWS relationships (undirected) from source to target of at most
  `max_hops` (1..4) relationships that visits no person twice.
- Paths come shortest first; among paths of one length, the strongest first, a path's strength
  being the product of its relationships' `strength` (0.5 where a relationship has none),
  multiplied in order from source to target; then by the person ids along the path, compared as
  a list. That is a total order, so both stores give the same paths in the same order.
- At most `limit` (1..100) paths. Longer paths are looked for only while fewer than `limit`
  shorter ones were found, so a well-connected pair costs no more than its shortest paths.
- Each person on a path is described as of `as_of` (default: now): name, title and company of
  their role (graph/questions/contacts.py).
- An unknown source or target is `NodeNotFound`; source and target the same person, or a bound
  outside its range, is `QueryError`. Keys are e-mails or `source:id`, normalised as stored.

Anchored on both ends (two unique index seeks); each length's paths are matched between the two
bound ends, and the query text depends only on `max_hops`, an integer checked here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph.errors import NodeNotFound
from graph.model import Employment, QueryError, as_utc, person_key
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import employment, jobs_cypher, role, title_of
from graph.view import GraphView, Node

MAX_HOPS = 4
MAX_PATHS = 100
MISSING_STRENGTH = 0.5


@dataclass(frozen=True, slots=True)
class WarmPathQuery:
    source: str
    target: str
    max_hops: int = 3
    limit: int = 10
    as_of: datetime | None = None  # whose role is shown (default: now)


@dataclass(frozen=True, slots=True)
class PathStep:
    person_id: str
    name: str | None
    title: str | None
    company_id: str | None
    company_name: str | None


@dataclass(frozen=True, slots=True)
class WarmPath:
    people: tuple[PathStep, ...]  # source first, target last
    hops: int
    strength: float


def _prepare(q: WarmPathQuery) -> WarmPathQuery:
    # bool is an int too: refuse it rather than read True as one hop.
    if isinstance(q.max_hops, bool) or not isinstance(q.max_hops, int) \
            or not 1 <= q.max_hops <= MAX_HOPS:
        raise QueryError(f"max_hops must be between 1 and {MAX_HOPS}, got {q.max_hops!r}")
    if not 1 <= q.limit <= MAX_PATHS:
        raise QueryError(f"limit must be between 1 and {MAX_PATHS}, got {q.limit}")
    source, target = person_key(q.source), person_key(q.target)
    if source == target:
        raise QueryError(f"source and target are the same person ({source})")
    return WarmPathQuery(source, target, q.max_hops, q.limit, as_utc(q.as_of))


def strength(strengths: Sequence[float | None]) -> float:
    """The product of the relationships' strengths, in path order (0.5 where missing)."""
    product = 1.0
    for s in strengths:
        product *= MISSING_STRENGTH if s is None else s
    return product


def path_order(ids: Sequence[str], value: float) -> tuple[int, float, tuple[str, ...]]:
    return (len(ids) - 1, -value, tuple(ids))


# One subquery per length, run only while fewer than $limit shorter paths were found (an empty
# `collect` still gives one row, so the query goes on). Each length is spelled out node by node,
# (a)-(m1)-(m2)-(b), not as `*3`: then the planner expands from both bound ends and joins them
# in the middle (NodeHashJoin) instead of walking every path from one end. Node uniqueness needs
# checking from four hops on: a trail may close a triangle (a-b-c-a-d) but revisit no one sooner.
_LENGTH = """CALL (a, b, found) {{
  WITH a, b, found WHERE size(found) < $limit
  MATCH p = {pattern}
  WHERE all(n IN nodes(p) WHERE single(m IN nodes(p) WHERE m = n))
  RETURN collect(p) AS more
}}
WITH a, b, found + more AS found
"""


def _pattern(hops: int) -> str:
    middle = "".join(f"-[:KNOWS]-(m{i})" for i in range(1, hops))
    return f"(a){middle}-[:KNOWS]-(b)"


_HEAD = """OPTIONAL MATCH (a:Person {id: $source})
OPTIONAL MATCH (b:Person {id: $target})
WITH a, b, [] AS found
"""

_TAIL = f"""CALL (found) {{
  UNWIND found AS p
  WITH p, [n IN nodes(p) | n.id] AS ids,
       reduce(s = 1.0, r IN relationships(p) | s * coalesce(r.strength, {MISSING_STRENGTH}))
         AS strength
  ORDER BY length(p), strength DESC, ids
  LIMIT $limit
  RETURN collect({{
    ids: ids, strengths: [r IN relationships(p) | r.strength],
    people: [n IN nodes(p) | {{id: n.id, name: n.name, title: n.title,
                               jobs: {jobs_cypher("n", "w", "co")}}}]}}) AS paths
}}
RETURN a IS NOT NULL AS source_found, b IS NOT NULL AS target_found, paths"""


def cypher(q: WarmPathQuery) -> Cypher:
    """The text is fixed by `max_hops` alone (an int in 1..4, checked in prepare)."""
    assert isinstance(q.max_hops, int) and 1 <= q.max_hops <= MAX_HOPS
    lengths = "".join(_LENGTH.format(pattern=_pattern(hops)) for hops in range(1, q.max_hops + 1))
    return Cypher(_HEAD + lengths + _TAIL, {
        "source": q.source, "target": q.target, "limit": q.limit, "as_of": q.as_of})


def _step(person_id: str, name: str | None, stored_title: str | None, jobs: list[Employment],
          as_of: datetime) -> PathStep:
    job = role(jobs, as_of)
    return PathStep(person_id, name, title_of(job, stored_title),
                    job.company_id if job else None, job.name if job else None)


def _ranked(paths: list[tuple[Sequence[str], Sequence[float | None]]],
            limit: int) -> list[tuple[Sequence[str], Sequence[float | None], float]]:
    """The first `limit` paths (ids, strengths) in the question's order, with their strength."""
    scored = [(ids, ss, strength(ss)) for ids, ss in paths]
    scored.sort(key=lambda t: path_order(t[0], t[2]))
    return scored[:limit]


def from_records(q: WarmPathQuery, records: Sequence[Record]) -> list[WarmPath]:
    (r,) = records
    if not r["source_found"]:
        raise NodeNotFound("Person", q.source)
    if not r["target_found"]:
        raise NodeNotFound("Person", q.target)
    assert q.as_of is not None
    people = {n["id"]: _step(n["id"], n["name"], n["title"],
                             [employment(j) for j in n["jobs"]], q.as_of)
              for p in r["paths"] for n in p["people"]}
    return [WarmPath(tuple(people[i] for i in ids), len(ids) - 1, value)
            for ids, _, value in _ranked([(p["ids"], p["strengths"]) for p in r["paths"]],
                                         q.limit)]


Half = dict[Node, list[tuple[tuple[Node, ...], tuple[float | None, ...]]]]


def _longer(view: GraphView, level: Half) -> Half:
    """The simple paths of `level` (by the node they end on, with the strength of each
    relationship in walking order), each extended by one more KNOWS."""
    nxt: Half = {}
    for end, paths in level.items():
        for other, rel in view.both(end, "KNOWS"):
            for nodes, strengths in paths:
                if other not in nodes:
                    nxt.setdefault(other, []).append(
                        ((*nodes, other), (*strengths, rel.get("strength"))))
    return nxt


def embedded(view: GraphView, q: WarmPathQuery) -> list[WarmPath]:
    """Meet in the middle: simple paths of up to half the length from each end, joined on
    the node where they meet, length by length while fewer than `limit` were found."""
    a, b = ("Person", q.source), ("Person", q.target)
    for end in (a, b):
        if not view.has(end):
            raise NodeNotFound("Person", end[1])
    assert q.as_of is not None
    halves: dict[tuple[Node, int], Half] = {}

    def half(start: Node, hops: int) -> Half:
        if (start, hops) not in halves:
            halves[(start, hops)] = ({start: [((start,), ())]} if hops == 0
                                     else _longer(view, half(start, hops - 1)))
        return halves[(start, hops)]

    # The end with fewer acquaintances walks the longer half.
    a_first = _degree(view, a) <= _degree(view, b)
    found: list[tuple[Sequence[str], Sequence[float | None]]] = []
    for hops in range(1, q.max_hops + 1):
        if len(found) >= q.limit:
            break
        from_a = (hops + 1) // 2 if a_first else hops // 2
        near, far = half(a, from_a), half(b, hops - from_a)
        for middle in near.keys() & far.keys():
            for left, left_s in near[middle]:
                for right, right_s in far[middle]:
                    nodes = left + right[-2::-1]
                    if len(set(nodes)) == len(nodes):
                        found.append(([n[1] for n in nodes], left_s + right_s[::-1]))
    return [WarmPath(tuple(_embedded_step(view, ("Person", i), q.as_of) for i in ids),
                     len(ids) - 1, value)
            for ids, _, value in _ranked(found, q.limit)]


def _degree(view: GraphView, node: Node) -> int:
    return sum(1 for _ in view.both(node, "KNOWS"))


def _embedded_step(view: GraphView, node: Node, as_of: datetime) -> PathStep:
    attrs = view.attrs(node)
    return _step(node[1], attrs.get("name"), attrs.get("title"), view.jobs(node), as_of)


WARM_PATHS: Question[WarmPathQuery, list[WarmPath]] = Question(
    "warm paths", _prepare, cypher, from_records, embedded)

__all__ = ["WARM_PATHS", "PathStep", "WarmPath", "WarmPathQuery"]
