"""Resolvers that answer now when they can.

graphql-core awaits whatever a resolver returns that is awaitable, so a plain (sync) resolver
may return either its value or an awaitable look-up. A field the answer already holds (a
person's name in a page of `connections`) then costs no task: an `async def` resolver costs
graphql-core one task per field, thousands in a page of 50 people with their companies.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any


def later(lookup: Awaitable[Any]) -> Any:
    """The look-up, returned from a plain resolver in place of the value (typed as Any so the
    resolver keeps its field's annotation, which is what strawberry reads)."""
    return lookup


__all__ = ["later"]
