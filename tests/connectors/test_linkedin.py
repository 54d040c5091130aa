"""The LinkedIn Connections.csv reader: what it yields for real export layouts and bad input."""

from __future__ import annotations

import csv
import doctest
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import linkedin
from connectors.csvio import DuplicateColumn, MissingColumns
from connectors.errors import BadLine, ConnectorError
from connectors.records import CompanyRef, CustomerRef, Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext, source
from tests.conftest import ROOT

FIX = ROOT / "fixtures" / "linkedin"
OWNER = PersonRef(email="me@example.com", name="Me Myself")
OBSERVED = datetime(2024, 11, 12, tzinfo=UTC)  # the latest Connected On in Connections.csv


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ref(r: Any) -> tuple[Any, ...]:
    if isinstance(r, PersonRef):
        return ("person", r.email, r.source_key)
    if isinstance(r, CompanyRef):
        return ("company", r.domain, r.name)
    if isinstance(r, CustomerRef):
        return ("customer", ref(r.of))
    return ("key", r.label, r.key)


def brief(item: Any) -> tuple[Any, ...]:
    if isinstance(item, BadLine):
        return ("bad", item.line, item.field)
    if isinstance(item, Node):
        return ("node", item.line, ref(item.ref), dict(item.props))
    assert isinstance(item, Link), item
    return ("link", item.line, item.type, ref(item.start), ref(item.end), dict(item.props))


def run(path: Path, **kw: Any) -> list[tuple[Any, ...]]:
    kw.setdefault("owner", OWNER)
    return [brief(i) for i in linkedin.read(path, ReadContext("linkedin", **kw))]


ME = ("person", "me@example.com", None)
ADA = ("person", "ada@analytical.example", "linkedin:https://www.linkedin.com/in/ada-lovelace-1815")
GRACE = ("person", None, "linkedin:https://www.linkedin.com/in/gracehopper")
RAJ = ("person", None, "linkedin:https://www.linkedin.com/in/raj-patel-7b1a2c")
ENGINES = ("company", None, "Analytical Engines Ltd")
ZOE = ("person", None, "linkedin:https://de.linkedin.com/in/zoe-mueller/")
EVE = ("person", "eve@evil.example", "linkedin:https://www.linkedin.com/in/eve-m")
SAM = ("person", None, "linkedin:https://www.linkedin.com/in/samsolo")
BOB = ("person", "bob@@nowhere", None)
FORMULA = "=cmd|' /C calc'!A0"


def knows(line: int, who: tuple[Any, ...], since: datetime) -> tuple[Any, ...]:
    return ("link", line, "KNOWS", ME, who, {"source": "linkedin", "since": since})


# line -> what the reader yields for it (Connections.csv, current export with its preamble)
EXPECTED: dict[int, list[tuple[Any, ...]]] = {
    0: [("node", 0, ME, {"name": "Me Myself"})],  # the owner, once: from --owner, no row
    5: [("node", 5, ENGINES, {"name": "Analytical Engines Ltd"}),
        ("node", 5, ADA, {"name": "Ada Lovelace", "title": "Founder & CTO",
                          "linkedin_url": "https://www.linkedin.com/in/ada-lovelace-1815"}),
        ("link", 5, "WORKS_AT", ADA, ("company", None, "Analytical Engines Ltd"),
         {"title": "Founder & CTO"}),
        knows(5, ADA, utc(2024, 11, 12))],
    6: [("node", 6, ("company", None, "US Navy"), {"name": "US Navy"}),
        ("node", 6, GRACE, {"name": "Grace Hopper", "title": "Rear Admiral, Computing",
                            "linkedin_url": "https://www.linkedin.com/in/gracehopper"}),
        ("link", 6, "WORKS_AT", GRACE, ("company", None, "US Navy"),
         {"title": "Rear Admiral, Computing"}),
        knows(6, GRACE, utc(2023, 1, 3))],
    7: [("node", 7, ("company", None, "Globex"), {"name": "Globex"}),  # utm_source dropped
        ("node", 7, RAJ, {"name": "Raj Patel", "title": "VP Sales",
                          "linkedin_url": "https://www.linkedin.com/in/raj-patel-7b1a2c"}),
        ("link", 7, "WORKS_AT", RAJ, ("company", None, "Globex"), {"title": "VP Sales"}),
        knows(7, RAJ, utc(2023, 3, 15))],
    8: [("bad", 8, "URL")],  # no URL, no e-mail
    9: [("node", 9, ("company", None, "Bücher GmbH"), {"name": "Bücher GmbH"}),
        ("node", 9, ZOE, {"name": "Zoë Müller", "title": "Leiterin Vertrieb",
                          "linkedin_url": "https://de.linkedin.com/in/zoe-mueller/"}),
        ("link", 9, "WORKS_AT", ZOE, ("company", None, "Bücher GmbH"),
         {"title": "Leiterin Vertrieb"}),
        knows(9, ZOE, utc(2024, 2, 28))],
    10: [("bad", 10, "Connected On")],  # "31 Foo 2023"
    11: [("node", 11, ("company", None, FORMULA), {"name": FORMULA}),  # inert text
         ("node", 11, EVE, {"name": "Eve Mallory", "title": "Hacker",
                            "linkedin_url": "https://www.linkedin.com/in/eve-m"}),
         ("link", 11, "WORKS_AT", EVE, ("company", None, FORMULA), {"title": "Hacker"}),
         knows(11, EVE, utc(2024, 2, 2))],
    12: [("node", 12, SAM, {"name": "Sam Solo",
                            "linkedin_url": "https://www.linkedin.com/in/samsolo"}),
         knows(12, SAM, utc(2024, 6, 20))],  # no company: no Company, no WORKS_AT
    13: [("node", 13, ("company", None, "Acme"), {"name": "Acme"}),
         ("node", 13, BOB, {"name": "Bob Broken", "title": "Engineer"}),  # raw bad e-mail
         ("link", 13, "WORKS_AT", BOB, ("company", None, "Acme"), {"title": "Engineer"}),
         knows(13, BOB, utc(2024, 5, 5))],
}


@pytest.fixture(scope="module")
def current() -> list[tuple[Any, ...]]:
    return run(FIX / "Connections.csv")


@pytest.mark.parametrize("line", sorted(EXPECTED))
def test_current_export(current: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in current if b[1] == line] == EXPECTED[line]


def test_current_export_has_nothing_else(current: list[tuple[Any, ...]]) -> None:
    assert {b[1] for b in current} == set(EXPECTED)


def test_snapshot_moment_is_the_latest_connection_and_is_noted() -> None:
    ctx = ReadContext("linkedin", owner=OWNER)
    items = list(linkedin.read(FIX / "Connections.csv", ctx))
    moments = {i.observed_at for i in items if isinstance(i, Node | Link)}
    assert moments == {OBSERVED}
    assert any("latest Connected On" in n for n in ctx.notes)


def test_observed_at_option_wins() -> None:
    given_at = utc(2025, 1, 1)
    ctx = ReadContext("linkedin", owner=OWNER, observed_at=given_at)
    items = list(linkedin.read(FIX / "Connections.csv", ctx))
    assert {i.observed_at for i in items if isinstance(i, Node | Link)} == {given_at}
    assert any("--observed-at" in n for n in ctx.notes)


@pytest.mark.parametrize(("name", "expected"), [
    ("Connections_2019.csv", [  # no preamble, no URL column
        ("node", 0, ME, {"name": "Me Myself"}),
        ("node", 2, ENGINES, {"name": "Analytical Engines Ltd"}),
        ("node", 2, ("person", "ada@analytical.example", None),
         {"name": "Ada Lovelace", "title": "Founder"}),
        ("link", 2, "WORKS_AT", ("person", "ada@analytical.example", None),
         ("company", None, "Analytical Engines Ltd"), {"title": "Founder"}),
        knows(2, ("person", "ada@analytical.example", None), utc(2019, 11, 12)),
        ("bad", 3, "URL"),
        ("node", 4, ("company", None, "Globex"), {"name": "Globex"}),
        ("node", 4, ("person", "raj@globex.example", None),
         {"name": "Raj Patel", "title": "Account Executive"}),
        ("link", 4, "WORKS_AT", ("person", "raj@globex.example", None),
         ("company", None, "Globex"), {"title": "Account Executive"}),
        knows(4, ("person", "raj@globex.example", None), utc(2018, 3, 15)),
    ]),
    ("Connections_no_email.csv", [  # preamble, no Email Address column
        ("node", 0, ME, {"name": "Me Myself"}),
        *[b for b in EXPECTED[5] if b[0] != "bad"],
        *EXPECTED[6],
    ]),
])
def test_older_layouts(name: str, expected: list[tuple[Any, ...]]) -> None:
    got = run(FIX / name)
    if name == "Connections_no_email.csv":  # the same people, named by their profile only
        ada_url = ("person", None, ADA[2])
        expected = [tuple(ada_url if x == ADA else x for x in b) for b in expected]
    assert got == expected


# --- bad input --------------------------------------------------------------------------


def _rewrite(text: str, delimiter: str) -> str:
    """The file with another delimiter from the header on (the preamble kept as it is)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("First Name"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in csv.reader(lines[start:]):
        writer.writerow(row)
    return "".join(lines[:start]) + out.getvalue()


@pytest.mark.parametrize("variant", ["utf-8-sig", "utf-16", "cp1252", ";", "\t", "crlf"])
def test_encodings_and_delimiters_read_the_same(variant: str, tmp_path: Path,
                                                current: list[tuple[Any, ...]]) -> None:
    text = (FIX / "Connections.csv").read_text(encoding="utf-8")
    p = tmp_path / "Connections.csv"
    if variant in (";", "\t"):
        p.write_text(_rewrite(text, variant), encoding="utf-8")
    elif variant == "crlf":
        p.write_bytes(text.replace("\n", "\r\n").encode())
    else:
        p.write_bytes(text.encode(variant))
    assert run(p) == current


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "Connections.csv"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(("text", "error"), [
    ("", "empty"),
    ("Last Name,URL,Company\nLovelace,https://www.linkedin.com/in/a,X\n", "First Name"),
    ("First Name,Last Name,Company,Position,Connected On\nAda,L,X,Y,15 Mar 2023\n",
     "URL or Email Address"),
])
def test_whole_file_errors_come_before_any_record(tmp_path: Path, text: str, error: str) -> None:
    items = linkedin.read(_write(tmp_path, text), ReadContext("linkedin", owner=OWNER))
    with pytest.raises(ConnectorError, match=error):
        next(items)


def test_missing_columns_is_one_clear_error(tmp_path: Path) -> None:
    p = _write(tmp_path, "Surname,URL\nL,https://www.linkedin.com/in/a\n")
    with pytest.raises(MissingColumns, match="'First Name'.*Nothing was loaded"):
        list(linkedin.read(p, ReadContext("linkedin", owner=OWNER)))


def test_duplicate_used_column_is_an_error_unused_is_not(tmp_path: Path) -> None:
    header = "First Name,Last Name,URL,Company,Company,Connected On\n"
    p = _write(tmp_path, header + "A,B,https://www.linkedin.com/in/ab,X,Y,15 Mar 2023\n")
    with pytest.raises(DuplicateColumn):
        list(linkedin.read(p, ReadContext("linkedin", owner=OWNER)))
    header = "First Name,Last Name,URL,Notes,Notes,Connected On\n"
    p = _write(tmp_path, header + "A,B,https://www.linkedin.com/in/ab,x,y,15 Mar 2023\n")
    assert [b[0] for b in run(p)] == ["node", "node", "link"]


def test_needs_an_owner() -> None:
    with pytest.raises(MissingOption, match="--owner"):
        next(linkedin.read(FIX / "Connections.csv", ReadContext("linkedin")))


def test_no_date_anywhere_needs_observed_at(tmp_path: Path) -> None:
    p = _write(tmp_path, "First Name,Last Name,URL,Connected On\nA,B,https://x.example/in/a,\n")
    with pytest.raises(MissingOption, match="--observed-at"):
        next(linkedin.read(p, ReadContext("linkedin", owner=OWNER)))
    ok = run(p, observed_at=utc(2024, 1, 1))
    assert ok[-1] == ("link", 2, "KNOWS", ME, ("person", None, "linkedin:https://x.example/in/a"),
                      {"source": "linkedin"})


def test_bad_url_without_email_is_a_bad_line_with_email_it_loads(tmp_path: Path) -> None:
    p = _write(tmp_path, "First Name,Last Name,URL,Email Address,Connected On\n"
                         "A,B,mailto:x,,15 Mar 2023\n"
                         "C,D,mailto:y,c@d.example,15 Mar 2023\n")
    got = run(p)
    assert got[1] == ("bad", 2, "URL")
    assert got[2] == ("node", 3, ("person", "c@d.example", None), {"name": "C D"})


def test_huge_field_is_one_bad_line_and_the_rest_loads(tmp_path: Path) -> None:
    p = _write(tmp_path, "First Name,Last Name,URL,Company,Position,Connected On\n"
                         f"A,B,https://www.linkedin.com/in/ab,X,{'p' * (1 << 21)},15 Mar 2023\n"
                         "C,D,https://www.linkedin.com/in/cd,,,16 Mar 2023\n")
    got = run(p)
    assert got[1] == ("bad", 2, "Position")
    assert [b[1] for b in got[2:]] == [3, 3]


def test_naive_dates_are_read_in_the_timezone() -> None:
    from connectors.dates import TimeReader, zone

    ctx = ReadContext("linkedin", owner=OWNER, clock=TimeReader(zone("Europe/Paris")))
    items = list(linkedin.read(FIX / "Connections.csv", ctx))
    since = [i.props["since"] for i in items if isinstance(i, Link) and i.type == "KNOWS"]
    assert since[0] == utc(2024, 11, 11, 23)
    assert ctx.clock.naive == len(since)  # the pre-pass is not counted


def test_registered_and_documented() -> None:
    assert source("linkedin") is linkedin.SOURCE
    assert linkedin.SOURCE.needs_owner and linkedin.SOURCE.snapshot
    assert doctest.testmod(linkedin).failed == 0
    assert (ROOT / "docs" / "sources" / "linkedin.md").is_file()


# --- random input never crashes ---------------------------------------------------------


def _read_all(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "Connections.csv"
        p.write_bytes(data)
        try:
            for item in linkedin.read(p, ReadContext("linkedin", owner=OWNER)):
                assert isinstance(item, Node | Link | BadLine)
        except ConnectorError:
            pass  # whole-file errors are allowed, before anything is yielded


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    _read_all(data)
    _read_all(b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n" + data)


_cell = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cell, min_size=0, max_size=9), max_size=8))
def test_random_rows_never_crash(rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
                     "Connected On"])
    writer.writerows(rows)
    _read_all(out.getvalue().encode("utf-8"))
