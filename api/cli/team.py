"""`relgraph team …`: who is on our team (their company is flagged own)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import opened_store, out
from connectors.team import add_member

app = typer.Typer(help="Our own team: whose connections the questions start from.",
                  no_args_is_help=True)


@app.command("add")
def team_add(
    email: Annotated[str, typer.Argument(help="their work e-mail")],
    name: Annotated[str | None, typer.Option(help="their name")] = None,
    title: Annotated[str | None, typer.Option(help="their job title")] = None,
) -> None:
    """Add a member of our team; the company of their e-mail is flagged own."""
    with opened_store() as store:
        member = add_member(store, email, name=name, title=title)
    out.print(f"[green]added[/] {member.person} to the team at {member.company} (flagged own)")


@app.command("list")
def team_list() -> None:
    """The people who work at a company flagged own today."""
    with opened_store() as store:
        for key in store.team():
            out.print(key)
