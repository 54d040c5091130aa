"""Content (an article, white paper, webinar … by canonical URL) and a Read of it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.types.enums import ContentKind
from graph.model import ReadEvidence
from graph.schema import CONTENT_KINDS


@strawberry.type(description="Something one reads, keyed by its canonical URL.")
class Content:
    id: strawberry.ID
    title: str | None
    kind: ContentKind | None

    @strawberry.field(description="The canonical URL (the same as id).")
    def url(self) -> str:
        return str(self.id)


def content(url: str, title: str | None, kind: str | None) -> Content:
    return Content(id=strawberry.ID(url), title=title,
                   kind=ContentKind(kind) if kind in CONTENT_KINDS else None)


@strawberry.type(description="A person's reading of one content item: first and last time, "
                             "how many times.")
class Read:
    content: Content
    first_at: datetime
    last_at: datetime
    count: int


def read(r: ReadEvidence) -> Read:
    return Read(content=content(r.content_id, r.title, r.kind), first_at=r.first_at,
                last_at=r.last_at, count=r.count)
