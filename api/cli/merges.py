"""`relgraph merges list | approve ID | reject ID`: proposed merges a person decides."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import Format, FormatOpt, opened_store, out, plain
from connectors.merges import MergeBook, approve
from graph.settings import get_settings

app = typer.Typer(help="Merges proposed by loads (same name at the same company), decided here.",
                  no_args_is_help=True)


def _book() -> MergeBook:
    return MergeBook(get_settings().data_dir / "merges.sqlite")


@app.command("list")
def merges_list(
    status: Annotated[str, typer.Option(help="proposed, approved, rejected or all")] = "proposed",
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Proposed merges with their evidence and score (or decided ones with --status)."""
    if status not in ("proposed", "approved", "rejected", "all"):
        raise typer.BadParameter("one of proposed, approved, rejected, all", param_hint="--status")
    proposals = _book().proposals(None if status == "all" else status)
    if fmt is Format.JSON:
        out.print_json(data=plain(proposals))
        return
    if not proposals:
        out.print(f"No {'' if status == 'all' else status + ' '}merges.")
        return
    table = Table()
    for col in ("id", "keep", "merge into it", "score", "evidence", "status"):
        table.add_column(col)
    for p in proposals:
        evidence = p.evidence
        table.add_row(str(p.id), p.keep, p.drop, f"{p.score:.2f}",
                      f"{' / '.join(evidence.get('names', []))} at {evidence.get('company', '?')}",
                      p.status)
    out.print(table)


@app.command("approve")
def merges_approve(proposal: Annotated[int, typer.Argument(help="the merge's id")]) -> None:
    """Merge the two: every relationship moved to the kept node, both ids kept."""
    with opened_store() as store:
        decided = approve(store, _book(), proposal)
    out.print(f"[green]merged[/] {decided.drop} into {decided.keep}")


@app.command("reject")
def merges_reject(proposal: Annotated[int, typer.Argument(help="the merge's id")]) -> None:
    """They are two people: never propose this pair again."""
    decided = _book().decide(proposal, "rejected")
    out.print(f"[yellow]rejected[/]: {decided.keep} and {decided.drop} stay two people")
