"""Reader for Shopify's orders export (Admin > Orders > Export, `orders_export.csv`).

One order spans one row per line item. The first row of an order carries the order's fields
(status, money, dates, billing); the next rows repeat `Name` (and, in some exports, `Email`) and
fill only the `Lineitem …` columns:

    Name,Email,Financial Status,Paid at,Fulfillment Status,…,Currency,Subtotal,Shipping,Taxes,
        Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,
        Lineitem name,Lineitem price,…,Billing Name,…,Billing Company,…,Cancelled at,…,
        Refunded Amount,…,Id,…
    #1001,ada@acme.com,paid,2024-01-05 12:40:00 -0500,fulfilled,…,USD,45.00,5.00,4.50,54.50,…
    #1001,ada@acme.com,,,,…,,,,,,…,1,Tote bag,15.00,…

Dates are written `2024-01-05 12:34:56 -0500` (the shop's zone). Required columns: Name, Email,
Financial Status, Created at, Total; the rest are used when present.

What it yields, per order (after its last row):
- `Node(Person)`: e-mail, name (Billing Name, else Shipping Name), phone, location (billing
  city, country); a Billing Company stays on the `PersonRef` as the company name the buyer gave;
- `Node(Customer)` of that person (a B2C account; the resolver adds ACCOUNT_OF);
- `ProductEvent` `purchase` with `id` `"shopify:" + Name` (e.g. `shopify:#1001`), at `Paid at`
  else `Created at`, properties: `amount` (Total, exact decimal text), `currency`,
  `financial_status`, `fulfillment_status`, `subtotal`, `shipping`, `taxes`, `discount_code`,
  `discount_amount`, `refunded` (Refunded Amount), `cancelled_at`, `order_id` (Id), `items`
  (`name`, `quantity`, `price`, `sku` of each line item) and `status` for a refunded, partially
  refunded, voided or cancelled order.
Person and Customer carry `observed_at` = the order's time, so the newest order's billing name
wins whatever order exports are loaded in. An order without an e-mail (a POS sale) is logged
without a customer. A bad Total or date is a `BadLine` for the order's first row.

The rows of an order are adjacent in Shopify's export. If an order's name comes back after other
orders: a full order row again (two overlapping exports pasted together) is read again and keeps
its event id, so the event log holds it once; a lone line-item row (a file re-sorted by hand)
cannot join its order, already read, and is a `BadLine` saying so.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "orders_export.csv"
    >>> _ = p.write_text(
    ...     "Name,Email,Financial Status,Paid at,Currency,Total,Created at,Lineitem quantity,"
    ...     "Lineitem name,Lineitem price,Billing Name\\n"
    ...     "#1001,ada@acme.com,paid,2024-01-05 12:40:00 -0500,USD,54.50,"
    ...     "2024-01-05 12:34:56 -0500,2,Mug,12.00,Ada Lovelace\\n"
    ...     "#1001,ada@acme.com,,,,,,1,Tote bag,15.00,\\n")
    >>> person, customer, order = read(p, ReadContext("shopify"))
    >>> order.id, order.type, order.at.isoformat(), order.properties["amount"]
    ('shopify:#1001', 'purchase', '2024-01-05T17:40:00+00:00', '54.50')
    >>> [(i["name"], i["quantity"]) for i in order.properties["items"]], person.props["name"]
    ([('Mug', 2), ('Tote bag', 1)], 'Ada Lovelace')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.csvio import CsvFile, Row
from connectors.errors import BadLine
from connectors.records import (
    CompanyRef,
    CustomerRef,
    Node,
    ProductEvent,
    ReadItem,
    person_ref,
)
from connectors.sniff import Header
from connectors.source import ReadContext, Source
from connectors.transactions import parse_amount

PREFIX = "shopify:"
NAME, EMAIL, FINANCIAL, PAID_AT, CREATED_AT, TOTAL = (
    "Name", "Email", "Financial Status", "Paid at", "Created at", "Total")
FULFILLMENT, CURRENCY, SUBTOTAL, SHIPPING, TAXES = (
    "Fulfillment Status", "Currency", "Subtotal", "Shipping", "Taxes")
DISCOUNT_CODE, DISCOUNT_AMOUNT, CANCELLED_AT, REFUNDED, ORDER_ID = (
    "Discount Code", "Discount Amount", "Cancelled at", "Refunded Amount", "Id")
ITEM_QTY, ITEM_NAME, ITEM_PRICE, ITEM_SKU = (
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku")
BILLING_NAME, BILLING_COMPANY, BILLING_PHONE, BILLING_CITY, BILLING_COUNTRY = (
    "Billing Name", "Billing Company", "Billing Phone", "Billing City", "Billing Country")
SHIPPING_NAME, PHONE = "Shipping Name", "Phone"

REQUIRED = (NAME, EMAIL, FINANCIAL, CREATED_AT, TOTAL)
# Order-level columns: taken from the first row of the order that fills them.
ORDER_FIELDS = (EMAIL, FINANCIAL, PAID_AT, CREATED_AT, TOTAL, FULFILLMENT, CURRENCY, SUBTOTAL,
                SHIPPING, TAXES, DISCOUNT_CODE, DISCOUNT_AMOUNT, CANCELLED_AT, REFUNDED,
                ORDER_ID, BILLING_NAME, BILLING_COMPANY, BILLING_PHONE, BILLING_CITY,
                BILLING_COUNTRY, SHIPPING_NAME, PHONE)
ITEM_FIELDS = (ITEM_QTY, ITEM_NAME, ITEM_PRICE, ITEM_SKU)
_MONEY = ((SUBTOTAL, "subtotal"), (SHIPPING, "shipping"), (TAXES, "taxes"),
          (DISCOUNT_AMOUNT, "discount_amount"), (REFUNDED, "refunded"))
_NOTED_STATUS = frozenset({"refunded", "partially_refunded", "voided"})


@dataclass
class _Order:
    name: str
    line: int  # its first row
    fields: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: Row, decimal_comma: bool) -> None:
        for column in ORDER_FIELDS:
            if column not in self.fields:
                value = row.get(column)
                if value:
                    self.fields[column] = value
        if any(row.get(c) for c in ITEM_FIELDS):
            self.items.append(_item(row, decimal_comma))


def _item(row: Row, decimal_comma: bool) -> dict[str, Any]:
    written = row.get(ITEM_QTY)
    quantity: int | str | None = written
    if written and written.isascii() and written.isdecimal():
        quantity = int(written)
    price = row.get(ITEM_PRICE)
    if price:  # a bad item price is kept as written: the order's Total is what counts
        with contextlib.suppress(ValueError):
            price = parse_amount(price, decimal_comma=decimal_comma).text
    item = {"name": row.get(ITEM_NAME), "quantity": quantity, "price": price,
            "sku": row.get(ITEM_SKU)}
    return {k: v for k, v in item.items() if v is not None}


def read(path: Path | str, ctx: ReadContext) -> Iterator[ReadItem]:
    """Records lazily, order by order (the header is checked before anything is yielded)."""
    optional = tuple(c for c in ORDER_FIELDS + ITEM_FIELDS if c not in REQUIRED)
    f = CsvFile(Path(path), required=REQUIRED, optional=optional)
    return _read(f, ctx)


def _read(f: CsvFile, ctx: ReadContext) -> Iterator[ReadItem]:
    decimal_comma = f.delimiter == ";"
    done: set[str] = set()  # names of orders already read (bounded by the number of orders)
    order: _Order | None = None
    for row in f.rows():
        if isinstance(row, BadLine):
            yield row
            continue
        name = row.get(NAME)
        if not name:
            yield BadLine(f.path, row.line, NAME, "no order name: which order is this row of?")
            continue
        if order is not None and name == order.name:
            order.add(row, decimal_comma)
            continue
        if order is not None:
            done.add(order.name)
            yield from _order(f, order, ctx, decimal_comma)
            order = None
        if name in done and not (row.get(FINANCIAL) or row.get(TOTAL)):
            yield BadLine(f.path, row.line, NAME, f"a line item of order {name}, whose rows "
                          "came earlier in the file: an order's rows must be adjacent (as "
                          "Shopify writes them), so this item is not in the order's items")
            continue
        if name in done:
            ctx.note(f"shopify: order {name} appears twice in {f.path.name}; both copies have "
                     "the same event id, so the event log keeps one")
        order = _Order(name, row.line)
        order.add(row, decimal_comma)
    if order is not None:
        yield from _order(f, order, ctx, decimal_comma)


def _order(f: CsvFile, order: _Order, ctx: ReadContext,
           decimal_comma: bool) -> Iterator[ReadItem]:
    fields = order.fields
    when = PAID_AT if fields.get(PAID_AT) else CREATED_AT
    try:
        at = ctx.clock.parse(fields.get(when))
    except ValueError as exc:
        yield BadLine(f.path, order.line, when, f"order {order.name}: {exc}")
        return
    try:
        cancelled = ctx.clock.parse_or_none(fields.get(CANCELLED_AT))
    except ValueError as exc:
        yield BadLine(f.path, order.line, CANCELLED_AT, f"order {order.name}: {exc}")
        return
    props: dict[str, Any] = {}
    try:
        props["amount"] = parse_amount(fields.get(TOTAL, ""), decimal_comma=decimal_comma).text
    except ValueError as exc:
        yield BadLine(f.path, order.line, TOTAL, f"order {order.name}: {exc}")
        return
    currency = fields.get(CURRENCY)
    props["currency"] = currency.upper() if currency else None
    status = (fields.get(FINANCIAL) or "").strip().casefold().replace(" ", "_")
    props["financial_status"] = status or None
    props["fulfillment_status"] = fields.get(FULFILLMENT)
    for column, key in _MONEY:
        value = fields.get(column)
        if value:
            try:
                props[key] = parse_amount(value, decimal_comma=decimal_comma).text
            except ValueError as exc:
                yield BadLine(f.path, order.line, column, f"order {order.name}: {exc}")
                return
    props["discount_code"] = fields.get(DISCOUNT_CODE)
    props["cancelled_at"] = cancelled.isoformat() if cancelled else None
    props["order_id"] = fields.get(ORDER_ID)
    props["items"] = order.items
    if status in _NOTED_STATUS:
        props["status"] = status
    elif cancelled is not None:
        props["status"] = "cancelled"
    props = {k: v for k, v in props.items() if v is not None}

    email = fields.get(EMAIL)
    if not email:
        ctx.note("shopify: orders without an e-mail (e.g. point-of-sale sales) are logged "
                 "without a customer")
        yield ProductEvent(PREFIX + order.name, "purchase", at, properties=props,
                           line=order.line)
        return
    company = fields.get(BILLING_COMPANY)
    name = fields.get(BILLING_NAME) or fields.get(SHIPPING_NAME)
    person = person_ref(email, name, company=CompanyRef(name=company) if company else None)
    location = ", ".join(v for v in (fields.get(BILLING_CITY), fields.get(BILLING_COUNTRY)) if v)
    person_props = {"email": email, "name": name,
                    "phone": fields.get(BILLING_PHONE) or fields.get(PHONE),
                    "location": location or None}
    customer = CustomerRef(of=person)
    yield Node(person, {k: v for k, v in person_props.items() if v}, order.line, observed_at=at)
    yield Node(customer, {"currency": props["currency"]} if props.get("currency") else {},
               order.line, observed_at=at)
    yield ProductEvent(PREFIX + order.name, "purchase", at, person=person, account=customer,
                       properties=props, line=order.line)


SOURCE = Source("shopify", read, "Shopify's orders export: B2C customers and their purchase "
                "events (one per order, with its line items)", what="a Shopify orders export",
                headers=(Header("a Shopify orders export", *REQUIRED),))
