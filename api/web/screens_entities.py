"""A person's and a company's screen: the card and the neighbourhood drawn around it, as JSON.

The neighbourhood is a small graph in Cytoscape's element format (`{"nodes": [{"data": …}],
"edges": [{"data": …}]}`), node ids prefixed by kind (`p:` people, `c:` companies):

- a person: their companies now (`works_at`) and before (`worked_at`), their strongest
  connections (`knows`), who on our team knows them, and the warm introduction paths from our
  team to them (at most `PATHS`, shortest then strongest: graph/questions/warm_paths.py), whose
  edges carry `warm: true`;
- a company: the people there now and before, and who on our team knows each of them (those
  KNOWS are the warm ways in: `warm: true`).

Every name is data: the page sets it as text, never as markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from api.loaders import Loaders
from api.services import Services
from graph.model import ConcernEvidence, Employment, now_utc
from graph.questions.entities import CompanyCard, PersonCard
from graph.questions.warm_paths import WARM_PATHS, WarmPath, WarmPathQuery

NEIGHBOURS = 20  # a person's connections drawn
PEOPLE_NOW = 30  # a company's people drawn (the card lists more)
PEOPLE_BEFORE = 10
PATHS = 5  # warm paths drawn
TEAM_ASKED = 4  # team members whose paths to a person are looked for
LISTED = 100  # people listed on a company's card


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _job(job: Employment) -> dict[str, Any]:
    return {"company": {"id": job.company_id, "name": job.name}, "title": job.title,
            "since": _iso(job.since), "until": _iso(job.until)}


def _concern(c: ConcernEvidence, open_ids: set[str]) -> dict[str, Any]:
    return {"id": c.concern_id, "text": c.text, "channel": c.channel, "at": _iso(c.at),
            "topics": list(c.topics), "open": c.concern_id in open_ids}


class Drawing:
    """The elements of one neighbourhood, each node and edge once."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, dict[str, Any]] = {}

    def person(self, person_id: str, name: str | None, *, kind: str = "person") -> str:
        node = f"p:{person_id}"
        found = self.nodes.get(node)
        if found is None or (kind != "person" and found["kind"] == "person"):
            self.nodes[node] = {"id": node, "key": person_id, "label": name or person_id,
                                "kind": kind, "href": f"/people/{person_id}"}
        return node

    def company(self, company_id: str, name: str | None, *, kind: str = "company") -> str:
        node = f"c:{company_id}"
        if node not in self.nodes or kind == "focus":
            self.nodes[node] = {"id": node, "key": company_id, "label": name or company_id,
                                "kind": kind, "href": f"/companies/{company_id}"}
        return node

    def edge(self, source: str, target: str, kind: str, *, strength: float | None = None,
             warm: bool = False) -> None:
        a, b = (source, target) if kind != "knows" or source < target else (target, source)
        key = f"{kind}:{a}:{b}"
        found = self.edges.get(key)
        if found is not None:
            found["warm"] = found["warm"] or warm
            return
        self.edges[key] = {"id": key, "source": a, "target": b, "kind": kind,
                           "strength": strength, "warm": warm}

    def path(self, path: WarmPath, team: set[str]) -> None:
        previous: str | None = None
        for step in path.people:
            node = self.person(step.person_id, step.name,
                               kind="team" if step.person_id in team else "person")
            if previous is not None:
                self.edge(previous, node, "knows", warm=True)
            previous = node

    def elements(self) -> dict[str, list[dict[str, Any]]]:
        return {"nodes": [{"data": n} for n in self.nodes.values()],
                "edges": [{"data": e} for e in self.edges.values()]}


async def team_of(services: Services) -> set[str]:
    return set(await asyncio.to_thread(services.store.team))


async def person_screen(services: Services, loaders: Loaders, person_id: str
                        ) -> dict[str, Any] | None:
    """A person's card and neighbourhood; None when there is no such person."""
    card: PersonCard | None = await loaders.people.load((person_id, None))
    if card is None:
        return None
    key = card.person_id
    profile, connections, team = await asyncio.gather(
        loaders.profiles.load((key, None)), loaders.connections.load((key, NEIGHBOURS, None)),
        team_of(services))
    paths = await warm_paths(services, key, card, team)

    drawing = Drawing()
    me = drawing.person(key, card.name, kind="focus")
    for job in card.current:
        drawing.edge(me, drawing.company(job.company_id, job.name), "works_at")
    for job in card.past:
        drawing.edge(me, drawing.company(job.company_id, job.name), "worked_at")
    for known in connections or ():
        other = drawing.person(known.person_id, known.name,
                               kind="team" if known.person_id in team else "person")
        drawing.edge(me, other, "knows", strength=known.strength)
    for known in card.known_by:
        drawing.edge(drawing.person(known.person_id, known.name, kind="team"), me, "knows",
                     strength=known.strength, warm=True)
    for path in paths:
        drawing.path(path, team)

    open_ids = {c.concern_id for c in card.open_concerns}
    props = card.properties
    location = props.get("location")
    return {
        "kind": "person",
        "person": {"id": key, "name": card.name, "email": card.email, "title": card.title,
                   "place": location if isinstance(location, str) else None,
                   "properties": props, "linkedin": _http(props.get("linkedin_url")),
                   "team": key in team},
        "jobs_now": [_job(j) for j in card.current],
        "jobs_before": [_job(j) for j in card.past],
        "read": [{"topic": t.topic_id, "name": t.name or t.topic_id, "contents": t.contents,
                  "reads": t.reads, "last_at": _iso(t.last_at)}
                 for t in (profile.topics if profile is not None else ())],
        "concerns": [_concern(c, open_ids)
                     for c in (profile.concerns if profile is not None else card.open_concerns)],
        "known_by": [{"id": k.person_id, "name": k.name, "title": k.title,
                      "strength": k.strength} for k in card.known_by],
        "connections": card.connections,
        "paths": [_path(p) for p in paths],
        "graph": drawing.elements(),
    }


async def warm_paths(services: Services, person_id: str, card: PersonCard,
                     team: set[str]) -> list[WarmPath]:
    """The best introduction paths from our team to the person: from those who know them (one
    hop) and otherwise from the first team members, shortest then strongest; never through a
    second member of our team (that member's own path is shorter)."""
    if person_id in team or not team:
        return []
    starts = [k.person_id for k in card.known_by][:TEAM_ASKED]
    starts += [t for t in sorted(team) if t not in starts][:TEAM_ASKED - len(starts)]
    moment = now_utc()
    found = await asyncio.gather(*(services.store.ask_async(
        WARM_PATHS, WarmPathQuery(start, person_id, 3, PATHS, moment)) for start in starts))
    # a path through another member of our team is that member's own path, longer
    paths = [p for each in found for p in each
             if not any(s.person_id in team for s in p.people[1:-1])]
    paths.sort(key=lambda p: (p.hops, -p.strength, [s.person_id for s in p.people]))
    return paths[:PATHS]


def _path(p: WarmPath) -> dict[str, Any]:
    return {"hops": p.hops, "strength": p.strength, "people": [
        {"id": s.person_id, "name": s.name, "title": s.title,
         "company": {"id": s.company_id, "name": s.company_name} if s.company_id else None}
        for s in p.people]}


def _http(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) \
        else None


async def company_screen(services: Services, loaders: Loaders, company_id: str
                         ) -> dict[str, Any] | None:
    """A company's card and neighbourhood; None when there is no such company."""
    card: CompanyCard | None = await loaders.companies.load((company_id, None))
    if card is None:
        return None
    team = await team_of(services)
    now_ids, before_ids = card.people_now[:LISTED], card.people_before[:LISTED]
    people = await loaders.people.load_many([(p, None) for p in (*now_ids, *before_ids)])
    cards = {c.person_id: c for c in people if c is not None}

    drawing = Drawing()
    me = drawing.company(card.company_id, card.name, kind="focus")
    for ids, kind, limit in ((now_ids, "works_at", PEOPLE_NOW),
                             (before_ids, "worked_at", PEOPLE_BEFORE)):
        for pid in ids[:limit]:
            person = cards.get(pid)
            node = drawing.person(pid, person.name if person else None,
                                  kind="team" if pid in team else "person")
            drawing.edge(node, me, kind)
            for known in person.known_by if person is not None else ():
                drawing.edge(drawing.person(known.person_id, known.name, kind="team"), node,
                             "knows", strength=known.strength, warm=True)

    props = card.properties
    country = props.get("country")
    return {
        "kind": "company",
        "company": {"id": card.company_id, "name": card.name, "domain": card.domain,
                    "flags": list(card.flags), "industry": _text(props.get("industry")),
                    "size": props.get("size") if isinstance(props.get("size"), int) else None,
                    "country": country if isinstance(country, str) else None,
                    "website": _http(props.get("website"))},
        "people_now": _people(now_ids, cards, team),
        "people_before": _people(before_ids, cards, team),
        "people_total": len(card.people_now),
        "triggers": [{"id": t.trigger_id, "type": t.type, "at": _iso(t.at),
                      "headline": t.headline} for t in card.triggers],
        "customers": [{"id": c.customer_id, "plan": c.plan, "mrr": c.mrr,
                       "status": c.status, "churned": c.churned} for c in card.customers],
        "graph": drawing.elements(),
    }


def _people(ids: Sequence[str], cards: dict[str, PersonCard],
            team: set[str]) -> list[dict[str, Any]]:
    shown = []
    for pid in ids:
        card = cards.get(pid)
        name = card.name if card is not None else None
        shown.append({"id": pid, "name": name,
                      "title": card.title if card is not None else None, "team": pid in team,
                      "known_by": [{"id": k.person_id, "name": k.name, "strength": k.strength}
                                   for k in (card.known_by if card is not None else ())]})
    return shown


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def account_health(analysis: Any, customer_ids: Iterable[str]) -> list[dict[str, Any]]:
    """What the analytics say of these accounts (call in the analytics' thread): health with
    its summary, churn probability, anomalies."""
    shown = []
    for cid in customer_ids:
        card = analysis.card(cid)
        if card is None:
            continue
        h = card.health
        shown.append({
            "id": cid, "name": card.name,
            "health": None if h is None else {"score": h.score, "status": h.status,
                                              "summary": h.explain()},
            "churn": None if card.churn is None else {
                "probability": card.churn["probability"],
                "factors": [f.get("text") for f in card.churn.get("factors", [])][:3]},
            "anomalies": [a.text for a in card.anomalies if not a.expected],
        })
    return shown


__all__ = ["Drawing", "account_health", "company_screen", "person_screen", "warm_paths"]
