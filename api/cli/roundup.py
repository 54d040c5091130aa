"""`relgraph roundup …`: the weekly roundup. This module holds the group, the feed list
(`sources add|import|list|remove`) and `fetch`; the editorial commands (build, edit, preview,
schedule, publish, list) are added to the same `app` by `api/cli/roundup_issues.py`.

Every command is a thin shell over `curation/`; a `CurationError` is printed as one line and
exits 1 (`curation_errors`, shared with the issues commands).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from api.cli.common import Format, FormatOpt, day, err, opened_store, out, plain, write_csv
from curation.db import connect
from curation.errors import CurationError
from curation.fetch import (
    DEFAULT_CONTACT,
    FeedReport,
    FetchOptions,
    Outcome,
    fetch_all,
    user_agent,
)
from curation.model import SourceKind
from curation.opml import KIND_ATTRIBUTE, import_opml
from curation.sources import add_source, list_sources, remove_source
from graph.settings import get_settings

app = typer.Typer(help="The weekly roundup: feeds in, a curated issue out.", no_args_is_help=True)
sources_app = typer.Typer(help="The feeds the roundup reads (company, vendor or ours).",
                          no_args_is_help=True)
app.add_typer(sources_app, name="sources")

DB_NAME = "curation.sqlite"
_STYLE = {Outcome.OK: "green", Outcome.UNCHANGED: "dim", Outcome.WARNING: "yellow",
          Outcome.FAILED: "red"}


def db_path() -> Path:
    return get_settings().data_dir / DB_NAME


@contextmanager
def curation_errors() -> Iterator[None]:
    """A `CurationError` becomes one red line on stderr and exit status 1."""
    try:
        yield
    except CurationError as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)), highlight=False, soft_wrap=True)
        sys.exit(1)


@contextmanager
def curation_db() -> Iterator[sqlite3.Connection]:
    """The curation database of the data dir, committed when the command succeeds."""
    with curation_errors(), connect(db_path()) as db:
        yield db


@sources_app.command("add")
def sources_add(
    url: Annotated[str, typer.Argument(help="the feed's URL (RSS, Atom or JSON Feed)")],
    kind: Annotated[SourceKind, typer.Option(
        help="the section its stories go to: company (companies and pontificators), vendor, "
             "ours")],
    name: Annotated[str | None, typer.Option(
        help="the outlet's name in blurbs (default: the feed's own title)")] = None,
    weight: Annotated[float | None, typer.Option(
        help="trust in this source for ranking, 0.1 .. 10 (default 1)")] = None,
) -> None:
    """Add a feed (or change the kind, name and weight of one already listed)."""
    with curation_db() as db, opened_store() as store:
        saved = add_source(db, store, url, kind=kind, name=name, weight=weight,
                           data_dir=get_settings().data_dir)
    source = saved.source
    out.print(Text(f"{'added' if saved.created else 'updated'} {source.url} "
                   f"({source.kind.value}, weight {source.weight:g}"
                   f"{', ' + source.name if source.name else ''})"))


@sources_app.command("import")
def sources_import(
    path: Annotated[Path, typer.Argument(
        help="an OPML file, as Feedly and every feed reader export", exists=True,
        dir_okay=False)],
) -> None:
    with curation_db() as db, opened_store() as store:
        result = import_opml(db, store, path, data_dir=get_settings().data_dir)
    for source in result.added:
        out.print(Text(f"added   {source.kind.value:<7} {source.url}"
                       f"{'  ' + source.name if source.name else ''}"))
    for source in result.updated:
        out.print(Text(f"updated {source.kind.value:<7} {source.url}"
                       f"{'  ' + source.name if source.name else ''}"))
    for note in result.notes:
        out.print(Text.assemble(("note: ", "cyan"), note))
    out.print(f"{len(result.added)} added, {len(result.updated)} already listed (updated), "
              f"{len(result.notes)} note{'s' if len(result.notes) != 1 else ''}")


sources_import.__doc__ = (
    f"Add every feed of an OPML export. The kind of each comes from a {KIND_ATTRIBUTE} "
    "attribute, its OPML category, or its folder's name (Vendors, Ours, Companies …); "
    "default company.")


@sources_app.command("list")
def sources_list(fmt: FormatOpt = Format.TABLE) -> None:
    """Every feed with its kind, weight and the outcome of its last fetch."""
    with curation_db() as db:
        sources = list_sources(db)
    if fmt is Format.JSON:
        typer.echo(json.dumps(plain(sources), indent=2, ensure_ascii=False))
        return
    columns = ["kind", "weight", "name", "url", "moved_to", "last_fetched", "last_status"]
    rows = [[s.kind.value, f"{s.weight:g}", s.name or "", s.url, s.moved_to or "",
             day(s.last_fetched_at), s.last_status or ""] for s in sources]
    if fmt is Format.CSV:
        write_csv(columns, rows)
        return
    if not sources:
        out.print("No feed yet: `relgraph roundup sources add URL --kind company|vendor|ours` "
                  "or `relgraph roundup sources import FILE.opml`.")
        return
    table = Table()
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out.print(table)


@sources_app.command("remove")
def sources_remove(url: Annotated[str, typer.Argument(help="the feed's URL")]) -> None:
    """Stop reading a feed. What it brought stays: its entries, the issues that featured them,
    and its Source node in the graph."""
    with curation_db() as db:
        source = remove_source(db, url)
    out.print(Text(f"removed {source.url}"))


def report_line(feed: FeedReport) -> Text:
    return Text.assemble((f"{feed.outcome.value:<9}", _STYLE[feed.outcome]), " ", feed.url,
                         "  ", feed.message)


@app.command("fetch")
def fetch(
    concurrency: Annotated[int, typer.Option(min=1, max=128,
                                             help="feeds fetched at once")] = 16,
    timeout: Annotated[float | None, typer.Option(
        min=0.1, help="seconds to connect, and to wait for each part of an answer (default "
                      "20; the whole feed may take RELGRAPH_FEEDS_TIMEOUT, 60, or three times "
                      "this if more)")] = None,
    max_mb: Annotated[float | None, typer.Option(
        min=0.01, help="largest feed read, in MB (default RELGRAPH_FEEDS_MAX_BYTES, 16 MB)")
    ] = None,
    contact: Annotated[str, typer.Option(
        envvar="RELGRAPH_ROUNDUP_CONTACT",
        help="the URL in the User-Agent where feed owners read who fetches them")
    ] = DEFAULT_CONTACT,
    strict: Annotated[bool, typer.Option(
        help="kept for scripts that pass it: a failed feed always exits 1")] = False,
) -> None:
    """Fetch every feed (conditional GET, redirects, timeouts), one line per feed. Exit status
    0 when every feed was fetched (or had not changed), 1 when any failed, as the summary
    line says. Feeds on loopback, private or link-local addresses are refused unless
    RELGRAPH_FEEDS_ALLOW_HOSTS allows them."""
    settings = get_settings()
    read = 20.0 if timeout is None else timeout
    total = settings.feeds_timeout if timeout is None else max(settings.feeds_timeout,
                                                               3 * timeout)
    overrides: dict[str, object] = {
        "concurrency": concurrency, "connect_timeout": min(read, 10.0), "read_timeout": read,
        "total_timeout": total, "user_agent": user_agent(contact)}
    if max_mb is not None:
        overrides["max_bytes"] = int(max_mb * (1 << 20))
    with curation_db() as db:
        options = FetchOptions.from_settings(settings, **overrides)
        if not list_sources(db):
            raise CurationError("no feed to fetch: add some with `relgraph roundup sources "
                                "add` or `sources import FILE.opml`")
        report = fetch_all(db, options=options)
    for feed in report.feeds:  # one line each, never wrapped: easy to grep and to diff
        out.print(report_line(feed), highlight=False, soft_wrap=True)
    out.print(report.summary, highlight=False, soft_wrap=True)
    if report.count(Outcome.FAILED):  # with or without --strict: a script must see it
        raise typer.Exit(1)


__all__ = ["app", "curation_db", "curation_errors", "db_path", "sources_app"]
