"""`relgraph init` and `relgraph store info`."""

from __future__ import annotations

import typer
from rich.table import Table

from api.cli.common import opened_store, out
from graph.settings import get_settings

app = typer.Typer(help="Inspect the configured store.", no_args_is_help=True)


def init() -> None:
    """Prepare the configured store: constraints and indexes (Neo4j) or the data dir (embedded)."""
    settings = get_settings()
    with opened_store() as store:
        created = store.migrate()
    where = settings.neo4j_uri if store.kind == "neo4j" else str(settings.graph_path)
    out.print(f"[green]ready[/]: {store.kind} store at {where}")
    for name in created:
        out.print(f"  created {name}")


@app.command("info")
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
