"""The answers of `connections` (people we know who read about a topic and raised a concern,
with the evidence) and `companiesByConnections` (where such people work now, ranked)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.cost import EVIDENCE, fixed
from api.types.company import Company, company
from api.types.concern import Concern, concern
from api.types.content import Read, read
from api.types.person import Person, person
from graph.model import SAMPLE_PEOPLE, CompanyMatch, ReaderMatch


@strawberry.type(description="A connection who read about the topic and raised a concern: "
                             "who, who on our side knows them, what they read, what they said.")
class ConnectionMatch:
    person: Person
    all_via: strawberry.Private[list[Person]]
    all_reads: strawberry.Private[list[Read]]
    all_concerns: strawberry.Private[list[Concern]]

    @strawberry.field(description="Who on our side knows them, strongest first; the first "
                                  f"{EVIDENCE.default} unless first says.",
                      metadata=EVIDENCE.metadata())
    def via(self, first: int | None = None) -> list[Person]:
        return EVIDENCE.take(self.all_via, first)

    @strawberry.field(description="What they read about the topic in the window; the first "
                                  f"{EVIDENCE.default} unless first says.",
                      metadata=EVIDENCE.metadata())
    def reads(self, first: int | None = None) -> list[Read]:
        return EVIDENCE.take(self.all_reads, first)

    @strawberry.field(description="The concerns they raised about the topic in the window, "
                                  f"newest first; the first {EVIDENCE.default} unless first "
                                  "says.", metadata=EVIDENCE.metadata())
    def concerns(self, first: int | None = None) -> list[Concern]:
        return EVIDENCE.take(self.all_concerns, first)


def connection_match(m: ReaderMatch, as_of: datetime | None) -> ConnectionMatch:
    return ConnectionMatch(
        person=person(m.person_id, as_of, name=m.name, email=m.email, has_email=True,
                      current=m.companies),
        all_via=[person(v, as_of, name=n) for v, n in zip(m.via, m.via_names, strict=True)]
        if m.via_names else [person(v, as_of) for v in m.via],
        all_reads=[read(r) for r in m.reads],
        all_concerns=[concern(c) for c in m.concerns])


@strawberry.type(description="A company where such connections work at asOf: how many, and who "
                             "(the first 20 by id).")
class CompanyConnections:
    company: Company
    count: int
    people: list[Person] = strawberry.field(metadata=fixed(SAMPLE_PEOPLE).metadata())


def company_connections(m: CompanyMatch, as_of: datetime | None) -> CompanyConnections:
    return CompanyConnections(company=company(m.company_id, as_of, name=m.name), count=m.people,
                              people=[person(p, as_of) for p in m.person_ids])
