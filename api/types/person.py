"""Person: a contact, a product user or one of our team — with their employers now and before,
connections, who on our team knows them, what they read and the concerns they raised.

A Person is created with its id (and what the answer that named it already said: a `seed`); every
other field is read through the request's DataLoaders (api/loaders.py), batched by key, so a list
of 50 people with their companies costs one look-up of people, not 50. `as_of` is the moment the
answer was asked about (None: now).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.cost import EVIDENCE, JOBS, LIST, Cap
from api.errors import BadUserInput
from api.types.concern import Concern, concern
from api.types.later import later
from api.types.pagination import MAX_PAGE, Connection, connection, window
from api.types.topic import Topic
from graph.model import Employment
from graph.questions.contacts import KnownContact as KnownContactData
from graph.questions.entities import PersonCard

if TYPE_CHECKING:
    from api.types.company import Company

CompanyRef = Annotated["Company", strawberry.lazy("api.types.company")]
CONNECTIONS = Cap(default=50, maximum=MAX_PAGE)


@dataclass(frozen=True, slots=True)
class PersonSeed:
    """What an answer already says of a person (authoritative for the fields it holds)."""

    name: str | None = None
    title: str | None = None
    has_title: bool = False
    email: str | None = None
    has_email: bool = False
    current: tuple[Employment, ...] | None = None


def company_of(company_id: str, name: str | None, as_of: datetime | None) -> Company:
    from api.types.company import Company, CompanySeed

    return Company(id=strawberry.ID(company_id), as_of=as_of, seed=CompanySeed(name=name))


@strawberry.type(description="A job: where, as what, from when until when (open: current).")
class Job:
    title: str | None
    since: datetime | None
    until: datetime | None
    job: strawberry.Private[Employment]
    as_of: strawberry.Private[datetime | None]

    @strawberry.field
    def company(self) -> CompanyRef:
        return company_of(self.job.company_id, self.job.name, self.as_of)


def jobs(found: Sequence[Employment], as_of: datetime | None) -> list[Job]:
    return [Job(title=j.title, since=j.since, until=j.until, job=j, as_of=as_of) for j in found]


@strawberry.type(description="Topics a person read about: how many items, how many reads, "
                             "when last.")
class TopicRead:
    topic: Topic
    contents: int
    reads: int
    last_at: datetime


@strawberry.type
class Person:
    id: strawberry.ID
    as_of: strawberry.Private[datetime | None] = None
    seed: strawberry.Private[PersonSeed | None] = None

    async def _card(self, info: Info) -> PersonCard | None:
        return await info.context.loaders.people.load((str(self.id), self.as_of))

    async def _brief(self, info: Info) -> PersonCard | None:
        """Enough for name, email, title, properties and jobs (api/loaders.py)."""
        return await info.context.loaders.person_brief((str(self.id), self.as_of))

    async def _brief_field(self, info: Info, field: Callable[[PersonCard], Any],
                           missing: Any = None) -> Any:
        card = await self._brief(info)
        return field(card) if card else missing

    # What the answer already holds is returned now, else the look-up (api/types/later.py).
    @strawberry.field
    def name(self, info: Info) -> str | None:
        if self.seed is not None:
            return self.seed.name
        return later(self._brief_field(info, lambda c: c.name))

    @strawberry.field
    def email(self, info: Info) -> str | None:
        if self.seed is not None and self.seed.has_email:
            return self.seed.email
        return later(self._brief_field(info, lambda c: c.email))

    @strawberry.field(description="Their current job's title, else the title stored on them.")
    def title(self, info: Info) -> str | None:
        if self.seed is not None and self.seed.has_title:
            return self.seed.title
        return later(self._brief_field(info, lambda c: c.title))

    @strawberry.field(description="Everything else the graph holds about them.")
    async def properties(self, info: Info) -> JSON:
        card = await self._brief(info)
        return JSON(card.properties if card else {})

    async def _current(self, info: Info) -> tuple[Employment, ...]:
        if self.seed is not None and self.seed.current is not None:
            return self.seed.current
        card = await self._brief(info)
        return card.current if card else ()

    async def _past(self, info: Info) -> tuple[Employment, ...]:
        card = await self._brief(info)
        return card.past if card else ()

    @strawberry.field(description=f"Jobs current at asOf (default now); the first "
                                  f"{JOBS.default} unless first says.", metadata=JOBS.metadata())
    async def current_jobs(self, info: Info, first: int | None = None) -> list[Job]:
        return jobs(JOBS.take(await self._current(info), first), self.as_of)

    @strawberry.field(description="Jobs that ended at or before asOf, latest first; the first "
                                  f"{JOBS.default} unless first says.", metadata=JOBS.metadata())
    async def past_jobs(self, info: Info, first: int | None = None) -> list[Job]:
        return jobs(JOBS.take(await self._past(info), first), self.as_of)

    def _companies(self, found: tuple[Employment, ...], first: int | None) -> list[Company]:
        return [company_of(j.company_id, j.name, self.as_of) for j in JOBS.take(found, first)]

    @strawberry.field(description="Where they work at asOf; the first "
                                  f"{JOBS.default} unless first says.", metadata=JOBS.metadata())
    def current_companies(self, info: Info, first: int | None = None) -> list[CompanyRef]:
        if self.seed is not None and self.seed.current is not None:
            return self._companies(self.seed.current, first)
        JOBS.size(first)  # a bad first is refused now, not after the look-up
        return later(self._brief_field(info, lambda c: self._companies(c.current, first), []))

    @strawberry.field(description="Where they worked before asOf; the first "
                                  f"{JOBS.default} unless first says.", metadata=JOBS.metadata())
    async def past_companies(self, info: Info, first: int | None = None) -> list[CompanyRef]:
        return self._companies(await self._past(info), first)

    @strawberry.field(description="People they know (KNOWS), strongest first.",
                      metadata=CONNECTIONS.metadata())
    async def connections(self, info: Info, first: int | None = None,
                          after: str | None = None) -> Connection[KnownContact]:
        page = window(first, after, default=CONNECTIONS.default)
        if page.end > MAX_PAGE:
            raise BadUserInput(f"connections: after and first reach past the first {MAX_PAGE}")
        card = await self._card(info)
        found = await info.context.loaders.connections.load(
            (str(self.id), page.end, self.as_of)) or ()
        return connection([known(c, self.as_of) for c in found[page.offset:page.end]],
                          card.connections if card else 0, page)

    @strawberry.field(description="Who on our team knows them, strongest first; the first "
                                  f"{EVIDENCE.default} unless first says.",
                      metadata=EVIDENCE.metadata())
    async def known_by(self, info: Info, first: int | None = None) -> list[KnownContact]:
        card = await self._card(info)
        return [known(c, self.as_of) for c in EVIDENCE.take(card.known_by if card else (), first)]

    @strawberry.field(description="Concerns they raised in the 90 days up to asOf and still open "
                                  "then (not solved or closed by asOf), newest first; the first "
                                  f"{LIST.default} unless first says.", metadata=LIST.metadata())
    async def open_concerns(self, info: Info, first: int | None = None) -> list[Concern]:
        card = await self._card(info)
        return [concern(c) for c in LIST.take(card.open_concerns if card else (), first)]

    @strawberry.field(description="Every concern they raised up to asOf, newest first "
                                  "(one look-up per person: ask it of one person at a time); "
                                  f"the first {LIST.default} unless first says, from offset.",
                      metadata=LIST.metadata())
    async def concerns(self, info: Info, first: int | None = None,
                       offset: int = 0) -> list[Concern]:
        LIST.size(first)
        profile = await info.context.loaders.profiles.load((str(self.id), self.as_of))
        return [concern(c) for c in LIST.take(profile.concerns if profile else (), first, offset)]

    @strawberry.field(description="What they read, by topic, most read first (one look-up per "
                                  "person: ask it of one person at a time); the first "
                                  f"{LIST.default} unless first says.", metadata=LIST.metadata())
    async def topics_read(self, info: Info, first: int | None = None) -> list[TopicRead]:
        LIST.size(first)
        profile = await info.context.loaders.profiles.load((str(self.id), self.as_of))
        return [TopicRead(topic=Topic(id=strawberry.ID(t.topic_id)), contents=t.contents,
                          reads=t.reads, last_at=t.last_at)
                for t in LIST.take(profile.topics if profile else (), first)]


@strawberry.type(description="Someone we know: who they are, who on our side knows them, "
                             "and how well (the strongest KNOWS, 0..1).")
class KnownContact:
    person: Person
    strength: float | None
    all_via: strawberry.Private[list[Person]]

    @strawberry.field(description="Who on our side knows them; the first "
                                  f"{EVIDENCE.default} unless first says.",
                      metadata=EVIDENCE.metadata())
    def via(self, first: int | None = None) -> list[Person]:
        return EVIDENCE.take(self.all_via, first)


def person(person_id: str, as_of: datetime | None = None, **seed: Any) -> Person:
    return Person(id=strawberry.ID(person_id), as_of=as_of,
                  seed=PersonSeed(**seed) if seed else None)


def known(c: KnownContactData, as_of: datetime | None) -> KnownContact:
    return KnownContact(
        person=person(c.person_id, as_of, name=c.name, title=c.title, has_title=True),
        all_via=[person(v, as_of) for v in c.via], strength=c.strength)


__all__ = ["Job", "KnownContact", "Person", "PersonSeed", "TopicRead", "company_of", "jobs",
           "known", "person"]
