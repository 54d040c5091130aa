'''Reader for any CSV file, told what its columns mean by a TOML mapping (`--mapping FILE`).

    relgraph load csv customers.csv --mapping customers.toml

The mapping names, for each field relgraph knows, the column of the file that holds it (header
names, matched ignoring case). Every key is optional except what identifies a row. A full example:

    source = "telco"          # prefix of row ids: id "7590-VHVEG" names the person
                              #   "telco:7590-VHVEG" (default "csv")
    customer = true           # a customer table: every row is one paying account
    accounts = "person"       # whose accounts: "company" (B2B) or "person" (B2C); default
                              #   "company" when a company or domain column is mapped
    date_format = "%m/%d/%Y"  # strptime format of every date column (default: recognised)
    observed_at = 2024-06-30  # the moment the file describes: a date is the start of that
                              #   day in --timezone (or columns.observed_at, or
                              #   --observed-at, which wins over both; with none of them, a
                              #   day in the file's name: customers-2024-06-30.csv)
    churned_values = ["Yes"]  # what counts as churned (default: yes, y, true, 1, churned)
    decimal = "."             # the decimal mark of number columns: "." (default) or ","
                              #   (then "1.200,50" is 1200.5)

    [columns]
    id = "customerID"         # a stable id for people without an e-mail
    email = "Email"
    name = "Name"             # or first_name = "First Name" and last_name = "Last Name"
    title = "Job Title"
    phone = "Phone"
    location = "City"
    company = "Company"       # the company's name (where the person works; a B2B account)
    domain = "Website"        # its domain, website or a work e-mail
    # observed_at = "Snapshot"  # instead of the top-level observed_at: each row's moment
    # customer fields (need customer = true)
    plan = "Plan"
    mrr = "MonthlyCharges"    # a number: "1,200.50" and "$99" are read
    currency = "Currency"
    contract = "Contract"
    tenure = "tenure"         # months
    churned = "Churn"         # yes/no, true/false, 1/0
    status = "Status"         # trial, active, paused, churned (canceled, cancelled,
                              #   trialing, past_due are understood too)
    started = "Start Date"
    renews = { column = "Renewal", format = "%d.%m.%Y" }  # a date column with its own format
    churned_at = "Churned On"
    orders = "Orders"
    total_spent = "TotalCharges"
    last_order_at = "Last Order"

    [attributes]              # more columns kept in Customer.attributes (JSON), as text
    gender = "gender"         #   attribute name = column
    internet = "InternetService"
    # or at the top: attributes = ["gender", "InternetService"] (named after the columns)

What it yields, per row: the person (`Node(Person)`, named by e-mail and/or
`"<source>:<id>"`), their company (`Node(Company)`) and `WORKS_AT`, and with `customer = true` a
`Customer` of the company (B2B) or of the person (B2C): plan, mrr, contract, tenure_months,
churned, status (from the status column, else "churned" when the churn flag or date says so,
else "active"), dates and attributes. No product events: a customer table with a churn flag is
enough for the churn questions. Rows that name nobody, and cells that are not the number, date or
yes/no their field needs, are `BadLine`s naming the column.

A mapping that is wrong (an unknown key, a customer field without `customer = true`, nothing to
identify a row by …) is one `MappingError` naming the key, raised before anything loads; a mapped
column missing from the file is one `MissingColumns` error.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "telco.csv"
    >>> _ = p.write_text("customerID,gender,tenure,Contract,MonthlyCharges,Churn\\n"
    ...                  "0042-ABCDE,Female,12,One year,56.95,Yes\\n")
    >>> mapping = {"source": "telco", "customer": True, "accounts": "person",
    ...            "observed_at": "2024-06-30",
    ...            "columns": {"id": "customerID", "tenure": "tenure", "contract": "Contract",
    ...                        "mrr": "MonthlyCharges", "churned": "Churn"},
    ...            "attributes": ["gender"]}
    >>> person, account = read(p, ReadContext("csv", mapping=mapping))
    >>> person.ref.source_key, account.ref.of == person.ref
    ('telco:0042-ABCDE', True)
    >>> sorted(account.props.items())  # doctest: +NORMALIZE_WHITESPACE
    [('attributes', {'gender': 'Female'}), ('churned', True), ('contract', 'One year'),
     ('mrr', 56.95), ('status', 'churned'), ('tenure_months', 12.0)]
'''

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.csvio import CsvFile
from connectors.dates import parse_moment
from connectors.errors import BadLine, ConnectorError
from connectors.records import (
    CompanyRef,
    CustomerRef,
    Link,
    Node,
    PersonRef,
    ReadItem,
    person_ref,
)
from connectors.source import MissingOption, ReadContext, Source, moment_in_name


class MappingError(ConnectorError, ValueError):
    """The `--mapping` file is not a valid mapping; names the bad key. Nothing was loaded."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        super().__init__(f"mapping: {key}: {problem}. Nothing was loaded.")


PERSON_FIELDS = ("id", "email", "name", "first_name", "last_name", "title", "phone", "location")
COMPANY_FIELDS = ("company", "domain")
CUSTOMER_FIELDS = ("plan", "mrr", "currency", "contract", "tenure", "churned", "status",
                   "started", "renews", "churned_at", "orders", "total_spent", "last_order_at")
DATE_FIELDS = frozenset({"started", "renews", "churned_at", "last_order_at", "observed_at"})
FIELDS = (*PERSON_FIELDS, *COMPANY_FIELDS, "observed_at", *CUSTOMER_FIELDS)
TOP_KEYS = ("source", "customer", "accounts", "date_format", "observed_at", "churned_values",
            "decimal", "columns", "attributes")
_NUMBERS = {"mrr": "mrr", "tenure": "tenure_months", "total_spent": "total_spent"}
_PLAIN = {"plan": "plan", "currency": "currency", "contract": "contract"}
_DATES = {"started": "started", "renews": "renews", "churned_at": "churned_at",
          "last_order_at": "last_order_at"}
_YES = frozenset({"yes", "y", "true", "t", "1", "churned"})
_NO = frozenset({"no", "n", "false", "f", "0", "active"})
_STATUS = {"trial": "trial", "trialing": "trial", "active": "active", "past_due": "active",
           "paused": "paused", "churned": "churned", "canceled": "churned",
           "cancelled": "churned", "inactive": "churned"}
_SOURCE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Column:
    name: str  # the header name in the file
    format: str | None = None  # strptime format of a date column


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping: see the module docstring for the TOML it comes from."""

    source: str = "csv"
    customer: bool = False
    accounts: str = "company"
    observed_at: datetime | None = None
    churned_values: frozenset[str] | None = None
    decimal: str = "."
    columns: dict[str, Column] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # attribute name -> column

    def file_columns(self) -> list[str]:
        names = [c.name for c in self.columns.values()] + list(self.attributes.values())
        return list(dict.fromkeys(names))


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(key, f"expected a non-empty text, got {value!r}")
    return value.strip()


def _format(key: str, value: object) -> str:
    text = _text(key, value)
    if "%" not in text:
        raise MappingError(key, f"{text!r} is not a strptime format (like \"%d/%m/%Y\")")
    return text


def _column(key: str, value: object, default_format: str | None) -> Column:
    field_name = key.rpartition(".")[2]
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"column", "format"})
        if unknown:
            raise MappingError(f"{key}.{unknown[0]}", "unknown key; a column is given as a "
                               "text or as { column = \"…\", format = \"…\" }")
        if "column" not in value:
            raise MappingError(f"{key}.column", "missing: which column of the file?")
        name = _text(f"{key}.column", value["column"])
        if "format" in value:
            if field_name not in DATE_FIELDS:
                raise MappingError(f"{key}.format", "only date fields take a format "
                                   f"({', '.join(sorted(DATE_FIELDS))})")
            return Column(name, _format(f"{key}.format", value["format"]))
        return Column(name, default_format if field_name in DATE_FIELDS else None)
    return Column(_text(key, value), default_format if field_name in DATE_FIELDS else None)


def _moment(key: str, value: object, tz: ZoneInfo | None) -> datetime:
    """The mapping's observed_at, read as `--observed-at` is (`parse_moment`)."""
    try:
        return parse_moment(value, tz)
    except ValueError as exc:
        raise MappingError(key, str(exc)) from None


def validate_mapping(raw: Mapping[str, Any], tz: ZoneInfo | None = None) -> MappingSpec:
    """A parsed `--mapping` TOML checked whole; `MappingError` naming the first bad key. `tz`
    (--timezone) is the zone of an observed_at written as a date or without a zone."""
    if not isinstance(raw, Mapping):
        raise MappingError("(top)", "a mapping is a TOML table")
    for key in raw:
        if key not in TOP_KEYS:
            raise MappingError(str(key), f"unknown key; known: {', '.join(TOP_KEYS)}")
    source = _text("source", raw.get("source", "csv"))
    if not _SOURCE_RE.match(source):
        raise MappingError("source", f"{source!r}: letters, digits, '_', '.', '-' only")
    customer = raw.get("customer", False)
    if not isinstance(customer, bool):
        raise MappingError("customer", f"expected true or false, got {customer!r}")
    date_format = (_format("date_format", raw["date_format"]) if "date_format" in raw
                   else None)
    columns_raw = raw.get("columns", {})
    if not isinstance(columns_raw, Mapping):
        raise MappingError("columns", "expected a table: [columns]")
    columns: dict[str, Column] = {}
    for key, value in columns_raw.items():
        if key not in FIELDS:
            raise MappingError(f"columns.{key}", f"unknown field; known: {', '.join(FIELDS)}")
        if key in CUSTOMER_FIELDS and not customer:
            raise MappingError(f"columns.{key}", "a customer field: set customer = true (this "
                               "file is a customer table) or remove it")
        columns[key] = _column(f"columns.{key}", value, date_format)
    attributes = _attributes(raw.get("attributes"), customer)
    accounts = raw.get("accounts")
    if accounts is None:
        accounts = "company" if columns.keys() & set(COMPANY_FIELDS) else "person"
    elif accounts not in ("company", "person"):
        raise MappingError("accounts", f"{accounts!r}: \"company\" (B2B) or \"person\" (B2C)")
    elif not customer:
        raise MappingError("accounts", "whose accounts only matters with customer = true")
    has_person = bool(columns.keys() & {"email", "id"})
    has_company = bool(columns.keys() & set(COMPANY_FIELDS))
    if customer and accounts == "person" and not has_person:
        raise MappingError("columns.email", "person accounts (B2C) need columns.email or "
                           "columns.id to name each customer")
    if customer and accounts == "company" and not has_company:
        raise MappingError("columns.company", "company accounts (B2B) need columns.company or "
                           "columns.domain")
    if not has_person and not has_company:
        raise MappingError("columns.email", "nothing names a row: map email, id, company or "
                           "domain")
    observed = None
    if "observed_at" in raw:
        if "observed_at" in columns:
            raise MappingError("observed_at", "give observed_at or columns.observed_at, not both")
        observed = _moment("observed_at", raw["observed_at"], tz)
    churned_values = None
    if "churned_values" in raw:
        values = raw["churned_values"]
        if not customer:
            raise MappingError("churned_values", "a customer setting: set customer = true")
        if not isinstance(values, list) or not values:
            raise MappingError("churned_values", "expected a list of texts, like [\"Yes\"]")
        churned_values = frozenset(_text("churned_values", v).casefold() for v in values)
    decimal = raw.get("decimal", ".")
    if decimal not in (".", ","):
        raise MappingError("decimal", f"{decimal!r}: \".\" or \",\"")
    return MappingSpec(source, customer, accounts, observed, churned_values, decimal, columns,
                       attributes)


def _attributes(raw: object, customer: bool) -> dict[str, str]:
    if raw is None:
        return {}
    if not customer:
        raise MappingError("attributes", "customer attributes: set customer = true")
    if isinstance(raw, list):
        return {_text("attributes", c): _text("attributes", c) for c in raw}
    if isinstance(raw, Mapping):
        return {_text("attributes", k): _text(f"attributes.{k}", v) for k, v in raw.items()}
    raise MappingError("attributes", "a list of columns or a table: name = \"column\"")


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def number(text: str, decimal: str = ".") -> float:
    """A number as spreadsheets write it: "1,200.50", "$99", " 42 ", or with `decimal=","`
    "1.200,50" (ValueError otherwise).

    >>> number("$1,200.50"), number("1.200,50", ","), number("7,5", ",")
    (1200.5, 1200.5, 7.5)
    """
    cleaned = re.sub(r"[\s$€£¥]", "", text)
    thousands = "," if decimal == "." else "."
    if re.fullmatch(rf"-?\d{{1,3}}(\{thousands}\d{{3}})+(\{decimal}\d+)?", cleaned):
        cleaned = cleaned.replace(thousands, "")
    if decimal == ",":
        if "." in cleaned:
            raise ValueError(f"not a number with a decimal comma: {text!r}")
        cleaned = cleaned.replace(",", ".")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


class _Reader:
    def __init__(self, spec: MappingSpec, f: CsvFile, ctx: ReadContext) -> None:
        self.spec, self.f, self.ctx = spec, f, ctx

    def cell(self, field_name: str) -> str | None:
        column = self.spec.columns.get(field_name)
        return self.row.get(column.name) if column else None

    def date(self, field_name: str) -> datetime | None:
        column = self.spec.columns.get(field_name)
        text = self.row.get(column.name) if column else None
        if column is None or text is None:
            return None
        try:
            if column.format is None:
                return self.ctx.clock.parse(text)
            parsed = datetime.strptime(text, column.format)
        except ValueError as exc:
            raise _Bad(column.name, str(exc)) from None
        if parsed.tzinfo is None:
            self.ctx.clock.naive += 1
            parsed = parsed.replace(tzinfo=self.ctx.clock.tz)
        return parsed.astimezone(UTC)

    def number(self, field_name: str) -> float | None:
        text = self.cell(field_name)
        if text is None:
            return None
        try:
            return number(text, self.spec.decimal)
        except ValueError:
            raise _Bad(self.spec.columns[field_name].name, f"not a number: {text!r}") from None

    def rows(self) -> Iterator[ReadItem]:
        for row in self.f.rows():
            if isinstance(row, BadLine):
                yield row
                continue
            self.row = row
            try:
                items = list(self.records())
            except _Bad as bad:
                yield BadLine(self.f.path, row.line, bad.column, bad.reason)
                continue
            yield from items

    def records(self) -> Iterator[ReadItem]:
        spec, line = self.spec, self.row.line
        observed = self.ctx.observed_at or spec.observed_at or self.date("observed_at")
        if observed is None:
            raise _Bad(spec.columns["observed_at"].name, "empty: which moment does this row "
                       "describe?")
        email, row_id = self.cell("email"), self.cell("id")
        name = self.cell("name") or " ".join(
            p for p in (self.cell("first_name"), self.cell("last_name")) if p) or None
        company_name, domain = self.cell("company"), self.cell("domain")
        company = (CompanyRef(domain=domain, name=company_name)
                   if company_name or domain else None)
        person: PersonRef | None = None
        if email or row_id:
            person = person_ref(email, name, company=company,
                                source_key=f"{spec.source}:{row_id}" if row_id else None)
        self.check_identity(person, company)
        customer = self.customer(person, company, name, company_name) if spec.customer else None
        if company is not None:
            yield Node(company, {"name": company_name} if company_name else {}, line=line,
                       observed_at=observed)
        if person is not None:
            props = {"name": name, "title": self.cell("title"), "phone": self.cell("phone"),
                     "location": self.cell("location")}
            yield Node(person, {k: v for k, v in props.items() if v}, line=line,
                       observed_at=observed)
            if company is not None:
                title = self.cell("title")
                yield Link("WORKS_AT", person, company, {"title": title} if title else {},
                           line=line, observed_at=observed)
        if customer is not None:
            yield Node(customer[0], customer[1], line=line, observed_at=observed)

    def check_identity(self, person: PersonRef | None, company: CompanyRef | None) -> None:
        spec = self.spec
        if spec.customer and spec.accounts == "person" and person is None:
            column = spec.columns.get("email") or spec.columns["id"]
            raise _Bad(column.name, "no e-mail and no id: whose account is it?")
        if spec.customer and spec.accounts == "company" and company is None:
            column = spec.columns.get("company") or spec.columns["domain"]
            raise _Bad(column.name, "no company name or domain: whose account is it?")
        if person is None and company is None:
            column = next(spec.columns[k] for k in ("email", "id", "company", "domain")
                          if k in spec.columns)
            raise _Bad(column.name, "no e-mail, id or company: nothing to name")

    def customer(self, person: PersonRef | None, company: CompanyRef | None, name: str | None,
                 company_name: str | None) -> tuple[CustomerRef, dict[str, Any]]:
        spec = self.spec
        b2b = spec.accounts == "company"
        of: PersonRef | CompanyRef | None = company if b2b else person
        assert of is not None  # check_identity
        props: dict[str, Any] = {}
        account_name = company_name if b2b else name
        if account_name:
            props["name"] = account_name
        for key, prop in _PLAIN.items():
            if self.cell(key):
                props[prop] = self.cell(key)
        for key, prop in _NUMBERS.items():
            value = self.number(key)
            if value is not None:
                props[prop] = value
        orders = self.number("orders")
        if orders is not None:
            if not orders.is_integer():
                raise _Bad(spec.columns["orders"].name, f"not a whole number: {orders}")
            props["orders"] = int(orders)
        for key, prop in _DATES.items():
            when = self.date(key)
            if when is not None:
                props[prop] = when
        churned = self.churned()
        status = self.status()
        if churned is None and status is not None:
            churned = status == "churned"
        if status is None:
            status = "churned" if churned or (churned is None and "churned_at" in props) \
                else "active"
        if churned is not None:
            props["churned"] = churned
        props["status"] = status
        if spec.attributes:
            props["attributes"] = {k: self.row[c] for k, c in spec.attributes.items()}
        return CustomerRef(of=of), props

    def churned(self) -> bool | None:
        text = self.cell("churned")
        if text is None:
            return None
        value = text.casefold()
        if self.spec.churned_values is not None:
            return value in self.spec.churned_values
        if value in _YES:
            return True
        if value in _NO:
            return False
        raise _Bad(self.spec.columns["churned"].name,
                   f"{text!r} is not yes/no (set churned_values to say which values mean churned)")

    def status(self) -> str | None:
        text = self.cell("status")
        if text is None:
            return None
        found = _STATUS.get(re.sub(r"[\s-]+", "_", text.strip().lower()))
        if found is None:
            raise _Bad(self.spec.columns["status"].name,
                       f"{text!r} is not a status: trial, active, paused or churned")
        return found


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    """Rows of any CSV as the `--mapping` says; see the module docstring."""
    spec = validate_mapping(ctx.need_mapping(), ctx.clock.tz)
    if ctx.observed_at is not None:
        ctx.note(f"observed_at {ctx.observed_at.isoformat()}: from --observed-at")
    elif spec.observed_at is not None:
        ctx.note(f"observed_at {spec.observed_at.isoformat()}: from the mapping's observed_at")
    elif "observed_at" in spec.columns:
        ctx.note(f"observed_at: each row's {spec.columns['observed_at'].name!r} column")
    else:
        named = moment_in_name(Path(path), ctx.clock.tz)
        if named is None:
            raise MissingOption(
                f"{path}: which moment does this file describe? Pass --observed-at (like "
                "--observed-at 2024-06-30: the start of that day in --timezone), set observed_at "
                "(or columns.observed_at) in the mapping, or put the day it was exported in the "
                "file's name (customers-2024-06-30.csv). Nothing was loaded.")
        ctx.note(f"observed_at {named[0].isoformat()}: {named[1]} (pass --observed-at or set "
                 "observed_at in the mapping to set it)")
        spec = replace(spec, observed_at=named[0])
    f = CsvFile(path, required=spec.file_columns())
    yield from _Reader(spec, f, ctx).rows()


SOURCE = Source("csv", read, "any CSV with a TOML --mapping: people, companies, customer tables",
                needs_mapping=True, snapshot=True, what="a CSV file")
