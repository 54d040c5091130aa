"""The Shopify orders reader: one purchase per order, line items gathered, bad inputs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import shopify
from connectors.csvio import MAX_FIELD, DuplicateColumn, MissingColumns
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.records import CompanyRef, CustomerRef, Node, PersonRef, ProductEvent, ReadItem
from connectors.source import ReadContext
from tests.conftest import ROOT

FIXTURE = ROOT / "fixtures" / "shopify" / "orders_export.csv"
SHORT = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Shipping,"
         "Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
         "Billing Name,Billing Company,Refunded Amount,Cancelled at,Id")
HEADER = SHORT.split(",")


def _read(path: Path, ctx: ReadContext | None = None) -> list[ReadItem]:
    return list(shopify.read(path, ctx or ReadContext("shopify")))


def _csv(tmp_path: Path, rows: list[dict[str, str]], *, header: list[str] = HEADER,
         delimiter: str = ",", encoding: str = "utf-8", name: str = "orders.csv") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _order(name: str, email: str = "ada@acme.com", **fields: str) -> dict[str, str]:
    row = {"Name": name, "Email": email, "Financial Status": "paid",
           "Paid at": "2024-01-05 12:40:00 -0500", "Currency": "USD", "Total": "54.50",
           "Created at": "2024-01-05 12:34:56 -0500", "Lineitem quantity": "1",
           "Lineitem name": "Mug", "Lineitem price": "12.00", "Billing Name": "Ada Lovelace"}
    row.update({k.replace("_", " "): v for k, v in fields.items()})
    return row


def _item(name: str, title: str, email: str = "ada@acme.com") -> dict[str, str]:
    return {"Name": name, "Email": email, "Lineitem quantity": "1", "Lineitem name": title,
            "Lineitem price": "5.00"}


def _events(items: list[ReadItem]) -> list[ProductEvent]:
    return [i for i in items if isinstance(i, ProductEvent)]


# -- the fixture, order by order -------------------------------------------------------------

FIXTURE_ORDERS = [
    # (line, id, at, person e-mail, amount, currency, status, items (name, quantity, price))
    (2, "shopify:#1004", datetime(2024, 1, 9, 21, 2, 11, tzinfo=UTC), None, "19.49", "USD",
     None, [("Ceramic Mug - Sand", 1, "18.00")]),
    (3, "shopify:#1003", datetime(2024, 1, 7, 14, 15, 42, tzinfo=UTC), "raj.patel@globex.com",
     "1152.74", "USD", None,
     [("Standing Desk - Oak / 140cm", 3, "349.00"), ("Monitor Arm - Black", 1, "18.00")]),
    (5, "shopify:#1002", datetime(2024, 1, 6, 13, 30, 5, tzinfo=UTC), "ADA@Initech.io",
     "68.90", "EUR", "partially_refunded",
     [("Notebook A5 - Dotted", 2, "12.00"), ("Fountain Pen - Navy", 1, "40.00")]),
    (7, "shopify:#1001", datetime(2024, 1, 5, 17, 34, 56, tzinfo=UTC),  # voided: Created at
     '=HYPERLINK("http://evil.example","x")@example.com', "30.00", "USD", "voided",
     [("Gift Card $25", 1, "25.00")]),
]


def test_the_fixture_gives_one_purchase_per_order() -> None:
    events = _events(_read(FIXTURE))
    got = [(e.line, e.id, e.at, e.person.email if e.person else None,
            e.properties["amount"], e.properties["currency"], e.properties.get("status"),
            [(i["name"], i["quantity"], i["price"]) for i in e.properties["items"]])
           for e in events]
    assert got == FIXTURE_ORDERS
    assert {e.type for e in events} == {"purchase"}


def test_the_fixture_people_and_customers() -> None:
    items = _read(FIXTURE)
    assert not any(isinstance(i, BadLine) for i in items)
    raj = PersonRef(email="raj.patel@globex.com", name="Raj Patel",
                    company=CompanyRef(name="Globex Corporation"))
    at = datetime(2024, 1, 7, 14, 15, 42, tzinfo=UTC)
    assert items[1:4] == [
        Node(raj, {"email": "raj.patel@globex.com", "name": "Raj Patel",
                   "phone": "+1 217 555 0134", "location": "Springfield, US"}, 3, observed_at=at),
        Node(CustomerRef(of=raj), {"currency": "USD"}, 3, observed_at=at),
        items[3],
    ]
    order = items[3]
    assert isinstance(order, ProductEvent) and order.account == CustomerRef(of=raj)
    assert order.properties == {
        "amount": "1152.74", "currency": "USD", "financial_status": "paid",
        "fulfillment_status": "fulfilled", "subtotal": "1045.00", "shipping": "15.00",
        "taxes": "92.74", "discount_amount": "116.11", "discount_code": "WELCOME10",
        "order_id": "5512345678903",
        "items": [{"name": "Standing Desk - Oak / 140cm", "quantity": 3, "price": "349.00",
                   "sku": "DESK-OAK-140"},
                  {"name": "Monitor Arm - Black", "quantity": 1, "price": "18.00",
                   "sku": "ARM-BLK"}]}
    refunded = _events(items)[2]
    assert refunded.properties["refunded"] == "12.00"
    voided = _events(items)[3]
    assert voided.properties["cancelled_at"] == "2024-01-05T18:00:00+00:00"
    pos = _events(items)[0]  # a point-of-sale order without an e-mail: no customer
    assert pos.person is None and pos.account is None and isinstance(items[0], ProductEvent)


def test_the_fixture_notes_orders_without_email() -> None:
    ctx = ReadContext("shopify")
    _read(FIXTURE, ctx)
    assert any("without an e-mail" in n for n in ctx.notes)


# -- grouping rows into orders ---------------------------------------------------------------

@pytest.mark.parametrize(("rows", "expected"), [
    pytest.param([_order("#1"), _item("#1", "Pen"), _item("#1", "Ink"), _order("#2")],
                 [("shopify:#1", ["Mug", "Pen", "Ink"]), ("shopify:#2", ["Mug"])],
                 id="adjacent"),
    pytest.param([_order("#1"), _item("#1", "Pen", email="")],
                 [("shopify:#1", ["Mug", "Pen"])], id="items without the e-mail repeated"),
    pytest.param([_order("#1", Lineitem_name="", Lineitem_quantity="", Lineitem_price="")],
                 [("shopify:#1", [])], id="no line items"),
    pytest.param([_order("#1"), _order("#2"), _order("#1")],
                 [("shopify:#1", ["Mug"]), ("shopify:#2", ["Mug"]), ("shopify:#1", ["Mug"])],
                 id="a whole order repeated (overlapping exports): same id"),
])
def test_rows_are_gathered_into_orders(tmp_path: Path, rows: list[dict[str, str]],
                                       expected: list[tuple[str, list[str]]]) -> None:
    events = _events(_read(_csv(tmp_path, rows)))
    assert [(e.id, [i["name"] for i in e.properties["items"]]) for e in events] == expected


def test_a_straggling_line_item_is_a_bad_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1"), _order("#2"), _item("#1", "Pen")])
    items = _read(path)
    bad = [i for i in items if isinstance(i, BadLine)]
    assert [(b.line, b.field) for b in bad] == [(4, "Name")]
    assert "must be adjacent" in bad[0].reason
    assert [e.id for e in _events(items)] == ["shopify:#1", "shopify:#2"]


def test_a_repeated_order_is_noted(tmp_path: Path) -> None:
    ctx = ReadContext("shopify")
    _read(_csv(tmp_path, [_order("#1"), _order("#2"), _order("#1")]), ctx)
    assert any("#1 appears twice" in n for n in ctx.notes)


# -- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"Paid_at": "", "Created_at": "yesterday"}, "Created at", "not a date"),
    ({"Paid_at": "31/31/2024 10:00"}, "Paid at", "not a date"),
    ({"Paid_at": "", "Created_at": ""}, "Created at", "no date"),
    ({"Total": "lots"}, "Total", "not an amount"),
    ({"Total": ""}, "Total", "no amount"),
    ({"Subtotal": "1.2.3"}, "Subtotal", "not an amount"),
    ({"Cancelled_at": "soon"}, "Cancelled at", "not a date"),
])
def test_bad_values_are_bad_lines_of_the_order(tmp_path: Path, fields: dict[str, str],
                                               field: str, reason: str) -> None:
    path = _csv(tmp_path, [_order("#9", **fields), _item("#9", "Pen"), _order("#10")])
    items = _read(path)
    assert isinstance(items[0], BadLine)
    assert (items[0].line, items[0].field) == (2, field) and reason in items[0].reason
    assert [e.id for e in _events(items)] == ["shopify:#10"]


def test_paid_at_else_created_at(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1"), _order("#2", Paid_at="", Financial_Status="pending")])
    first, second = _events(_read(path))
    assert first.at == datetime(2024, 1, 5, 17, 40, tzinfo=UTC)
    assert second.at == datetime(2024, 1, 5, 17, 34, 56, tzinfo=UTC)
    assert "status" not in second.properties


def test_a_cancelled_order_says_so(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1", Cancelled_at="2024-01-06 09:00:00 -0500",
                                  Financial_Status="refunded", Refunded_Amount="54.50"),
                           _order("#2", Cancelled_at="2024-01-06 09:00:00 -0500")])
    first, second = _events(_read(path))
    assert first.properties["status"] == "refunded"
    assert first.properties["refunded"] == "54.50"
    assert second.properties["status"] == "cancelled"


def test_bad_emails_and_formulas_pass_through(tmp_path: Path) -> None:
    formula = "=cmd|' /C calc'!A0"
    path = _csv(tmp_path, [_order("#1", email="not-an-email", Billing_Name=formula,
                                  Lineitem_name=formula, Billing_Company="@SUM(1+1)")])
    person, _, event = _read(path)
    assert isinstance(person, Node) and isinstance(event, ProductEvent)
    assert person.ref == PersonRef(email="not-an-email", name=formula,
                                   company=CompanyRef(name="@SUM(1+1)"))
    assert event.properties["items"][0]["name"] == formula


# -- file-level problems ---------------------------------------------------------------------

def test_missing_columns_are_one_error_before_anything(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1")], header=[h for h in HEADER if h != "Total"])
    with pytest.raises(MissingColumns, match="'Total'"):
        shopify.read(path, ReadContext("shopify"))


def test_a_used_duplicate_column_is_one_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1")], header=[*HEADER, "Email"])
    with pytest.raises(DuplicateColumn):
        shopify.read(path, ReadContext("shopify"))


def test_an_unused_duplicate_column_is_ignored(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1")], header=[*HEADER, "Tags", "Tags"])
    assert [e.id for e in _events(_read(path))] == ["shopify:#1"]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_an_empty_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile):
        shopify.read(path, ReadContext("shopify"))


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-8-sig", ","), ("utf-16", ","), ("cp1252", ","), ("utf-8", "\t"), ("utf-8", ";"),
])
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    total = "1.054,50" if delimiter == ";" else "1054.50"
    path = _csv(tmp_path, [_order("#1", Billing_Name="Zoë Ågren", Total=total),
                           _item("#1", "Crème")], encoding=encoding, delimiter=delimiter)
    person, _, event = _read(path)
    assert isinstance(person, Node) and isinstance(event, ProductEvent)
    assert person.props["name"] == "Zoë Ågren"
    assert event.properties["amount"] == "1054.50"
    assert [i["name"] for i in event.properties["items"]] == ["Mug", "Crème"]


def test_a_huge_field_is_a_bad_line_and_the_rest_loads(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1", Billing_Name="x" * (MAX_FIELD + 1)), _order("#2")])
    items = _read(path)
    assert isinstance(items[0], BadLine) and items[0].line == 2
    assert [e.id for e in _events(items)] == ["shopify:#2"]


def test_a_row_without_a_name_is_a_bad_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_order("#1"), _order("")])
    items = _read(path)
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [(3, "Name")]


# -- hypothesis ------------------------------------------------------------------------------

def _safe_read(path: Path) -> list[ReadItem]:
    try:
        return _read(path)
    except ConnectorError:
        return []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(SHORT.encode() + b"\n" + data)
    for item in _safe_read(path):
        assert isinstance(item, Node | ProductEvent | BadLine)


_cell = st.text(max_size=12) | st.sampled_from(
    ["#1", "#2", "paid", "refunded", "2024-01-05 12:34:56 -0500", "12.50", "1,234.50", "-3",
     "(4)", "€5", "ada@x.io", "", "0", "²", "١٢"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({h: _cell for h in HEADER}), max_size=6))
def test_random_rows_never_crash(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    for item in _safe_read(_csv(tmp_path, rows)):
        assert isinstance(item, Node | ProductEvent | BadLine)
