"""Company: an organisation, with its flags, people now and before, customer accounts and
buying triggers. Fields are read through the request's DataLoaders, batched by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.cost import LIST
from api.types.enums import CompanyFlag, TriggerType
from api.types.later import later
from api.types.person import Person, person
from graph.questions.entities import CompanyCard
from graph.schema import TRIGGER_TYPES


@dataclass(frozen=True, slots=True)
class CompanySeed:
    name: str | None = None


@strawberry.type(description="A paying account of a company.")
class Customer:
    id: strawberry.ID
    plan: str | None
    mrr: float | None
    status: str | None
    churned: bool | None


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
                         status=c.status, churned=c.churned)
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


__all__ = ["Company", "CompanySeed", "CompanyTrigger", "Customer", "company"]
