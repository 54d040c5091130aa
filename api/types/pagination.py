"""Relay connections: `edges { node cursor }`, `pageInfo`, `totalCount`, with `first`/`after`.

Cursors are opaque (base64 of a position in the answer's order, which both stores keep the same:
every question orders its answers totally). A page holds at most `MAX_PAGE` (1000) nodes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

from api.cost import SAME_PAGE
from api.errors import BadUserInput
from graph.model import MAX_LIMIT

MAX_PAGE = MAX_LIMIT
_PREFIX = "relgraph:"

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(metadata=SAME_PAGE.metadata())
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many there are in all pages.")

    @strawberry.field(description="The nodes of this page, without their cursors.",
                      metadata=SAME_PAGE.metadata())
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


@dataclass(frozen=True, slots=True)
class Window:
    """Which part of an answer a page is: `first` items from position `offset`."""

    offset: int
    first: int

    @property
    def end(self) -> int:
        return self.offset + self.first


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit() or len(number) > 9:
        raise BadUserInput("after: not a cursor of this list (use an endCursor it gave)")
    return int(number)


def window(first: int | None, after: str | None, *, default: int,
           maximum: int = MAX_PAGE) -> Window:
    first = default if first is None else first
    if not 1 <= first <= maximum:
        raise BadUserInput(f"first must be between 1 and {maximum}, got {first}")
    offset = 0 if after is None else decode_cursor(after) + 1
    return Window(offset, first)


def connection(items: Sequence[NodeT], total: int, page: Window) -> Connection[NodeT]:
    edges = [Edge(node=item, cursor=encode_cursor(page.offset + i))
             for i, item in enumerate(items)]
    return Connection(
        edges=edges, total_count=total,
        page_info=PageInfo(
            has_next_page=page.offset + len(items) < total,
            has_previous_page=page.offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))


__all__ = ["Connection", "Edge", "MAX_PAGE", "PageInfo", "Window", "connection",
           "decode_cursor", "encode_cursor", "window"]
