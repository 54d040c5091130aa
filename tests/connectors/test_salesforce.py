"""The Salesforce contacts/accounts export reader: report exports (with their footer) and the
Data Export API layout, and bad input."""

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

from connectors import salesforce
from connectors.csvio import DuplicateColumn, MissingColumns
from connectors.dates import TimeReader, zone
from connectors.errors import BadLine, ConnectorError
from connectors.records import CompanyRef, CustomerRef, Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext, source
from tests.conftest import ROOT

FIX = ROOT / "fixtures" / "salesforce"
CONTACTS = FIX / "report1710511200000.csv"  # a contacts report, "Export > Details Only"
ACCOUNTS = FIX / "report1710511260000.csv"  # an accounts report
DATA_EXPORT = FIX / "Contact.csv"  # Setup > Data Export: API field names
OBSERVED = datetime(2024, 3, 15, 10, 2, tzinfo=UTC)  # the latest Last Modified Date


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
    return [brief(i) for i in salesforce.read(path, ReadContext("salesforce", **kw))]


ACME = ("company", None, "Acme Corporation")
ADA = ("person", "ada@acme.example", "salesforce:0035e00000AbCdEAAZ")
RAJ = ("person", "raj@globex.example", "salesforce:0035e00000AbCdFAAZ")
WILE = ("person", None, "salesforce:0035e00000AbCdGAAZ")
EVE = ("person", "eve@@initech", "salesforce:0035e00000AbCdIAAZ")

CONTACT_ROWS: dict[int, list[tuple[Any, ...]]] = {
    2: [("node", 2, ACME, {"name": "Acme Corporation", "customer": True}),  # Customer - Direct
        ("node", 2, ADA, {"name": "Ada Lovelace", "title": "CTO", "phone": "+1 415 555 0100",
                          "location": "San Francisco, United States"}),
        ("link", 2, "WORKS_AT", ADA, ACME, {"title": "CTO"}),
        ("node", 2, ("customer", ACME), {"name": "Acme Corporation", "status": "active"})],
    3: [("node", 3, ("company", None, "Globex"), {"name": "Globex", "prospect": True}),
        ("node", 3, RAJ, {"name": "Raj Patel", "title": "VP Sales", "location": "India"}),
        ("link", 3, "WORKS_AT", RAJ, ("company", None, "Globex"), {"title": "VP Sales"})],
    4: [("node", 4, ("company", None, "Acme Rival"), {"name": "Acme Rival", "competitor": True}),
        ("node", 4, WILE, {"name": "Wile E. Coyote", "title": "Genius"}),
        ("link", 4, "WORKS_AT", WILE, ("company", None, "Acme Rival"), {"title": "Genius"})],
    5: [("bad", 5, "Email")],  # no e-mail, no Contact ID
    6: [("bad", 6, "Last Modified Date")],  # 13/45/2024
    7: [("node", 7, ("company", None, "Initech"), {"name": "Initech"}),
        ("node", 7, EVE, {"name": "Eve Mallory", "title": "=1+2"}),  # raw e-mail, inert title
        ("link", 7, "WORKS_AT", EVE, ("company", None, "Initech"), {"title": "=1+2"})],
    # lines 8-14: the report's footer, skipped
}


def _account(line: int, domain: str, name: str, props: dict[str, Any],
             customer: bool = False) -> list[tuple[Any, ...]]:
    company = ("company", domain, name)
    out: list[tuple[Any, ...]] = [("node", line, company, {"name": name, "website": domain,
                                                           **props})]
    if customer:
        out.append(("node", line, ("customer", company), {"name": name, "status": "active"}))
    return out


ACCOUNT_ROWS: dict[int, list[tuple[Any, ...]]] = {
    2: _account(2, "www.acme.example", "Acme Corporation",
                {"industry": "Technology", "size": "1200", "country": "United States",
                 "customer": True}, customer=True),
    3: _account(3, "https://globex.example", "Globex Corporation",
                {"industry": "Manufacturing", "size": "250", "country": "India",
                 "customer": True}, customer=True),  # Customer - Channel
    4: _account(4, "initech.example", "Initech",
                {"industry": "Technology", "country": "United States", "prospect": True}),
    5: _account(5, "acmerival.example", "Acme Rival", {"competitor": True}),
    6: _account(6, "bigpartner.example", "Big Partner Ltd", {"country": "United Kingdom"}),
    7: [("bad", 7, "Account Name")],
}


@pytest.fixture(scope="module")
def contacts() -> list[tuple[Any, ...]]:
    return run(CONTACTS)


@pytest.fixture(scope="module")
def accounts() -> list[tuple[Any, ...]]:
    return run(ACCOUNTS)


@pytest.mark.parametrize("line", sorted(CONTACT_ROWS))
def test_contacts_report(contacts: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in contacts if b[1] == line] == CONTACT_ROWS[line]


@pytest.mark.parametrize("line", sorted(ACCOUNT_ROWS))
def test_accounts_report(accounts: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in accounts if b[1] == line] == ACCOUNT_ROWS[line]


def test_the_footer_is_skipped(contacts: list[tuple[Any, ...]],
                               accounts: list[tuple[Any, ...]]) -> None:
    assert {b[1] for b in contacts} == set(CONTACT_ROWS)
    assert {b[1] for b in accounts} == set(ACCOUNT_ROWS)


def test_data_export_layout() -> None:
    ctx = ReadContext("salesforce")
    got = [brief(i) for i in salesforce.read(DATA_EXPORT, ctx)]
    assert got == [
        ("node", 2, ADA, {"name": "Ada Lovelace", "title": "CTO", "phone": "+1 415 555 0100",
                          "location": "San Francisco, United States"}),
        ("node", 3, WILE, {"name": "Wile E. Coyote", "title": "Genius", "phone": "+1 555 0199"}),
    ]
    assert any("only by Account ID" in n for n in ctx.notes)
    assert ctx.clock.naive == 0  # ISO times with Z


@pytest.mark.parametrize(("account_type", "flags"), [
    ("Customer - Direct", {"customer": True}), ("Customer - Channel", {"customer": True}),
    ("customer", {"customer": True}), ("Prospect", {"prospect": True}),
    ("Competitor", {"competitor": True}), ("Vendor", {"vendor": True}),
    ("Channel Partner / Reseller", {}), ("Installation Partner", {}),
    ("Technology Partner", {}), ("Other", {}), ("", {}), (None, {}),
])
def test_account_types(account_type: str | None, flags: dict[str, bool]) -> None:
    assert salesforce.account_flags(account_type) == flags


@pytest.mark.parametrize("path", [CONTACTS, ACCOUNTS, DATA_EXPORT])
def test_snapshot_moment(path: Path) -> None:
    ctx = ReadContext("salesforce")
    items = list(salesforce.read(path, ctx))
    assert {i.observed_at for i in items if isinstance(i, Node | Link)} == {OBSERVED}
    assert any("latest Last Modified Date" in n for n in ctx.notes)
    given_at = utc(2024, 4, 1)
    items = list(salesforce.read(path, ReadContext("salesforce", observed_at=given_at)))
    assert {i.observed_at for i in items if isinstance(i, Node | Link)} == {given_at}


def test_us_dates_in_the_time_zone() -> None:
    ctx = ReadContext("salesforce", clock=TimeReader(zone("America/Los_Angeles")))
    items = list(salesforce.read(ACCOUNTS, ctx))
    assert isinstance(items[0], Node)
    assert items[0].observed_at == utc(2024, 3, 15, 17, 2)  # 10:02 AM PDT


# --- bad input --------------------------------------------------------------------------


def _rewrite(text: str, delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n",
               quoting=csv.QUOTE_ALL).writerows(csv.reader(io.StringIO(text)))
    return out.getvalue()


@pytest.mark.parametrize("path", [CONTACTS, ACCOUNTS])
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


def test_latin1_export(tmp_path: Path) -> None:
    p = tmp_path / "report.csv"
    p.write_bytes('"First Name","Last Name","Email","Account Name","Last Modified Date"\n'
                  '"Zoë","Müller","zoe@x.example","Bücher GmbH","3/1/2024"\n'.encode("latin-1"))
    assert run(p)[1] == ("node", 2, ("person", "zoe@x.example", None), {"name": "Zoë Müller"})


@pytest.mark.parametrize(("text", "error", "match"), [
    ("", ConnectorError, "empty"),
    ('"Opportunity Name","Amount","Stage"\n"Big","100","Won"\n', MissingColumns,
     "contacts export.*accounts export"),
    ('"First Name","Email","Email","Last Modified Date"\n"A","a@x.example","b@x.example",'
     '"3/1/2024"\n', DuplicateColumn, "'Email'"),
    ('"First Name","Email"\n"A","a@x.example"\n', MissingOption, "--observed-at"),
])
def test_whole_file_errors_come_before_any_record(tmp_path: Path, text: str,
                                                  error: type[Exception], match: str) -> None:
    p = tmp_path / "report.csv"
    p.write_text(text)
    with pytest.raises(error, match=match):
        next(salesforce.read(p, ReadContext("salesforce")))


def test_one_cell_rows_that_are_not_a_footer_are_data(tmp_path: Path) -> None:
    p = tmp_path / "report.csv"
    p.write_text('"Contact Owner","Email","First Name","Last Modified Date"\n'
                 '"","a@x.example","",""\n'
                 '"Jane","b@x.example","B","3/1/2024"\n'
                 '"just a title"\n')
    assert run(p) == [("node", 2, ("person", "a@x.example", None), {}),
                      ("node", 3, ("person", "b@x.example", None), {"name": "B"}),
                      ("bad", 4, "Email")]


def test_huge_field_is_one_bad_line_and_the_rest_loads(tmp_path: Path) -> None:
    p = tmp_path / "report.csv"
    p.write_text('"Email","Title","Last Modified Date"\n'
                 f'"a@x.example","{"t" * (1 << 21)}","3/1/2024"\n'
                 '"b@x.example","CEO","3/1/2024"\n')
    assert run(p) == [("bad", 2, "Title"),
                      ("node", 3, ("person", "b@x.example", None), {"title": "CEO"})]


def test_registered_and_documented() -> None:
    assert source("salesforce") is salesforce.SOURCE
    assert salesforce.SOURCE.snapshot
    assert doctest.testmod(salesforce).failed == 0
    assert (ROOT / "docs" / "sources" / "salesforce.md").is_file()


# --- random input never crashes ---------------------------------------------------------


def _read_all(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "report.csv"
        p.write_bytes(data)
        try:
            for item in salesforce.read(p, ReadContext("salesforce")):
                assert isinstance(item, Node | Link | BadLine)
        except ConnectorError:
            pass  # whole-file errors are allowed, before anything is yielded


CONTACT_HEADER = next(csv.reader([CONTACTS.read_text(encoding="utf-8").splitlines()[0]]))
ACCOUNT_HEADER = next(csv.reader([ACCOUNTS.read_text(encoding="utf-8").splitlines()[0]]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    _read_all(data)
    _read_all(",".join(ACCOUNT_HEADER).encode() + b"\n" + data)


_cell = st.one_of(st.text(st.characters(blacklist_categories=["Cs"]), max_size=20),
                  st.sampled_from(["Customer - Direct", "Prospect", "3/15/2024 10:02 AM",
                                   "a@b.example", "", "Confidential Information - Do Not "
                                   "Distribute"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(st.lists(_cell, max_size=14), max_size=8))
def test_random_rows_never_crash(accounts: bool, rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(ACCOUNT_HEADER if accounts else CONTACT_HEADER)
    writer.writerows(rows)
    _read_all(out.getvalue().encode("utf-8"))
