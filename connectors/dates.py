"""Dates and times as exports write them, read into aware UTC datetimes.

Exports write times in many shapes: ISO 8601 with or without a zone, `15 Mar 2023` (LinkedIn),
`03/15/2023 10:02 AM` (US CRMs), `2024-01-05 12:34:56 -0500` (Shopify), epoch milliseconds.
A time without a zone is read in the load's `--timezone` (default UTC) and counted, so the load
summary can say so; a time with a zone keeps it. Every result is converted to UTC.

    >>> from zoneinfo import ZoneInfo
    >>> clock = TimeReader(ZoneInfo("Europe/Paris"))
    >>> clock.parse("2026-03-15 10:00").isoformat()
    '2026-03-15T09:00:00+00:00'
    >>> clock.parse("15 Mar 2023").isoformat()
    '2023-03-14T23:00:00+00:00'
    >>> clock.parse("2026-03-15T10:00:00Z").isoformat(), clock.naive
    ('2026-03-15T10:00:00+00:00', 2)
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

# Tried first, in order: exact and fast. dateutil handles the long tail.
_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d %b %Y",  # LinkedIn: 15 Mar 2023
    "%d %B %Y",
    "%b %d, %Y",
    "%Y-%m-%d %H:%M:%S %z",  # Shopify: 2024-01-05 12:34:56 -0500
    "%m/%d/%Y %I:%M %p",  # US CRMs: 03/15/2023 10:02 AM
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)


def zone(name: str | None) -> ZoneInfo:
    """An IANA zone by name (`--timezone`); a clear ValueError for an unknown one."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name like Europe/Paris") from None


def parse_moment(value: object, tz: ZoneInfo | None = None) -> datetime:
    """A moment a person typed (`--observed-at`, `--as-of`, `--since`, `--at`) or a manifest or
    mapping wrote, as an aware UTC datetime. One rule everywhere:

    - a date (`2024-11-30`, or a TOML date) means the start of that day in `tz`;
    - a date-time without a zone (`2024-11-30T08:00`, `2024-11-30 08:00`, a naive TOML
      date-time) is read in `tz`;
    - a date-time with a zone (`Z`, `+01:00`) keeps it.

    `tz` is the command's `--timezone` (UTC when it has none). Only ISO 8601 shapes: a typed
    `03/04/2024` is ambiguous, so it is refused with the forms that work, never guessed.

        >>> paris = ZoneInfo("Europe/Paris")
        >>> parse_moment("2024-11-30", paris).isoformat()
        '2024-11-29T23:00:00+00:00'
        >>> parse_moment("2024-11-30 08:00", paris).isoformat()
        '2024-11-30T07:00:00+00:00'
        >>> parse_moment("2024-11-30T08:00:00Z", paris).isoformat()
        '2024-11-30T08:00:00+00:00'
        >>> parse_moment(date(2026, 12, 1)).isoformat()
        '2026-12-01T00:00:00+00:00'
    """
    zone_ = tz or ZoneInfo("UTC")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        moment = _iso(value.strip())
    else:
        raise ValueError(f"expected a date or a date-time, got {type(value).__name__} "
                         f"{value!r}{_FORMS}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone_)
    return moment.astimezone(UTC)


_FORMS = ("; use a date (2024-11-30: the start of that day in --timezone, default UTC) or an "
          "ISO date-time (2024-11-30T08:00:00Z, or without a zone: read in --timezone)")


def _iso(text: str) -> datetime:
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
            return datetime.combine(date.fromisoformat(iso), time())
        if re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", iso):
            return datetime.fromisoformat(iso)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date or time ({exc}){_FORMS}") from None
    raise ValueError(f"{text!r} is not a date or a date-time{_FORMS}")


class TimeReader:
    """Parses times for one load: naive ones in `tz`, counting how many were naive."""

    def __init__(self, tz: ZoneInfo | None = None, *, dayfirst: bool = False) -> None:
        self.tz = tz or ZoneInfo("UTC")
        self.dayfirst = dayfirst
        self.naive = 0  # how many times had no zone and were read in `tz`

    def parse(self, text: str | None) -> datetime:
        """An aware UTC datetime; ValueError naming the text when it is not a date."""
        raw = (text or "").strip()
        if not raw:
            raise ValueError("no date given")
        if _EPOCH.match(raw):
            seconds = float(raw) / (1000 if len(raw.split(".")[0]) > 10 else 1)
            return datetime.fromtimestamp(seconds, UTC)
        parsed = self._parse(raw)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.naive += 1
            parsed = parsed.replace(tzinfo=self.tz)
        result = parsed.astimezone(UTC)
        if result < _EARLIEST:
            raise ValueError(f"{raw!r} is before 1970: not a plausible date here")
        return result

    def parse_or_none(self, text: str | None) -> datetime | None:
        """None for an empty cell; ValueError for a cell that is not a date."""
        if text is None or not str(text).strip():
            return None
        return self.parse(text)

    def _parse(self, raw: str) -> datetime:
        iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
        try:
            return datetime.fromisoformat(iso)
        except ValueError:
            pass
        for fmt in _FORMATS:
            try:
                return datetime.strptime(raw, fmt)
            except ValueError:
                continue
        try:
            with warnings.catch_warnings():  # "unknown zone name" garbage is simply not a date
                warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
                parsed = dateutil_parser.parse(raw, dayfirst=self.dayfirst)
        except (ValueError, OverflowError, TypeError):
            raise ValueError(f"not a date: {raw!r}") from None
        if parsed.tzinfo is None and re.search(r"[A-Za-z]{3,}\s*$", raw) and \
                not re.search(r"(AM|PM|am|pm)\s*$", raw):
            # dateutil dropped a zone name it does not know ("10:00 XYZ"): guessing is wrong.
            raise ValueError(f"not a date (unknown time zone): {raw!r}")
        return parsed
