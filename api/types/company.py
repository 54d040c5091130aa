"""Company: an organisation, with its flags, people now and before, customer accounts and
buying triggers. Fields are read through the request's DataLoaders, batched by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.cost import LIST
from api.types import insights
from api.types.enums import CompanyFlag, TriggerType
from api.types.later import later
from api.types.person import Person, person
from graph.questions.entities import CompanyCard
from graph.schema import TRIGGER_TYPES


@dataclass(frozen=True, slots=True)
class CompanySeed:
    name: str | None = None


@strawberry.type(description="A paying account (of a company, or B2C of a person), with what "
                             "the customer-success analytics say of it at asOf.")
class Customer:
    id: strawberry.ID
    plan: str | None
    mrr: float | None
    status: str | None
    churned: bool | None
    as_of: strawberry.Private[datetime | None] = None

    async def _card(self, info: Info) -> Any:
        return await insights.card_of(info, str(self.id), self.as_of)

    @strawberry.field
    async def name(self, info: Info) -> str | None:
        card = await self._card(info)
        return card.name if card else None

    @strawberry.field(description="Health 0–100 with its components.")
    async def health(self, info: Info) -> insights.CustomerHealth | None:
        return insights.health(await self._card(info))

    @strawberry.field(description="The churn model's probability and its top factors (null "
                                  "when no model could be fitted: too few customers or one "
                                  "class only).")
    async def churn_risk(self, info: Info) -> insights.ChurnRisk | None:
        return insights.churn_risk(await self._card(info))

    @strawberry.field(description="[{kind, text, numbers, expected}]: export bursts, pricing "
                                  "visits, confused clicking, going quiet (expected: a "
                                  "seasonal quiet period).")
    async def anomalies(self, info: Info) -> JSON:
        return insights.anomalies(await self._card(info))

    @strawberry.field(description="{signed_up, signup_from, setup_completed, days_to_setup, "
                                  "logins_per_week, key_features, stalled, text}")
    async def onboarding(self, info: Info) -> JSON | None:
        return insights.onboarding(await self._card(info))

    @strawberry.field(description="The relationship level and the rule that decided it.")
    async def relationship_level(self, info: Info) -> insights.RelationshipLevel | None:
        return insights.level(await self._card(info))

    @strawberry.field(description="[{at, kind, who, text}]: meaningful interactions, concerns "
                                  "and triggers, newest first (the last 50).")
    async def timeline(self, info: Info) -> JSON:
        return insights.timeline(await self._card(info))


def customer_of(customer_id: str, fields: dict[str, Any],
                as_of: datetime | None = None) -> Customer:
    mrr = fields.get("mrr")
    churned = fields.get("churned")
    return Customer(id=strawberry.ID(customer_id), plan=fields.get("plan"),
                    mrr=float(mrr) if isinstance(mrr, int | float) else None,
                    status=fields.get("status"),
                    churned=churned if isinstance(churned, bool) else None, as_of=as_of)


@strawberry.type(description="A buying trigger the company had.")
class CompanyTrigger:
    id: strawberry.ID
    type: TriggerType | None
    at: datetime
    headline: str | None


@strawberry.type
class Company:
    id: strawberry.ID
    as_of: strawberry.Private[datetime | None] = None
    seed: strawberry.Private[CompanySeed | None] = None

    async def _card(self, info: Info) -> CompanyCard | None:
        return await info.context.loaders.companies.load((str(self.id), self.as_of))

    async def _name(self, info: Info) -> str | None:
        card = await self._card(info)
        return card.name if card else None

    @strawberry.field
    def name(self, info: Info) -> str | None:
        if self.seed is not None and self.seed.name is not None:
            return self.seed.name
        return later(self._name(info))  # the answer did not say: look it up (api/types/later.py)

    @strawberry.field
    async def domain(self, info: Info) -> str | None:
        card = await self._card(info)
        return card.domain if card else None

    @strawberry.field(description="What it is to us: customer, prospect, competitor, vendor, own.")
    async def flags(self, info: Info) -> list[CompanyFlag]:
        card = await self._card(info)
        return [CompanyFlag(f) for f in card.flags] if card else []

    @strawberry.field(description="Everything else the graph holds about it.")
    async def properties(self, info: Info) -> JSON:
        card = await self._card(info)
        return JSON(card.properties if card else {})

    @strawberry.field(description="The people working there at asOf (default now), by id: "
                                  f"the first {LIST.default} unless first says (at most "
                                  f"{LIST.maximum}), from offset.",
                      metadata=LIST.metadata())
    async def people(self, info: Info, first: int | None = None,
                     offset: int = 0) -> list[Person]:
        card = await self._card(info)
        return [person(p, self.as_of)
                for p in LIST.take(card.people_now if card else (), first, offset)]

    @strawberry.field(description="The people who worked there before asOf and are not back, "
                                  f"by id: the first {LIST.default} unless first says, from "
                                  "offset.", metadata=LIST.metadata())
    async def past_people(self, info: Info, first: int | None = None,
                          offset: int = 0) -> list[Person]:
        card = await self._card(info)
        return [person(p, self.as_of)
                for p in LIST.take(card.people_before if card else (), first, offset)]

    @strawberry.field(description=f"Its paying accounts (the first {LIST.default} unless first "
                                  "says).", metadata=LIST.metadata())
    async def customers(self, info: Info, first: int | None = None) -> list[Customer]:
        card = await self._card(info)
        return [Customer(id=strawberry.ID(c.customer_id), plan=c.plan, mrr=c.mrr,
                         status=c.status, churned=c.churned, as_of=self.as_of)
                for c in LIST.take(card.customers if card else (), first)]

    @strawberry.field(description="Its buying triggers up to asOf, newest first (the first "
                                  f"{LIST.default} unless first says).",
                      metadata=LIST.metadata())
    async def triggers(self, info: Info, since: datetime | None = None,
                       first: int | None = None) -> list[CompanyTrigger]:
        card = await self._card(info)
        found = [t for t in card.triggers if since is None or t.at >= since] if card else []
        return [CompanyTrigger(id=strawberry.ID(t.trigger_id),
                               type=TriggerType(t.type) if t.type in TRIGGER_TYPES else None,
                               at=t.at, headline=t.headline)
                for t in LIST.take(found, first)]


def company(company_id: str, as_of: datetime | None = None, *,
            name: str | None = None) -> Company:
    return Company(id=strawberry.ID(company_id), as_of=as_of,
                   seed=CompanySeed(name=name) if name is not None else None)


__all__ = ["Company", "CompanySeed", "CompanyTrigger", "Customer", "company", "customer_of"]
