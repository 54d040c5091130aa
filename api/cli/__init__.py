"""`relgraph`: the operator's and analyst's command line. One module per command group; each
command is a thin shell over a function in connectors/, graph/ or curation/."""

from __future__ import annotations

import sys

import typer

from api.cli import (  # roundup_issues adds the editorial commands to roundup's group
    analyze,
    apikey,
    load,
    maintenance,
    merges,
    query,
    roundup,
    roundup_issues,  # noqa: F401
    schema,
    serve,
    store,
    team,
    topics,
)
from api.cli import demo as demo_module
from api.cli.common import err
from connectors.errors import ConnectorError
from curation.errors import CurationError
from graph.errors import GraphError

app = typer.Typer(help="Relationship Graph: load, inspect and question the relationship graph.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.command()(store.init)
app.add_typer(demo_module.app, name="demo")
app.add_typer(store.app, name="store")
app.add_typer(load.app, name="load")
app.add_typer(query.app, name="query")
app.add_typer(team.app, name="team")
app.add_typer(merges.app, name="merges")
app.add_typer(topics.app, name="topics")
app.command()(serve.serve)
app.add_typer(apikey.app, name="apikey")
app.add_typer(roundup.app, name="roundup")  # with the editorial commands of roundup_issues
app.add_typer(analyze.app, name="analyze")
app.add_typer(schema.app, name="schema")
app.add_typer(maintenance.app, name="maintenance")


def main() -> None:
    try:
        app()
    except (GraphError, ConnectorError, CurationError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
