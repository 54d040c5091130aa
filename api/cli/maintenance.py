"""`relgraph maintenance …`: keeping the data dir in shape."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from api.cli.common import err, opened_store, out
from graph.eventlog import SMALL_PART, EventLog, EventLogBusy
from graph.memory_store import MemoryStore
from graph.settings import StoreKind, get_settings

app = typer.Typer(help="Keep the data dir in shape: compact the event log.",
                  no_args_is_help=True)


@app.command("compact")
def compact(
    wait: Annotated[float, typer.Option(
        min=0, help="seconds to wait for readers (a server's questions, an analysis) to let go "
                    "of the log for the moment of the swap")] = 60.0,
) -> None:
    """Merge the event log's small parts into one, sorted by time, each event once.

    Thousands of small loads leave thousands of Parquet parts, and every question over the log
    pays for each file. Parts under 8 MiB are rewritten as one; big ones stay. Safe while a
    server reads and while loads append (they wait for it); a crash half way is finished by the
    next append or compaction. Loads compact on their own past 256 small parts. With the
    embedded store, the deletion records its file keeps for other processes go too."""
    settings = get_settings()
    log = EventLog(settings.data_dir / "events")
    try:
        done = log.compact(wait=wait)
    except EventLogBusy as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
        raise typer.Exit(1) from None
    if not done.merged:
        out.print(f"nothing to compact: {done.parts_before:,} parts, fewer than two of them "
                  f"small (under {SMALL_PART >> 20} MiB)")
    else:
        out.print(f"compacted {done.merged:,} parts ({done.events:,} events) into one in "
                  f"{done.seconds:.1f} s: {done.parts_before:,} parts before, "
                  f"{done.parts_after:,} now")
    if settings.store is StoreKind.MEMORY and settings.graph_path.exists():
        with opened_store() as store:
            assert isinstance(store, MemoryStore)
            pruned = store.prune_journal()
        out.print(f"the embedded store's journal: {pruned:,} deletion records dropped")


__all__ = ["app"]
