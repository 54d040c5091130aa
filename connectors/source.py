"""The contract between a reader and the load pipeline, and the registry of SOURCE names.

A reader is a function `read(path, ctx) -> Iterator[ReadItem]`: lazy (a file of any size
streams), yielding `connectors.records` records and `BadLine`s for rows it cannot read. It raises
only for a problem with the whole file (`MissingColumns`, `UnreadableFile`, a missing option),
and does so before yielding anything, so nothing loads. Each reader module declares
`SOURCE = Source(...)`; `SOURCES` below maps the names users type to those modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.csvio import Row
from connectors.dates import TimeReader
from connectors.errors import BadLine, ConnectorError
from connectors.records import PersonRef, ReadItem


class MissingOption(ConnectorError, ValueError):
    """A reader needs an option the command line did not give (`--owner`, `--mapping` …)."""


@dataclass
class ReadContext:
    """What a load tells its reader, and what the reader tells the load summary."""

    source: str  # the SOURCE name, e.g. "linkedin"
    clock: TimeReader = field(default_factory=TimeReader)  # --timezone; counts naive times
    owner: PersonRef | None = None  # --owner: whose export this is (LinkedIn connections)
    observed_at: datetime | None = None  # --observed-at: the moment a snapshot export describes
    mapping: dict[str, Any] | None = None  # --mapping TOML, parsed
    team: frozenset[str] = frozenset()  # normalised e-mails of our team (people at own companies)
    notes: list[str] = field(default_factory=list)  # lines for the summary

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def need_owner(self) -> PersonRef:
        if self.owner is None:
            raise MissingOption(f"`relgraph load {self.source}` needs --owner EMAIL: whose "
                                "export is this?")
        return self.owner

    def need_mapping(self) -> dict[str, Any]:
        if self.mapping is None:
            raise MissingOption(f"`relgraph load {self.source}` needs --mapping FILE (TOML)")
        return self.mapping


Reader = Callable[[Path, ReadContext], Iterator[ReadItem]]


def snapshot_moment(ctx: ReadContext, path: Path, column: str,
                    rows: Iterable[Row | BadLine]) -> datetime:
    """The moment a snapshot export describes: `--observed-at` if given, else the latest date in
    `column` over `rows` (a pre-pass over the file; unreadable dates are skipped here and
    reported by the main pass), never the clock of the load. Says which in a note."""
    if ctx.observed_at is not None:
        ctx.note(f"observed_at {ctx.observed_at.isoformat()}: from --observed-at")
        return ctx.observed_at
    clock = TimeReader(ctx.clock.tz, dayfirst=ctx.clock.dayfirst)  # not counted twice
    latest: datetime | None = None
    for row in rows:
        if isinstance(row, Row):
            try:
                when = clock.parse_or_none(row[column])
            except ValueError:
                continue
            if when is not None and (latest is None or when > latest):
                latest = when
    if latest is None:
        raise MissingOption(f"{path}: no {column} to tell which moment this export describes; "
                            "pass --observed-at")
    ctx.note(f"observed_at {latest.isoformat()}: the latest {column} in {path.name} "
             "(pass --observed-at to set it)")
    return latest


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    read: Reader
    summary: str  # one line for --help and the README table
    needs_owner: bool = False
    needs_mapping: bool = False
    snapshot: bool = False  # describes the world at one moment (observed_at applies)


# SOURCE name -> module defining `SOURCE`. Imported lazily: `relgraph --help` stays fast.
SOURCES: dict[str, str] = {
    "graph": "connectors.graph_jsonl",
    "linkedin": "connectors.linkedin",
    "hubspot": "connectors.hubspot",
    "salesforce": "connectors.salesforce",
    "csv": "connectors.mapped_csv",
    "segment": "connectors.segment",
    "shopify": "connectors.shopify",
    "transactions": "connectors.transactions",
    "zendesk": "connectors.zendesk",
    "notes": "connectors.notes",
    "catalog": "connectors.catalog",
    "feed": "connectors.feed",
    "clicks": "connectors.clicks",
    "funding": "connectors.funding",
    "news": "connectors.news",
    "competitors": "connectors.competitors",
    "mbox": "connectors.mbox",
    "ics": "connectors.ics",
}


# One line per SOURCE for `relgraph load --help` (without importing every reader).
HELP: dict[str, str] = {
    "graph": "relgraph's own graph JSON Lines: one node or relationship per line.",
    "linkedin": "LinkedIn Connections.csv (with --owner): people, employers, KNOWS.",
    "hubspot": "HubSpot contact or company export: people, companies, customers.",
    "salesforce": "Salesforce contact or account export: people, companies, customers.",
    "csv": "Any CSV with --mapping FILE (TOML): contacts or a customer table.",
    "segment": "Segment JSON Lines (identify, track, page, group, alias): identities, "
               "events, page reads.",
    "shopify": "Shopify orders export: customers and purchases.",
    "transactions": "A transactions CSV (customer or e-mail, date, amount, currency).",
    "zendesk": "Zendesk ticket export: concerns raised, tagged with topics.",
    "notes": "Call notes CSV: concerns raised, tagged with topics.",
    "catalog": "Our content catalogue CSV (url, title, kind, topics).",
    "feed": "Our own RSS/Atom feed: content, tagged with topics.",
    "clicks": "Newsletter click/open exports (Mailchimp or email,url,action,timestamp): reads.",
    "funding": "Crunchbase-style funding rounds CSV: funding triggers.",
    "news": "Company-news RSS/Atom feeds: funding, leadership and acquisition triggers.",
    "competitors": "A text file of competitor domains or names.",
    "mbox": "An mbox mailbox, headers only: who on our team e-mails whom (KNOWS).",
    "ics": "An .ics calendar: who on our team meets whom (KNOWS).",
}


def source(name: str) -> Source:
    try:
        module = SOURCES[name]
    except KeyError:
        raise ConnectorError(
            f"unknown source {name!r}; one of {', '.join(sorted(SOURCES))}") from None
    found: Source = importlib.import_module(module).SOURCE
    return found
