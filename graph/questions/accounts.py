"""Customer accounts as the analytics read them: every Customer with its account (a company or,
B2C, a person), the people of the account at `as_of`, what they raised and read, who on our team
knows them, and the triggers at the account's company.

The rules, in words (both stores):
- A customer's *account* is what its ACCOUNT_OF points to (the smallest key, should there be
  several): a Company (B2B) or a Person (B2C); a customer without one has no people.
- The *people* of a company account are those whose WORKS_AT it is current at `as_of`
  (graph/model.py `is_current`), with that job's title (else the title stored on the person);
  of a person account, the person.
- `team`: who on our side (people at a company flagged own at `as_of`) KNOWS them, with the
  strength of each KNOWS (graph/questions/contacts.py "our side").
- `concerns`: every Concern they RAISED at or before `as_of` (with its status, when it was
  solved and its topics); `reads`: the topics of each Content they READ with a last read after
  `reads_since` and a first at or before `as_of`.
- `triggers`: the triggers at a company account at or before `as_of`, newest first.
- Customers come by id; people by id; concerns newest first; topics sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from graph import keys as keys_
from graph.model import as_utc, is_current
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import current, strongest
from graph.schema import STORE_SET
from graph.view import GraphView, Node


@dataclass(frozen=True, slots=True)
class AccountsQuery:
    as_of: datetime
    reads_since: datetime
    customers: tuple[str, ...] | None = None  # None: every customer


@dataclass(frozen=True, slots=True)
class AccountConcern:
    concern_id: str
    at: datetime
    status: str | None
    solved_at: datetime | None
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountPerson:
    person_id: str
    name: str | None
    title: str | None
    since: datetime | None  # the current job's start (company accounts)
    known_by: tuple[str, ...]  # who on our team knows them (ids)
    strength: float | None  # the strongest of those KNOWS
    concerns: tuple[AccountConcern, ...]
    reads: tuple[tuple[str, ...], ...]  # per content read in the window: its topics


@dataclass(frozen=True, slots=True)
class AccountTrigger:
    trigger_id: str
    type: str
    at: datetime
    headline: str | None


@dataclass(frozen=True, slots=True)
class Account:
    customer_id: str
    properties: dict[str, Any]  # the Customer's own properties and its sources
    kind: str | None  # "company", "person" or None
    account_id: str | None
    account_name: str | None
    people: tuple[AccountPerson, ...]
    triggers: tuple[AccountTrigger, ...]


def _prepare(q: AccountsQuery) -> AccountsQuery:
    customers = None if q.customers is None else tuple(
        sorted({keys_.plain_key(c) for c in q.customers}))
    return AccountsQuery(as_utc(q.as_of), as_utc(q.reads_since), customers)


_CYPHER = """MATCH (cu:Customer) {where}
OPTIONAL MATCH (cu)-[:ACCOUNT_OF]->(a)
WITH cu, a ORDER BY a.id
WITH cu, head(collect(a)) AS a
OPTIONAL MATCH (p:Person)-[w:WORKS_AT]->(a:Company) WHERE {current}
WITH cu, a, collect(CASE WHEN p IS NULL THEN null
                         ELSE {{p: p, title: w.title, since: w.since}} END) AS staff
WITH cu, a, CASE WHEN a:Person THEN [{{p: a, title: null, since: null}}] ELSE staff END AS staff
UNWIND (CASE WHEN size(staff) = 0 THEN [null] ELSE staff END) AS s
WITH cu, a, s, s.p AS p
WITH cu, a, CASE WHEN p IS NULL THEN null ELSE {{
    id: p.id, name: p.name, title: coalesce(s.title, p.title), since: s.since,
    team: [(p)-[k:KNOWS]-(m:Person)-[tw:WORKS_AT]->(o:Company)
           WHERE o.own = true AND {team_current} | {{m: m.id, s: k.strength}}],
    concerns: [(p)-[:RAISED]->(c:Concern) WHERE c.at <= $as_of |
               {{id: c.id, at: c.at, status: c.status, solved_at: c.solved_at,
                 topics: [(c)-[:ABOUT]->(t:Topic) | t.id]}}],
    reads: [(p)-[r:READ]->(ct:Content) WHERE r.last_at > $reads_since AND r.first_at <= $as_of |
            [(ct)-[:ABOUT]->(t:Topic) | t.id]]}} END AS person
WITH cu, a, collect(person) AS people
RETURN cu {{.*}} AS customer,
       CASE WHEN a:Company THEN 'company' WHEN a:Person THEN 'person' END AS kind,
       a.id AS account_id, a.name AS account_name, people,
       CASE WHEN a:Company THEN [(a)-[:HAD_TRIGGER]->(t:Trigger) WHERE t.at <= $as_of |
            {{id: t.id, type: t.type, at: t.at, headline: t.headline}}] ELSE [] END AS triggers"""


def _cypher(q: AccountsQuery) -> Cypher:
    where = "" if q.customers is None else "WHERE cu.id IN $customers"
    text = _CYPHER.format(where=where, current=current("w"), team_current=current("tw"))
    params: dict[str, Any] = {"as_of": q.as_of, "reads_since": q.reads_since}
    if q.customers is not None:
        params["customers"] = list(q.customers)
    return Cypher(text, params)


def _customer_props(attrs: dict[str, Any]) -> dict[str, Any]:
    """Its own properties, and `sources` (which channels and files it came from)."""
    return {k: list(v) if isinstance(v, tuple | list) else v for k, v in sorted(attrs.items())
            if k != "id" and (k not in STORE_SET or k == "sources")}


def _person(pid: str, name: str | None, title: str | None, since: datetime | None,
            team: Iterable[tuple[str, float | None]], concerns: Iterable[AccountConcern],
            reads: Iterable[Iterable[str]]) -> AccountPerson:
    team = list(team)
    return AccountPerson(
        pid, name, title, since, tuple(sorted({m for m, _ in team})),
        strongest(s for _, s in team),
        tuple(sorted(concerns, key=lambda c: (-c.at.timestamp(), c.concern_id))),
        tuple(sorted(tuple(sorted(set(r))) for r in reads)))


def _trigger_order(t: AccountTrigger) -> tuple[float, str]:
    return (-t.at.timestamp(), t.trigger_id)


def _from_records(q: AccountsQuery, records: Sequence[Record]) -> tuple[Account, ...]:
    found = []
    for r in records:
        people = [_person(
            p["id"], p["name"], p["title"], p["since"], ((t["m"], t["s"]) for t in p["team"]),
            (AccountConcern(c["id"], c["at"], c["status"], c["solved_at"],
                            tuple(sorted(set(c["topics"])))) for c in p["concerns"]),
            p["reads"]) for p in r["people"] if p is not None]
        triggers = [AccountTrigger(t["id"], t["type"], t["at"], t["headline"])
                    for t in r["triggers"]]
        customer = dict(r["customer"])
        found.append(Account(
            customer["id"], _customer_props(customer), r["kind"], r["account_id"],
            r["account_name"], tuple(sorted(people, key=lambda p: p.person_id)),
            tuple(sorted(triggers, key=_trigger_order))))
    return tuple(sorted(found, key=lambda a: a.customer_id))


def _embedded(view: GraphView, q: AccountsQuery) -> tuple[Account, ...]:
    team = view.team(q.as_of)
    content_topics: dict[Node, tuple[str, ...]] = {}  # a few pieces read by very many people

    def topics_of(content: Node) -> tuple[str, ...]:
        found = content_topics.get(content)
        if found is None:
            found = content_topics[content] = view.topics(content)
        return found

    wanted = sorted(view.keys("Customer")) if q.customers is None else \
        [c for c in q.customers if view.has(("Customer", c))]
    found = []
    for key in wanted:
        node: Node = ("Customer", key)
        accounts = sorted(view.out(node, "ACCOUNT_OF"), key=lambda a: a[0][1])
        account = accounts[0][0] if accounts else None
        staff: list[tuple[Node, str | None, datetime | None]] = []
        if account is not None and account[0] == "Company":
            staff = [(p, w.get("title"), w.get("since"))
                     for p, w in view.into(account, "WORKS_AT")
                     if is_current(w.get("since"), w.get("until"), q.as_of)]
        elif account is not None:
            staff = [(account, None, None)]
        people = []
        for person, job_title, since in staff:
            attrs = view.attrs(person)
            out = view.out_by_type(person, ("KNOWS", "RAISED", "READ"))
            known = [(m[1], k.get("strength"))
                     for m, k in chain(out["KNOWS"], view.into(person, "KNOWS")) if m in team]
            concerns = [
                AccountConcern(c[1], a["at"], a.get("status"), a.get("solved_at"),
                               tuple(sorted(set(view.topics(c)))))
                for c, _ in out["RAISED"] for a in (view.attrs(c),)
                if a["at"] <= q.as_of]
            reads = [topics_of(ct) for ct, r in out["READ"]
                     if r["last_at"] > q.reads_since and r["first_at"] <= q.as_of]
            people.append(_person(person[1], attrs.get("name"),
                                  job_title if job_title is not None else attrs.get("title"),
                                  since, known, concerns, reads))
        triggers = []
        if account is not None and account[0] == "Company":
            triggers = [AccountTrigger(t[1], a["type"], a["at"], a.get("headline"))
                        for t, _ in view.out(account, "HAD_TRIGGER") for a in (view.attrs(t),)
                        if a["at"] <= q.as_of]
        found.append(Account(
            key, _customer_props(view.attrs(node)),
            None if account is None else account[0].lower(),
            None if account is None else account[1],
            None if account is None else view.attrs(account).get("name"),
            tuple(sorted(people, key=lambda p: p.person_id)),
            tuple(sorted(triggers, key=_trigger_order))))
    return tuple(found)


ACCOUNTS: Question[AccountsQuery, tuple[Account, ...]] = Question(
    "accounts", _prepare, _cypher, _from_records, _embedded)

__all__ = ["ACCOUNTS", "Account", "AccountConcern", "AccountPerson", "AccountTrigger",
           "AccountsQuery"]
