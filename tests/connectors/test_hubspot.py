"""The HubSpot contacts/companies export reader: what it yields and how it meets bad input."""

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

from connectors import hubspot
from connectors.csvio import DuplicateColumn, MissingColumns
from connectors.dates import TimeReader, zone
from connectors.errors import BadLine, ConnectorError
from connectors.records import CompanyRef, CustomerRef, Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext, source
from tests.conftest import ROOT

FIX = ROOT / "fixtures" / "hubspot"
CONTACTS = FIX / "hubspot-crm-exports-all-contacts-2024-03-06.csv"
COMPANIES = FIX / "hubspot-crm-exports-all-companies-2024-03-06.csv"
OBSERVED = datetime(2024, 3, 5, 14, 22, tzinfo=UTC)  # the latest Last Modified Date in both


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
    return [brief(i) for i in hubspot.read(path, ReadContext("hubspot", **kw))]


ACME = ("company", "https://www.acme.example", "Acme Corporation")  # the associated company
GLOBEX = ("company", "globex.example", "Globex")
INITECH = ("company", None, "Initech")
ADA = ("person", "ada@acme.example", "hubspot:51")
RAJ = ("person", "raj@globex.example", "hubspot:52")
MIA = ("person", "mia.wong@gmail.com", "hubspot:53")
EVE = ("person", "not-an-email", "hubspot:57")  # the raw e-mail, for the resolver to reject
OLA = ("person", "ola@initech.example", "hubspot:58")
HYPERLINK = '=HYPERLINK("http://evil.example","click")'

CONTACT_ROWS: dict[int, list[tuple[Any, ...]]] = {
    2: [("node", 2, ACME, {"name": "Acme Corporation", "website": "https://www.acme.example",
                           "customer": True}),
        ("node", 2, ADA, {"name": "Ada Lovelace", "title": "CTO", "phone": "+44 20 7946 0000",
                          "location": "London, United Kingdom"}),
        ("link", 2, "WORKS_AT", ADA, ACME, {"title": "CTO"}),
        ("node", 2, ("customer", ACME), {"name": "Acme Corporation", "status": "active",
                                         "started": utc(2023, 6, 1, 9)})],
    3: [("node", 3, GLOBEX, {"name": "Globex", "website": "globex.example", "prospect": True}),
        ("node", 3, RAJ, {"name": "Raj Patel", "title": "VP Sales"}),
        ("link", 3, "WORKS_AT", RAJ, GLOBEX, {"title": "VP Sales"})],
    4: [("node", 4, MIA, {"name": "Mia Wong", "location": "Singapore, Singapore"}),  # B2C
        ("node", 4, ("customer", MIA), {"name": "Mia Wong", "status": "active",
                                        "started": utc(2021, 5, 5, 12)})],
    5: [("node", 5, ("person", None, "hubspot:54"), {"name": "Tom Nomail", "title": "Analyst"})],
    6: [("bad", 6, "Email")],  # no e-mail, no Record ID
    7: [("bad", 7, "Last Modified Date")],  # "2024-13-45 25:61"
    8: [("node", 8, INITECH, {"name": "Initech", "prospect": True}),  # "opportunity"
        ("node", 8, EVE, {"name": "Eve Mallory", "title": HYPERLINK}),  # inert formula
        ("link", 8, "WORKS_AT", EVE, INITECH, {"title": HYPERLINK})],
    9: [("node", 9, ("company", "initech.example", "Initech"),  # "Initech;Initrode"
         {"name": "Initech", "website": "initech.example", "prospect": True}),
        ("node", 9, OLA, {"name": "Ola Nordmann", "title": "Engineer",
                          "location": "Oslo, Norway"}),
        ("link", 9, "WORKS_AT", OLA, ("company", "initech.example", "Initech"),
         {"title": "Engineer"})],
}
ACME_CO = ("company", "acme.example", "Acme Corporation")
COMPANY_ROWS: dict[int, list[tuple[Any, ...]]] = {
    2: [("node", 2, ACME_CO, {"name": "Acme Corporation", "domain": "acme.example",
                              "website": "https://www.acme.example",
                              "industry": "COMPUTER_SOFTWARE", "size": "1200",
                              "country": "United Kingdom", "customer": True}),
        ("node", 2, ("customer", ACME_CO), {"name": "Acme Corporation", "status": "active",
                                            "started": utc(2023, 6, 1, 9)})],
    3: [("node", 3, ("company", "globex.example", "Globex"),
         {"name": "Globex", "domain": "globex.example", "website": "https://globex.example",
          "industry": "Manufacturing", "size": "250", "country": "United States",
          "prospect": True})],
    4: [("node", 4, ("company", "http://umbrella.example/", "Umbrella Supplies"),
         {"name": "Umbrella Supplies", "website": "http://umbrella.example/", "vendor": True})],
    5: [("bad", 5, "Company name")],
    6: [("node", 6, ("company", "hooli.example", "Hooli"),  # "lots": the store rejects it
         {"name": "Hooli", "domain": "hooli.example", "size": "lots"})],
    7: [("bad", 7, "Became a Customer Date")],
}


@pytest.fixture(scope="module")
def contacts() -> list[tuple[Any, ...]]:
    return run(CONTACTS)


@pytest.fixture(scope="module")
def companies() -> list[tuple[Any, ...]]:
    return run(COMPANIES)


@pytest.mark.parametrize("line", sorted(CONTACT_ROWS))
def test_contacts_export(contacts: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in contacts if b[1] == line] == CONTACT_ROWS[line]


@pytest.mark.parametrize("line", sorted(COMPANY_ROWS))
def test_companies_export(companies: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in companies if b[1] == line] == COMPANY_ROWS[line]


def test_nothing_else(contacts: list[tuple[Any, ...]],
                      companies: list[tuple[Any, ...]]) -> None:
    assert {b[1] for b in contacts} == set(CONTACT_ROWS)
    assert {b[1] for b in companies} == set(COMPANY_ROWS)


@pytest.mark.parametrize("path", [CONTACTS, COMPANIES])
def test_snapshot_moment_is_the_latest_modification(path: Path) -> None:
    ctx = ReadContext("hubspot")
    items = list(hubspot.read(path, ctx))
    assert {i.observed_at for i in items if isinstance(i, Node | Link)} == {OBSERVED}
    assert any("latest Last Modified Date" in n for n in ctx.notes)
    given_at = utc(2024, 4, 1)
    items = list(hubspot.read(path, ReadContext("hubspot", observed_at=given_at)))
    assert {i.observed_at for i in items if isinstance(i, Node | Link)} == {given_at}


def test_dates_are_read_in_the_account_time_zone() -> None:
    ctx = ReadContext("hubspot", clock=TimeReader(zone("America/New_York")))
    items = list(hubspot.read(CONTACTS, ctx))
    assert isinstance(items[0], Node)
    assert items[0].observed_at == utc(2024, 3, 5, 19, 22)  # 14:22 EST
    customer = next(i for i in items if isinstance(i, Node) and isinstance(i.ref, CustomerRef))
    assert customer.props["started"] == utc(2023, 6, 1, 13)  # 09:00 EDT


@pytest.mark.parametrize(("label", "internal"), [
    ("Customer", "customer"), ("customer", "customer"), ("Evangelist", "evangelist"),
    ("Marketing Qualified Lead", "marketingqualifiedlead"),
    ("marketingqualifiedlead", "marketingqualifiedlead"),
    ("Sales Qualified Lead", "salesqualifiedlead"), ("Opportunity", "opportunity"),
    ("Lead", "lead"), ("Subscriber", "subscriber"), ("", ""),
])
def test_lifecycle_stage_labels_and_internal_names(label: str, internal: str) -> None:
    assert hubspot.stage(label) == internal


@pytest.mark.parametrize(("stage", "company_flags", "customer"), [
    ("Customer", {"customer": True}, True),
    ("Evangelist", {"customer": True}, True),
    ("Lead", {"prospect": True}, False),
    ("Marketing Qualified Lead", {"prospect": True}, False),
    ("salesqualifiedlead", {"prospect": True}, False),
    ("Opportunity", {"prospect": True}, False),
    ("Subscriber", {}, False),
    ("Other", {}, False),
])
def test_lifecycle_stage_of_a_contact(tmp_path: Path, stage: str, company_flags: dict[str, bool],
                                      customer: bool) -> None:
    p = tmp_path / "c.csv"
    p.write_text('"Record ID","Email","Company Name","Lifecycle Stage","Last Modified Date"\n'
                 f'"1","a@x.example","X","{stage}","2024-01-01 10:00"\n')
    got = run(p)
    assert got[0] == ("node", 2, ("company", None, "X"), {"name": "X", **company_flags})
    assert any(b[2] == ("customer", ("company", None, "X")) for b in got if b[0] == "node") \
        is customer


# --- bad input --------------------------------------------------------------------------


def _rewrite(text: str, delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n",
               quoting=csv.QUOTE_ALL).writerows(csv.reader(io.StringIO(text)))
    return out.getvalue()


@pytest.mark.parametrize("path", [CONTACTS, COMPANIES])
@pytest.mark.parametrize("variant", ["utf-8-sig", "utf-16", "cp1252", ";", "\t", "crlf"])
def test_encodings_and_delimiters_read_the_same(variant: str, path: Path,
                                                tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    p = tmp_path / path.name
    if variant in (";", "\t"):
        p.write_text(_rewrite(text, variant), encoding="utf-8")
    elif variant == "crlf":
        p.write_bytes(text.replace("\n", "\r\n").encode())
    else:
        p.write_bytes(text.encode(variant))
    assert run(p) == run(path)


def test_latin1_names(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_bytes('"Record ID","First Name","Last Name","Email","Last Modified Date"\n'
                  '"1","Zoë","Müller","zoe@x.example","2024-01-01 10:00"\n'.encode("cp1252"))
    assert run(p)[0][3] == {"name": "Zoë Müller"}


@pytest.mark.parametrize(("text", "error", "match"), [
    ("", ConnectorError, "empty"),
    ('"Record ID","Deal Name","Amount"\n"1","Big deal","100"\n', MissingColumns,
     "contacts export.*companies export.*Nothing was loaded"),
    ('"Record ID","Email","Email","Last Modified Date"\n"1","a@x.example","b@x.example",'
     '"2024-01-01 10:00"\n', DuplicateColumn, "'Email' appears 2 times"),
    ('"Record ID","Email","Phone Number"\n"1","a@x.example","+1 555"\n',  # no date at all
     MissingOption, "--observed-at"),
    ('"Record ID","Email","Last Modified Date"\n"1","a@x.example",""\n', MissingOption,
     "--observed-at"),
])
def test_whole_file_errors_come_before_any_record(tmp_path: Path, text: str,
                                                  error: type[Exception], match: str) -> None:
    p = tmp_path / "c.csv"
    p.write_text(text)
    with pytest.raises(error, match=match):
        next(hubspot.read(p, ReadContext("hubspot")))


def test_an_unused_duplicate_column_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text('"Record ID","Email","Notes","Notes","Last Modified Date"\n'
                 '"1","a@x.example","x","y","2024-01-01 10:00"\n')
    assert run(p) == [("node", 2, ("person", "a@x.example", "hubspot:1"), {})]


def test_older_id_column_name(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text('"Contact ID","First Name","Email","Last Modified Date"\n'
                 '"77","Ann","","2024-01-01 10:00"\n')
    assert run(p) == [("node", 2, ("person", None, "hubspot:77"), {"name": "Ann"})]


def test_huge_field_is_one_bad_line_and_the_rest_loads(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text('"Record ID","Email","Job Title","Last Modified Date"\n'
                 f'"1","a@x.example","{"t" * (1 << 21)}","2024-01-01 10:00"\n'
                 '"2","b@x.example","CEO","2024-01-01 10:00"\n')
    got = run(p)
    assert got == [("bad", 2, "Job Title"),
                   ("node", 3, ("person", "b@x.example", "hubspot:2"), {"title": "CEO"})]


def test_registered_and_documented() -> None:
    assert source("hubspot") is hubspot.SOURCE
    assert hubspot.SOURCE.snapshot and not hubspot.SOURCE.needs_owner
    assert doctest.testmod(hubspot).failed == 0
    assert (ROOT / "docs" / "sources" / "hubspot.md").is_file()


# --- random input never crashes ---------------------------------------------------------


def _read_all(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "export.csv"
        p.write_bytes(data)
        try:
            for item in hubspot.read(p, ReadContext("hubspot")):
                assert isinstance(item, Node | Link | BadLine)
        except ConnectorError:
            pass  # whole-file errors are allowed, before anything is yielded


CONTACT_HEADER = next(csv.reader([CONTACTS.read_text(encoding="utf-8").splitlines()[0]]))
COMPANY_HEADER = next(csv.reader([COMPANIES.read_text(encoding="utf-8").splitlines()[0]]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    _read_all(data)
    _read_all(",".join(CONTACT_HEADER).encode() + b"\n" + data)


_cell = st.one_of(st.text(st.characters(blacklist_categories=["Cs"]), max_size=20),
                  st.sampled_from(["Customer", "lead", "2024-03-05 14:22", "3/15/2024",
                                   "a@b.example", "", "evangelist"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(st.lists(_cell, max_size=20), max_size=8))
def test_random_rows_never_crash(companies: bool, rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(COMPANY_HEADER if companies else CONTACT_HEADER)
    writer.writerows(rows)
    _read_all(out.getvalue().encode("utf-8"))
