"""The `csv` source: any CSV with a TOML mapping; the mapping's validation; customer tables."""

from __future__ import annotations

import contextlib
import csv
import doctest
import io
import re
import tempfile
import textwrap
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors import mapped_csv
from connectors.csvio import DuplicateColumn, MissingColumns
from connectors.dates import TimeReader, zone
from connectors.errors import BadLine, ConnectorError
from connectors.mapped_csv import MappingError, number, validate_mapping
from connectors.records import CompanyRef, CustomerRef, Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext, source
from tests.conftest import ROOT

FIX = ROOT / "fixtures" / "csv"
TELCO = FIX / "telco_churn.csv"
SAAS = FIX / "saas_accounts.csv"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def mapping_of(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.with_suffix(".toml").read_text(encoding="utf-8"))


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


def run(path: Path, mapping: dict[str, Any] | None = None, **kw: Any) -> list[tuple[Any, ...]]:
    ctx = ReadContext("csv", mapping=mapping if mapping is not None else mapping_of(path), **kw)
    return [brief(i) for i in mapped_csv.read(path, ctx)]


def subscriber(line: int, cid: str, props: dict[str, Any],
               attributes: dict[str, str]) -> list[tuple[Any, ...]]:
    person = ("person", None, f"telco:{cid}")
    return [("node", line, person, {}),
            ("node", line, ("customer", person), {**props, "attributes": attributes})]


def attrs(gender: str, senior: str, internet: str, payment: str) -> dict[str, str]:
    return {"gender": gender, "senior_citizen": senior, "internet_service": internet,
            "payment_method": payment}


TELCO_ROWS: dict[int, list[tuple[Any, ...]]] = {
    2: subscriber(2, "1024-QWERT", {"contract": "Month-to-month", "mrr": 29.85,
                                    "tenure_months": 1.0, "total_spent": 29.85,
                                    "churned": False, "status": "active"},
                  attrs("Female", "0", "DSL", "Electronic check")),
    3: subscriber(3, "2048-ASDFG", {"contract": "One year", "mrr": 56.95, "tenure_months": 34.0,
                                    "total_spent": 1889.5, "churned": False, "status": "active"},
                  attrs("Male", "0", "DSL", "Mailed check")),
    4: subscriber(4, "4096-ZXCVB", {"contract": "Month-to-month", "mrr": 70.7,
                                    "tenure_months": 2.0, "total_spent": 151.65,
                                    "churned": True, "status": "churned"},
                  attrs("Male", "1", "Fiber optic", "Electronic check")),
    5: subscriber(5, "8192-POIUY", {"contract": "Two year", "mrr": 80.85,  # TotalCharges " "
                                    "tenure_months": 0.0, "churned": False, "status": "active"},
                  attrs("Female", "0", "DSL", "Bank transfer (automatic)")),
    6: [("bad", 6, "MonthlyCharges")],  # "abc"
    7: [("bad", 7, "Churn")],  # "Maybe"
    8: [("bad", 8, "customerID")],  # no id: whose account?
}

ACME = ("company", "https://www.acme.example", "Acme Corporation")
GLOBEX = ("company", "globex.example", "Globex")
INITECH = ("company", "initech.example", "Initech")
ADA = ("person", "ada@acme.example", None)
RAJ = ("person", "raj@globex.example", None)
SAAS_ROWS: dict[int, list[tuple[Any, ...]]] = {
    2: [("node", 2, ACME, {"name": "Acme Corporation"}),
        ("node", 2, ADA, {"name": "Ada Lovelace", "title": "CTO"}),
        ("link", 2, "WORKS_AT", ADA, ACME, {"title": "CTO"}),
        ("node", 2, ("customer", ACME),
         {"name": "Acme Corporation", "plan": "Enterprise", "currency": "EUR", "mrr": 1200.0,
          "started": utc(2023, 6, 1), "renews": utc(2025, 5, 31), "churned": False,
          "status": "active", "attributes": {"seats": "120", "region": "EMEA"}})],
    3: [("node", 3, GLOBEX, {"name": "Globex"}),
        ("node", 3, RAJ, {"name": "Raj Patel", "title": "VP Sales"}),
        ("link", 3, "WORKS_AT", RAJ, GLOBEX, {"title": "VP Sales"}),
        ("node", 3, ("customer", GLOBEX),
         {"name": "Globex", "plan": "Team", "currency": "EUR", "mrr": 99.0,
          "started": utc(2024, 1, 15), "renews": utc(2025, 1, 14), "churned": False,
          "status": "trial", "attributes": {"seats": "5", "region": "APAC"}})],  # "trialing"
    4: [("node", 4, INITECH, {"name": "Initech"}),  # no admin: no person
        ("node", 4, ("customer", INITECH),
         {"name": "Initech", "plan": "Team", "currency": "EUR", "mrr": 49.0,
          "started": utc(2023, 2, 1), "renews": utc(2024, 1, 31), "churned": True,
          "status": "churned", "attributes": {"seats": "3", "region": "AMER"}})],  # Cancelled
    5: [("bad", 5, "Account")],  # B2B without a company
    6: [("bad", 6, "Start")],  # 2023-13-01 is not %d/%m/%Y
    7: [("bad", 7, "Status")],  # "on hold"
    8: [("bad", 8, "Updated")],  # no observed_at for this row
}
SAAS_OBSERVED = {2: utc(2024, 6, 28), 3: utc(2024, 6, 29), 4: utc(2024, 6, 30)}


@pytest.fixture(scope="module")
def telco() -> list[tuple[Any, ...]]:
    return run(TELCO)


@pytest.fixture(scope="module")
def saas() -> list[tuple[Any, ...]]:
    return run(SAAS)


@pytest.mark.parametrize("line", sorted(TELCO_ROWS))
def test_telco_customer_table(telco: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in telco if b[1] == line] == TELCO_ROWS[line]


@pytest.mark.parametrize("line", sorted(SAAS_ROWS))
def test_b2b_subscription_table(saas: list[tuple[Any, ...]], line: int) -> None:
    assert [b for b in saas if b[1] == line] == SAAS_ROWS[line]


def test_nothing_else_and_no_events(telco: list[tuple[Any, ...]],
                                    saas: list[tuple[Any, ...]]) -> None:
    assert {b[1] for b in telco} == set(TELCO_ROWS)
    assert {b[1] for b in saas} == set(SAAS_ROWS)
    assert {b[0] for b in telco} == {"node", "bad"}  # a customer table needs no events


def test_observed_at_from_mapping_row_or_option() -> None:
    ctx = ReadContext("csv", mapping=mapping_of(TELCO))
    items = list(mapped_csv.read(TELCO, ctx))
    assert {i.observed_at for i in items if isinstance(i, Node)} == {utc(2024, 6, 30)}
    assert any("mapping's observed_at" in n for n in ctx.notes)
    items = list(mapped_csv.read(SAAS, ReadContext("csv", mapping=mapping_of(SAAS))))
    assert {i.line: i.observed_at for i in items if isinstance(i, Node)} == SAAS_OBSERVED
    given_at = utc(2025, 1, 1)
    for path in (TELCO, SAAS):
        ctx = ReadContext("csv", mapping=mapping_of(path), observed_at=given_at)
        items = list(mapped_csv.read(path, ctx))
        assert {i.observed_at for i in items if isinstance(i, Node | Link)} == {given_at}
    # with --observed-at the row's own moment is not needed: line 8 loads
    got = run(SAAS, observed_at=given_at)
    assert [b[0] for b in got if b[1] == 8][:1] == ["node"]


def test_no_moment_at_all_is_one_clear_error() -> None:
    mapping = mapping_of(TELCO)
    del mapping["observed_at"]
    with pytest.raises(MissingOption, match="--observed-at"):
        next(mapped_csv.read(TELCO, ReadContext("csv", mapping=mapping)))


def test_needs_a_mapping() -> None:
    with pytest.raises(MissingOption, match="--mapping"):
        next(mapped_csv.read(TELCO, ReadContext("csv")))


# --- the mapping ------------------------------------------------------------------------

BASE: dict[str, Any] = {"customer": True, "accounts": "person", "observed_at": "2024-06-30",
                        "columns": {"id": "customerID"}}


def _with(**changes: Any) -> dict[str, Any]:
    mapping = {**BASE, "columns": dict(BASE["columns"])}
    for key, value in changes.items():
        if key.startswith("columns__"):
            mapping["columns"][key.removeprefix("columns__")] = value
        elif value is None:
            mapping.pop(key, None)
        else:
            mapping[key] = value
    return mapping


@pytest.mark.parametrize(("mapping", "key"), [
    (_with(custmer=True), "custmer"),
    (_with(columns__emial="Email"), "columns.emial"),
    ({"columns": {"email": "Email", "plan": "Plan"}, "observed_at": "2024-01-01"},
     "columns.plan"),
    (_with(accounts="household"), "accounts"),
    ({"accounts": "person", "columns": {"email": "E"}}, "accounts"),
    ({"customer": True, "accounts": "person", "columns": {}}, "columns.email"),
    ({"customer": True, "accounts": "person", "columns": {"company": "C"}}, "columns.email"),
    ({"customer": True, "accounts": "company", "columns": {"email": "E"}}, "columns.company"),
    ({"columns": {"name": "Name", "title": "Title"}}, "columns.email"),
    (_with(columns__plan={"column": "Plan", "format": "%Y"}), "columns.plan.format"),
    (_with(columns__renews={"column": "R", "fmt": "%Y"}), "columns.renews.fmt"),
    (_with(columns__renews={"format": "%Y"}), "columns.renews.column"),
    (_with(columns__email=""), "columns.email"),
    (_with(columns__email=3), "columns.email"),
    (_with(columns="id"), "columns"),
    (_with(date_format="dd/mm/yyyy"), "date_format"),
    (_with(columns__observed_at="Updated"), "observed_at"),
    (_with(observed_at="last tuesday"), "observed_at"),
    (_with(churned_values="Yes"), "churned_values"),
    ({"columns": {"email": "E"}, "churned_values": ["Yes"]}, "churned_values"),
    ({"columns": {"email": "E"}, "attributes": ["gender"]}, "attributes"),
    (_with(attributes="gender"), "attributes"),
    (_with(attributes={"gender": ""}), "attributes.gender"),
    (_with(source="my telco"), "source"),
    (_with(customer="yes"), "customer"),
    (_with(decimal=";"), "decimal"),
])
def test_a_bad_mapping_names_its_key_before_anything_loads(mapping: dict[str, Any],
                                                           key: str) -> None:
    with pytest.raises(MappingError) as caught:
        next(mapped_csv.read(TELCO, ReadContext("csv", mapping=mapping)))
    assert caught.value.key == key
    assert str(caught.value).startswith(f"mapping: {key}: ")
    assert str(caught.value).endswith("Nothing was loaded.")


def test_default_accounts_follow_the_columns() -> None:
    assert validate_mapping({"customer": True, "columns": {"domain": "W"}}).accounts == "company"
    assert validate_mapping({"customer": True, "columns": {"email": "E"}}).accounts == "person"


def test_the_documented_mappings_are_valid() -> None:
    doc = mapped_csv.__doc__ or ""
    block = doc.split("A full example:\n", 1)[1].split("\nWhat it yields", 1)[0]
    spec = validate_mapping(tomllib.loads(textwrap.dedent(block)))
    assert spec.customer and spec.accounts == "person" and spec.source == "telco"
    assert spec.columns["renews"].format == "%d.%m.%Y"
    assert spec.columns["started"].format == "%m/%d/%Y"  # date_format applies
    md = (ROOT / "docs" / "sources" / "csv.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", md, re.S)
    assert blocks
    for text in blocks:
        validate_mapping(tomllib.loads(text))
    for path in (TELCO, SAAS):
        validate_mapping(mapping_of(path))


def test_a_mapped_column_missing_from_the_file(tmp_path: Path) -> None:
    mapping = _with(columns__mrr="MRR")
    with pytest.raises(MissingColumns, match="'MRR'"):
        next(mapped_csv.read(TELCO, ReadContext("csv", mapping=mapping)))


# --- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "decimal", "value"), [
    ("29.85", ".", 29.85), ("1,200.50", ".", 1200.5), ("$99", ".", 99.0), (" 42 ", ".", 42.0),
    ("€ 1 200", ".", 1200.0), ("1.200,50", ",", 1200.5), ("7,5", ",", 7.5),
    ("1.200", ",", 1200.0), ("-3", ".", -3.0),
])
def test_numbers(text: str, decimal: str, value: float) -> None:
    assert number(text, decimal) == value


@pytest.mark.parametrize(("text", "decimal"), [
    ("abc", "."), ("7,5", "."), ("1.2.3", "."), ("nan", "."), ("inf", "."), ("1,200.5", ","),
    ("", "."),
])
def test_not_numbers(text: str, decimal: str) -> None:
    with pytest.raises(ValueError):
        number(text, decimal)


def _table(tmp_path: Path, header: str, *rows: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(("churn", "churned_values", "expected"), [
    ("Yes", None, (True, "churned")), ("no", None, (False, "active")),
    ("TRUE", None, (True, "churned")), ("0", None, (False, "active")),
    ("y", None, (True, "churned")), ("", None, (None, "active")),
    ("Maybe", None, None), ("Lost", ["lost"], (True, "churned")),
    ("Kept", ["lost"], (False, "active")),
])
def test_churn_flags(tmp_path: Path, churn: str, churned_values: list[str] | None,
                     expected: tuple[bool | None, str] | None) -> None:
    mapping = _with(columns__churned="Churn")
    if churned_values:
        mapping["churned_values"] = churned_values
    got = run(_table(tmp_path, "customerID,Churn", f"1,{churn}"), mapping)
    if expected is None:
        assert got == [("bad", 2, "Churn")]
        return
    props = got[-1][3]
    assert (props.get("churned"), props["status"]) == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("Active", "active"), ("trialing", "trial"), ("Trial", "trial"), ("past_due", "active"),
    ("Paused", "paused"), ("canceled", "churned"), ("Cancelled", "churned"),
    ("churned", "churned"), ("Past Due", "active"), ("deleted", None),
])
def test_statuses(tmp_path: Path, status: str, expected: str | None) -> None:
    got = run(_table(tmp_path, "customerID,Status", f"1,{status}"),
              _with(columns__status="Status"))
    if expected is None:
        assert got == [("bad", 2, "Status")]
    else:
        assert got[-1][3] == {"status": expected, "churned": expected == "churned"}


def test_a_churn_date_alone_means_churned(tmp_path: Path) -> None:
    got = run(_table(tmp_path, "customerID,Ended", "1,2024-05-01", "2,"),
              _with(columns__churned_at="Ended"))
    assert got[1][3] == {"churned_at": utc(2024, 5, 1), "status": "churned"}
    assert got[3][3] == {"status": "active"}


def test_dates_with_formats_and_time_zone(tmp_path: Path) -> None:
    mapping = _with(date_format="%d/%m/%Y", columns__started="Start",
                    columns__renews={"column": "Renews", "format": "%Y%m%d"},
                    columns__last_order_at="Last")
    p = _table(tmp_path, "customerID,Start,Renews,Last", "1,05/03/2024,20250304,05/03/2024 10:00")
    ctx = ReadContext("csv", mapping=mapping, clock=TimeReader(zone("Europe/Paris")))
    items = list(mapped_csv.read(p, ctx))
    assert [brief(i) for i in items] == [("bad", 2, "Last")]  # not %d/%m/%Y
    p = _table(tmp_path, "customerID,Start,Renews,Last", "1,05/03/2024,20250304,")
    ctx = ReadContext("csv", mapping=mapping, clock=TimeReader(zone("Europe/Paris")))
    customer = list(mapped_csv.read(p, ctx))[-1]
    assert isinstance(customer, Node)
    assert customer.props["started"] == utc(2024, 3, 4, 23)
    assert customer.props["renews"] == utc(2025, 3, 3, 23)
    assert ctx.clock.naive == 2


def test_orders_must_be_whole(tmp_path: Path) -> None:
    mapping = _with(columns__orders="Orders")
    got = run(_table(tmp_path, "customerID,Orders", "1,3", "2,2.5"), mapping)
    assert got[1][3]["orders"] == 3
    assert got[2] == ("bad", 3, "Orders")


def test_a_people_table_without_customers(tmp_path: Path) -> None:
    mapping = {"source": "crm", "observed_at": "2024-06-30",
               "columns": {"email": "E-mail", "first_name": "First", "last_name": "Last",
                           "company": "Org", "domain": "Web", "title": "Role", "id": "Key"}}
    p = _table(tmp_path, "Key,First,Last,E-mail,Org,Web,Role",
               "k1,Ada,Lovelace,Ada@Acme.example,Acme,acme.example,CTO",
               "k2,,,,,,",
               "k3,Bob,,bob@@x,,,")
    ada = ("person", "Ada@Acme.example", "crm:k1")
    acme = ("company", "acme.example", "Acme")
    assert run(p, mapping) == [
        ("node", 2, acme, {"name": "Acme"}),
        ("node", 2, ada, {"name": "Ada Lovelace", "title": "CTO"}),
        ("link", 2, "WORKS_AT", ada, acme, {"title": "CTO"}),
        ("node", 3, ("person", None, "crm:k2"), {}),
        ("node", 4, ("person", "bob@@x", "crm:k3"), {"name": "Bob"}),  # raw e-mail kept
    ]


def test_formula_strings_stay_text(tmp_path: Path) -> None:
    mapping = _with(columns__plan="Plan", attributes=["Note"])
    got = run(_table(tmp_path, "customerID,Plan,Note", "1,=1+2,\"=cmd|' /C calc'!A0\""),
              mapping)
    assert got[-1][3]["plan"] == "=1+2"
    assert got[-1][3]["attributes"] == {"Note": "=cmd|' /C calc'!A0"}


# --- bad input --------------------------------------------------------------------------


def _rewrite(text: str, delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(
        csv.reader(io.StringIO(text)))
    return out.getvalue()


@pytest.mark.parametrize("variant", ["utf-8-sig", "utf-16", "cp1252", ";", "\t", "|", "crlf"])
def test_encodings_and_delimiters_read_the_same(variant: str, tmp_path: Path,
                                                telco: list[tuple[Any, ...]]) -> None:
    text = TELCO.read_text(encoding="utf-8")
    p = tmp_path / "telco.csv"
    if variant in (";", "\t", "|"):
        p.write_text(_rewrite(text, variant), encoding="utf-8")
    elif variant == "crlf":
        p.write_bytes(text.replace("\n", "\r\n").encode())
    else:
        p.write_bytes(text.encode(variant))
    assert run(p, mapping_of(TELCO)) == telco


def test_latin1_cells(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes("customerID,Plan\n1,Übergröße\n".encode("cp1252"))
    assert run(p, _with(columns__plan="Plan"))[-1][3]["plan"] == "Übergröße"


@pytest.mark.parametrize(("text", "error"), [
    ("", ConnectorError),
    ("customerID,customerID,Churn\n1,2,No\n", DuplicateColumn),
    ("Name,Churn\nA,No\n", MissingColumns),
])
def test_whole_file_errors_come_before_any_record(tmp_path: Path, text: str,
                                                  error: type[Exception]) -> None:
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(error):
        next(mapped_csv.read(p, ReadContext("csv", mapping=BASE)))


def test_huge_field_is_one_bad_line_and_the_rest_loads(tmp_path: Path) -> None:
    p = _table(tmp_path, "customerID,Plan", f"1,{'p' * (1 << 21)}", "2,Team")
    got = run(p, _with(columns__plan="Plan"))
    assert got[0] == ("bad", 2, "Plan")
    assert got[-1][3] == {"plan": "Team", "status": "active"}


def test_registered_and_documented() -> None:
    assert source("csv") is mapped_csv.SOURCE
    assert mapped_csv.SOURCE.needs_mapping and mapped_csv.SOURCE.snapshot
    assert doctest.testmod(mapped_csv).failed == 0


# --- random input never crashes ---------------------------------------------------------


def _read_all(data: bytes, mapping: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.csv"
        p.write_bytes(data)
        try:
            for item in mapped_csv.read(p, ReadContext("csv", mapping=mapping)):
                assert isinstance(item, Node | Link | BadLine)
        except ConnectorError:
            pass  # whole-file errors are allowed, before anything is yielded


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
@example(b"\x00\x00\x01")  # UTF-16 cut inside a character
def test_random_bytes_never_crash(data: bytes) -> None:
    _read_all(data, mapping_of(TELCO))
    header = TELCO.read_bytes().split(b"\n", 1)[0]
    _read_all(header + b"\n" + data, mapping_of(TELCO))


_cell = st.one_of(st.text(st.characters(blacklist_categories=["Cs"]), max_size=20),
                  st.sampled_from(["Yes", "No", "29.85", "1,200.50", "", " ", "30/06/2024",
                                   "a@b.example", "Active", "acme.example"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([TELCO, SAAS]), st.lists(st.lists(_cell, max_size=22), max_size=8))
def test_random_rows_never_crash(path: Path, rows: list[list[str]]) -> None:
    header = path.read_text(encoding="utf-8").split("\n", 1)[0]
    delimiter = ";" if path == SAAS else ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header.split(delimiter))
    writer.writerows(rows)
    _read_all(out.getvalue().encode("utf-8"), mapping_of(path))


_toml_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
              st.sampled_from(["Email", "customerID", "%d/%m/%Y", "person", "company"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
_keys = st.sampled_from([*mapped_csv.TOP_KEYS, *mapped_csv.FIELDS, "column", "format", "x"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, st.one_of(_toml_value, st.dictionaries(_keys, _toml_value,
                                                                      max_size=4)), max_size=6))
def test_random_mappings_are_valid_or_one_mapping_error(raw: dict[str, Any]) -> None:
    with contextlib.suppress(MappingError):
        validate_mapping(raw)
