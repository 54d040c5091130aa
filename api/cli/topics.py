"""`relgraph topics …`: the taxonomy that tags content, concerns and triggers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import out
from connectors.tagging import DESCRIBE_COLUMNS, describe, load_taxonomy
from graph.settings import get_settings

app = typer.Typer(help="The topic taxonomy (RELGRAPH_TAXONOMY, default: the customer-success "
                       "one shipped).", no_args_is_help=True)


@app.command("test")
def topics_test(text: Annotated[str, typer.Argument(help="the text to tag")]) -> None:
    """Show which topics TEXT would be tagged with, and which phrase matched."""
    rows = describe(text, load_taxonomy(get_settings().taxonomy))
    if not rows:
        out.print("No topic.")
        return
    table = Table()
    for col in DESCRIBE_COLUMNS:
        table.add_column(col)
    for row in rows:
        table.add_row(*(row[c] for c in DESCRIBE_COLUMNS))
    out.print(table)


@app.command("list")
def topics_list() -> None:
    """Every topic of the taxonomy with its synonyms."""
    taxonomy = load_taxonomy(get_settings().taxonomy)
    table = Table()
    for col in ("id", "name", "synonyms"):
        table.add_column(col)
    for topic in taxonomy.topics:
        table.add_row(topic.id, topic.name, ", ".join(topic.synonyms))
    out.print(table)
