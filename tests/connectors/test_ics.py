"""The ics reader: KNOWS between our team and the people they meet, from VEVENT headers only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.dates import TimeReader
from connectors.errors import BadLine, UnreadableFile
from connectors.ics import MAX_OCCURRENCES, SOURCE, read
from connectors.records import Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "ics" / "ada-calendar.ics"
ADA = PersonRef(email="ada@ours.io")


def ctx(team: tuple[str, ...] = ("grace@ours.io",), owner: PersonRef | None = ADA,
        observed_at: datetime | None = None, tz: str = "UTC") -> ReadContext:
    return ReadContext("ics", owner=owner, team=frozenset(team), observed_at=observed_at,
                       clock=TimeReader(ZoneInfo(tz)))


def run(path: Path, context: ReadContext | None = None) -> list[Any]:
    return list(read(path, context or ctx()))


def links(items: list[Any]) -> dict[tuple[str, str], Any]:
    return {(i.start.email, i.end.email): i for i in items if isinstance(i, Link)}


def bad(items: list[Any]) -> list[tuple[int, str | None]]:
    return [(i.line, i.field) for i in items if isinstance(i, BadLine)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


STAMP = "DTSTAMP:20240301T120000Z"


def event(*lines: str, start: str = "DTSTART:20240215T130000Z",
          people: tuple[str, ...] = ("ORGANIZER;CN=Ada:mailto:ada@ours.io",
                                     "ATTENDEE;CN=Bob:mailto:bob@client.com")) -> str:
    return "\n".join(["BEGIN:VEVENT", "UID:u1", start, *people, *lines, "END:VEVENT"])


def ics(tmp_path: Path, *events: str, newline: str = "\r\n", head: str = "") -> Path:
    text = "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *([head] if head else []), *events,
                      "END:VCALENDAR", ""])
    path = tmp_path / "c.ics"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def meetings(items: list[Any], pair: tuple[str, str] = ("ada@ours.io", "bob@client.com")
             ) -> int:
    found = {(a.lower(), b.lower()): k for (a, b), k in links(items).items()}
    return found[pair].props["meetings"] if pair in found else 0


# --- the fixture ---------------------------------------------------------------------------------

EXPECTED = {
    # (team member, other): (meetings, since, last interaction, strength, line)
    ("ada@ours.io", "bob@client.com"):  # weekly ×5 − 1 EXDATE (one moved), + the all-day visit
        (5, "2024-01-08T09:00:00+00:00", "2024-02-20T00:00:00+00:00", 0.717, 82),
    ("ada@ours.io", "carol@client.com"):
        (1, "2024-02-15T13:00:00+00:00", "2024-02-15T13:00:00+00:00", 0.231, 62),
    ("ada@ours.io", "frank@partner.example"):  # Outlook's Windows zone name
        (1, "2024-02-27T08:00:00+00:00", "2024-02-27T08:00:00+00:00", 0.253, 131),
    ("grace@ours.io", "jose@cliente.es"):  # floating time, read in --timezone (UTC)
        (1, "2024-02-26T15:00:00+00:00", "2024-02-26T15:00:00+00:00", 0.252, 115),
}


def test_fixture_knows() -> None:
    items = run(FIXTURE)
    got = {pair: (k.props["meetings"], k.props["since"], k.props["last_interaction"],
                  k.props["strength"], k.line) for pair, k in links(items).items()}
    assert got == {pair: (m, at(s), at(last), st_, line)
                   for pair, (m, s, last, st_, line) in EXPECTED.items()}
    for k in links(items).values():
        assert k.props["source"] == "calendar" and k.props["reciprocal"] is True
        assert "emails" not in k.props
        assert k.observed_at == at("2024-03-01T12:00:00+00:00")  # the export's DTSTAMP


def test_fixture_bad_lines_people_and_notes() -> None:
    context = ctx()
    items = run(FIXTURE, context)
    assert bad(items) == [(100, "DTSTART"), (107, "DTSTART")]
    people = {i.ref.email: (i.props.get("name"), i.line) for i in items if isinstance(i, Node)}
    assert people == {
        "ada@ours.io": ("Ada Lovelace", 26), "bob@client.com": ("Bob Client", 26),
        "carol@client.com": ("Carol Jones", 62), "frank@partner.example": ("Frank Partner", 131),
        "grace@ours.io": ("Grace Hopper", 115), "jose@cliente.es": ("José Muñoz", 115),
    }  # not: dan (declined), the room, erin (cancelled), zed (an alarm's recipient)
    notes = "\n".join(context.notes)
    assert "10 events read" in notes and "never stored" in notes
    assert "1 cancelled events skipped" in notes
    assert "1 meetings after the reference moment skipped" in notes  # the March 10 meeting
    assert "line(s) 138" in notes  # Outlook's unfolded DESCRIPTION line
    assert "latest DTSTAMP" in notes
    assert context.clock.naive == 2  # the floating time and the all-day date


def test_fixture_in_another_timezone() -> None:
    items = run(FIXTURE, ctx(tz="Europe/Paris"))
    ada_bob = links(items)[("ada@ours.io", "bob@client.com")]
    assert ada_bob.props["last_interaction"] == at("2024-02-20T00:00:00+01:00")  # all-day
    grace_jose = links(items)[("grace@ours.io", "jose@cliente.es")]
    assert grace_jose.props["since"] == at("2024-02-26T15:00:00+01:00")  # floating


def test_observed_at_decides_what_has_happened() -> None:
    items = run(FIXTURE, ctx(observed_at=at("2024-01-20T00:00:00+00:00")))
    assert meetings(items) == 2  # Jan 8 and Jan 15 only
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}
    later = run(FIXTURE, ctx(observed_at=at("2024-04-01T00:00:00+00:00")))
    assert meetings(later) == 6  # the March 10 meeting has happened by then


# --- events, participants, recurrence ------------------------------------------------------------

@pytest.mark.parametrize(
    ("people", "expected"),
    [
        (("ORGANIZER:mailto:ada@ours.io", "ATTENDEE:mailto:bob@client.com"), 1),
        (("ORGANIZER:MAILTO:ada@ours.io", "ATTENDEE:MAILTO:Bob@Client.com"), 1),
        (("ORGANIZER:mailto:bob@client.com", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@ours.io"), 1),
        (("ORGANIZER:mailto:ada@ours.io", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@client.com"), 0),
        (("ORGANIZER:mailto:bob@client.com", "ATTENDEE;PARTSTAT=DECLINED:mailto:ada@ours.io"), 0),
        (("ORGANIZER:mailto:ada@ours.io", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@client.com"),
         1),
        (("ORGANIZER:mailto:ada@ours.io", "ATTENDEE;CUTYPE=ROOM:mailto:bob@client.com"), 0),
        (("ATTENDEE:mailto:ada@ours.io", "ATTENDEE:urn:uuid:bob"), 0),
        (("ATTENDEE:mailto:ada@ours.io", "ATTENDEE:mailto:noreply@client.com"), 0),
        (("ORGANIZER:mailto:ada@ours.io",), 0),
        (("ATTENDEE:mailto:ada@ours.io", 'ATTENDEE;CN="Bob; the client":mailto:bob@client.com'),
         1),
    ],
)
def test_participants(tmp_path: Path, people: tuple[str, ...], expected: int) -> None:
    assert meetings(run(ics(tmp_path, event(STAMP, people=people)))) == expected


def test_an_alarm_attendee_is_not_a_participant(tmp_path: Path) -> None:
    alarm = "BEGIN:VALARM\nACTION:EMAIL\nATTENDEE:mailto:carol@client.com\nEND:VALARM"
    items = run(ics(tmp_path, event(STAMP, alarm)))
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}


def test_big_meetings_are_broadcasts(tmp_path: Path) -> None:
    crowd = tuple(f"ATTENDEE:mailto:p{i}@client.com" for i in range(50))
    context = ctx()
    items = run(ics(tmp_path, event(STAMP, people=("ORGANIZER:mailto:ada@ours.io", *crowd))),
                context)
    assert not links(items)
    assert any("more than 50 participants" in n for n in context.notes)


def test_a_meeting_only_between_team_members_is_not_counted(tmp_path: Path) -> None:
    people = ("ORGANIZER:mailto:ada@ours.io", "ATTENDEE:mailto:grace@ours.io")
    assert run(ics(tmp_path, event(STAMP, people=people))) == []


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("DTSTART:20240215T130000Z", "2024-02-15T13:00:00+00:00"),
        ("DTSTART;TZID=Europe/Paris:20240215T140000", "2024-02-15T14:00:00+01:00"),
        ("DTSTART;TZID=Europe/Paris:20240715T140000", "2024-07-15T14:00:00+02:00"),  # summer
        ('DTSTART;TZID="America/New_York":20240215T080000', "2024-02-15T08:00:00-05:00"),
        ("DTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20240215T140000",
         "2024-02-15T14:00:00+01:00"),
        ("DTSTART;TZID=Pacific Standard Time:20240215T050000", "2024-02-15T05:00:00-08:00"),
        ("DTSTART;TZID=Custom Zone:20240215T140000", "2024-02-15T14:00:00+03:00"),  # VTIMEZONE
        ("DTSTART;TZID=Nowhere:20240215T140000", "2024-02-15T14:00:00+00:00"),  # --timezone
        ("DTSTART:20240215T130000", "2024-02-15T13:00:00+00:00"),  # floating
        ("DTSTART;VALUE=DATE:20240215", "2024-02-15T00:00:00+00:00"),
        ("DTSTART:20240215", "2024-02-15T00:00:00+00:00"),
        ("dtstart;tzid=Europe/Paris:20240215t140000", "2024-02-15T14:00:00+01:00"),
    ],
)
def test_start_times(tmp_path: Path, start: str, expected: str) -> None:
    zone = "\n".join(["BEGIN:VTIMEZONE", "TZID:Custom Zone", "BEGIN:STANDARD",
                      "DTSTART:19700101T000000", "TZOFFSETFROM:+0300", "TZOFFSETTO:+0300",
                      "END:STANDARD", "END:VTIMEZONE"])
    items = run(ics(tmp_path, event("DTSTAMP:20241231T000000Z", start=start), head=zone))
    (k,) = links(items).values()
    assert k.props["last_interaction"] == at(expected)


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("DTSTART:2024-02-15 13:00", "not an iCalendar date-time"),
        ("DTSTART:20241345T130000Z", "month must be in 1..12"),
        ("DTSTART:20240230T130000Z", "day is out of range"),
        ("DTSTART;VALUE=DATE:2024021", "not an iCalendar date"),
        ("DTSTART:19690101T000000Z", "before 1970"),
        ("DTSTART:", "not an iCalendar date-time"),
    ],
)
def test_bad_start_times(tmp_path: Path, start: str, reason: str) -> None:
    items = run(ics(tmp_path, event(STAMP, start=start),
                    event(STAMP, people=("ORGANIZER:mailto:ada@ours.io",
                                         "ATTENDEE:mailto:carol@client.com"))))
    assert bad(items) == [(3, "DTSTART")]
    assert reason in items[0].reason
    assert set(links(items)) == {("ada@ours.io", "carol@client.com")}


@pytest.mark.parametrize(
    ("rule", "extra", "expected"),
    [
        ("RRULE:FREQ=WEEKLY;COUNT=4", (), 4),
        ("RRULE:FREQ=WEEKLY", (), 7),  # endless: from Feb 15 up to the DTSTAMP (Apr 1)
        ("RRULE:FREQ=DAILY;UNTIL=20240218", (), 4),  # a local UNTIL date (RFC wants UTC)
        ("RRULE:FREQ=DAILY;UNTIL=20240217T130000", (), 3),
        ("RRULE:FREQ=DAILY;UNTIL=20240217T130000Z", (), 3),
        ("RRULE:FREQ=WEEKLY;COUNT=4", ("EXDATE:20240222T130000Z,20240229T130000Z",), 2),
        ("RRULE:FREQ=FORTNIGHTLY", (), 1),  # unreadable: the base event, once
        ("RRULE:FREQ=MINUTELY", (), MAX_OCCURRENCES),
    ],
)
def test_recurring_events(tmp_path: Path, rule: str, extra: tuple[str, ...],
                          expected: int) -> None:
    stamp = "DTSTAMP:20240401T000000Z"
    assert meetings(run(ics(tmp_path, event(stamp, rule, *extra)))) == expected


def test_occurrences_after_the_reference_moment_have_not_happened(tmp_path: Path) -> None:
    context = ctx()
    items = run(ics(tmp_path, event(STAMP, "RRULE:FREQ=WEEKLY;COUNT=4")), context)
    assert meetings(items) == 3  # Feb 15, 22, 29; not Mar 7 (the file was written Mar 1)


def test_a_moved_instance_counts_once_as_its_override(tmp_path: Path) -> None:
    base = event(STAMP, "RRULE:FREQ=WEEKLY;COUNT=3")
    moved = event(STAMP, "RECURRENCE-ID:20240222T130000Z", start="DTSTART:20240223T090000Z",
                  people=("ORGANIZER:mailto:ada@ours.io", "ATTENDEE:mailto:bob@client.com",
                          "ATTENDEE:mailto:carol@client.com"))
    for order in ((base, moved), (moved, base)):
        items = run(ics(tmp_path, *order))
        assert meetings(items) == 3
        assert meetings(items, ("ada@ours.io", "carol@client.com")) == 1


def test_a_cancelled_event(tmp_path: Path) -> None:
    assert run(ics(tmp_path, event(STAMP, "STATUS:CANCELLED"))) == []


def test_without_dtstamp_the_latest_start_is_the_reference(tmp_path: Path) -> None:
    context = ctx()
    items = run(ics(tmp_path, event(), event(start="DTSTART:20240301T130000Z")), context)
    (k,) = links(items).values()
    assert k.props["meetings"] == 2 and k.observed_at == at("2024-03-01T13:00:00+00:00")
    assert any("latest DTSTART" in n for n in context.notes)


# --- bad and odd files ---------------------------------------------------------------------------

def test_truncated_calendar(tmp_path: Path) -> None:
    path = tmp_path / "cut.ics"
    path.write_text("BEGIN:VCALENDAR\n" + event(STAMP) + "\n" + event(STAMP)[:60],
                    encoding="utf-8")
    items = run(path)
    assert bad(items) == [(9, None)]
    assert "truncated" in items[0].reason
    assert meetings(items) == 1


def test_broken_lines_are_skipped_and_noted(tmp_path: Path) -> None:
    context = ctx()
    broken = ("DESCRIPTION:Agenda", "renewal: pricing", "- item two", "ATTENDEE;CN=\"x:mailto:y",
              "END:VTODO")  # "renewal: pricing" is a well-formed (unknown) property
    items = run(ics(tmp_path, event(STAMP, *broken)), context)
    assert meetings(items) == 1 and bad(items) == []
    assert any("3 lines that are not iCalendar content lines" in n for n in context.notes)


def test_a_nested_event_is_reported(tmp_path: Path) -> None:
    path = ics(tmp_path, "BEGIN:VEVENT\nUID:open", event(STAMP))
    items = run(path)
    assert bad(items) == [(3, None)]
    assert meetings(items) == 1


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_folding_with_tabs_and_spaces(tmp_path: Path, newline: str) -> None:
    people = ("ORGANIZER;CN=Ada:mailto:ada@ou", "\trs.io", "ATTENDEE;CN=Bob Cl", " ient:mai",
              " lto:bob@client.com")
    items = run(ics(tmp_path, event(STAMP, people=people), newline=newline))
    (k,) = links(items).values()
    assert k.start.email == "ada@ours.io" and k.end.email == "bob@client.com"
    assert k.end.name == "Bob Client"


def test_latin1_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "l.ics"
    text = "\ufeffBEGIN:VCALENDAR\n" + event(STAMP, people=(
        "ORGANIZER:mailto:ada@ours.io", "ATTENDEE;CN=Zoë:mailto:zoe@client.de")) + "\nEND:VCALENDAR"
    path.write_bytes(text.encode("utf-8"))
    assert links(run(path))[("ada@ours.io", "zoe@client.de")].end.name == "Zoë"
    path.write_bytes(text.replace("\ufeff", "").encode("latin-1"))
    assert links(run(path))[("ada@ours.io", "zoe@client.de")].end.name == "Zoë"


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n", b"BEGIN:VCARD\nEND:VCARD\n", b"\x00\xff garbage", b"From a@b Mon Jan 8\n",
     b"garbage\nBEGIN:VCALENDAR\n", b"BEGIN:VCALENDAR-ish\n"],
)
def test_not_a_calendar(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.ics"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile):
        next(read(path, ctx()))


def test_missing_team_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingOption, match="--owner EMAIL"):
        next(read(FIXTURE, ctx(team=(), owner=None)))
    with pytest.raises(UnreadableFile, match="cannot open"):
        next(read(tmp_path / "nope.ics", ctx()))


def test_source_declaration() -> None:
    assert SOURCE.name == "ics" and SOURCE.reader is read and not SOURCE.needs_owner


# --- never crashes -------------------------------------------------------------------------------

@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.ics"
    path.write_bytes(data)
    try:
        items = list(read(path, ctx()))
    except UnreadableFile:
        return
    assert all(isinstance(i, (Node, Link, BadLine)) for i in items)


_LINES = st.sampled_from([
    "BEGIN:VEVENT", "END:VEVENT", "BEGIN:VALARM", "END:VALARM", "BEGIN:VTIMEZONE",
    "END:VTIMEZONE", "TZID:X", "TZOFFSETTO:+0100", "TZOFFSETTO:nonsense", "UID:u",
    "DTSTART:20240215T130000Z", "DTSTART;TZID=X:20240215T130000", "DTSTART;VALUE=DATE:2024",
    "DTSTART:99999999T999999", "DTSTAMP:20240301T120000Z", "RRULE:FREQ=DAILY",
    "RRULE:FREQ=YEARLY;BYDAY=;COUNT=x", "RRULE:UNTIL=2024", "EXDATE:junk",
    "RECURRENCE-ID:20240215T130000Z", "STATUS:CANCELLED", "ORGANIZER:mailto:ada@ours.io",
    "ATTENDEE:mailto:bob@client.com", "ATTENDEE;PARTSTAT=DECLINED:mailto:ada@ours.io",
    'ATTENDEE;CN="unterminated:mailto:x@y.z', "ATTENDEE:mailto:", " folded", "\tfolded",
    "garbage line", "", "END:VCALENDAR", ":", ";;;", "é", "\x00",
])


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_LINES, max_size=60))
def test_random_content_lines_never_crash(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "r.ics"
    path.write_text("BEGIN:VCALENDAR\r\n" + "\r\n".join(lines), encoding="utf-8")
    try:
        items = list(read(path, ctx()))
    except UnreadableFile:  # a first line folded into BEGIN:VCALENDAR
        assert lines[0][:1] in (" ", "\t")
        return
    for item in items:
        if isinstance(item, Link):
            assert 0 <= item.props["strength"] <= 1 and item.props["meetings"] >= 1
