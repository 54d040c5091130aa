"""`relgraph`: the operator's and analyst's command line."""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from connectors.errors import ConnectorError
from connectors.pipeline import LoadSummary, load_graph_file
from graph.errors import GraphError
from graph.model import CompanyMatch, ReaderMatch, ReaderQuery
from graph.rows import parse_datetime
from graph.settings import get_settings
from graph.store import GraphStore, open_store

app = typer.Typer(help="Relationship Graph: load, inspect and question the relationship graph.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
store_app = typer.Typer(help="Inspect the configured store.", no_args_is_help=True)
load_app = typer.Typer(help="Load data files into the graph.", no_args_is_help=True)
query_app = typer.Typer(help="Ask the graph the standard questions.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(load_app, name="load")
app.add_typer(query_app, name="query")

out = Console()
err = Console(stderr=True)

# Package data (pyproject.toml), so `relgraph demo` works from any install, not only a checkout.
DEMO_FILE = resources.files("api").joinpath("demo", "graph.jsonl")
DEMO_AS_OF = "2026-11-01T00:00:00Z"
_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def parse_window(text: str) -> timedelta:
    match = _DURATION.match(text.lower())
    if not match:
        raise typer.BadParameter(f"{text!r}: use a number of hours, days or weeks: 36h, 90d, 12w")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"h": "hours", "d": "days", "w": "weeks"}[unit]: amount})


def parse_as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextmanager
def opened_store() -> Iterator[GraphStore]:
    store = open_store()
    try:
        yield store
    finally:
        store.close()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


# --- commands ---------------------------------------------------------------------------------

@app.command()
def init() -> None:
    """Prepare the configured store: constraints and indexes (Neo4j) or the data dir (embedded)."""
    settings = get_settings()
    with opened_store() as store:
        created = store.migrate()
    where = settings.neo4j_uri if store.kind == "neo4j" else str(settings.snapshot_path)
    out.print(f"[green]ready[/]: {store.kind} store at {where}")
    for name in created:
        out.print(f"  created {name}")


@store_app.command("info")
def store_info() -> None:
    """Counts of nodes per label and relationships per type."""
    with opened_store() as store:
        counts = store.counts()
    table = Table(title=f"{store.kind} store")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, n in counts.nodes.items():
        table.add_row("node", label, f"{n:,}")
    for rel, n in counts.relationships.items():
        table.add_row("relationship", rel, f"{n:,}")
    out.print(table)


def _print_summary(summary: LoadSummary) -> None:
    out.print(f"[bold]{summary.path}[/]: loaded {summary.loaded:,} rows "
              f"({sum(summary.nodes.values()):,} nodes, "
              f"{sum(summary.relationships.values()):,} relationships), "
              f"rejected {summary.rejected:,}")
    for example in summary.examples:
        out.print(f"  [yellow]rejected[/] {example}")
    if summary.rejects_file:
        out.print(f"  every rejected line, with its reason: {summary.rejects_file}")


@load_app.command("graph")
def load_graph(
    paths: Annotated[list[Path], typer.Argument(help="relgraph graph JSON Lines files",
                                                exists=True, dir_okay=False)],
    strict: Annotated[bool, typer.Option(help="exit 1 if any line is rejected")] = False,
) -> None:
    """Load relgraph graph JSON Lines files (one node or relationship per line)."""
    settings = get_settings()
    rejected = 0
    with opened_store() as store:
        for path in paths:
            with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                          TimeRemainingColumn(), console=err, transient=True) as bar:
                # Two passes over the file: nodes first, then relationships.
                task = bar.add_task(f"loading {path.name}", total=2 * path.stat().st_size)
                summary = load_graph_file(
                    store, path, rejects_dir=settings.rejects_dir,
                    batch_size=settings.batch_size,
                    progress=lambda n, t=task: bar.advance(t, n),  # type: ignore[misc]
                )
            _print_summary(summary)
            rejected += summary.rejected
    if strict and rejected:
        raise typer.Exit(1)


QueryOpt = Annotated[str, typer.Option("--topic", help="topic read about, e.g. crm")]
ConcernOpt = Annotated[str, typer.Option("--concern", help="topic of the concern, e.g. churn")]
PersonOpt = Annotated[str | None, typer.Option(
    "--person", help="whose connections (e-mail or source:id); default: anyone on our team")]
KindOpt = Annotated[str | None, typer.Option("--kind", help="only content of this kind")]
ReadWindowOpt = Annotated[str, typer.Option("--read-window", help="e.g. 90d")]
ConcernWindowOpt = Annotated[str, typer.Option("--concern-window", help="e.g. 30d")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="ISO instant with zone; default now")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=1000)]
FormatOpt = Annotated[Format, typer.Option("--format", help="table, json or csv")]


def _query(topic: str, concern: str, person: str | None, kind: str | None, read_window: str,
           concern_window: str, as_of: str | None, limit: int) -> ReaderQuery:
    return ReaderQuery(read_topic=topic, concern_topic=concern, person=person, content_kind=kind,
                       read_window=parse_window(read_window),
                       concern_window=parse_window(concern_window),
                       as_of=parse_as_of(as_of), limit=limit)


def print_readers(matches: list[ReaderMatch], fmt: Format) -> None:
    if fmt is Format.JSON:
        out.print_json(data=_plain(matches))
        return
    if fmt is Format.CSV:
        writer = csv.writer(sys.stdout)
        writer.writerow(["person", "name", "companies", "known_by", "read", "concerns"])
        for m in matches:
            companies = "; ".join(c.company_id for c in m.companies)
            writer.writerow([m.person_id, m.name or "", companies,
                             "; ".join(m.via), "; ".join(r.content_id for r in m.reads),
                             " | ".join(f"{_day(c.at)} {c.text}" for c in m.concerns)])
        return
    if not matches:
        out.print("Nobody matches.")
        return
    table = Table(show_lines=True)
    for col in ("person", "works at", "known by", "read", "concern raised"):
        table.add_column(col)
    for m in matches:
        table.add_row(
            f"{m.name or ''}\n{m.person_id}",
            "\n".join(f"{c.name or c.company_id}" + (f" ({c.title})" if c.title else "")
                      for c in m.companies) or "-",
            "\n".join(m.via),
            "\n".join(f"{_day(r.last_at)} {r.title or r.content_id} [{r.kind or '?'}]"
                      for r in m.reads),
            "\n".join(f"{_day(c.at)} {c.channel or ''}: {c.text}" for c in m.concerns),
        )
    out.print(table)


def print_companies(matches: list[CompanyMatch], fmt: Format) -> None:
    if fmt is Format.JSON:
        out.print_json(data=_plain(matches))
        return
    if fmt is Format.CSV:
        writer = csv.writer(sys.stdout)
        writer.writerow(["company", "name", "people", "person_ids"])
        for c in matches:
            writer.writerow([c.company_id, c.name or "", c.people, "; ".join(c.person_ids)])
        return
    if not matches:
        out.print("No company matches.")
        return
    table = Table()
    for col in ("company", "people", "who"):
        table.add_column(col)
    for c in matches:
        table.add_row(f"{c.name or ''} ({c.company_id})", str(c.people), ", ".join(c.person_ids))
    out.print(table)


@query_app.command("readers")
def query_readers(topic: QueryOpt, concern: ConcernOpt, person: PersonOpt = None,
                  kind: KindOpt = None, read_window: ReadWindowOpt = "90d",
                  concern_window: ConcernWindowOpt = "30d", as_of: AsOfOpt = None,
                  limit: LimitOpt = 100, fmt: FormatOpt = Format.TABLE) -> None:
    """Connections who read about TOPIC and recently raised a CONCERN, with the evidence."""
    q = _query(topic, concern, person, kind, read_window, concern_window, as_of, limit)
    with opened_store() as store:
        print_readers(store.readers(q), fmt)


@query_app.command("companies")
def query_companies(topic: QueryOpt, concern: ConcernOpt, person: PersonOpt = None,
                    kind: KindOpt = None, read_window: ReadWindowOpt = "90d",
                    concern_window: ConcernWindowOpt = "30d", as_of: AsOfOpt = None,
                    limit: LimitOpt = 100, fmt: FormatOpt = Format.TABLE) -> None:
    """Companies ranked by how many such connections work there now."""
    q = _query(topic, concern, person, kind, read_window, concern_window, as_of, limit)
    with opened_store() as store:
        print_companies(store.reader_companies(q), fmt)


@query_app.command("profile")
def query_profile(
    person: Annotated[str, typer.Argument(help="e-mail or source:id")],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """A person's employers, connections, topics read and concerns raised."""
    if fmt is Format.CSV:
        raise typer.BadParameter("a profile is not a table: use --format table or json",
                                 param_hint="--format")
    with opened_store() as store:
        profile = store.person_profile(person, as_of=parse_as_of(as_of))
    if fmt is Format.JSON:
        out.print_json(data=_plain(profile))
        return
    out.print(f"[bold]{profile.name or profile.person_id}[/] <{profile.person_id}>, "
              f"{profile.connections} connections")
    for job in profile.current:
        out.print(f"  works at {job.name or job.company_id}"
                  + (f" as {job.title}" if job.title else "") + f" since {_day(job.since)}")
    for job in profile.past:
        out.print(f"  worked at {job.name or job.company_id} until {_day(job.until)}")
    for t in profile.topics:
        out.print(f"  read about {t.name or t.topic_id}: {t.reads}x, {t.contents} items, "
                  f"last {_day(t.last_at)}")
    for c in profile.concerns:
        out.print(f"  raised {_day(c.at)} ({', '.join(c.topics) or 'no topic'}): {c.text}")


@app.command()
def demo() -> None:
    """Load the demo graph into the configured store and ask it the standard questions."""
    settings = get_settings()
    with opened_store() as store, resources.as_file(DEMO_FILE) as demo_file:
        store.migrate()
        summary = load_graph_file(store, demo_file, rejects_dir=settings.rejects_dir,
                                  batch_size=settings.batch_size, source="demo")
        _print_summary(summary)
        q = ReaderQuery(read_topic="crm", concern_topic="churn", read_window=timedelta(days=90),
                        concern_window=timedelta(days=30), as_of=parse_datetime(DEMO_AS_OF))
        out.rule("Which of our connections read about CRM (last 90 days) and raised a churn "
                 f"concern (last 30 days), as of {DEMO_AS_OF[:10]}?")
        print_readers(store.readers(q), Format.TABLE)
        out.rule("At which companies do we know such people?")
        print_companies(store.reader_companies(q), Format.TABLE)
    where = settings.snapshot_path if store.kind == "memory" else settings.neo4j_uri
    out.print(f"Store: {store.kind} ({where}). "
              "Try: relgraph query readers --topic crm --concern churn "
              f"--as-of {DEMO_AS_OF} --kind white_paper")


def main() -> None:
    try:
        app()
    except (GraphError, ConnectorError) as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
