"""New connections between a customer's people and people at competitors: the evidence of
competitor drift (analytics/drift.py compares each customer with its own baseline).

The rules, in words (both stores):
- A *competitor* is a company flagged competitor; its people are those whose WORKS_AT it is
  current at `as_of`.
- A customer's people are those currently working at its account's company (B2B), or the
  person its account is (B2C).
- A *connection* is a KNOWS between one of a customer's people and one of a competitor's,
  with a `since` after `since` and at or before `as_of` (a KNOWS without a date is not new).
- One row per customer, person, competitor person and competitor; by customer, since, ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph.model import as_utc, is_current
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import current
from graph.view import GraphView, Node


@dataclass(frozen=True, slots=True)
class DriftQuery:
    since: datetime
    as_of: datetime


@dataclass(frozen=True, slots=True)
class DriftEdge:
    customer_id: str
    person_id: str  # the customer's
    other_id: str  # the competitor's
    competitor_id: str
    competitor_name: str | None
    since: datetime


def _prepare(q: DriftQuery) -> DriftQuery:
    return DriftQuery(as_utc(q.since), as_utc(q.as_of))


_CYPHER = """MATCH (co:Company {{competitor: true}})<-[w:WORKS_AT]-(x:Person)
WHERE {current_w}
MATCH (x)-[k:KNOWS]-(p:Person)
WHERE p <> x AND k.since IS NOT NULL AND k.since > $since AND k.since <= $as_of
CALL {{
  WITH p
  MATCH (p)-[pw:WORKS_AT]->(:Company)<-[:ACCOUNT_OF]-(cu:Customer) WHERE {current_pw}
  RETURN cu
  UNION
  WITH p
  MATCH (p)<-[:ACCOUNT_OF]-(cu:Customer)
  RETURN cu
}}
RETURN DISTINCT cu.id AS customer, p.id AS person, x.id AS other, co.id AS competitor,
       co.name AS name, k.since AS since"""


def _cypher(q: DriftQuery) -> Cypher:
    return Cypher(_CYPHER.format(current_w=current("w"), current_pw=current("pw")),
                  {"since": q.since, "as_of": q.as_of})


def _order(e: DriftEdge) -> tuple[str, datetime, str, str, str]:
    return (e.customer_id, e.since, e.person_id, e.other_id, e.competitor_id)


def _from_records(q: DriftQuery, records: Sequence[Record]) -> tuple[DriftEdge, ...]:
    return tuple(sorted({DriftEdge(r["customer"], r["person"], r["other"], r["competitor"],
                                   r["name"], r["since"]) for r in records}, key=_order))


def _embedded(view: GraphView, q: DriftQuery) -> tuple[DriftEdge, ...]:
    found: set[DriftEdge] = set()
    for key in view.flagged("competitor"):
        company: Node = ("Company", key)
        name = view.attrs(company).get("name")
        for x, w in view.into(company, "WORKS_AT"):
            if not is_current(w.get("since"), w.get("until"), q.as_of):
                continue
            for p, k in view.both(x, "KNOWS"):
                since = k.get("since")
                if p == x or since is None or not q.since < since <= q.as_of:
                    continue
                customers = {cu for cu, _ in view.into(p, "ACCOUNT_OF")}
                for employer, pw in view.out(p, "WORKS_AT"):
                    if is_current(pw.get("since"), pw.get("until"), q.as_of):
                        customers.update(cu for cu, _ in view.into(employer, "ACCOUNT_OF"))
                for cu in customers:
                    found.add(DriftEdge(cu[1], p[1], x[1], key, name, since))
    return tuple(sorted(found, key=_order))


DRIFT: Question[DriftQuery, tuple[DriftEdge, ...]] = Question(
    "competitor_drift", _prepare, _cypher, _from_records, _embedded)

__all__ = ["DRIFT", "DriftEdge", "DriftQuery"]
