"""What every command group shares: output formats, argument parsing, the store, error lines."""

from __future__ import annotations

import csv
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.rule import Rule

from connectors.csvio import csv_safe
from connectors.dates import parse_moment
from graph.store import GraphStore, open_store

PIPED_WIDTH = 10_000  # no terminal, no COLUMNS: lines as long as they are, never wrapped
RULE_WIDTH = 80  # … but a section rule is not ten thousand dashes


class CliConsole(Console):
    """rich's console. When the output is no terminal (a pipe, a file, a CI log) and COLUMNS is
    not set, rich would wrap everything at 80 columns: a table's cells broken over lines, a
    one-line summary over two (so `grep` misses it). Then lines are never wrapped and tables take
    the width they need; section rules keep RULE_WIDTH."""

    def __init__(self, *, stderr: bool = False) -> None:
        stream = sys.stderr if stderr else sys.stdout
        self.piped = not _is_terminal(stream) and not os.environ.get("COLUMNS")
        super().__init__(stderr=stderr, width=PIPED_WIDTH if self.piped else None,
                         soft_wrap=self.piped)

    def rule(self, title: Any = "", *, characters: str = "─", style: Any = "rule.line",
             align: Any = "center") -> None:
        if not self.piped:
            super().rule(title, characters=characters, style=style, align=align)
            return
        self.print(Rule(title, characters=characters, style=style, align=align),
                   width=RULE_WIDTH)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed, or no file at all
        return False


out = CliConsole()
err = CliConsole(stderr=True)

_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOpt = Annotated[Format, typer.Option("--format", help="table, json or csv")]
MOMENT_HELP = ("a date (2026-11-01: the start of that day, UTC) or an ISO date-time "
               "(2026-11-01T09:00:00Z; without a zone: UTC)")
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=f"{MOMENT_HELP}; default now")]


def parse_window(text: str) -> timedelta:
    match = _DURATION.match(text.lower())
    if not match:
        raise typer.BadParameter(f"{text!r}: use a number of hours, days or weeks: 36h, 90d, 12w")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"h": "hours", "d": "days", "w": "weeks"}[unit]: amount})


def parse_as_of(text: str | None, tz: ZoneInfo | None = None, *,
                option: str = "--as-of") -> datetime | None:
    """A moment typed on the command line (`--as-of`, `--observed-at`, `--since`, `--at`), by
    the one rule of `connectors.dates.parse_moment`: a date is the start of that day in `tz`
    (the command's --timezone; UTC when it has none)."""
    if text is None:
        return None
    try:
        return parse_moment(text, tz)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@contextmanager
def opened_store() -> Iterator[GraphStore]:
    store = open_store()
    try:
        yield store
    finally:
        store.close()


def plain(value: Any) -> Any:
    """Dataclasses, tuples and datetimes as JSON-ready values."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def write_csv(header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """CSV on stdout; cells that a spreadsheet would run as formulas are neutralised."""
    writer = csv.writer(sys.stdout)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
