"""The contract between a reader and the load pipeline, and the registry of SOURCE names.

A reader is a function `read(path, ctx) -> Iterator[ReadItem]`: lazy (a file of any size
streams), yielding `connectors.records` records and `BadLine`s for rows it cannot read. It raises
only for a problem with the whole file (`MissingColumns`, `UnreadableFile`, a missing option),
and does so before yielding anything, so nothing loads. Each reader module declares
`SOURCE = Source(...)`; `SOURCES` below maps the names users type to those modules.
"""

from __future__ import annotations

import gzip
import importlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.csvio import Row, detect_encoding
from connectors.dates import TimeReader
from connectors.errors import BadLine, ConnectorError
from connectors.records import PersonRef, ReadItem
from connectors.sniff import (
    HEAD,
    TEXT_KINDS,
    Header,
    WrongFile,
    advice,
    binary_kind,
    header_lines,
    json_lines,
    looks_tabular,
    text_kind,
)


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


def snapshot_moment(ctx: ReadContext, path: Path, columns: str | Sequence[str],
                    rows: Iterable[Row | BadLine], *, named_like: str) -> datetime:
    """The moment a snapshot export describes, never the clock of the load, and a note saying
    which it is:

    1. `--observed-at`, when given;
    2. else the latest date in the best of `columns` the file has, in the order given (a
       pre-pass over `rows`; unreadable dates are skipped here and reported by the main pass):
       HubSpot's default contacts view has no Last Modified Date but has Last Activity Date;
    3. else the moment in the file's name (`moment_in_name`): tools name exports by the day
       they were taken;
    4. else `MissingOption`, naming what would work: `--observed-at`, or a name like
       `named_like` (the way the tool names its exports).
    """
    if ctx.observed_at is not None:
        ctx.note(f"observed_at {ctx.observed_at.isoformat()}: from --observed-at")
        return ctx.observed_at
    wanted = (columns,) if isinstance(columns, str) else tuple(columns)
    clock = TimeReader(ctx.clock.tz, dayfirst=ctx.clock.dayfirst)  # not counted twice
    latest: dict[str, datetime] = {}
    for row in rows:
        if not isinstance(row, Row):
            continue
        for rank, column in enumerate(wanted):
            if any(better in latest for better in wanted[:rank]):
                break  # a better column has a date: the worse ones cannot win
            try:
                when = clock.parse_or_none(row.cells.get(column))
            except ValueError:
                continue
            if when is not None and (column not in latest or when > latest[column]):
                latest[column] = when
    for rank, column in enumerate(wanted):
        if column in latest:
            ctx.note(f"observed_at {latest[column].isoformat()}: the latest {column} in "
                     f"{path.name} ({_lacking(wanted[:rank])}pass --observed-at to set it)")
            return latest[column]
    named = moment_in_name(path, ctx.clock.tz)
    if named is not None:
        ctx.note(f"observed_at {named[0].isoformat()}: {named[1]} ({_lacking(wanted)}pass "
                 "--observed-at to set it)")
        return named[0]
    example = moment_in_name(Path(named_like), ctx.clock.tz)
    day = example[0].date().isoformat() if example else "2024-03-06"
    raise MissingOption(
        f"{path}: no {_either(wanted)} with a date, and no date in the file name, to tell which "
        f"moment this export describes. Pass --observed-at with the day it was exported "
        f"(--observed-at {day}: the start of that day in --timezone), or keep the name the "
        f"export was given, with its date (like {named_like}). Nothing was loaded.")


def _either(names: Sequence[str]) -> str:
    """"A", "A or B", "A, B or C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _lacking(names: Sequence[str]) -> str:
    return f"it has no {_either(names)}; " if names else ""


# Salesforce names a report export after the instant it was taken, in epoch milliseconds.
_SALESFORCE_REPORT = re.compile(r"report(\d{13})(?!\d)", re.IGNORECASE)
# A day in a file name: HubSpot's hubspot-crm-exports-<view>-2024-03-06.csv, 2024_03_06, 20240306.
_DAY = re.compile(r"(?<!\d)(\d{4})([-_.]?)(\d{2})\2(\d{2})(?!\d)")


def moment_in_name(path: Path, tz: ZoneInfo) -> tuple[datetime, str] | None:
    """The moment an export's file name gives, with words saying so, or None.

    - `report1710511200000.csv` (Salesforce): the export's own instant, epoch milliseconds;
    - a day (`hubspot-crm-exports-all-contacts-2024-03-06.csv`, `_2024_03_06`, `20240306`; the
      last one in the name): the START of that day in `tz` (--timezone). An export named for a
      day was taken some time that day; the start is what `--observed-at 2024-03-06` means too
      (`connectors.dates.parse_moment`), so the same file gives the same graph whether the day
      is typed or read from its name. It is used only when the file has no date column to go by,
      so it never places the snapshot before a date the file itself holds.

        >>> moment_in_name(Path("hubspot-crm-exports-all-contacts-2024-03-06.csv"),
        ...                ZoneInfo("Europe/Paris"))[0].isoformat()
        '2024-03-05T23:00:00+00:00'
    """
    name = path.name
    report = _SALESFORCE_REPORT.match(name)
    if report is not None:
        when = datetime.fromtimestamp(int(report.group(1)) / 1000, UTC)
        return when, f"the export time in the file name {name}"
    for match in reversed(list(_DAY.finditer(name))):
        try:
            day = date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        except ValueError:
            continue
        if day.year < 1970:
            continue
        moment = datetime.combine(day, time(), tz).astimezone(UTC)
        return moment, (f"the start of {day.isoformat()} ({tz.key}), the date in the file name "
                        f"{name}")
    return None


# What each format of file is called in errors, and the kinds of text (sniff.TEXT_KINDS) that
# a reader of that format reads itself (any other is refused before it is opened).
FORMATS = {"csv": "a CSV file", "jsonl": "a JSON Lines file", "feed": "an RSS/Atom feed",
           "mbox": "an mbox mailbox", "ics": "an iCalendar (.ics) file", "text": "a text file"}
_EXPORT_AS = {"csv": "CSV", "jsonl": "JSON Lines", "feed": "RSS or Atom", "mbox": "mbox",
              "ics": "iCalendar (.ics)", "text": "plain text"}
_READS: dict[str, frozenset[str]] = {
    "csv": frozenset(), "jsonl": frozenset({"json"}), "feed": frozenset({"feed", "xml", "html"}),
    "mbox": frozenset({"mbox"}), "ics": frozenset({"ics"}), "text": frozenset()}


@dataclass(frozen=True, slots=True)
class Source:
    """A SOURCE of `relgraph load`: its reader, and what its files look like.

    `format` and `headers` let a load refuse the wrong file before the reader opens it
    (`check_file`): each `Header` is a set of columns (JSON keys for JSON Lines) that identify
    one kind of this source's files; `what` names the file in errors."""

    name: str
    reader: Reader
    summary: str  # one line for --help and the README table
    needs_owner: bool = False
    needs_mapping: bool = False
    snapshot: bool = False  # describes the world at one moment (observed_at applies)
    format: str = "csv"  # a key of FORMATS
    what: str = ""  # "a LinkedIn Connections.csv"
    headers: tuple[Header, ...] = ()
    gzip: bool = False  # reads gzip-compressed files too (Segment's S3 exports)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
        """The reader's records, once the file is known to be one this source reads: a PNG,
        a workbook or another tool's export is one `WrongFile` error before anything is read."""
        check_file(self, Path(path))
        return self.reader(path, ctx)


def check_file(src: Source, path: Path) -> None:
    """`WrongFile` when `path` is plainly not a file `src` reads: a binary format (by its magic
    bytes, or many control bytes), another kind of text (a feed given to a CSV reader), or
    another source's export (by its header). A file that cannot be opened, is empty, or is not
    recognised is left to the reader, which says what is wrong with it."""
    head = _head(path, src.gzip)
    if not head:
        return
    expected = src.what if src.format == "text" else FORMATS[src.format]
    binary = binary_kind(head)
    if binary is not None:
        raise WrongFile(path, f"not {expected} (it looks like {binary}); "
                              f"{advice(binary, _EXPORT_AS[src.format])}")
    text = head.decode(detect_encoding(head), errors="replace")
    kind = text_kind(text)
    found = identify(text, kind)
    if kind is not None and kind not in _READS[src.format]:
        looks = found[0][1].what if found else TEXT_KINDS[kind]
        raise WrongFile(path, f"not {expected} (it looks like {looks})")
    if not src.headers and src.format == "csv":
        return  # reads any CSV it is told how to (`--mapping`)
    if found and src.name not in {s.name for s, _ in found}:
        other, header = found[0]
        raise WrongFile(path, f"this is not {src.what} (it looks like {header.what}; "
                              f"`relgraph load {other.name}` reads it)")
    if src.format == "jsonl" and kind is None and not any(
            line.startswith(("{", "[")) for line in json_lines(text)):
        raise WrongFile(path, "not a JSON Lines file (no line is a JSON object: it looks like "
                              "CSV or plain text)")
    if src.format == "text" and kind is None and looks_tabular(text):
        raise WrongFile(path, f"this is not {src.what} (it looks like a CSV table)")


def _head(path: Path, gzipped_ok: bool) -> bytes:
    try:
        with path.open("rb") as f:
            head = f.read(HEAD)
        if gzipped_ok and head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as g:
                head = g.read(HEAD)
    except (OSError, EOFError, zlib.error):
        return b""  # the reader reports what is wrong with it
    if not head.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        return b""
    return head


def identify(text: str, kind: str | None) -> list[tuple[Source, Header]]:
    """The sources whose headers match the start of `text` (CSV: the first line that matches
    any; JSON Lines: the keys of the first object), the most specific first."""
    if kind == "json":
        pool = [s for s in all_sources() if s.format == "jsonl"]
        candidates: Iterable[frozenset[str]] = _json_keys(text)
    elif kind is None:
        pool = [s for s in all_sources() if s.format == "csv"]
        candidates = header_lines(text)
    else:
        return []
    for found in candidates:
        matches = []
        for src in pool:
            fits = [h for h in src.headers if h.matches(found)]
            if fits:
                matches.append((src, max(fits, key=lambda h: h.fit(found))))
        if matches:
            return sorted(matches, key=lambda m: m[1].fit(found), reverse=True)
    return []


def _json_keys(text: str) -> Iterator[frozenset[str]]:
    for line in json_lines(text):
        try:
            obj = json.loads(line)
        except ValueError:
            return
        if isinstance(obj, dict):
            yield frozenset(str(k).casefold() for k in obj)
        return


def all_sources() -> list[Source]:
    return [source(name) for name in SOURCES]


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
