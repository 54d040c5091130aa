"""Reader for LinkedIn's connections export (`Connections.csv`, from "Get a copy of your data").

The export opens with a "Notes:" preamble (a quoted paragraph about missing e-mail addresses and a
blank line), then the header and one row per connection:

    Notes:
    "When exporting your connection data, you may notice that some of the email addresses are ..."

    First Name,Last Name,URL,Email Address,Company,Position,Connected On
    Ada,Lovelace,https://www.linkedin.com/in/ada-lovelace,,Analytical Engines,Founder,15 Mar 2023

Older exports have no preamble and no `URL` column; many have no `Email Address` column (or leave
it empty: members choose whether their connections may download it). Every shape loads.

What it yields, per connection (`--owner EMAIL` says whose connections these are):
- `Node(Person)`: name from First + Last Name, `linkedin_url` (canonical), `title` (Position);
  the person is named by e-mail when there is one and by `"linkedin:" + canonical profile URL`;
- `Node(Company)` by name only (LinkedIn gives no domain) and `WORKS_AT` with the title;
- `KNOWS` owner -> person, `source="linkedin"`, `since` = Connected On.
A row with neither a URL nor an e-mail names nobody: it is a `BadLine`.

The export is a snapshot: `observed_at` is `--observed-at`, else the latest Connected On in the
file (a pre-pass), else a date in the file's name (`Connections-2024-11-30.csv`: the start of
that day in `--timezone`), and the load summary says which (`source.snapshot_moment`).

    >>> import tempfile, pathlib
    >>> from connectors.records import PersonRef
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "Connections.csv"
    >>> _ = p.write_text('Notes:\\n"Some e-mails may be missing."\\n\\n'
    ...     'First Name,Last Name,URL,Email Address,Company,Position,Connected On\\n'
    ...     'Ada,Lovelace,https://www.linkedin.com/in/ada-l/,,Engines Ltd,Founder,15 Mar 2023\\n')
    >>> ctx = ReadContext("linkedin", owner=PersonRef(email="me@example.com"))
    >>> items = list(read(p, ctx))
    >>> [(type(i).__name__, getattr(i, "type", "")) for i in items]
    [('Node', ''), ('Node', ''), ('Node', ''), ('Link', 'WORKS_AT'), ('Link', 'KNOWS')]
    >>> items[2].ref.source_key, items[4].props["since"].date().isoformat()
    ('linkedin:https://www.linkedin.com/in/ada-l/', '2023-03-15')
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from connectors.csvio import CsvFile, MissingColumns, Row
from connectors.errors import BadLine
from connectors.records import CompanyRef, Link, Node, PersonRef, ReadItem, person_ref
from connectors.sniff import Header
from connectors.source import ReadContext, Source, snapshot_moment
from graph.keys import canonical_url

FIRST, LAST, URL, EMAIL = "First Name", "Last Name", "URL", "Email Address"
COMPANY, POSITION, CONNECTED = "Company", "Position", "Connected On"
_OPTIONAL = (URL, (EMAIL, "Email", "E-mail Address"), COMPANY, POSITION, CONNECTED)


def _open(path: Path) -> CsvFile:
    f = CsvFile(path, required=(FIRST, LAST), optional=_OPTIONAL)
    if not f.has(URL) and not f.has(EMAIL):
        raise MissingColumns(path, [f"{URL} or {EMAIL}"], f.header)
    return f


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    """Connections as Person, Company, WORKS_AT and KNOWS records; see the module docstring."""
    owner = ctx.need_owner()
    f = _open(Path(path))
    observed = snapshot_moment(ctx, f.path, CONNECTED, f.rows(),
                               named_like="Connections-2024-11-30.csv")
    # The owner comes from --owner, not from a row of the file: line 0.
    yield Node(owner, {"name": owner.name} if owner.name else {}, line=0, observed_at=observed)
    for row in f.rows():
        if isinstance(row, BadLine):
            yield row
            continue
        yield from _row(f, row, owner, observed, ctx)


def _row(f: CsvFile, row: Row, owner: PersonRef, observed: datetime,
         ctx: ReadContext) -> Iterator[ReadItem]:
    email, raw_url = row.get(EMAIL), row.get(URL)
    if not email and not raw_url:
        yield BadLine(f.path, row.line, URL, "no profile URL and no e-mail: nobody to name")
        return
    url: str | None = None
    if raw_url:
        try:
            url = canonical_url(raw_url)
        except ValueError as exc:
            if not email:
                yield BadLine(f.path, row.line, URL, str(exc))
                return
    try:
        since = ctx.clock.parse_or_none(row.get(CONNECTED))
    except ValueError as exc:
        yield BadLine(f.path, row.line, CONNECTED, str(exc))
        return
    name = " ".join(p for p in (row[FIRST], row[LAST]) if p) or None
    title = row.get(POSITION)
    company_name = row.get(COMPANY)
    company = CompanyRef(name=company_name) if company_name else None
    person = person_ref(email, name, source_key=f"linkedin:{url}" if url else None,
                        company=company)
    props: dict[str, object] = {}
    if name:
        props["name"] = name
    if url:
        props["linkedin_url"] = url
    if title:
        props["title"] = title
    if company is not None:
        yield Node(company, {"name": company_name}, line=row.line, observed_at=observed)
    yield Node(person, props, line=row.line, observed_at=observed)
    if company is not None:
        yield Link("WORKS_AT", person, company, {"title": title} if title else {},
                   line=row.line, observed_at=observed)
    knows: dict[str, object] = {"source": "linkedin"}
    if since is not None:
        knows["since"] = since
    yield Link("KNOWS", owner, person, knows, line=row.line, observed_at=observed)


SOURCE = Source("linkedin", read, "LinkedIn Connections.csv: people, employers, KNOWS the owner",
                needs_owner=True, snapshot=True, what="a LinkedIn Connections.csv",
                headers=(Header("a LinkedIn Connections.csv", FIRST, LAST, CONNECTED),))
