"""Concern: one raised concern (text, channel, when), with the topics it is about."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.cost import TOPICS
from api.types.topic import Topic, topics
from graph.model import ConcernEvidence


@strawberry.type(description="One raised concern, with the topics it is about.")
class Concern:
    id: strawberry.ID
    text: str
    channel: str | None = strawberry.field(
        description="ticket, call, survey, social, email, chat or meeting.")
    at: datetime
    topics: list[Topic] = strawberry.field(metadata=TOPICS.metadata())


def concern(c: ConcernEvidence) -> Concern:
    return Concern(id=strawberry.ID(c.concern_id), text=c.text, channel=c.channel, at=c.at,
                   topics=topics(c.topics)[:TOPICS.maximum])
