"""`relgraph schema …`: the GraphQL schema as SDL, for code generators, editors and reviews."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graph.settings import get_settings

app = typer.Typer(help="The GraphQL schema the API serves.", no_args_is_help=True)


def schema_sdl() -> str:
    """The SDL of the schema `relgraph serve` serves with the current settings."""
    from api.schema import build_schema

    return build_schema(get_settings()).as_str() + "\n"


@app.command("print")
def schema_print(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write it to this file instead of standard output",
        dir_okay=False)] = None,
) -> None:
    """Print the schema's SDL (also served at /graphql/schema.graphql to a key holder)."""
    text = schema_sdl()
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({len(text.splitlines()):,} lines)", err=True)
