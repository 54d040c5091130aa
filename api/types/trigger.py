"""Buying triggers at companies, with who we know there and how well."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.cost import EVIDENCE, TOPICS
from api.types.company import Company, company
from api.types.enums import TriggerType
from api.types.person import KnownContact, known
from api.types.topic import Topic, topics
from graph.questions.triggers import TriggerMatch


@strawberry.type(description="A buying trigger (a funding round, a new leader …) at a company, "
                             "with the people there we know, strongest first.")
class Trigger:
    id: strawberry.ID
    type: TriggerType
    at: datetime
    headline: str | None
    details: str | None
    source_url: str | None
    amount: float | None
    currency: str | None
    round: str | None
    company: Company
    topics: list[Topic] = strawberry.field(metadata=TOPICS.metadata())
    all_known: strawberry.Private[list[KnownContact]]

    @strawberry.field(description="The people there we know, strongest first; the first "
                                  f"{EVIDENCE.default} unless first says.",
                      metadata=EVIDENCE.metadata())
    def known(self, first: int | None = None) -> list[KnownContact]:
        return EVIDENCE.take(self.all_known, first)


def trigger(t: TriggerMatch, as_of: datetime | None) -> Trigger:
    return Trigger(
        id=strawberry.ID(t.trigger_id), type=TriggerType(t.type), at=t.at, headline=t.headline,
        details=t.details, source_url=t.source_url, amount=t.amount, currency=t.currency,
        round=t.round, company=company(t.company_id, as_of, name=t.company_name),
        topics=topics(t.topics)[:TOPICS.maximum], all_known=[known(c, as_of) for c in t.known])
