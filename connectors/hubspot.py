"""Reader for HubSpot CRM exports: the contacts export and the companies export (CSV).

HubSpot's export ("Export view" / "Export all properties") writes one quoted CSV row per record
with the properties' labels as the header; which kind of export a file is, is read from the header:

    "Record ID","First Name","Last Name","Email","Phone Number","Job Title","Company Name",
    "Website URL","Lifecycle Stage","Became a Customer Date","Create Date","Last Modified Date",
    "Associated Company","Associated Company IDs"

    "Record ID","Company name","Company Domain Name","Website URL","Industry",
    "Number of Employees","Type","Lifecycle Stage","Annual Revenue","Country/Region",
    "Create Date","Last Modified Date"

Older exports name the id "Contact ID" / "Company ID"; both are read. Dates are written in the
account's time zone without an offset (`2024-03-05 14:22`): pass `--timezone` to read them right.

What it yields:
- contacts: `Node(Person)` (name, title, phone, location) named by e-mail and by
  `"hubspot:<Record ID>"`; their company (the associated company record, else the contact's
  "Company Name", with "Website URL" as its domain) as `Node(Company)` and `WORKS_AT`;
- companies: `Node(Company)` by "Company Domain Name" (else "Website URL") and name, with
  industry, size, website, country;
- Lifecycle Stage "customer" or "evangelist": a `Customer` (`status="active"`, `started` from
  "Became a Customer Date") of the company, or of the person when the contact has no company, and
  the company flagged `customer`; "lead", "marketingqualifiedlead", "salesqualifiedlead",
  "opportunity" (internal names or their labels): the company flagged `prospect`. A company's
  Type "Prospect" / "Vendor" flags it too.

The export is a snapshot: `observed_at` is `--observed-at`, else the latest Last Modified Date in
the file (a pre-pass), else the latest Last Activity Date (HubSpot's default contacts view has
no Last Modified Date), else the latest Create Date, else the day in the file's name (HubSpot
names exports `hubspot-crm-exports-<view>-2024-03-06.csv`: the start of that day in
`--timezone`); the load summary says which (`source.snapshot_moment`).

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hubspot-crm-exports-all-contacts.csv"
    >>> _ = p.write_text('"Record ID","First Name","Last Name","Email","Job Title",'
    ...     '"Associated Company","Lifecycle Stage","Last Modified Date"\\n'
    ...     '"101","Ada","Lovelace","ada@acme.com","CTO","Acme","Customer","2024-03-05 14:22"\\n')
    >>> items = list(read(p, ReadContext("hubspot")))
    >>> [(type(i).__name__, type(i.ref).__name__ if hasattr(i, "ref") else i.type)
    ...  for i in items]
    [('Node', 'CompanyRef'), ('Node', 'PersonRef'), ('Link', 'WORKS_AT'), ('Node', 'CustomerRef')]
    >>> items[1].ref.source_key, items[3].props["status"], items[0].props["customer"]
    ('hubspot:101', 'active', True)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.csvio import CsvFile, MissingColumns, Row
from connectors.errors import BadLine
from connectors.records import (
    CompanyRef,
    CustomerRef,
    Link,
    Node,
    PersonRef,
    ReadItem,
    person_ref,
)
from connectors.sniff import Header
from connectors.source import ReadContext, Source, snapshot_moment

RECORD_ID = "Record ID"
FIRST, LAST, EMAIL = "First Name", "Last Name", "Email"
PHONE, MOBILE, TITLE = "Phone Number", "Mobile Phone Number", "Job Title"
COMPANY_NAME = "Company Name"  # a contact's "Company Name"; a company's "Company name"
ASSOCIATED = "Associated Company"
WEBSITE, DOMAIN = "Website URL", "Company Domain Name"
LIFECYCLE, BECAME_CUSTOMER = "Lifecycle Stage", "Became a Customer Date"
MODIFIED, LAST_ACTIVITY, CREATED = "Last Modified Date", "Last Activity Date", "Create Date"
CITY, STATE, COUNTRY = "City", "State/Region", "Country/Region"
INDUSTRY, EMPLOYEES, TYPE = "Industry", "Number of Employees", "Type"

_COLUMNS: tuple[str | tuple[str, ...], ...] = (
    (RECORD_ID, "Contact ID", "Company ID", "VID"), FIRST, LAST, (EMAIL, "Email Address"),
    PHONE, MOBILE, TITLE, (COMPANY_NAME, "Name"), ASSOCIATED, WEBSITE, DOMAIN, LIFECYCLE,
    BECAME_CUSTOMER, MODIFIED, LAST_ACTIVITY, CREATED, CITY, STATE, (COUNTRY, "Country"),
    INDUSTRY, EMPLOYEES, TYPE,
)
CUSTOMER_STAGES = frozenset({"customer", "evangelist"})
PROSPECT_STAGES = frozenset({"lead", "marketingqualifiedlead", "salesqualifiedlead",
                             "opportunity"})
_TYPE_FLAGS = {"prospect": "prospect", "vendor": "vendor"}


def stage(text: str | None) -> str:
    """A lifecycle stage as HubSpot's internal name: "Marketing Qualified Lead" ->
    "marketingqualifiedlead" (exports write labels, the API internal names)."""
    return re.sub(r"[^a-z]", "", (text or "").lower())


def _open(path: Path) -> tuple[CsvFile, str]:
    f = CsvFile(path, optional=_COLUMNS)
    if f.has(EMAIL) or f.has(FIRST) or f.has(LAST):
        return f, "contacts"
    if f.has(COMPANY_NAME) or f.has(DOMAIN):
        return f, "companies"
    raise MissingColumns(path, [f"{EMAIL} / {FIRST} / {LAST} (a contacts export)",
                                f"Company name / {DOMAIN} (a companies export)"], f.header)


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    """Contacts or companies, whichever the header says; see the module docstring."""
    f, kind = _open(Path(path))
    observed = snapshot_moment(ctx, f.path, (MODIFIED, LAST_ACTIVITY, CREATED), f.rows(),
                               named_like=f"hubspot-crm-exports-all-{kind}-2024-03-06.csv")
    ctx.note(f"{f.path.name}: a HubSpot {kind} export")
    each = _contact if kind == "contacts" else _company
    for row in f.rows():
        if isinstance(row, BadLine):
            yield row
            continue
        try:
            yield from each(f, row, observed, ctx)
        except _Bad as bad:
            yield BadLine(f.path, row.line, bad.field, bad.reason)


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _date(row: Row, column: str, ctx: ReadContext) -> datetime | None:
    try:
        return ctx.clock.parse_or_none(row.get(column))
    except ValueError as exc:
        raise _Bad(column, str(exc)) from None


def _count(text: str | None) -> str | None:
    """"1,200" -> "1200"; anything else as written (the store validates it)."""
    if text and re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        return text.replace(",", "")
    return text


def _flags(stage_name: str) -> dict[str, Any]:
    if stage_name in CUSTOMER_STAGES:
        return {"customer": True}
    if stage_name in PROSPECT_STAGES:
        return {"prospect": True}
    return {}


def _customer(of: PersonRef | CompanyRef, name: str | None, row: Row, observed: datetime,
              ctx: ReadContext) -> Node:
    props: dict[str, Any] = {"status": "active"}
    if name:
        props["name"] = name
    started = _date(row, BECAME_CUSTOMER, ctx)
    if started is not None:
        props["started"] = started
    return Node(CustomerRef(of=of), props, line=row.line, observed_at=observed)


def _contact(f: CsvFile, row: Row, observed: datetime,
             ctx: ReadContext) -> Iterator[ReadItem]:
    email, record = row.get(EMAIL), row.get(RECORD_ID)
    if not email and not record:
        raise _Bad(EMAIL, f"no e-mail and no {RECORD_ID}: nobody to name")
    _date(row, MODIFIED, ctx)  # a malformed date is a bad row, even if only the pre-pass uses it
    associated = row.get(ASSOCIATED)
    if associated and ";" in associated:  # several associated companies: the contact's own name
        associated = row.get(COMPANY_NAME) or associated.split(";")[0].strip() or None
    company_name = associated or row.get(COMPANY_NAME)
    website = row.get(WEBSITE)
    domain = row.get(DOMAIN) or website
    company = CompanyRef(domain=domain, name=company_name) if company_name or domain else None
    name = " ".join(p for p in (row[FIRST], row[LAST]) if p) or None
    person = person_ref(email, name, source_key=f"hubspot:{record}" if record else None,
                        company=company)
    lifecycle = stage(row.get(LIFECYCLE))
    customer_node = None
    if lifecycle in CUSTOMER_STAGES:
        customer_node = (_customer(company, company_name, row, observed, ctx) if company
                         else _customer(person, name, row, observed, ctx))
    props: dict[str, Any] = {"name": name, "title": row.get(TITLE),
                             "phone": row.get(PHONE) or row.get(MOBILE),
                             "location": ", ".join(p for p in (row[CITY], row[STATE],
                                                               row[COUNTRY]) if p) or None}
    if company is not None:
        company_props: dict[str, Any] = {"name": company_name, "website": website,
                                         **_flags(lifecycle)}
        yield Node(company, _present(company_props), line=row.line, observed_at=observed)
    yield Node(person, _present(props), line=row.line, observed_at=observed)
    if company is not None:
        title = row.get(TITLE)
        yield Link("WORKS_AT", person, company, {"title": title} if title else {},
                   line=row.line, observed_at=observed)
    if customer_node is not None:
        yield customer_node


def _company(f: CsvFile, row: Row, observed: datetime,
             ctx: ReadContext) -> Iterator[ReadItem]:
    name, domain, website = row.get(COMPANY_NAME), row.get(DOMAIN), row.get(WEBSITE)
    if not name and not domain and not website:
        raise _Bad("Company name", "no name, domain or website: no company to name")
    _date(row, MODIFIED, ctx)
    company = CompanyRef(domain=domain or website, name=name)
    lifecycle = stage(row.get(LIFECYCLE))
    flags = _flags(lifecycle)
    kind = _TYPE_FLAGS.get(stage(row.get(TYPE)))
    if kind:
        flags[kind] = True
    customer_node = (_customer(company, name, row, observed, ctx)
                     if lifecycle in CUSTOMER_STAGES else None)
    props: dict[str, Any] = {"name": name, "domain": domain, "website": website,
                             "industry": row.get(INDUSTRY), "size": _count(row.get(EMPLOYEES)),
                             "country": row.get(COUNTRY), **flags}
    yield Node(company, _present(props), line=row.line, observed_at=observed)
    if customer_node is not None:
        yield customer_node


def _present(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None and v != ""}


SOURCE = Source("hubspot", read, "HubSpot contacts or companies export: people, companies, "
                "customers and prospects", snapshot=True,
                what="a HubSpot contacts or companies export", headers=(
                    Header("a HubSpot contacts export", (RECORD_ID, "VID"), (EMAIL, FIRST, LAST)),
                    Header("a HubSpot contacts export", "Contact ID",
                           (LIFECYCLE, CREATED, LAST_ACTIVITY, ASSOCIATED, "Lead Status")),
                    Header("a HubSpot companies export", (RECORD_ID, "Company ID"),
                           (COMPANY_NAME, DOMAIN))))
