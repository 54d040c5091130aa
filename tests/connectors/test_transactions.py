"""The transactions reader: flexible columns, exact amounts, refunds, bad inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import transactions
from connectors.csvio import MAX_FIELD, DuplicateColumn, MissingColumns
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.records import CustomerRef, Node, PersonRef, ProductEvent, ReadItem
from connectors.source import ReadContext
from connectors.transactions import parse_amount
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures" / "transactions"


def _read(path: Path, ctx: ReadContext | None = None) -> list[ReadItem]:
    return list(transactions.read(path, ctx or ReadContext("transactions")))


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _summary(item: ReadItem) -> tuple[object, ...]:
    if isinstance(item, ProductEvent):
        assert item.person is not None
        return ("event", item.line, item.id, item.type, item.person.email,
                item.person.source_key, item.properties.get("amount"),
                item.properties.get("currency"))
    if isinstance(item, Node):
        kind = "customer" if isinstance(item.ref, CustomerRef) else "person"
        return (kind, item.line)
    assert isinstance(item, BadLine)
    return ("bad", item.line, item.field)


HASHED = "hashed"
EXPECTED = {
    "transactions.csv": [
        ("person", 2), ("customer", 2),
        ("event", 2, "transactions:ch_3OqK2L", "purchase", "raj.patel@globex.com",
         "transactions:C-1001", "1234.50", "USD"),
        ("person", 3), ("customer", 3),
        ("event", 3, "transactions:ch_3OqK2M", "purchase", "ada@initech.io",
         "transactions:C-1002", "49.00", "USD"),
        ("event", 4, "transactions:re_3OqK2N", "refund", "raj.patel@globex.com",
         "transactions:C-1001", "-200.00", "USD"),
        ("person", 5), ("customer", 5),
        ("event", 5, HASHED, "purchase", None, "transactions:C-1003", "9.99", "EUR"),
        ("person", 6), ("customer", 6),
        ("event", 6, "transactions:ch_3OqK2P", "refund", "not-an-email",
         "transactions:C-1004", "-15.00", "USD"),
        ("bad", 7, "customer_id"),
        ("bad", 8, "date"),
        ("bad", 9, "amount"),
        ("bad", 10, "amount"),
    ],
    "transactions_eu.csv": [
        ("person", 2), ("customer", 2),
        ("event", 2, HASHED, "purchase", "jonas@beispiel.de", "transactions:K-2001",
         "1234.50", "EUR"),
        ("person", 3), ("customer", 3),
        ("event", 3, HASHED, "purchase", "marie@exemple.fr", "transactions:K-2002", "9.99",
         "EUR"),
        ("event", 4, HASHED, "refund", "jonas@beispiel.de", "transactions:K-2001", "-100.00",
         "EUR"),
        ("person", 5), ("customer", 5),
        ("event", 5, HASHED, "purchase", "lars@eksempel.dk", "transactions:K-2003", "1500",
         "DKK"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_fixtures_read_as_the_table_says(name: str) -> None:
    got = [_summary(i) for i in _read(FIXTURES / name)]
    hashed = [g[:2] + (HASHED,) + g[3:] if g[0] == "event" and len(str(g[2])) == 45 else g
              for g in got]
    assert hashed == EXPECTED[name]


def test_fixture_details() -> None:
    ctx = ReadContext("transactions")
    items = _read(FIXTURES / "transactions.csv", ctx)
    raj = PersonRef(email="raj.patel@globex.com", source_key="transactions:C-1001")
    assert items[:2] == [Node(raj, {"email": "raj.patel@globex.com"}, 2),
                         Node(CustomerRef(of=raj), {}, 2)]
    first = items[2]
    assert isinstance(first, ProductEvent)
    assert first.at == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    assert first.account == CustomerRef(of=raj)
    assert first.properties == {"amount": "1234.50", "currency": "USD",
                                "description": "Annual plan - Team", "type": "charge"}
    assert any("'$'" in n for n in ctx.notes)
    bad = {i.line: i.reason for i in items if isinstance(i, BadLine)}
    assert bad[8] == "not a date: '05/02/2026 ??'"
    assert bad[9] == "not an amount: 'twenty'"


def test_ids_are_stable_across_reads() -> None:
    def ids() -> list[str]:
        return [i.id for i in _read(FIXTURES / "transactions_eu.csv")
                if isinstance(i, ProductEvent)]
    assert ids() == ids() and len(set(ids())) == 4


def test_the_eu_file_is_noted() -> None:
    ctx = ReadContext("transactions")
    _read(FIXTURES / "transactions_eu.csv", ctx)
    assert any("decimal comma" in n for n in ctx.notes)


# -- amounts ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "decimal_comma", "value", "currency"), [
    ("12", False, "12", None),
    ("1,234.50", False, "1234.50", None),
    ("1.234,50", False, "1234.50", None),
    ("1.234,50", True, "1234.50", None),
    ("1,234", False, "1234", None),
    ("1,234", True, "1.234", None),
    ("1.234", False, "1.234", None),
    ("1.234", True, "1234", None),
    ("1.234.567", False, "1234567", None),
    ("1,234,567.891", False, "1234567.891", None),
    ("9,99", False, "9.99", None),
    ("0,5", True, "0.5", None),
    (".5", False, "0.5", None),
    ("1 234,50", True, "1234.50", None),
    ("1\u00a0234,50 €", True, "1234.50", "EUR"),
    ("1'234.50", False, "1234.50", None),
    ("$12.00", False, "12.00", "USD"),
    ("€ 9,99", False, "9.99", "EUR"),
    ("£1,000", False, "1000", "GBP"),
    ("12.00 EUR", False, "12.00", "EUR"),
    ("usd 5", False, "5", "USD"),
    ("US$ 5", False, "5", "USD"),
    ("R$ 1.234,56", False, "1234.56", "BRL"),
    ("$12 CAD", False, "12", "CAD"),
    ("12,50 kr", True, "12.50", None),
    ("-12.00", False, "-12.00", None),
    ("+12.00", False, "12.00", None),
    ("- 5", False, "-5", None),
    ("(15.00)", False, "-15.00", None),
    ("($15.00)", False, "-15.00", "USD"),
    ("-$12", False, "-12", "USD"),
    ("$-12", False, "-12", "USD"),
    ("12.00-", False, "-12.00", None),
    ("0.1", False, "0.1", None),
    ("0.30000000000000004", False, "0.30000000000000004", None),
])
def test_amounts_are_read_exactly(text: str, decimal_comma: bool, value: str,
                                  currency: str | None) -> None:
    amount = parse_amount(text, decimal_comma=decimal_comma)
    assert amount.value == Decimal(value) and amount.text == value
    assert amount.currency == currency


@pytest.mark.parametrize(("text", "reason"), [
    ("", "no amount given"), ("   ", "no amount given"), ("abc", "not an amount"),
    ("12.3.4", "separators in the wrong places"), ("1,23.45", "separators in the wrong places"),
    ("1.234,5,6", "separators in the wrong places"), ("(12", "unbalanced parenthesis"),
    ("--12", "more than one sign"), ("-12-", "more than one sign"), ("€12 USD", "two currencies"),
    ("12 XY", "not a currency"), ("1e5", "not an amount"), ("NaN", "not an amount"),
    ("Infinity", "not an amount"), ("=1+1", "not an amount"), ("12 34 $ 5", "not an amount"),
])
def test_bad_amounts_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_amount(text)


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False,
                   allow_infinity=False))
def test_formatted_amounts_round_trip(value: Decimal) -> None:
    us = f"{value:,.2f}"
    eu = us.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert parse_amount(us).value == value
    assert parse_amount(eu, decimal_comma=True).value == value
    assert parse_amount(f"€ {eu}", decimal_comma=True).currency == "EUR"


@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_value_error(text: str) -> None:
    try:
        amount = parse_amount(text)
    except ValueError:
        return
    assert amount.value.is_finite()


# -- columns ---------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    "customer_id,date,amount", "Customer ID,Timestamp,Total", "customer,created_at,value",
    "email,date,amount", "E-mail,Created,Amount", "Email Address,transaction_date,gross",
    "client_id,time,amount",
])
def test_column_aliases(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, f"{header}\nada@acme.com,2026-03-02,10.00\n")
    items = _read(path)
    event = items[-1]
    assert isinstance(event, ProductEvent) and event.properties["amount"] == "10.00"
    assert event.person is not None
    assert "ada@acme.com" in (event.person.email, event.person.source_key.split(":", 1)[1]
                              if event.person.source_key else None)


@pytest.mark.parametrize(("header", "missing"), [
    ("date,amount,currency", "customer_id or email"),
    ("email,amount,currency", "date"),
    ("email,date,currency", "amount"),
])
def test_missing_columns_are_one_error_before_anything(tmp_path: Path, header: str,
                                                       missing: str) -> None:
    path = _write(tmp_path, f"{header}\na,b,c\n")
    with pytest.raises(MissingColumns, match=missing):
        transactions.read(path, ReadContext("transactions"))


def test_a_used_duplicate_column_is_one_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "email,date,amount,amount\na@x.io,2026-03-02,1,2\n")
    with pytest.raises(DuplicateColumn):
        transactions.read(path, ReadContext("transactions"))


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\n", b"\r\n\r\n"])
def test_an_empty_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tx.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile):
        transactions.read(path, ReadContext("transactions"))


@pytest.mark.parametrize(("encoding", "delimiter", "amount", "want"), [
    ("utf-8-sig", ",", '"1,234.50"', "1234.50"),
    ("utf-16", ",", "12.50", "12.50"),
    ("cp1252", ",", "€12.50", "12.50"),
    ("utf-8", "\t", "1,234.50", "1234.50"),
    ("utf-8", ";", "1.234,50", "1234.50"),
    ("utf-8", "|", "12.50", "12.50"),
])
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str, amount: str,
                                  want: str) -> None:
    d = delimiter
    text = (f"email{d}name{d}date{d}amount{d}description\n"
            f"zoe@x.io{d}Zoë Ågren{d}2026-03-02{d}{amount}{d}Crème brûlée\n")
    items = _read(_write(tmp_path, text, encoding))
    person, _, event = items
    assert isinstance(person, Node) and isinstance(event, ProductEvent)
    assert person.props == {"email": "zoe@x.io", "name": "Zoë Ågren"}
    assert event.properties["amount"] == want
    assert event.properties["description"] == "Crème brûlée"


@pytest.mark.parametrize(("row", "field", "reason"), [
    (",,2026-03-02,10,", "customer_id", "no customer id and no e-mail"),
    ("C1,,2026-02-30,10,", "date", "not a date"),
    ("C1,,,10,", "date", "no date given"),
    ("C1,,2026-03-02,,", "amount", "no amount given"),
    ("C1,,2026-03-02,ten,", "amount", "not an amount"),
    ("C1,,2026-03-02,€10,USD", "amount", "the currency column says USD"),
])
def test_bad_rows_are_bad_lines(tmp_path: Path, row: str, field: str, reason: str) -> None:
    path = _write(tmp_path, f"customer_id,email,date,amount,currency\n{row}\n"
                            "C2,,2026-03-02,5,USD\n")
    items = _read(path)
    assert isinstance(items[0], BadLine)
    assert (items[0].line, items[0].field) == (2, field) and reason in items[0].reason
    assert isinstance(items[-1], ProductEvent) and items[-1].line == 3


@pytest.mark.parametrize(("amount", "kind", "typ"), [
    ("10", "purchase", "charge"), ("-10", "refund", "charge"), ("10", "refund", "Refund"),
    ("10", "refund", "chargeback"), ("(10)", "refund", ""), ("0", "purchase", ""),
])
def test_refunds(tmp_path: Path, amount: str, kind: str, typ: str) -> None:
    path = _write(tmp_path, f"email,date,amount,type\na@x.io,2026-03-02,{amount},{typ}\n")
    event = _read(path)[-1]
    assert isinstance(event, ProductEvent) and event.type == kind


def test_currency_column_wins_and_dollars_are_not_guessed_against_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "email,date,amount,currency\na@x.io,2026-03-02,$10,cad\n"
                            "a@x.io,2026-03-03,10,€\n")
    events = [i for i in _read(path) if isinstance(i, ProductEvent)]
    assert [e.properties["currency"] for e in events] == ["CAD", "EUR"]


def test_identical_rows_without_an_id_are_one_transaction(tmp_path: Path) -> None:
    row = "a@x.io,2026-03-02,10\n"
    events = [i for i in _read(_write(tmp_path, "email,date,amount\n" + row * 2 +
                                      "a@x.io,2026-03-02,11\n"))
              if isinstance(i, ProductEvent)]
    assert events[0].id == events[1].id != events[2].id


def test_customers_are_emitted_once(tmp_path: Path) -> None:
    text = "customer_id,date,amount\n" + "C1,2026-03-02,1\n" * 3 + "C2,2026-03-02,1\n"
    nodes = [i for i in _read(_write(tmp_path, text)) if isinstance(i, Node)]
    assert [(type(n.ref).__name__, n.line) for n in nodes] == [
        ("PersonRef", 2), ("CustomerRef", 2), ("PersonRef", 5), ("CustomerRef", 5)]


def test_formula_strings_stay_inert(tmp_path: Path) -> None:
    formula = "=cmd|' /C calc'!A0"
    path = _write(tmp_path, f'email,date,amount,description\n"{formula}",2026-03-02,1,'
                            f'"{formula}"\n')
    event = _read(path)[-1]
    assert isinstance(event, ProductEvent)
    assert event.properties["description"] == formula
    assert event.person == PersonRef(email=formula)


def test_a_huge_field_is_a_bad_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f"email,date,amount,description\na@x.io,2026-03-02,1,"
                            f"{'x' * (MAX_FIELD + 1)}\nb@x.io,2026-03-02,2,ok\n")
    items = _read(path)
    assert isinstance(items[0], BadLine) and items[0].line == 2
    assert isinstance(items[-1], ProductEvent) and items[-1].line == 3


# -- hypothesis ------------------------------------------------------------------------------

def _safe_read(path: Path) -> list[ReadItem]:
    try:
        return _read(path)
    except ConnectorError:
        return []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=500))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"transaction_id,customer_id,email,date,amount,currency,type\n" + data)
    for item in _safe_read(path):
        assert isinstance(item, Node | ProductEvent | BadLine)


_cell = st.text(max_size=12) | st.sampled_from(
    ["C1", "a@x.io", "2026-03-02", "2026-03-02T10:00:00Z", "1,234.50", "(3)", "€ 9,99", "-1",
     "refund", "USD", "", "1.234", "$", "０"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=6, max_size=6), max_size=6),
       delimiter=st.sampled_from([",", ";"]))
def test_random_rows_never_crash(tmp_path: Path, rows: list[list[str]], delimiter: str) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["transaction_id", "customer_id", "email", "date", "amount", "currency"])
    writer.writerows(rows)
    path = _write(tmp_path, out.getvalue())
    for item in _safe_read(path):
        assert isinstance(item, Node | ProductEvent | BadLine)
        if isinstance(item, ProductEvent):
            assert Decimal(item.properties["amount"]).is_finite()
