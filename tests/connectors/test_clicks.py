"""The clicks reader: Mailchimp and generic click/open exports, layouts, bad inputs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import clicks
from connectors.csvio import MAX_FIELD, DuplicateColumn, MissingColumns
from connectors.dates import TimeReader
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.records import Node, PersonRef, ProductEvent, ReadItem
from connectors.source import MissingOption, ReadContext
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures" / "clicks"
SENT = datetime(2026, 3, 3, 8, tzinfo=UTC)
CLICK, OPEN = "newsletter_click", "newsletter_open"
GUIDE = "https://www.acme-analytics.com/blog/crm-churn-guide"
PAPER = "https://www.acme-analytics.com/white-papers/crm-2026.pdf"


def _read(path: Path, ctx: ReadContext | None = None) -> list[ReadItem]:
    return list(clicks.read(path, ctx or ReadContext("clicks")))


def _write(tmp_path: Path, text: str, encoding: str = "utf-8",
           name: str = "activity.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _summary(item: ReadItem) -> tuple[object, ...]:
    if isinstance(item, ProductEvent):
        assert item.person is not None
        return ("event", item.line, item.type, item.person.email, item.url, item.at)
    if isinstance(item, Node):
        assert isinstance(item.ref, PersonRef)
        return ("person", item.line, item.ref.email, item.props["name"])
    assert isinstance(item, BadLine)
    return ("bad", item.line, item.field)


EXPECTED = {
    "activity.csv": [
        ("event", 2, CLICK, "raj.patel@globex.com",
         GUIDE + "?utm_source=newsletter&utm_medium=email&utm_campaign=march",
         datetime(2026, 3, 3, 8, 2, 11, tzinfo=UTC)),
        ("event", 3, OPEN, "raj.patel@globex.com", None,
         datetime(2026, 3, 3, 8, 1, 40, tzinfo=UTC)),
        ("event", 4, CLICK, "Ada@Initech.io", PAPER, datetime(2026, 3, 3, 8, 15, tzinfo=UTC)),
        ("event", 5, OPEN, "ada@initech.io", None, datetime(2026, 3, 3, 8, 14, 2, tzinfo=UTC)),
        ("bad", 6, "action"),
        ("bad", 7, "email"),
        ("event", 8, CLICK, "not-an-email", "https://www.acme-analytics.com/pricing",
         datetime(2026, 3, 3, 10, 1, tzinfo=UTC)),
        ("bad", 9, "timestamp"),
    ],
    "mailchimp_click_activity.csv": [
        ("person", 2, "raj.patel@globex.com", "Raj Patel"),
        ("event", 2, CLICK, "raj.patel@globex.com", GUIDE,
         datetime(2026, 3, 3, 8, 2, 11, tzinfo=UTC)),
        ("person", 3, "ada@initech.io", "Ada Lovelace"),
        ("event", 3, CLICK, "ada@initech.io", PAPER, datetime(2026, 3, 3, 9, 15, tzinfo=UTC)),
    ],
    "mailchimp_opened_march.csv": [  # no time column: dated --observed-at; 0 opens: skipped
        ("person", 2, "raj.patel@globex.com", "Raj Patel"),
        ("event", 2, OPEN, "raj.patel@globex.com", None, SENT),
        ("person", 3, "ada@initech.io", "Ada Lovelace"),
        ("event", 3, OPEN, "ada@initech.io", None, SENT),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_fixtures_read_as_the_table_says(name: str) -> None:
    items = _read(FIXTURES / name, ReadContext("clicks", observed_at=SENT))
    assert [_summary(i) for i in items] == EXPECTED[name]


def test_fixture_details() -> None:
    items = _read(FIXTURES / "activity.csv")
    events = [i for i in items if isinstance(i, ProductEvent)]
    assert all(e.id.startswith("clicks:") and len(e.id) == 39 for e in events)
    assert len({e.id for e in events}) == len(events)
    assert events[0].properties == {"action": "click"}
    assert {i.line: i.reason for i in items if isinstance(i, BadLine)} == {
        6: "'bounce' is not a click or an open", 7: "no e-mail address: who clicked?",
        9: "not a date: 'yesterday-ish'"}
    opened = _read(FIXTURES / "mailchimp_opened_march.csv",
                   ReadContext("clicks", observed_at=SENT))
    assert [i.properties for i in opened if isinstance(i, ProductEvent)] == [
        {"opens": 3}, {"opens": 1}]


def test_ids_are_stable_and_do_not_depend_on_the_load_time_zone() -> None:
    def ids(tz: str) -> list[str]:
        ctx = ReadContext("clicks", clock=TimeReader(ZoneInfo(tz)))
        return [i.id for i in _read(FIXTURES / "activity.csv", ctx)
                if isinstance(i, ProductEvent)]
    assert ids("UTC") == ids("Europe/Paris")


def test_naive_times_are_read_in_the_load_time_zone() -> None:
    ctx = ReadContext("clicks", clock=TimeReader(ZoneInfo("Europe/Paris")))
    first = _read(FIXTURES / "activity.csv", ctx)[0]
    assert isinstance(first, ProductEvent)
    assert first.at == datetime(2026, 3, 3, 7, 2, 11, tzinfo=UTC)
    assert ctx.clock.naive == 3  # rows 2, 3 and 8 (rows 4 and 5 carry +01:00)


@pytest.mark.parametrize(("action", "kind"), [
    ("click", CLICK), ("Clicked", CLICK), ("CLICKS", CLICK), ("link click", CLICK),
    ("email_clicked", CLICK), ("open", OPEN), ("Opened", OPEN), ("email opened", OPEN),
    ("opens", OPEN), ("bounce", None), ("unsubscribe", None), ("", None),
    ("clicked and opened", None), ("=cmd|' /C calc'!A0", None), ("openly", None),
])
def test_actions(action: str, kind: str | None) -> None:
    assert clicks.action_type(action) == kind


# -- layouts ---------------------------------------------------------------------------------

def _mailchimp(tmp_path: Path, columns: list[str], rows: list[list[str]],
               name: str = "export.csv") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["Email Address", "First Name", "Last Name", *columns, "MEMBER_RATING",
                     "OPTIN_TIME", "LEID", "EUID"])
    for row in rows:
        writer.writerow(["ada@acme.com", "Ada", "Lovelace", *row, "4", "2025-01-01 10:00:00",
                         "1", "e1"])
    return _write(tmp_path, out.getvalue(), name=name)


@pytest.mark.parametrize(("columns", "row", "name", "kind"), [
    (["Clicks"], ["2"], "export.csv", CLICK),
    (["Total Clicks"], ["1"], "export.csv", CLICK),
    (["URL"], [GUIDE], "export.csv", CLICK),
    (["Opens"], ["5"], "export.csv", OPEN),
    ([], [], "members_clicked_guide.csv", CLICK),
    ([], [], "Opened - March newsletter.csv", OPEN),
    (["Action"], ["open"], "clicked.csv", OPEN),  # a column beats the file name
])
def test_the_action_comes_from_columns_then_the_file_name(
        tmp_path: Path, columns: list[str], row: list[str], name: str, kind: str) -> None:
    path = _mailchimp(tmp_path, columns, [row], name=name)
    events = [i for i in _read(path, ReadContext("clicks", observed_at=SENT))
              if isinstance(i, ProductEvent)]
    assert [e.type for e in events] == [kind]


def test_no_way_to_tell_the_action_is_one_error(tmp_path: Path) -> None:
    path = _mailchimp(tmp_path, [], [[]], name="export.csv")
    with pytest.raises(MissingColumns, match="action"):
        clicks.read(path, ReadContext("clicks", observed_at=SENT))


def test_no_time_and_no_observed_at_is_one_error_before_anything(tmp_path: Path) -> None:
    path = _mailchimp(tmp_path, ["Clicks"], [["1"]])
    with pytest.raises(MissingOption, match="--observed-at"):
        clicks.read(path, ReadContext("clicks"))


def test_a_per_link_export_takes_its_url_from_the_mapping(tmp_path: Path) -> None:
    path = _mailchimp(tmp_path, ["Clicks"], [["1"]])
    ctx = ReadContext("clicks", observed_at=SENT, mapping={"url": GUIDE})
    events = [i for i in _read(path, ctx) if isinstance(i, ProductEvent)]
    assert [e.url for e in events] == [GUIDE]
    ctx = ReadContext("clicks", observed_at=SENT)
    events = [i for i in _read(path, ctx) if isinstance(i, ProductEvent)]
    assert [e.url for e in events] == [None]
    assert any("no URL column" in n for n in ctx.notes)


def test_zero_counts_are_not_clicks(tmp_path: Path) -> None:
    path = _mailchimp(tmp_path, ["Clicks", "Click Time"],
                      [["0", "2026-03-03 10:00:00"], ["1,204", "2026-03-03 11:00:00"]])
    events = [i for i in _read(path) if isinstance(i, ProductEvent)]
    assert [(e.line, e.properties["clicks"]) for e in events] == [(3, 1204)]


def test_a_person_node_once_per_named_email(tmp_path: Path) -> None:
    path = _mailchimp(tmp_path, ["Clicks", "Click Time"],
                      [["1", "2026-03-03 10:00:00"], ["1", "2026-03-03 11:00:00"]])
    nodes = [i for i in _read(path) if isinstance(i, Node)]
    assert nodes == [Node(PersonRef(email="ada@acme.com", name="Ada Lovelace"),
                          {"name": "Ada Lovelace"}, 2)]


def test_an_empty_time_falls_back_to_observed_at(tmp_path: Path) -> None:
    path = _write(tmp_path, "email,action,timestamp\na@x.io,open,\nb@x.io,open,\n")
    with_sent = [i for i in _read(path, ReadContext("clicks", observed_at=SENT))]
    assert [i.at for i in with_sent if isinstance(i, ProductEvent)] == [SENT, SENT]
    without = _read(path)
    assert [(i.line, i.field) for i in without if isinstance(i, BadLine)] == [
        (2, "timestamp"), (3, "timestamp")]


# -- file-level problems ---------------------------------------------------------------------

def test_missing_email_column_is_one_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "url,action,timestamp\nhttps://a.io,click,2026-03-03\n")
    with pytest.raises(MissingColumns, match="'email'"):
        clicks.read(path, ReadContext("clicks"))


def test_a_used_duplicate_column_is_one_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "email,url,url,action,timestamp\na@x.io,u,v,click,2026-03-03\n")
    with pytest.raises(DuplicateColumn):
        clicks.read(path, ReadContext("clicks"))


@pytest.mark.parametrize("content", [b"", b"\xff\xfe", b" \n"])
def test_an_empty_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile):
        clicks.read(path, ReadContext("clicks"))


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-8-sig", ","), ("utf-16", ","), ("utf-16-le", "\t"), ("cp1252", ","), ("utf-8", ";"),
    ("utf-8", "\t"),
])
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    d = delimiter
    text = (f"Email Address{d}First Name{d}Last Name{d}URL{d}Click Time\n"
            f"zoe@x.io{d}Zoë{d}Ågren{d}https://a.io/crème{d}2026-03-03 10:00:00\n")
    person, event = _read(_write(tmp_path, text, encoding))
    assert isinstance(person, Node) and isinstance(event, ProductEvent)
    assert person.props == {"name": "Zoë Ågren"}
    assert event.url == "https://a.io/crème" and event.type == CLICK


def test_formula_strings_stay_inert(tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://evil.example")'
    quoted = '"' + formula.replace('"', '""') + '"'
    path = _write(tmp_path, f"email,url,action,timestamp\n{quoted},{quoted},click,"
                            "2026-03-03 10:00\n")
    (event,) = _read(path)
    assert isinstance(event, ProductEvent)
    assert event.person == PersonRef(email=formula) and event.url == formula


def test_a_huge_field_is_a_bad_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f"email,url,action,timestamp\na@x.io,https://a.io/{'x' * MAX_FIELD},"
                            "click,2026-03-03\nb@x.io,https://a.io/,click,2026-03-03\n")
    items = _read(path)
    assert isinstance(items[0], BadLine) and items[0].line == 2
    assert isinstance(items[1], ProductEvent) and items[1].line == 3


# -- hypothesis ------------------------------------------------------------------------------

def _safe_read(path: Path, ctx: ReadContext) -> list[ReadItem]:
    try:
        return list(clicks.read(path, ctx))
    except ConnectorError:
        return []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=500), header=st.sampled_from(
    [b"email,url,action,timestamp\n", b"Email Address,First Name,Clicks\n", b""]))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes, header: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(header + data)
    for item in _safe_read(path, ReadContext("clicks", observed_at=SENT)):
        assert isinstance(item, Node | ProductEvent | BadLine)


_cell = st.text(max_size=12) | st.sampled_from(
    ["a@x.io", "click", "opened", "bounce", "https://a.io/x", "2026-03-03 10:00:00", "", "0",
     "3", "1,000", "²"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=6, max_size=6), max_size=6),
       observed=st.sampled_from([None, SENT]))
def test_random_rows_never_crash(tmp_path: Path, rows: list[list[str]],
                                 observed: datetime | None) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email Address", "URL", "Action", "Click Time", "Clicks", "First Name"])
    writer.writerows(rows)
    path = _write(tmp_path, out.getvalue())
    for item in _safe_read(path, ReadContext("clicks", observed_at=observed)):
        assert isinstance(item, Node | ProductEvent | BadLine)
        if isinstance(item, ProductEvent):
            assert item.type in (CLICK, OPEN) and item.at.tzinfo is not None
