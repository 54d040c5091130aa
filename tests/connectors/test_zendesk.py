"""The zendesk reader: Zendesk ticket exports (legacy CSV and Explore) -> concerns."""

from __future__ import annotations

import csv
import doctest
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import zendesk as module
from connectors.csvio import DuplicateColumn, MissingColumns
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.records import CompanyRef, KeyRef, Link, Node, PersonRef, Tag
from connectors.source import ReadContext, source
from connectors.zendesk import SOURCE, channel_of, read, split_tags

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "zendesk"
HEADER = "Id,Requester,Requester email,Subject,Description,Status,Via,Tags,Created at,Organization"


def run(path: Path, ctx: ReadContext | None = None) -> list:
    return list(read(path, ctx or ReadContext("zendesk")))


def write(tmp_path: Path, text: str | bytes, name: str = "tickets.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def concerns(items: list) -> dict[str, Node]:
    return {i.ref.key: i for i in items if isinstance(i, Node) and isinstance(i.ref, KeyRef)
            and i.ref.label == "Concern"}


def bad(items: list) -> list[tuple[int, str | None]]:
    return [(i.line, i.field) for i in items if isinstance(i, BadLine)]


def test_registered() -> None:
    assert source("zendesk") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_legacy_export_fixture() -> None:
    ctx = ReadContext("zendesk")
    items = run(FIXTURES / "tickets.csv", ctx)
    found = concerns(items)
    assert set(found) == {"zendesk:1201", "zendesk:1202", "zendesk:1203", "zendesk:1204",
                          "zendesk:1206"}
    first = found["zendesk:1201"]
    assert first.line == 2  # the row's first line: its description spans lines 2-5
    assert first.props == {
        "text": "CSV export times out\n\nHi team,\nthe CSV export of our contacts times out "
                "after 30 seconds.\n\nThanks, Ada",
        "channel": "email", "at": datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC),
        "subject": "CSV export times out", "status": "open"}
    assert bad(items) == [(9, "Created at")]
    assert [(i.line, i.ref.key) for i in items if isinstance(i, Tag)] == [
        (2, "zendesk:1201"), (6, "zendesk:1202"), (7, "zendesk:1203"), (8, "zendesk:1204"),
        (10, "zendesk:1206")]
    assert ctx.notes == ["tickets.csv: 1 ticket(s) had no requester e-mail or id; they were "
                         "loaded as concerns raised by no one",
                         "tickets.csv: 1 solved or closed ticket(s) had no Solved at or Updated "
                         "at time; they are not in the customer feed as solved"]
    assert ctx.clock.naive == 1  # 1203 was written without a zone


@pytest.mark.parametrize(("key", "line", "channel", "status", "at"), [
    ("zendesk:1201", 2, "email", "open", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
    ("zendesk:1202", 6, "chat", "solved", datetime(2024, 3, 6, 9, 10, tzinfo=UTC)),
    ("zendesk:1203", 7, "call", "pending", datetime(2024, 3, 7, 11, 0, tzinfo=UTC)),
    ("zendesk:1204", 8, "ticket", "new", datetime(2024, 3, 8, 8, 0, tzinfo=UTC)),
    ("zendesk:1206", 10, "social", "closed", datetime(2024, 3, 9, 12, 0, tzinfo=UTC)),
])
def test_each_ticket(key: str, line: int, channel: str, status: str, at: datetime) -> None:
    node = concerns(run(FIXTURES / "tickets.csv"))[key]
    assert (node.line, node.props["channel"], node.props["status"], node.props["at"]) == (
        line, channel, status, at)


def test_requesters_raise_their_tickets() -> None:
    items = run(FIXTURES / "tickets.csv")
    raised = {(i.start, i.end.key) for i in items if isinstance(i, Link) and i.type == "RAISED"}
    acme = CompanyRef(name="Acme Corp")
    assert (PersonRef(email="ada@acme.com", source_key="zendesk:38110001", name="Ada Lovelace",
                      company=acme), "zendesk:1201") in raised
    # no e-mail, but a Zendesk requester id: a source key
    assert (PersonRef(source_key="zendesk:38110003", name="Linus"), "zendesk:1203") in raised
    # a bad e-mail is passed through for the resolver to reject
    assert (PersonRef(email="mallory@example", name="Mallory"), "zendesk:1204") in raised
    # no requester identity at all: the concern loads, raised by no one
    assert not any(key == "zendesk:1206" for _, key in raised)
    works = [(i.start.email, i.end) for i in items if isinstance(i, Link) and i.type == "WORKS_AT"]
    assert ("ada@acme.com", acme) in works
    assert Node(acme, {"name": "Acme Corp"}, line=2) in items


def test_tags_become_explicit_topics() -> None:
    tags = {i.ref.key: i.topics for i in run(FIXTURES / "tickets.csv") if isinstance(i, Tag)}
    assert tags["zendesk:1201"] == ("export", "performance")
    assert tags["zendesk:1202"] == ("billing", "vat")
    assert tags["zendesk:1206"] == ("feature_request",)


def test_formula_strings_stay_inert_text() -> None:
    node = concerns(run(FIXTURES / "tickets.csv"))["zendesk:1204"]
    assert node.props["subject"] == '=HYPERLINK("http://evil","click")'


def test_explore_export_fixture() -> None:
    ctx = ReadContext("zendesk")
    items = run(FIXTURES / "explore-tickets.csv", ctx)
    found = concerns(items)
    assert set(found) == {"zendesk:3001", "zendesk:3002"}
    assert found["zendesk:3001"].props["channel"] == "email"
    assert found["zendesk:3002"].props["channel"] == "chat"
    assert found["zendesk:3002"].props["status"] == "solved"
    assert ctx.clock.naive == 2


# An Explore tickets report as Zendesk writes it: statuses capitalised, "On-hold", the solved
# instant of the tickets that were solved (Closed tickets were solved first).
EXPLORE_STATUSES = (
    "\ufeffTicket ID,Ticket subject,Ticket status,Ticket channel,Ticket created - Timestamp,"
    "Ticket solved - Timestamp,Requester name,Requester email,Ticket organization name,"
    "Ticket tags\n"
    "1,We may leave,New,Email,2026-10-25 09:00:00,,Ada,ada@acme.com,Acme,churn\n"
    "2,Export slow,Open,Email,2026-10-24 09:00:00,,Ada,ada@acme.com,Acme,\n"
    "3,Waiting on you,Pending,Email,2026-10-23 09:00:00,,Ada,ada@acme.com,Acme,\n"
    "4,Parked,On-hold,Email,2026-10-22 09:00:00,,Ada,ada@acme.com,Acme,\n"
    "5,Fixed,Solved,Email,2026-10-21 09:00:00,2026-10-22 10:30:00,Ada,ada@acme.com,Acme,\n"
    "6,Done,Closed,Email,2026-10-20 09:00:00,2026-10-20 12:00:00,Ada,ada@acme.com,Acme,\n")


def test_each_ticket_keeps_its_status_and_when_it_was_solved(tmp_path: Path) -> None:
    found = concerns(run(write(tmp_path, EXPLORE_STATUSES)))
    assert [(k, n.props["status"], n.props.get("solved_at")) for k, n in found.items()] == [
        ("zendesk:1", "new", None), ("zendesk:2", "open", None),
        ("zendesk:3", "pending", None), ("zendesk:4", "on-hold", None),
        ("zendesk:5", "solved", datetime(2026, 10, 22, 10, 30, tzinfo=UTC)),
        ("zendesk:6", "closed", datetime(2026, 10, 20, 12, 0, tzinfo=UTC))]
    legacy = concerns(run(FIXTURES / "tickets.csv"))  # its "Solved at" column
    assert legacy["zendesk:1202"].props["solved_at"] == datetime(2024, 3, 7, 10, tzinfo=UTC)
    assert "solved_at" not in legacy["zendesk:1206"].props  # closed, no instant exported


def solved_events(items: list) -> dict[str, Node]:
    return {i.ref.key: i for i in items if isinstance(i, Node) and isinstance(i.ref, KeyRef)
            and i.ref.label == "Event"}


def test_a_solved_or_closed_ticket_is_an_interaction_of_its_own(tmp_path: Path) -> None:
    items = run(FIXTURES / "tickets.csv")
    (key, event), = solved_events(items).items()  # 1206 is closed, but no time says when
    assert key == "zendesk:1202:solved" and event.line == 6
    assert event.props == {"type": "concern_solved", "at": datetime(2024, 3, 7, 10, tzinfo=UTC),
                           "properties": {"concern": "zendesk:1202",
                                          "subject": "Invoice shows the wrong VAT"}}
    performed = [(i.start.email, i.end.key) for i in items
                 if isinstance(i, Link) and i.type == "PERFORMED"]
    assert performed == [("grace@globex.io", "zendesk:1202:solved")]  # whose concern it was
    explore = solved_events(run(write(tmp_path, EXPLORE_STATUSES)))
    assert {k: e.props["at"] for k, e in explore.items()} == {
        "zendesk:5:solved": datetime(2026, 10, 22, 10, 30, tzinfo=UTC),
        "zendesk:6:solved": datetime(2026, 10, 20, 12, 0, tzinfo=UTC)}


UPDATED = (HEADER + ",Updated at\n"
           "7,Ada,ada@acme.com,Invoice,Wrong address,Closed,Mail,,2026-10-01 09:00,Acme,"
           "2026-10-05 08:00\n"
           "8,Ada,ada@acme.com,Slow,Reports are slow,Open,Mail,,2026-10-02 09:00,Acme,whenever\n")


def test_without_a_solved_instant_the_last_update_says_when(tmp_path: Path) -> None:
    ctx = ReadContext("zendesk")
    items = run(write(tmp_path, UPDATED), ctx)
    assert {k: e.props["at"] for k, e in solved_events(items).items()} == {
        "zendesk:7:solved": datetime(2026, 10, 5, 8, tzinfo=UTC)}
    assert bad(items) == []  # an open ticket's update time is never read
    assert "zendesk:8" in concerns(items) and ctx.notes == []
    broken = run(write(tmp_path, UPDATED.replace("2026-10-05 08:00", "later")))
    assert bad(broken) == [(2, "Updated at")] and "zendesk:7" not in concerns(broken)


def test_a_bad_solved_instant_rejects_its_row(tmp_path: Path) -> None:
    path = write(tmp_path, EXPLORE_STATUSES.replace("2026-10-22 10:30:00", "soon"))
    items = run(path)
    assert bad(items) == [(6, "Solved at")]
    assert "zendesk:5" not in concerns(items) and "zendesk:6" in concerns(items)


@pytest.mark.parametrize(("via", "channel"), [
    ("Mail", "email"), ("Email", "email"), ("Chat", "chat"), ("Native messaging", "chat"),
    ("WhatsApp", "chat"), ("Phone call (incoming)", "call"), ("Voicemail", "call"),
    ("Twitter", "social"), ("Facebook post", "social"), ("Web Form", "ticket"),
    ("Web service (API)", "ticket"), ("Closed ticket", "ticket"), ("meeting", "meeting"),
])
def test_channel_mapping(via: str, channel: str) -> None:
    assert channel_of(via) == channel


def test_unknown_channel_is_a_ticket(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n1,A,a@x.com,Hi,,open,Carrier pigeon,,2024-01-01,\n")
    assert concerns(run(path))["zendesk:1"].props["channel"] == "ticket"


def test_split_tags() -> None:
    assert split_tags("a b,c  a") == ("a", "b", "c")
    assert split_tags("") == ()


@pytest.mark.parametrize(("row", "field"), [
    (",A,a@x.com,Hi,,open,Mail,,2024-01-01,", "Id"),
    ("7,A,a@x.com,,,open,Mail,,2024-01-01,", "Subject"),
    ("7,A,a@x.com,Hi,,open,Mail,,32/13/2024,", "Created at"),
    ("7,A,a@x.com,Hi,,open,Mail,,,", "Created at"),
])
def test_bad_rows(tmp_path: Path, row: str, field: str) -> None:
    path = write(tmp_path, f"{HEADER}\n{row}\n8,B,b@x.com,Fine,,open,Mail,,2024-01-01,\n")
    items = run(path)
    assert bad(items) == [(2, field)]
    assert "zendesk:8" in concerns(items)


def _variants() -> list[tuple[str, bytes]]:
    text = f"{HEADER}\n1,Zoë,zoe@x.com,Crème,\"multi\nline\",open,Mail,a b,2024-01-01,Acme\n"
    return [
        ("utf-8", text.encode()),
        ("bom", text.encode("utf-8-sig")),
        ("utf-16", text.encode("utf-16")),
        ("latin-1", text.encode("cp1252")),
        ("semicolon", text.replace(",", ";").encode()),
        ("tab", text.replace(",", "\t").encode()),
        ("crlf", text.replace("\n", "\r\n").encode()),
    ]


@pytest.mark.parametrize(("name", "data"), _variants())
def test_encodings_and_delimiters(tmp_path: Path, name: str, data: bytes) -> None:
    node = concerns(run(write(tmp_path, data)))["zendesk:1"]
    assert node.props["subject"] == "Crème"
    assert node.props["text"].replace("\r\n", "\n") == "Crème\n\nmulti\nline"


def test_missing_columns_fail_before_any_record(tmp_path: Path) -> None:
    path = write(tmp_path, "Id,Requester email,Subject\n1,a@x.com,Hi\n")
    with pytest.raises(MissingColumns, match="Created at"):
        run(path)


def test_duplicate_used_column_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "Id,Subject,Subject,Created at\n1,a,b,2024-01-01\n")
    with pytest.raises(DuplicateColumn):
        run(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        run(write(tmp_path, ""))


def test_huge_field_rejects_that_row_only(tmp_path: Path) -> None:
    huge = "x" * (1 << 20 | 1)
    path = write(tmp_path, f"{HEADER}\n1,A,a@x.com,Hi,{huge},open,Mail,,2024-01-01,\n"
                           "2,B,b@x.com,Ok,,open,Mail,,2024-01-01,\n")
    items = run(path)
    assert bad(items) == [(2, "Description")]
    assert "zendesk:2" in concerns(items)


_COLUMNS = HEADER.split(",")

@pytest.mark.parametrize("data", [b"\\x00\\x00\\x01", b"\\x00a\\x00b\\x00"])
def test_dangling_utf16_byte_is_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, data))


def test_dangling_utf16_byte_after_rows(tmp_path: Path) -> None:
    data = f"{HEADER}\n1,A,a@x.com,Hi,,open,Mail,,2024-01-01,\n".encode("utf-16-le") + b"x"
    items = run(write(tmp_path, data))
    assert isinstance(items[-1], BadLine) and "ends inside" in items[-1].reason
    assert len(items) > 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), data)
        try:
            items = run(path)
        except ConnectorError:
            return
    assert all(isinstance(i, Node | Link | Tag | BadLine) for i in items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.text(max_size=30), min_size=len(_COLUMNS),
                         max_size=len(_COLUMNS)), max_size=8))
def test_random_rows_never_crash(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(_COLUMNS)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), buf.getvalue().encode("utf-8", "surrogatepass"))
        try:
            items = run(path)
        except ConnectorError:
            return
    for item in items:
        if isinstance(item, Node) and isinstance(item.ref, KeyRef):
            assert item.ref.key.startswith("zendesk:")
            assert item.props["text"] and item.props["at"].tzinfo is not None
