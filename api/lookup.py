"""What a sales tool wants on one screen (GET /v1/lookup): a person or a company, who on our
team knows them (or people there) and how well, open concerns, recent triggers at the company.
Three batch look-ups at most (people, companies), through the same DataLoaders as GraphQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.errors import NotFound
from api.loaders import Loaders
from graph.model import ConcernEvidence, as_utc
from graph.questions.contacts import KnownContact, role
from graph.questions.entities import CompanyCard, PersonCard, TriggerInfo


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _contact(c: KnownContact) -> dict[str, Any]:
    return {"id": c.person_id, "name": c.name, "title": c.title, "strength": c.strength}


def _concern(c: ConcernEvidence, person: str | None = None) -> dict[str, Any]:
    found = {"id": c.concern_id, "text": c.text, "channel": c.channel, "at": _iso(c.at),
             "topics": list(c.topics)}
    return {"person": person, **found} if person is not None else found


def _trigger(t: TriggerInfo) -> dict[str, Any]:
    return {"id": t.trigger_id, "type": t.type, "at": _iso(t.at), "headline": t.headline}


def _company(card: CompanyCard) -> dict[str, Any]:
    return {"id": card.company_id, "name": card.name, "domain": card.domain,
            "flags": list(card.flags)}


def _recent(card: CompanyCard | None, since: datetime) -> list[dict[str, Any]]:
    return [_trigger(t) for t in card.triggers if t.at >= since] if card else []


async def person_lookup(loaders: Loaders, key: str, *, as_of: datetime | None,
                        triggers_within: timedelta) -> dict[str, Any]:
    moment = as_utc(as_of)
    card: PersonCard | None = await loaders.people.load((key, moment))
    if card is None:
        raise NotFound(f"no Person with key {key!r}")
    job = role(card.current, moment)
    company = await loaders.companies.load((job.company_id, moment)) if job else None
    return {
        "person": {"id": card.person_id, "name": card.name, "email": card.email,
                   "title": card.title},
        "company": _company(company) if company else None,
        "knownBy": [_contact(c) for c in card.known_by],
        "openConcerns": [_concern(c) for c in card.open_concerns],
        "recentTriggers": _recent(company, moment - triggers_within),
    }


async def company_lookup(loaders: Loaders, key: str, *, as_of: datetime | None,
                         triggers_within: timedelta) -> dict[str, Any]:
    moment = as_utc(as_of)
    card: CompanyCard | None = await loaders.companies.load((key, moment))
    if card is None:
        raise NotFound(f"no Company with key {key!r}")
    people = await loaders.people.load_many([(p, moment) for p in card.people_now])
    known = [p for p in people if p is not None and p.known_by]
    return {
        "company": _company(card),
        "known": [{"id": p.person_id, "name": p.name, "title": p.title,
                   "knownBy": [_contact(c) for c in p.known_by]}
                  for p in sorted(known, key=lambda p: (-max(c.strength or 0.0
                                                             for c in p.known_by),
                                                        p.person_id))],
        "openConcerns": sorted(
            (_concern(c, p.person_id) for p in people if p is not None
             for c in p.open_concerns), key=lambda c: (c["at"], c["id"]), reverse=True),
        "recentTriggers": _recent(card, moment - triggers_within),
    }


__all__ = ["company_lookup", "person_lookup"]
