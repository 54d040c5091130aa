"""Reader for a generic transactions CSV: who paid how much, when, in which currency.

Billing systems, payment processors and spreadsheets all write some version of this file:

    transaction_id,customer_id,email,date,amount,currency,description
    tx-1001,C-17,ada@acme.com,2026-03-02 10:00,"1,234.50",USD,Annual plan
    tx-1002,C-17,ada@acme.com,2026-03-09 10:00,-200.00,USD,Partial refund
    tx-1003,C-18,,2026-03-10,€ 9.99,,Add-on

Columns are matched by name, case-insensitively, with aliases: customer id (`customer_id`,
`customer`, `Customer ID`, `client_id`, `account_id`), e-mail (`email`, `E-mail`,
`Email Address`, `customer_email`), date (`date`, `timestamp`, `created_at`, `created`, `time`,
`transaction_date`), amount (`amount`, `total`, `value`, `gross`), and optionally `currency`,
`description`, `type` and a transaction id (`transaction_id`, `id`, `txn_id`, `reference`). A
customer id or an e-mail column must exist.

Amounts are read exactly (`Decimal`): thousands separators ("1,234.50", "1 234,50", "1'234.50"),
a decimal comma ("9,99"; and "1.234" is one thousand two hundred and thirty-four in a file
delimited by `;`, the European convention), currency symbols or codes around the number
("$12.00", "€ 9,99", "12.00 EUR"), and negatives as "-12", "(12.00)" or "12-". The amount goes to
the event as exact text ("1234.50", signed as written), as Shopify's own API writes money.

What it yields, per row:
- `Node(Person)` and `Node(Customer)` of that person (a B2C account; the resolver adds
  ACCOUNT_OF), the first time the file names the customer. The person is named by the e-mail when
  there is one, and by `"transactions:" + customer id` when there is one.
- `ProductEvent` with `id` = `"transactions:" + transaction id`, else `"transactions:"` + a
  hash of the row's customer, e-mail, date, amount, currency and description (two rows identical
  in all of these are one transaction); `type` `refund` for a negative amount or a refund-like
  `type` column (refund, chargeback, credit note, return), else `purchase`; `properties`: amount,
  currency, description and the type as written.
A row with no customer id and no e-mail, a bad date or an amount that is not a number is a
`BadLine` naming the field.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tx.csv"
    >>> _ = p.write_text("Customer ID;E-mail;Date;Amount\\n"
    ...                  "C-17;ada@acme.com;2026-03-02;1.234,50 €\\nC-18;;2026-03-03;abc\\n")
    >>> items = list(read(p, ReadContext("transactions")))
    >>> [type(i).__name__ for i in items]
    ['Node', 'Node', 'ProductEvent', 'BadLine']
    >>> ev = items[2]
    >>> ev.type, ev.properties["amount"], ev.properties["currency"], ev.person.source_key
    ('purchase', '1234.50', 'EUR', 'transactions:C-17')
    >>> items[3].line, items[3].field
    (3, 'amount')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from connectors.csvio import CsvFile, MissingColumns, Row
from connectors.errors import BadLine
from connectors.records import CustomerRef, Node, ProductEvent, ReadItem, person_ref
from connectors.sniff import Header
from connectors.source import ReadContext, Source

PREFIX = "transactions:"
CUSTOMER = ("customer_id", "customer", "customer id", "customerid", "client_id", "account_id")
EMAIL = ("email", "e-mail", "email address", "e-mail address", "customer_email")
DATE = ("date", "timestamp", "created_at", "created", "time", "transaction_date", "date/time")
AMOUNT = ("amount", "total", "value", "gross")
CURRENCY = ("currency", "currency_code", "ccy")
DESCRIPTION = ("description", "memo", "details")
TYPE = ("type", "transaction_type", "kind")
TXN_ID = ("transaction_id", "transaction id", "id", "txn_id", "reference")
NAME = ("name", "customer_name", "customer name")

_REFUND_TYPES = frozenset({"refund", "refunded", "chargeback", "credit", "credit note",
                           "credit_note", "return", "reversal"})

# Symbols before or after the number. "$" alone is read as USD (the load summary says so).
_SYMBOLS = {
    "$": "USD", "US$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD",
    "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "R$": "BRL", "MX$": "MXN", "€": "EUR", "£": "GBP",
    "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS", "₱": "PHP",
    "฿": "THB", "₫": "VND", "₴": "UAH", "₦": "NGN", "zł": "PLN", "Kč": "CZK", "Fr": "CHF",
    "kr": "",  # Swedish, Norwegian or Danish: the currency column must say which
}
_AMOUNT = re.compile(
    r"""\s*(?P<open>\()?\s*(?P<s1>[+-])?\s*
    (?P<c1>[A-Za-z]{0,3}[^\w\s.,'()+-]|[^\W\d_]{1,3})?\s*(?P<s2>[+-])?\s*
    (?P<num>[.,]?\d(?:[\d.,'\s]*\d)?)
    \s*(?P<s3>-)?\s*(?P<c2>[^\w\s.,'()+-]|[^\W\d_]{1,3})?\s*(?P<close>\))?\s*""", re.X)
_THOUSANDS = {sep: re.compile(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+") for sep in ".,"}


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    currency: str | None  # ISO code from a symbol or code written beside the number
    symbol: str | None  # that symbol or code as written

    @property
    def text(self) -> str:
        """The exact value as plain decimal text: '1234.50', '-200'."""
        return format(self.value, "f")


def parse_amount(text: str, *, decimal_comma: bool = False) -> Amount:
    """An amount as exports write it, exactly; ValueError saying why it is not one.

    `decimal_comma`: the file's convention (a `;`-delimited file) when a lone separator is
    ambiguous ("1.234" and "1,234").

    >>> [parse_amount(t).text for t in ("1,234.50", "$12.00", "(5)", "12.00-", "1'000")]
    ['1234.50', '12.00', '-5', '-12.00', '1000']
    >>> a = parse_amount("1.234,50 €"); a.text, a.currency
    ('1234.50', 'EUR')
    >>> parse_amount("1.234", decimal_comma=True).text, parse_amount("1,234").text
    ('1234', '1234')
    >>> parse_amount("9,99").text, parse_amount("EUR -3.5").currency
    ('9.99', 'EUR')
    >>> parse_amount("12.3.4")
    Traceback (most recent call last):
    ...
    ValueError: not an amount: '12.3.4' (separators in the wrong places)
    """
    raw = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    m = _AMOUNT.fullmatch(raw)
    if m is None:
        raise ValueError(f"not an amount: {text!r}" if text.strip() else "no amount given")
    if bool(m["open"]) != bool(m["close"]):
        raise ValueError(f"not an amount: {text!r} (unbalanced parenthesis)")
    if m["c1"] and m["c2"]:
        c1, c2 = _currency(m["c1"]), _currency(m["c2"])
        if c1 and c2 and c1 != c2 and "$" not in (m["c1"], m["c2"]):  # "$12 CAD" is fine
            raise ValueError(f"not an amount: {text!r} (two currencies)")
    signs = [s for s in (m["s1"], m["s2"], m["s3"]) if s]
    if len(signs) > 1:
        raise ValueError(f"not an amount: {text!r} (more than one sign)")
    negative = bool(m["open"]) or signs == ["-"]
    value = _number(m["num"], decimal_comma)
    if value is None:
        raise ValueError(f"not an amount: {text!r} (separators in the wrong places)")
    symbol = m["c1"] or m["c2"]
    currency = None
    if symbol:
        currency = _currency(symbol)
        if currency is None:
            raise ValueError(f"not an amount: {text!r} ({symbol!r} is not a currency)")
        if m["c1"] and m["c2"]:
            currency = _currency(m["c2"]) or currency  # "$12 CAD": the code says which dollar
    return Amount(-value if negative else value, currency or None, symbol)


def _currency(symbol: str) -> str | None:
    """The ISO code of a symbol or code ("" for an ambiguous one, None for none at all)."""
    if symbol in _SYMBOLS:
        return _SYMBOLS[symbol]
    if len(symbol) == 3 and symbol.isascii() and symbol.isalpha():
        return symbol.upper()
    return None


def _number(num: str, decimal_comma: bool) -> Decimal | None:
    digits = num.replace(" ", "").replace("'", "").replace("\t", "")
    dots, commas = digits.count("."), digits.count(",")
    if dots and commas:  # the last separator is the decimal one
        decimal = "." if digits.rfind(".") > digits.rfind(",") else ","
        whole, _, frac = digits.rpartition(decimal)
        thousands = "," if decimal == "." else "."
        if not _THOUSANDS[thousands].fullmatch(whole) or thousands in frac:
            return None
        digits = whole.replace(thousands, "") + "." + frac
    elif dots or commas:
        sep = "." if dots else ","
        grouped = bool(_THOUSANDS[sep].fullmatch(digits))
        if dots + commas > 1 and not grouped:
            return None
        # One separator: thousands when grouped like thousands and the file's convention says
        # that separator is not the decimal one ("1,234" in a comma file, "1.234" in a ; file).
        if grouped and (dots + commas > 1 or (sep == ".") == decimal_comma):
            digits = digits.replace(sep, "")
        else:
            digits = digits.replace(",", ".")
    if digits.startswith("."):
        digits = "0" + digits
    try:
        return Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits digits and separators only
        return None


def _open(path: Path) -> CsvFile:
    f = CsvFile(path, required=(DATE, AMOUNT),
                optional=(CUSTOMER, EMAIL, CURRENCY, DESCRIPTION, TYPE, TXN_ID, NAME))
    if not f.has(CUSTOMER[0]) and not f.has(EMAIL[0]):
        raise MissingColumns(path, ["customer_id or email"], f.header)
    return f


def _event_id(row: Row) -> str:
    txn = row.get(TXN_ID[0])
    if txn:
        return PREFIX + txn
    fields = (row[CUSTOMER[0]], row[EMAIL[0]].casefold(), row[DATE[0]], row[AMOUNT[0]],
              row[CURRENCY[0]], row[DESCRIPTION[0]])
    return PREFIX + hashlib.blake2b("\x1f".join(fields).encode("utf-8", "surrogateescape"),
                                    digest_size=16).hexdigest()


def read(path: Path | str, ctx: ReadContext) -> Iterator[ReadItem]:
    """Records lazily, row by row (the header is checked before anything is yielded)."""
    f = _open(Path(path))
    return _read(f, ctx)


def _read(f: CsvFile, ctx: ReadContext) -> Iterator[ReadItem]:
    decimal_comma = f.delimiter == ";"
    if decimal_comma:
        ctx.note(f"transactions: {f.path.name} is delimited by ';': amounts read with a decimal "
                 "comma (1.234,50 = 1234.50)")
    seen: set[tuple[str, str]] = set()  # customers already emitted (bounded by customers)
    for row in f.rows():
        if isinstance(row, BadLine):
            yield row
            continue
        item = _row(f, row, ctx, decimal_comma)
        if isinstance(item, BadLine):
            yield item
            continue
        event = item
        assert event.person is not None and event.account is not None
        who = (event.person.email or "", event.person.source_key or "")
        if who not in seen:
            seen.add(who)
            props = {"email": event.person.email, "name": event.person.name}
            yield Node(event.person, {k: v for k, v in props.items() if v}, row.line)
            yield Node(event.account, {}, row.line)
        yield event


def _row(f: CsvFile, row: Row, ctx: ReadContext, decimal_comma: bool) -> ProductEvent | BadLine:
    email, customer = row.get(EMAIL[0]), row.get(CUSTOMER[0])
    if not email and not customer:
        return BadLine(f.path, row.line, CUSTOMER[0] if f.has(CUSTOMER[0]) else EMAIL[0],
                       "no customer id and no e-mail: whose transaction is this?")
    try:
        at = ctx.clock.parse(row[DATE[0]])
    except ValueError as exc:
        return BadLine(f.path, row.line, DATE[0], str(exc))
    try:
        amount = parse_amount(row[AMOUNT[0]], decimal_comma=decimal_comma)
    except ValueError as exc:
        return BadLine(f.path, row.line, AMOUNT[0], str(exc))
    currency = row.get(CURRENCY[0])
    if currency:
        code = _currency(currency.strip()) or currency.strip().upper()
        if amount.currency and amount.symbol != "$" and code and amount.currency != code:
            return BadLine(f.path, row.line, AMOUNT[0], f"the amount says {amount.symbol} but "
                           f"the currency column says {currency}")
        currency = code or None
    else:
        currency = amount.currency
        if amount.symbol == "$":
            ctx.note("transactions: amounts written with a bare '$' and no currency column "
                     "were read as USD")
    kind_text = row.get(TYPE[0])
    refund = amount.value < 0 or (kind_text or "").strip().casefold() in _REFUND_TYPES
    person = person_ref(email, row.get(NAME[0]),
                        source_key=PREFIX + customer if customer else None)
    props = {"amount": amount.text, "currency": currency, "description": row.get(DESCRIPTION[0]),
             "type": kind_text}
    return ProductEvent(_event_id(row), "refund" if refund else "purchase", at, person=person,
                        account=CustomerRef(of=person),
                        properties={k: v for k, v in props.items() if v is not None},
                        line=row.line)


SOURCE = Source("transactions", read, "a transactions CSV (customer or e-mail, date, amount, "
                "currency): purchase and refund events of B2C customers",
                what="a transactions CSV", headers=(Header("a transactions CSV", DATE, AMOUNT),))
