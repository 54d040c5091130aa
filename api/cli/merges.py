"""`relgraph merges list | approve ID | reject ID`: proposed merges a person decides."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import Format, FormatOpt, opened_store, out, plain
from connectors.adoption import configured_key_features
from connectors.merges import STATUSES, MergeBook, approve, evidence_line
from graph.settings import get_settings

app = typer.Typer(help="Merges proposed by loads (the same person or company under two keys), "
                       "decided here.", no_args_is_help=True)


def _book() -> MergeBook:
    return MergeBook(get_settings().data_dir / "merges.sqlite")


@app.command("list")
def merges_list(
    status: Annotated[str, typer.Option(
        help=f"{', '.join(STATUSES)} or all")] = "proposed",
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Proposed merges with their evidence and score (or decided ones with --status)."""
    if status not in (*STATUSES, "all"):
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}, all", param_hint="--status")
    proposals = _book().proposals(None if status == "all" else status)
    if fmt is Format.JSON:
        out.print_json(data=plain(proposals))
        return
    if not proposals:
        out.print(f"No {'' if status == 'all' else status + ' '}merges.")
        return
    table = Table()
    for col in ("id", "label", "keep", "merge into it", "score", "evidence", "status"):
        table.add_column(col)
    for p in proposals:
        table.add_row(str(p.id), p.label, p.keep, p.drop, f"{p.score:.2f}",
                      evidence_line(p.evidence, (p.keep, p.drop)),
                      p.status + (f": {p.note}" if p.note else ""))
    out.print(table)


@app.command("approve")
def merges_approve(proposal: Annotated[int, typer.Argument(help="the merge's id")]) -> None:
    """Merge the two as they are now: every relationship moved to the kept node, both ids kept.
    Refused, and marked stale, when a later load made them two e-mails (two domains)."""
    with opened_store() as store:
        decided = approve(store, _book(), proposal, key_features=configured_key_features(
            get_settings().analytics_config))
    if decided.note and decided.note.startswith("already one node"):
        out.print(f"[green]approved[/]: {decided.note}")
        return
    out.print(f"[green]merged[/] {decided.drop} into {decided.keep}"
              + (f": {decided.note}" if decided.note else ""))


@app.command("reject")
def merges_reject(proposal: Annotated[int, typer.Argument(help="the merge's id")]) -> None:
    """They are two: never propose this pair again."""
    decided = _book().decide(proposal, "rejected")
    out.print(f"[yellow]rejected[/]: {decided.keep} and {decided.drop} stay two")
