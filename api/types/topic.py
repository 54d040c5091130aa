"""Topic: a subject of the taxonomy ("crm", "churn"), by its slug."""

from __future__ import annotations

import strawberry


@strawberry.type(description="A subject of the taxonomy, by its slug (crm, churn …).")
class Topic:
    id: strawberry.ID


def topics(ids: tuple[str, ...]) -> list[Topic]:
    return [Topic(id=strawberry.ID(t)) for t in ids]
