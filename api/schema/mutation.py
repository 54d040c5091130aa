"""Mutations: each checks its input (api/validate.py), turns it into reader records and writes
them through the load pipeline (api/writes.py), as a load of a file would. They need a key of
scope write (checked for the whole operation before it runs: api/schema/__init__.py)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.cost import TOPICS, fixed
from api.types.company import Company, company
from api.types.concern import Concern
from api.types.content import Content, content
from api.types.enums import ContentKind
from api.types.inputs import (
    CompanyInput,
    ConcernInput,
    ConnectInput,
    EventInput,
    PersonInput,
    ReadInput,
    TagContentInput,
)
from api.types.person import Person, person
from api.types.topic import Topic
from api.writes import (
    MAX_EVENTS,
    company_records,
    concern_records,
    connect_records,
    event_records,
    person_records,
    read_records,
    refuse_rejects,
    rejects,
    tag_records,
)


@strawberry.type(description="Two people who know each other, as written.")
class Knows:
    a: Person
    b: Person
    strength: float | None
    source: str


@strawberry.type(description="An event refused: its position in the batch and why.")
class EventRejection:
    index: int
    reason: str


@strawberry.type
class RecordEventsPayload:
    accepted: int = strawberry.field(description="Events written to the event log (meaningful "
                                                 "ones to the graph and the feed too).")
    rejected: list[EventRejection] = strawberry.field(metadata=fixed(MAX_EVENTS).metadata())


@strawberry.type
class ReadPayload:
    person: Person
    content: Content


@strawberry.type(description="A topic found for a text: how strongly, and which phrase said so.")
class TopicTag:
    topic: Topic
    weight: float
    matched: str


@strawberry.type
class TaggedContent:
    content: Content
    topics: list[TopicTag] = strawberry.field(metadata=TOPICS.metadata())


def _provenance(info: Info) -> str:
    principal = info.context.principal
    return f"api:{principal.key_id}" if principal is not None else "api"


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create or update a person (and where they work now).")
    async def upsert_person(self, info: Info, input: PersonInput) -> Person:
        key, records = person_records(input)
        summary = await info.context.services.writer.write(records,
                                                           provenance=_provenance(info))
        refuse_rejects(summary, "upsertPerson")
        return person(key)

    @strawberry.mutation(description="Create or update a company (flags, industry, size …).")
    async def upsert_company(self, info: Info, input: CompanyInput) -> Company:
        key, records = company_records(input)
        summary = await info.context.services.writer.write(records,
                                                           provenance=_provenance(info))
        refuse_rejects(summary, "upsertCompany")
        return company(key)

    @strawberry.mutation(description="Record that two people know each other (KNOWS).")
    async def connect(self, info: Info, input: ConnectInput) -> Knows:
        a, b, records = connect_records(input)
        summary = await info.context.services.writer.write(records,
                                                           provenance=_provenance(info))
        refuse_rejects(summary, "connect")
        return Knows(a=person(a), b=person(b), strength=input.strength, source=input.source)

    @strawberry.mutation(description="A batch of product events (up to 10,000): each goes to the "
                                     "event log; meaningful ones to the graph and the live feed. "
                                     "Refused events are listed; the others are written.")
    async def record_events(self, info: Info, events: list[EventInput]) -> RecordEventsPayload:
        batch = event_records(events)
        refused = list(batch.refused)
        if batch.records:
            summary = await info.context.services.writer.write(batch.records,
                                                               provenance=_provenance(info))
            refused += [(line - 1, reason) for line, reason in rejects(summary)]
        return RecordEventsPayload(
            accepted=len(events) - len({i for i, _ in refused}),
            rejected=[EventRejection(index=i, reason=r) for i, r in sorted(refused)])

    @strawberry.mutation(description="A concern someone raised (a ticket, a call note …), "
                                     "tagged with topics like every loaded concern.")
    async def record_concern(self, info: Info, input: ConcernInput) -> Concern:
        concern_id, _, records = concern_records(input)
        summary = await info.context.services.writer.write(records,
                                                           provenance=_provenance(info))
        refuse_rejects(summary, "recordConcern")
        text = " ".join(t for t in (input.subject, input.text) if t)
        found = info.context.services.writer.topics_of(text, input.topics or ())
        return Concern(id=strawberry.ID(concern_id), text=input.text.strip(),
                       channel=input.channel.value if input.channel else None, at=input.at,
                       topics=[Topic(id=strawberry.ID(m.topic_id)) for m in found])

    @strawberry.mutation(description="Someone read something (a page view, a newsletter click): "
                                     "kept in the event log, from which the READ (first, last, "
                                     "count) is computed.")
    async def record_read(self, info: Info, input: ReadInput) -> ReadPayload:
        key, url, records = read_records(input)
        summary = await info.context.services.writer.write(records,
                                                           provenance=_provenance(info))
        refuse_rejects(summary, "recordRead")
        return ReadPayload(person=person(key), content=content(
            url, input.title, input.kind.value if input.kind else None))

    @strawberry.mutation(description="Describe a content item and tag it with topics (explicit "
                                     "ones, and those the taxonomy finds in its text).")
    async def tag_content(self, info: Info, input: TagContentInput) -> TaggedContent:
        url, text, topics, records = tag_records(input)
        summary = await info.context.services.writer.write(records,
                                                           provenance=_provenance(info))
        refuse_rejects(summary, "tagContent")
        kind: ContentKind | None = input.kind
        return TaggedContent(
            content=content(url, input.title, kind.value if kind else None),
            topics=[TopicTag(topic=Topic(id=strawberry.ID(m.topic_id)), weight=m.weight,
                             matched=m.matched)
                    for m in info.context.services.writer.topics_of(text, topics)
                    ][:TOPICS.maximum])


__all__ = ["Mutation"]
