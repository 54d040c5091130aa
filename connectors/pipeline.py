"""The load pipeline: records from a reader -> batched store upserts, rejects to a reject file.

Nodes go first and relationships second (two streaming passes over the file), so a relationship
may name a node from anywhere in the file. Each batch is written whole or not at all; a crash
followed by a re-run leaves one complete load, because every write is an upsert on natural keys.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from connectors.errors import BadLine
from connectors.graph_jsonl import GraphRecord, read_graph_jsonl
from graph.store import GraphStore


class RejectWriter:
    """Rejected lines, as JSON Lines naming file, line, field and reason; created on first use.

    The file is named after the input and the moment of the load; it is created exclusively, with
    a counter added when that name is taken (two inputs of the same name loaded in the same
    instant), so one load never overwrites another's rejects."""

    def __init__(self, directory: Path, source_path: Path) -> None:
        self.directory = directory
        self.stem = f"{source_path.name}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}"
        self.path = directory / f"{self.stem}.rejects.jsonl"
        self.count = 0
        self._file: IO[str] | None = None

    def _open(self) -> IO[str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        for attempt in itertools.count():
            suffix = f"-{attempt}" if attempt else ""
            path = self.directory / f"{self.stem}{suffix}.rejects.jsonl"
            try:
                file = path.open("x", encoding="utf-8")
            except FileExistsError:
                continue
            self.path = path
            return file
        raise AssertionError("unreachable")

    def add(self, file: str, line: int, field: str | None, reason: str,
            record: dict[str, Any] | None = None) -> None:
        if self._file is None:
            self._file = self._open()
        entry = {"file": file, "line": line, "field": field, "reason": reason, "record": record}
        self._file.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass
class LoadSummary:
    path: Path
    nodes: Counter[str] = field(default_factory=Counter)
    relationships: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    rejects_file: Path | None = None
    examples: list[str] = field(default_factory=list)  # the first few reject messages

    @property
    def loaded(self) -> int:
        return sum(self.nodes.values()) + sum(self.relationships.values())


def load_graph_file(
    store: GraphStore,
    path: Path,
    *,
    rejects_dir: Path,
    batch_size: int = 10_000,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> LoadSummary:
    """Load one graph JSON Lines file. `progress` is told how many bytes each step read."""
    path = Path(path)
    source = source or f"graph_jsonl:{path.name}"
    summary = LoadSummary(path)
    rejects = RejectWriter(rejects_dir, path)

    def reject(line: int, field_name: str | None, reason: str, record: dict | None) -> None:
        rejects.add(str(path), line, field_name, reason, record)
        if len(summary.examples) < 5:
            where = f"{path}:{line}" + (f": field {field_name!r}" if field_name else "")
            summary.examples.append(f"{where}: {reason}")

    def flush(batch: list[GraphRecord]) -> None:
        """One batch of records of one label, or of one relationship type between two labels."""
        rows = [r.row for r in batch]
        first = batch[0]
        if first.node_label is not None:
            result = store.upsert_nodes(first.node_label, rows, source=source)
            summary.nodes[first.node_label] += result.written
        else:
            assert first.rel_type is not None
            result = store.upsert_relationships(first.rel_type, rows, source=source,
                                                from_label=first.from_label,
                                                to_label=first.to_label)
            summary.relationships[first.rel_type] += result.written
        for rej in result.rejects:
            record = batch[rej.row]
            reject(record.line, rej.field, rej.reason, record.row)

    try:
        for phase in ("node", "rel"):
            buffers: dict[tuple[str | None, ...], list[GraphRecord]] = {}
            for rec in read_graph_jsonl(path):
                if isinstance(rec, BadLine):
                    if phase == "node":  # reported once, not once per pass
                        reject(rec.line, rec.field, rec.reason, None)
                    continue
                if progress is not None:
                    progress(rec.size)
                if (rec.node_label is not None) != (phase == "node"):
                    continue
                key = (rec.node_label, rec.rel_type, rec.from_label, rec.to_label)
                batch = buffers.setdefault(key, [])
                batch.append(rec)
                if len(batch) >= batch_size:
                    flush(batch)
                    buffers[key] = []
            for batch in buffers.values():
                if batch:
                    flush(batch)
        store.checkpoint()
    finally:
        rejects.close()
    summary.rejected = rejects.count
    summary.rejects_file = rejects.path if rejects.count else None
    return summary
