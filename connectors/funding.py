"""Reader for funding rounds exported from Crunchbase (Funding Rounds search -> Export to CSV).

Columns used (names matched case-insensitively; aliases in brackets):

    Organization Name [Organization, Company]               required
    Funding Type [Round, Round Type, Investment Type]       required: Seed, Series A, Series B …
    Announced Date [Announced On, Date]                     required
    Organization Website [Website, Organization Name URL]   the company's own site
    Money Raised [Amount]            "$20,000,000", "20000000", "€5.5M", "1.2 billion"
    Money Raised Currency [Currency] ISO code (USD, EUR …); overrides a symbol in the amount
    Lead Investors, Investor Names, Transaction Name, Transaction Name URL

Each row becomes the `Company` (named by its website when there is one, else by name), a
`Trigger` of type funding_round keyed "funding:<hash of company, round and date>" (so a re-export
of the same round is the same trigger) with round, amount, currency, date, a headline ("Acme
raised $20M Series B") and the Crunchbase round page as `source_url`, the company's HAD_TRIGGER
link to it, and a `Tag` of the headline. "Organization Name URL" is used as the website only when
it is not a crunchbase.com profile page (Crunchbase exports put their own page there).

Amounts are read exactly (`Decimal`): digits with `,` or space thousands separators and an
optional `.` fraction, a currency symbol or ISO code before or after, and an optional scale
(K, M, B, bn, mn, thousand, million, billion). European decimal commas ("5,5 Mio") are not
guessed at: such a row is a `BadLine` naming the amount. An empty amount is an undisclosed round.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rounds.csv"
    >>> _ = p.write_text("Organization Name,Organization Website,Funding Type,Money Raised,"
    ...                  "Money Raised Currency,Announced Date\\n"
    ...                  "Acme,https://acme.com,Series B,\\"20,000,000\\",USD,2024-03-05\\n")
    >>> company, trigger, had, tag = read(p, ReadContext("funding"))
    >>> company.ref, trigger.props["headline"], trigger.props["amount"], had.type
    (CompanyRef(domain='https://acme.com', name='Acme'), 'Acme raised $20M Series B', 20000000.0, 'HAD_TRIGGER')
    >>> parse_money("$1.5M"), parse_money("EUR 250,000"), parse_money("")
    ((Decimal('1500000'), 'USD'), (Decimal('250000'), 'EUR'), (None, None))
"""  # noqa: E501

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from connectors.catalog import csv_rows
from connectors.errors import BadLine
from connectors.records import CompanyRef, KeyRef, Link, Node, ReadItem, Tag
from connectors.sniff import Header
from connectors.source import ReadContext, Source
from graph.keys import registrable_domain

SYMBOLS = {"US$": "USD", "C$": "CAD", "A$": "AUD", "$": "USD", "€": "EUR", "£": "GBP",
           "¥": "JPY", "₹": "INR", "₩": "KRW", "CHF": "CHF"}
_SIGN = {code: symbol for symbol, code in SYMBOLS.items() if code in ("USD", "EUR", "GBP")}
_SIGN["USD"] = "$"
SCALES = {"k": 3, "thousand": 3, "m": 6, "mm": 6, "mn": 6, "mio": 6, "million": 6,
          "millions": 6, "b": 9, "bn": 9, "billion": 9, "billions": 9}
_SYMBOL = r"(?:US\$|C\$|A\$|\$|€|£|¥|₹|₩)"
_NUMBER = r"\d{1,3}(?:[, '\u00a0\u202f]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY = re.compile(
    rf"^(?:(?P<sym>{_SYMBOL})|(?P<code>[A-Z]{{3}})\s?)?\s*(?P<num>{_NUMBER})\s*"
    rf"(?P<scale>k|thousand|mm|mn|mio|m|millions?|bn|b|billions?)?\.?\s*"
    rf"(?:(?P<sym2>{_SYMBOL})|(?P<code2>[A-Z]{{3}}))?$",
    re.IGNORECASE,
)
_ISO = frozenset({"USD", "EUR", "GBP", "JPY", "INR", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK",
                  "CNY", "SGD", "HKD", "ILS", "BRL", "KRW", "NZD", "PLN", "ZAR", "MXN"})
_CRUNCHBASE = "crunchbase.com"


def parse_money(text: str | None) -> tuple[Decimal | None, str | None]:
    """(amount, ISO currency or None) of a money cell; (None, None) when empty; ValueError when
    it is not an amount this reader understands."""
    raw = " ".join((text or "").replace("\u00a0", " ").split())
    if not raw or raw in ("-", "—", "–"):
        return None, None
    match = _MONEY.match(raw)
    if match is None:
        raise ValueError(f"not an amount: {raw!r} (write e.g. $20,000,000, 20000000 or €5.5M)")
    number = re.sub(r"[, '\u00a0\u202f]", "", match["num"])
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not an amount: {raw!r}") from None
    if match["scale"]:
        amount = amount.scaleb(SCALES[match["scale"].casefold()])
    symbol = match["sym"] or match["sym2"]
    code = match["code"] or match["code2"]
    if code and not (code.isupper() or code.upper() in _ISO):
        raise ValueError(f"not an amount: {raw!r} ({code!r} is not a currency code)")
    currency = code.upper() if code else SYMBOLS.get(symbol.upper()) if symbol else None
    if amount == amount.to_integral_value():
        amount = amount.quantize(Decimal(1))
    return amount, currency


def short_money(amount: Decimal, currency: str | None) -> str:
    """'$20M', '€5.5M', '$750K', '$1.2B', 'CHF 12,500' for headlines.

    >>> short_money(Decimal("20000000"), "USD"), short_money(Decimal("5500000"), "EUR")
    ('$20M', '€5.5M')
    """
    for exponent, suffix in ((9, "B"), (6, "M"), (3, "K")):
        unit = Decimal(10) ** exponent
        if amount >= unit:
            scaled = (amount / unit).quantize(Decimal("0.1"))
            number = f"{scaled.normalize():f}{suffix}"
            break
    else:
        number = f"{amount.normalize():,f}"
    sign = _SIGN.get(currency or "")
    if sign:
        return sign + number
    return f"{currency} {number}" if currency else number


def stable_id(*parts: str) -> str:
    """A short hash of identifying text: the same round from two exports gets one id."""
    text = "\x1f".join(" ".join(p.casefold().split()) for p in parts)
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _website(row_site: str, name_url: str) -> str | None:
    if row_site:
        return row_site
    if name_url and _CRUNCHBASE not in name_url.casefold():
        return name_url
    return None


REQUIRED = [("Organization Name", "Organization", "Company", "Company Name"),
            ("Funding Type", "Round", "Round Type", "Investment Type", "Funding Round"),
            ("Announced Date", "Announced On", "Date")]


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    rows = csv_rows(
        path,
        required=REQUIRED,
        optional=[("Organization Website", "Website", "Company Website", "Domain"),
                  ("Organization Name URL",),
                  ("Money Raised", "Amount", "Amount Raised"),
                  ("Money Raised Currency", "Currency"),
                  ("Lead Investors", "Lead Investor"), ("Investor Names", "Investors"),
                  ("Transaction Name",), ("Transaction Name URL", "URL", "Source URL")],
    )
    for row in rows:
        if isinstance(row, BadLine):
            yield row
            continue
        name = row["Organization Name"]
        website = _website(row["Organization Website"], row["Organization Name URL"])
        if not name and not website:
            yield BadLine(path, row.line, "Organization Name",
                          "no organization name or website: whose round is this?")
            continue
        round_name = " ".join(row["Funding Type"].split())
        if not round_name:
            yield BadLine(path, row.line, "Funding Type", "no funding type (Seed, Series A …)")
            continue
        try:
            at = ctx.clock.parse(row["Announced Date"])
        except ValueError as exc:
            yield BadLine(path, row.line, "Announced Date", str(exc))
            continue
        try:
            amount, currency = parse_money(row["Money Raised"])
        except ValueError as exc:
            yield BadLine(path, row.line, "Money Raised", str(exc))
            continue
        column_currency = row["Money Raised Currency"].strip().upper()
        if column_currency:
            currency = column_currency
        company_id = (registrable_domain(website) if website else None) or name
        trigger = KeyRef("Trigger", "funding:" + stable_id(company_id, round_name,
                                                          at.date().isoformat()))
        who = name or (registrable_domain(website or "") or website or "")
        if amount is not None:
            headline = f"{who} raised {short_money(amount, currency)} {round_name}"
        else:
            headline = f"{who} raised a {round_name} round"
        details = [f"{label}: {row[column]}" for label, column in (
            ("Transaction", "Transaction Name"), ("Lead investors", "Lead Investors"),
            ("Investors", "Investor Names")) if row[column]]
        props: dict[str, Any] = {"type": "funding_round", "at": at, "round": round_name,
                                 "headline": headline}
        if amount is not None:
            props["amount"] = float(amount)
        if currency:
            props["currency"] = currency
        if details:
            props["details"] = "; ".join(details)
        if row["Transaction Name URL"]:
            props["source_url"] = row["Transaction Name URL"]
        company = CompanyRef(domain=website, name=name or None)
        company_props: dict[str, Any] = {"name": name} if name else {}
        if website:
            company_props["website"] = website
        yield Node(company, company_props, line=row.line)
        yield Node(trigger, props, line=row.line)
        yield Link("HAD_TRIGGER", company, trigger, line=row.line)
        yield Tag(trigger, text=headline, line=row.line)


SOURCE = Source("funding", read, "Crunchbase funding rounds CSV -> companies with funding_round "
                "triggers", what="a Crunchbase funding rounds export",
                headers=(Header("a Crunchbase funding rounds export", *REQUIRED),))
