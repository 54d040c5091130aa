"""Scalars: `DateTime` (ISO 8601 with a zone: a time without one is refused, never guessed) and
`Duration` ("90d", "12w", "36h": a window that ends at `asOf`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NewType

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from api.errors import BadUserInput
from graph.rows import parse_datetime

MAX_DURATION = timedelta(days=3660)
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object) -> timedelta:
    if not isinstance(value, str):
        raise BadUserInput(f"a Duration is text such as \"90d\", \"12w\" or \"36h\", "
                           f"got {type(value).__name__}")
    match = _DURATION.match(value.lower())
    if not match:
        raise BadUserInput(f"{value!r} is not a Duration: write a whole number of hours, days "
                           "or weeks, e.g. \"36h\", \"90d\", \"12w\"")
    window = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not timedelta(0) < window <= MAX_DURATION:
        raise BadUserInput(f"Duration {value!r} must be more than 0 and at most 3660d")
    return window


def format_duration(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    return f"{seconds // 3600}h"


def parse_zoned(value: object) -> datetime:
    """An ISO 8601 date-time with its zone ("2026-11-01T00:00:00Z", "…+02:00"), in UTC."""
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise BadUserInput(f"{exc}; a DateTime is ISO 8601 with its zone, "
                           "e.g. \"2026-11-01T09:00:00Z\"") from None


def format_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


Duration = NewType("Duration", timedelta)

# The schema's scalar_map (api/schema/__init__.py): Python types -> GraphQL scalars.
SCALARS: dict[object, ScalarDefinition] = {
    Duration: strawberry.scalar(
        name="Duration",
        description='A time window: a whole number of hours, days or weeks ("36h", "90d", '
                    '"12w").',
        serialize=format_duration, parse_value=parse_duration),
    datetime: strawberry.scalar(
        name="DateTime",
        description="An ISO 8601 date-time with its zone (\"2026-11-01T09:00:00Z\"); answers "
                    "in UTC.",
        serialize=format_datetime, parse_value=parse_zoned),
}

__all__ = ["Duration", "JSON", "SCALARS", "format_duration", "parse_duration", "parse_zoned"]
