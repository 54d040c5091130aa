"""`relgraph load SOURCE PATH…` and `relgraph load --manifest FILE`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.text import Text

from api.cli.common import err, opened_store, out, parse_as_of
from connectors.adoption import configured_key_features
from connectors.dates import zone
from connectors.manifest import LoadSpec, read_manifest
from connectors.pipeline import Loader, LoadSummary
from connectors.source import HELP, SOURCES, source
from graph.settings import get_settings
from graph.store import GraphStore

app = typer.Typer(
    help="Load the files real tools export. `relgraph load SOURCE PATH…` for one source, "
         "`relgraph load --manifest FILE` for several in order.",
    invoke_without_command=True)


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.completed:,.0f} rows, {task.speed or 0:,.0f} rows/s")


def run_spec(store: GraphStore, spec: LoadSpec) -> LoadSummary:
    settings = get_settings()
    ctx = spec.context()
    # whose first use the feed shows (connectors/adoption.py); a bad analytics file stops
    # the load here, before anything is read
    key_features = configured_key_features(settings.analytics_config)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), _Rate(),
                  console=err, transient=True) as bar:
        task = bar.add_task(f"{spec.source}: {', '.join(p.name for p in spec.paths)}",
                            total=None)
        loader = Loader(store, data_dir=settings.data_dir, batch_size=settings.batch_size,
                        progress=lambda n: bar.advance(task, n), key_features=key_features)
        return loader.run(source(spec.source), spec.paths, ctx)


def print_summary(summary: LoadSummary) -> None:
    """What a load did, in the units `relgraph store info` counts: rows of the file read;
    distinct nodes and relationships created or changed (a re-load of the same file writes
    none), of which new."""
    names = ", ".join(p.name for p in summary.paths)
    nodes, rels = sum(summary.nodes.values()), sum(summary.relationships.values())
    out.print(f"[bold]{summary.source}[/] ({names}): read {summary.rows:,} rows; "
              f"wrote {nodes:,} nodes ({sum(summary.created_nodes.values()):,} new) and "
              f"{rels:,} relationships ({sum(summary.created_relationships.values()):,} new); "
              f"rejected {summary.rejected:,}")
    for what, counts, created in (("nodes", summary.nodes, summary.created_nodes),
                                  ("relationships", summary.relationships,
                                   summary.created_relationships)):
        if counts:
            out.print(f"  {what}: " + ", ".join(
                f"{k} {v:,}" + (f" ({created[k]:,} new)" if created[k] != v else "")
                for k, v in sorted(counts.items())))
    if not nodes and not rels and summary.rows and not summary.rejected:
        out.print("  nothing changed: the graph already held all of it")
    if summary.events_added or summary.events_known:
        out.print(f"  events: {summary.events_added:,} added to the event log, "
                  f"{summary.events_known:,} already there")
    out.print(f"  merged {summary.merged:,}; proposed merges {summary.proposed:,}"
              + (" (see `relgraph merges list`)" if summary.proposed else ""))
    for note in summary.notes:
        out.print(f"  [cyan]note[/]: {note}")
    for example in summary.examples:
        out.print(f"  [yellow]rejected[/] {example}")
    if summary.rejects_file:
        out.print(f"  every rejected row, with its reason: {summary.rejects_file}")


def failure(summary: LoadSummary) -> str | None:
    """Why a load that ran to its end still failed, or None: it read no row at all (a header
    and nothing else, a feed without entries), or every row it read was rejected. Either way
    nothing of the file reached the graph, and a script must not take it for a load."""
    names = ", ".join(p.name for p in summary.paths)
    if summary.rows == 0:
        return f"nothing was read from {names}: no data rows (check the export)"
    if summary.rejected and _rejected_rows(summary) >= summary.rows:
        return (f"every row of {names} was rejected ({summary.rows:,} rows): nothing was "
                f"loaded; the reasons are in {summary.rejects_file}")
    return None


def _rejected_rows(summary: LoadSummary) -> int:
    """Distinct rows (file and line) in the load's reject file: a row can be rejected for
    several reasons, and the count of rejects is not a count of rows."""
    if summary.rejects_file is None:
        return 0
    rows = set()
    with summary.rejects_file.open(encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            if entry.get("line"):
                rows.add((entry.get("file"), entry["line"]))
    return len(rows)


def run_specs(specs: list[LoadSpec], strict: bool) -> None:
    """Every load in order. Exit status: 1 when a load read nothing or rejected every row it
    read (the others still run), or with --strict when any row was rejected; else 0."""
    rejected, failed = 0, False
    for spec in specs:  # every spec's options are checked before anything loads
        spec.context()
    with opened_store() as store:
        for spec in specs:
            summary = run_spec(store, spec)
            print_summary(summary)
            rejected += summary.rejected
            why = failure(summary)
            if why is not None:
                err.print(Text.assemble(("error: ", "red"), f"{summary.source}: {why}"),
                          soft_wrap=True)
                failed = True
    if failed or (strict and rejected):
        raise typer.Exit(1)


@app.callback()
def load(
    ctx: typer.Context,
    manifest: Annotated[Path | None, typer.Option(
        help="a TOML file of \\[\\[load]] entries (source, paths, owner, observed_at, timezone, "
             "mapping), run in order", exists=True, dir_okay=False)] = None,
    strict: Annotated[bool, typer.Option(
        help="exit 1 if any row is rejected (without it: only when every row is, or nothing "
             "is read)")] = False,
) -> None:
    if ctx.invoked_subcommand is not None:
        if manifest is not None:
            raise typer.BadParameter("give a SOURCE or --manifest, not both")
        return
    if manifest is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    run_specs(read_manifest(manifest), strict)


def _observed(text: str | None, timezone: str | None) -> datetime | None:
    """--observed-at read in --timezone (a date: the start of that day there). An unknown zone
    is reported by the spec's own checks, with the other options, before anything loads."""
    try:
        tz = zone(timezone)
    except ValueError:
        tz = None
    return parse_as_of(text, tz, option="--observed-at")


def _command(name: str) -> None:
    def command(
        paths: Annotated[list[Path], typer.Argument(help="files to load", exists=True,
                                                    dir_okay=False)],
        owner: Annotated[str | None, typer.Option(
            help="whose export this is (an e-mail): LinkedIn connections, a mailbox")] = None,
        observed_at: Annotated[str | None, typer.Option(
            help="the moment a snapshot export describes: a date (2024-11-30: the start of that "
                 "day in --timezone) or an ISO date-time; default: from the file")] = None,
        timezone: Annotated[str | None, typer.Option(
            help="IANA zone for times the file writes without one (default UTC)")] = None,
        mapping: Annotated[Path | None, typer.Option(
            help="TOML column mapping (the csv source)", exists=True, dir_okay=False)] = None,
        strict: Annotated[bool, typer.Option(
            help="exit 1 if any row is rejected (without it: only when every row is, or "
                 "nothing is read)")] = False,
    ) -> None:
        spec = LoadSpec(name, list(paths), owner, _observed(observed_at, timezone), timezone,
                        mapping)
        run_specs([spec], strict)

    command.__doc__ = HELP[name]
    app.command(name)(command)


for _name in SOURCES:
    _command(_name)
