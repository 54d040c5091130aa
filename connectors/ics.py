"""Reader for iCalendar files (.ics exports of Google Calendar, Outlook, Apple Calendar): meetings.

An .ics file is a VCALENDAR of VEVENTs, one property per line ("content lines", long ones folded
onto lines that start with a space):

    BEGIN:VEVENT
    UID:1a2b@google.com
    DTSTART;TZID=Europe/Paris:20240304T090000
    ORGANIZER;CN=Ada Lovelace:mailto:ada@ours.io
    ATTENDEE;CN=Bob Client;PARTSTAT=ACCEPTED:mailto:bob@client.com
    END:VEVENT

Only who met and when is read: ORGANIZER and ATTENDEE (mailto: addresses, CN names), DTSTART,
RRULE/EXDATE/RECURRENCE-ID, STATUS, UID, DTSTAMP/LAST-MODIFIED. Titles, descriptions and notes
are skipped as they stream past and never stored. The file is parsed line by line (unfolded as it
is read), so a calendar of any size streams; it is read twice (a first pass finds the reference
moment and the moved instances of recurring events).

What counts as a meeting: an event whose participants (the organizer and every attendee, less
those with PARTSTAT=DECLINED, rooms and resources (CUTYPE=ROOM/RESOURCE/GROUP) and addresses that
are not mailto:) include a team member and someone else. Cancelled events (STATUS:CANCELLED)
and events with more than 50 participants (all-hands, webinars) do not count, nor do automated
addresses (noreply@ …). Alarms' attendees (inside VALARM) are not participants.

Times: DTSTART with a TZID is read in that zone (IANA names, "/mozilla.org/…/Europe/Paris"
prefixes, common Windows names like "W. Europe Standard Time"; otherwise the file's VTIMEZONE:
its X-LIC-LOCATION, else its standard offset, without DST); "…Z" is UTC; a floating time and an
all-day date are read in `--timezone` (counted as naive times in the load summary).

Recurring events (RRULE) are expanded from DTSTART up to the reference moment (at most 1000
occurrences a series), less EXDATEs; an instance moved or changed by an override (a VEVENT with
the same UID and a RECURRENCE-ID) counts as that override instead. RDATE is ignored.

The reference moment is `--observed-at` if given, else the latest DTSTAMP or LAST-MODIFIED in
the file (calendar exports stamp every event with the moment of the export), else the latest
DTSTART. Meetings after it have not happened yet: they are skipped (and counted in a note).

What it yields: `Node(Person)` for everyone in a counted pair and one
`Link("KNOWS", team member, other person)` per pair with `source` "calendar", `meetings`,
`reciprocal` (always true: a meeting goes both ways), `since`, `last_interaction`, `strength`
(the formula of `connectors/mbox.py`, meetings weighing three e-mails), `line` = the BEGIN:VEVENT
line of the latest meeting and `observed_at` = the reference moment. Our team is `ctx.team` plus
`--owner` (MissingOption when both are empty).

Malformed events (no DTSTART or one that is not a date, cut off by the end of the file) are
`BadLine`s naming their BEGIN:VEVENT line; the rest loads. Lines that are not content lines (bad
folding) are skipped and counted in a note. A file that does not start with BEGIN:VCALENDAR is not
an iCalendar file (`UnreadableFile`, before anything is read).

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> from connectors.records import Link, Node
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cal.ics"
    >>> _ = p.write_text("BEGIN:VCALENDAR\\r\\nBEGIN:VEVENT\\r\\nUID:w1\\r\\n"
    ...     "DTSTART;TZID=Europe/Paris:20240304T090000\\r\\nRRULE:FREQ=WEEKLY;COUNT=4\\r\\n"
    ...     "ORGANIZER;CN=Ada:mailto:ada@ours.io\\r\\n"
    ...     "ATTENDEE;CN=Bob Client;PARTSTAT=ACCEPTED:mailto:bob@cli\\r\\n ent.com\\r\\n"
    ...     "ATTENDEE;PARTSTAT=DECLINED:mailto:eve@client.com\\r\\n"
    ...     "DTSTAMP:20240401T000000Z\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n")
    >>> items = list(read(p, ReadContext("ics", team=frozenset({"ada@ours.io"}))))
    >>> [(r.ref.email, r.props.get("name")) for r in items if isinstance(r, Node)]
    [('ada@ours.io', 'Ada'), ('bob@client.com', 'Bob Client')]
    >>> [(k.line, k.props["meetings"], str(k.props["last_interaction"]), k.props["strength"])
    ...  for k in items if isinstance(k, Link)]
    [(2, 4, '2024-03-25 08:00:00+00:00', 0.664)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from connectors.errors import BadLine, UnreadableFile
from connectors.mbox import (
    MAX_PARTICIPANTS,
    Interactions,
    _lines,
    automated_address,
    person_key,
)
from connectors.records import ReadItem
from connectors.source import ReadContext, Source

MAX_OCCURRENCES = 1000
MAX_LOGICAL_LINE = 1 << 16
_EVENT_PROPS = frozenset({"UID", "DTSTART", "DTSTAMP", "LAST-MODIFIED", "RRULE", "EXDATE",
                          "RECURRENCE-ID", "STATUS", "ORGANIZER", "ATTENDEE"})
_ZONE_PROPS = frozenset({"TZID", "TZOFFSETTO", "X-LIC-LOCATION"})
_KEPT = _EVENT_PROPS | _ZONE_PROPS | {"BEGIN", "END"}
_NAME = re.compile(r"[A-Za-z0-9-]+")
_PARAM = re.compile(r';([A-Za-z0-9-]+)=((?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)')
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)", re.IGNORECASE)
_IANA_TAIL = re.compile(r"([A-Za-z_]+(?:/[A-Za-z0-9_+-]+){1,2})$")
_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})(\d{2})?")
_UNTIL = re.compile(r"(?i)(UNTIL=)([0-9TZtz]+)")
_NOT_PEOPLE = frozenset({"ROOM", "RESOURCE", "GROUP"})
_WINDOWS_ZONES = {
    "pacific standard time": "America/Los_Angeles", "mountain standard time": "America/Denver",
    "central standard time": "America/Chicago", "eastern standard time": "America/New_York",
    "gmt standard time": "Europe/London", "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin", "romance standard time": "Europe/Paris",
    "central europe standard time": "Europe/Budapest",
    "central european standard time": "Europe/Warsaw", "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kyiv", "russian standard time": "Europe/Moscow",
    "india standard time": "Asia/Kolkata", "china standard time": "Asia/Shanghai",
    "singapore standard time": "Asia/Singapore", "tokyo standard time": "Asia/Tokyo",
    "aus eastern standard time": "Australia/Sydney", "utc": "UTC",
}


@dataclass(frozen=True, slots=True)
class _Prop:
    name: str
    params: dict[str, str]
    value: str


@dataclass
class _Event:
    line: int
    props: list[_Prop] = field(default_factory=list)

    def get(self, name: str) -> _Prop | None:
        return next((p for p in self.props if p.name == name), None)


@dataclass
class _Zone:
    tzid: str = ""
    location: str = ""
    standard: str = ""  # TZOFFSETTO of the STANDARD part
    other: str = ""  # of any part


@dataclass
class _Scan:
    """What one pass over the file learns besides its events."""

    zones: dict[str, _Zone] = field(default_factory=dict)
    broken: list[int] = field(default_factory=list)  # lines that are not content lines
    bad: list[BadLine] = field(default_factory=list)


def _content_line(text: str) -> _Prop | None:
    """NAME *(;PARAM=value) : value, or None if the line is not a content line."""
    name = _NAME.match(text)
    if name is None:
        return None
    pos, params = name.end(), {}
    while pos < len(text) and text[pos] == ";":
        param = _PARAM.match(text, pos)
        if param is None:
            return None
        params[param.group(1).upper()] = param.group(2).replace('"', "")
        pos = param.end()
    if pos >= len(text) or text[pos] != ":":
        return None
    return _Prop(name.group(0).upper(), params, text[pos + 1:])


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _logical_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(first physical line, unfolded text) of each content line we may need; others skipped."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise UnreadableFile(path, f"cannot open: {exc.strerror or exc}") from None
    with f:
        start, size, keep = 0, 0, False
        parts: list[str] = []
        for lineno, raw in enumerate(_lines(f), 1):
            text = _decode(raw).rstrip("\r\n")
            if lineno == 1:
                text = text.removeprefix("\ufeff")
            if text[:1] in (" ", "\t"):  # a folded continuation
                if keep and parts and size < MAX_LOGICAL_LINE:
                    parts.append(text[1:])
                    size += len(text)
                continue
            if parts:
                yield start, "".join(parts)
            name = _NAME.match(text)
            # Kept: what we read, and what is not a content line at all (to be reported).
            keep = (name is None or name.group(0).upper() in _KEPT
                    or text[name.end():name.end() + 1] not in (":", ";"))
            start, parts, size = lineno, [text] if keep else [], len(text)
        if parts:
            yield start, "".join(parts)


def _events(path: Path, scan: _Scan) -> Iterator[_Event]:
    """The VEVENTs of the file, with only the properties we read; problems go to `scan`."""
    stack: list[str] = []
    event: _Event | None = None
    zone: _Zone | None = None
    first = True
    for line, text in _logical_lines(path):
        if not text.strip():
            continue
        prop = _content_line(text)
        if first:
            if prop is None or (prop.name, prop.value.strip().upper()) != ("BEGIN", "VCALENDAR"):
                raise UnreadableFile(path, f"line {line} is not BEGIN:VCALENDAR: not an "
                                     "iCalendar (.ics) file")
            first = False
        if prop is None:
            scan.broken.append(line)
            continue
        if prop.name == "BEGIN":
            kind = prop.value.strip().upper()
            if kind == "VEVENT":
                if event is not None:
                    scan.bad.append(BadLine(path, event.line, None, f"BEGIN:VEVENT at line "
                                            f"{line} before this event's END:VEVENT"))
                    if "VEVENT" in stack:  # an enclosing END may have closed it already
                        del stack[stack.index("VEVENT"):]
                event = _Event(line)
            elif kind == "VTIMEZONE":
                zone = _Zone()
            stack.append(kind)
        elif prop.name == "END":
            kind = prop.value.strip().upper()
            if kind not in stack:
                scan.broken.append(line)
                continue
            while stack and stack.pop() != kind:
                pass
            if kind == "VEVENT" and event is not None:
                yield event
                event = None
            elif kind == "VTIMEZONE" and zone is not None:
                if zone.tzid:
                    scan.zones[zone.tzid] = zone
                zone = None
        elif stack and stack[-1] == "VEVENT" and event is not None:
            if prop.name in _EVENT_PROPS:
                event.props.append(prop)
        elif zone is not None and prop.name in _ZONE_PROPS:
            if prop.name == "TZID":
                zone.tzid = prop.value.strip()
            elif prop.name == "X-LIC-LOCATION":
                zone.location = prop.value.strip()
            else:
                zone.other = zone.other or prop.value.strip()
                if stack and stack[-1] == "STANDARD":
                    zone.standard = zone.standard or prop.value.strip()
    if first:
        raise UnreadableFile(path, "empty: not an iCalendar (.ics) file")
    if event is not None:
        scan.bad.append(BadLine(path, event.line, None, "the file ends inside this event "
                                "(truncated)"))


def _stamp(parts: Iterable[str | int]) -> datetime:
    """A naive datetime from year, month, day[, hour, minute, second] (ValueError if invalid)."""
    year, month, day, hour, minute, second = (*(int(p) for p in parts), 0, 0, 0)[:6]
    return datetime(year, month, day, hour, minute, second)


class _Times:
    """iCalendar DATE / DATE-TIME values into aware datetimes."""

    def __init__(self, ctx: ReadContext, scan: _Scan) -> None:
        self.ctx = ctx
        self.scan = scan
        self.cache: dict[str, tzinfo | None] = {}

    def zone(self, tzid: str) -> tzinfo | None:
        if tzid not in self.cache:
            self.cache[tzid] = self._zone(tzid)
        return self.cache[tzid]

    def _zone(self, tzid: str) -> tzinfo | None:
        names = [tzid, _WINDOWS_ZONES.get(tzid.strip().lower(), "")]
        tail = _IANA_TAIL.search(tzid)
        if tail:
            names.append(tail.group(1))
        known = self.scan.zones.get(tzid)
        if known is not None:
            names.append(known.location)
        for name in names:
            if name:
                try:
                    return ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        offset = _OFFSET.fullmatch((known.standard or known.other) if known else "")
        if offset:
            sign = -1 if offset.group(1) == "-" else 1
            delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
            self.ctx.note(f"time zone {tzid!r} read as the fixed offset of its VTIMEZONE "
                          "(daylight saving time ignored)")
            return timezone(sign * delta)
        self.ctx.note(f"unknown time zone {tzid!r}: its times were read in --timezone")
        return None

    def local(self, prop: _Prop) -> datetime:
        """The value as an aware datetime in its own zone (for recurrence rules)."""
        value = prop.value.strip().split(",")[0]
        if prop.params.get("VALUE", "").upper() == "DATE" or _DATE.fullmatch(value):
            day = _DATE.fullmatch(value)
            if day is None:
                raise ValueError(f"not an iCalendar date: {value!r}")
            stamp = _stamp(day.groups())  # all-day: midnight in --timezone
            return self.ctx.clock.parse(stamp.isoformat()).astimezone(self.ctx.clock.tz)
        moment = _DATE_TIME.fullmatch(value)
        if moment is None:
            raise ValueError(f"not an iCalendar date-time: {value!r}")
        *parts, utc = moment.groups()
        stamp = _stamp(parts)
        if utc:
            return stamp.replace(tzinfo=UTC)
        tzid = prop.params.get("TZID")
        zone = self.zone(tzid) if tzid else None
        if zone is None:  # floating: --timezone
            return self.ctx.clock.parse(stamp.isoformat()).astimezone(self.ctx.clock.tz)
        return stamp.replace(tzinfo=zone)

    def utc(self, prop: _Prop) -> datetime:
        result = self.local(prop).astimezone(UTC)
        if result.year < 1970:
            raise ValueError(f"{prop.value.strip()!r} is before 1970: not a plausible date here")
        return result

    def utc_or_none(self, prop: _Prop | None) -> datetime | None:
        if prop is None:
            return None
        try:
            return self.utc(prop)
        except (ValueError, OverflowError):
            return None


def _participants(event: _Event) -> list[tuple[str, str, str | None]] | None:
    """(key, address as written, CN) of the people at the meeting (None: too many to be a
    meeting); automated addresses left out."""
    present: dict[str, bool] = {}  # key -> attends
    written: dict[str, tuple[str, str | None]] = {}  # key -> (address as written, CN)
    for prop in event.props:
        if prop.name not in ("ORGANIZER", "ATTENDEE"):
            continue
        value = prop.value.strip()
        if value[:7].lower() != "mailto:" or prop.params.get("CUTYPE", "").upper() in _NOT_PEOPLE:
            continue
        address = value[7:].strip()
        if not address or address.lower().endswith("calendar.google.com"):
            continue  # Google's room and group calendars
        key = person_key(address)
        declined = prop.params.get("PARTSTAT", "").upper() == "DECLINED"
        if prop.name == "ATTENDEE" or key not in present:
            present[key] = not declined
        name = prop.params.get("CN") or (written[key][1] if key in written else None)
        written[key] = (address, name)
    attending = [(k, *written[k]) for k, yes in present.items() if yes]
    if len(attending) > MAX_PARTICIPANTS:
        return None
    return [person for person in attending if not automated_address(person[1])]


def _until_in_utc(rule: str, start: datetime) -> str:
    """RFC 5545 wants UNTIL in UTC when DTSTART has a zone; files often write it local."""
    def fix(m: re.Match[str]) -> str:
        value = m.group(2).upper()
        if value.endswith("Z"):
            return m.group(0)
        day = _DATE.fullmatch(value)
        if day:
            until = _stamp((*day.groups(), 23, 59, 59))
        else:
            moment = _DATE_TIME.fullmatch(value)
            if moment is None:
                return m.group(0)
            until = _stamp(moment.groups()[:6])
        until = until.replace(tzinfo=start.tzinfo).astimezone(UTC)
        return m.group(1) + until.strftime("%Y%m%dT%H%M%SZ")
    return _UNTIL.sub(fix, rule)


@dataclass
class _Counts:
    events: int = 0
    meetings: int = 0
    cancelled: int = 0
    upcoming: int = 0
    broadcast: int = 0
    series: int = 0
    capped: int = 0
    unexpanded: int = 0


def _occurrences(event: _Event, start: _Prop, times: _Times, reference: datetime,
                 overridden: set[tuple[str, datetime]], counts: _Counts,
                 ctx: ReadContext) -> Iterator[datetime]:
    """UTC start times of the event (one, or each occurrence of its RRULE up to `reference`)."""
    first = times.utc(start)
    rule = event.get("RRULE")
    if rule is None or event.get("RECURRENCE-ID") is not None:
        yield first
        return
    local = times.local(start)
    uid = (event.get("UID") or _Prop("UID", {}, "")).value.strip()
    excluded = set()
    for prop in event.props:
        if prop.name == "EXDATE":
            for value in prop.value.split(","):
                moment = times.utc_or_none(_Prop("EXDATE", prop.params, value))
                if moment is not None:
                    excluded.add(moment)
    try:
        rules = rrulestr("RRULE:" + _until_in_utc(rule.value.strip(), local), dtstart=local)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError):
        counts.unexpanded += 1
        ctx.note("recurring events whose RRULE could not be read were counted once")
        yield first
        return
    counts.series += 1
    produced = 0
    try:
        for occurrence in rules:
            at = occurrence.astimezone(UTC)
            if at > reference:
                break
            produced += 1
            if produced > MAX_OCCURRENCES:
                counts.capped += 1
                break
            if at in excluded or (uid, at) in overridden:
                continue
            yield at
    except (ValueError, OverflowError):
        return


def _prepass(path: Path, ctx: ReadContext) -> tuple[datetime | None, set[tuple[str, datetime]]]:
    """The reference moment and the (UID, RECURRENCE-ID) of overridden instances."""
    scan = _Scan()
    times = _Times(ReadContext(ctx.source, clock=type(ctx.clock)(ctx.clock.tz)), scan)
    written: datetime | None = None
    latest: datetime | None = None
    overridden: set[tuple[str, datetime]] = set()
    for event in _events(path, scan):
        for name in ("DTSTAMP", "LAST-MODIFIED"):
            moment = times.utc_or_none(event.get(name))
            if moment is not None and (written is None or moment > written):
                written = moment
        start = times.utc_or_none(event.get("DTSTART"))
        if start is not None and (latest is None or start > latest):
            latest = start
        recurrence, uid = event.get("RECURRENCE-ID"), event.get("UID")
        moment = times.utc_or_none(recurrence)
        if moment is not None and uid is not None:
            overridden.add((uid.value.strip(), moment))
    if ctx.observed_at is not None:
        ctx.note(f"meetings counted up to {ctx.observed_at.isoformat()} (--observed-at)")
        return ctx.observed_at, overridden
    if written is not None:
        ctx.note(f"meetings counted up to {written.isoformat()}: the latest DTSTAMP or "
                 "LAST-MODIFIED in the file, when it was written (pass --observed-at to "
                 "choose the moment)")
        return written, overridden
    if latest is not None:
        ctx.note(f"meetings counted up to {latest.isoformat()}: the latest DTSTART in the file "
                 "(pass --observed-at to choose the moment)")
    return latest, overridden


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    path = Path(path)
    seen = Interactions(ctx, "calendar")  # MissingOption before anything is read
    reference, overridden = _prepass(path, ctx)  # UnreadableFile before anything is read
    scan = _Scan()
    times = _Times(ctx, scan)
    counts = _Counts()
    for event in _events(path, scan):
        counts.events += 1
        status = event.get("STATUS")
        if status is not None and status.value.strip().upper() == "CANCELLED":
            counts.cancelled += 1
            continue
        participants = _participants(event)
        if participants is None:
            counts.broadcast += 1
            continue
        team = sum(seen.is_team(key) for key, _, _ in participants)
        if not team or team == len(participants):
            continue  # no team member, or no one else: not a meeting with others
        start = event.get("DTSTART")
        if start is None:
            yield BadLine(path, event.line, "DTSTART", "the event has no DTSTART")
            continue
        try:
            when = list(_occurrences(event, start, times, reference or times.utc(start),
                                     overridden, counts, ctx))
        except (ValueError, OverflowError) as exc:
            yield BadLine(path, event.line, "DTSTART", str(exc))
            continue
        keys = [seen.person(address, name, event.line) for _, address, name in participants]
        for at in when:
            if reference is not None and at > reference:
                counts.upcoming += 1
                continue
            counts.meetings += seen.meeting([k for k in keys if k is not None], at, event.line)
    yield from scan.bad
    _summarise(ctx, path, counts, scan)
    yield from seen.records(path, reference)


def _summarise(ctx: ReadContext, path: Path, counts: _Counts, scan: _Scan) -> None:
    ctx.note(f"{path.name}: {counts.events} events read, {counts.meetings} meetings of a team "
             "member with others counted; titles and descriptions never stored")
    if counts.series:
        ctx.note(f"{counts.series} recurring events expanded up to the reference moment "
                 f"(at most {MAX_OCCURRENCES} occurrences each"
                 + (f"; {counts.capped} reached that cap)" if counts.capped else ")"))
    if counts.cancelled:
        ctx.note(f"{counts.cancelled} cancelled events skipped")
    if counts.upcoming:
        ctx.note(f"{counts.upcoming} meetings after the reference moment skipped (not held yet)")
    if counts.broadcast:
        ctx.note(f"{counts.broadcast} events with more than {MAX_PARTICIPANTS} participants "
                 "skipped as broadcasts")
    if scan.broken:
        shown = ", ".join(map(str, scan.broken[:5])) + (" …" if len(scan.broken) > 5 else "")
        ctx.note(f"{len(scan.broken)} lines that are not iCalendar content lines were skipped "
                 f"(bad folding?): line(s) {shown}")


SOURCE = Source("ics", read, "iCalendar (.ics) meetings: KNOWS between our team and the people "
                "they meet, with counts and a decaying strength", snapshot=True,
                format="ics", what="an iCalendar (.ics) file")
