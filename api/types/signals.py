"""The analytics' lists, as GraphQL: today's outreach, competitor drift, topic surge."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.scalars import JSON

from api.cost import EVIDENCE
from api.types.company import Company, Customer, company, customer_of
from api.types.person import Person, person
from api.types.topic import Topic

if TYPE_CHECKING:
    from analytics.drift import Drift
    from analytics.outreach import Reach
    from analytics.surge import Surge


@strawberry.type(description="Someone to write to today, and why (one sentence).")
class OutreachItem:
    person: Person
    customer: Customer | None
    kind: str = strawberry.field(description="struggling, stalled, falling, trigger, new or "
                                             "active: why they are on the list")
    reason: str


def outreach_item(r: Reach, fields: dict[str, dict[str, object]],
                  as_of: datetime | None) -> OutreachItem:
    found = fields.get(r.customer_id) if r.customer_id else None
    return OutreachItem(
        person=person(r.person_id, as_of, name=r.name),
        customer=customer_of(r.customer_id, found, as_of) if r.customer_id and found else None,
        kind=r.kind, reason=r.reason)


@strawberry.type(description="A customer whose people suddenly connect to people at "
                             "competitors, against its own baseline.")
class CompetitorDrift:
    customer: Customer
    new_connections: int
    expected: float
    ratio: float
    competitors: JSON = strawberry.field(description="[{competitor, connections}], most first")
    text: str
    drifting: bool
    people_ids: strawberry.Private[tuple[str, ...]]
    as_of: strawberry.Private[datetime | None]

    @strawberry.field(description="The customer's people who connected; the first "
                                  f"{EVIDENCE.default} unless first says.",
                      metadata=EVIDENCE.metadata())
    def people(self, first: int | None = None) -> list[Person]:
        return [person(p, self.as_of) for p in EVIDENCE.take(self.people_ids, first)]


def drift(d: Drift, fields: dict[str, dict[str, object]],
          as_of: datetime | None) -> CompetitorDrift:
    return CompetitorDrift(
        customer=customer_of(d.customer_id, fields.get(d.customer_id, {}), as_of),
        new_connections=d.new, expected=d.expected, ratio=d.ratio,
        competitors=JSON([{"competitor": name, "connections": n} for name, n in d.competitors]),
        text=d.text, drifting=d.drifting, people_ids=d.people, as_of=as_of)


@strawberry.type(description="Reading about a topic at a company in the last weeks against its "
                             "normal: intent 0–100, where 50 is the company's normal.")
class TopicSurge:
    company: Company
    topic: Topic
    intent: float
    recent_reads: int
    baseline_reads: int
    recent_people: int
    surging: bool
    text: str


def surge(s: Surge, as_of: datetime | None) -> TopicSurge:
    return TopicSurge(company=company(s.company_id, as_of, name=s.company_name),
                      topic=Topic(id=strawberry.ID(s.topic)), intent=s.intent,
                      recent_reads=s.recent_reads, baseline_reads=s.baseline_reads,
                      recent_people=s.recent_people, surging=s.surging, text=s.text)


__all__ = ["CompetitorDrift", "OutreachItem", "TopicSurge", "drift", "outreach_item", "surge"]
