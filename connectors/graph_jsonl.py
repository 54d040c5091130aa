"""Reader for relgraph's own graph format: JSON Lines, one node or relationship per line.

    {"node": "Person", "id": "ada@example.com", "name": "Ada Lovelace"}
    {"node": "Company", "id": "example.com", "name": "Example Ltd", "customer": true}
    {"rel": "WORKS_AT", "from": "ada@example.com", "to": "example.com", "title": "CTO"}
    {"rel": "ABOUT", "from_label": "Concern", "from": "c-17", "to": "churn"}

Keys are normalised on the way in (e-mails, domains, URLs, slugs), so "Ada@Example.com" and
"ada@example.com" are one person. Blank lines and lines starting with "//" are skipped.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "g.jsonl"
>>> _ = p.write_text('{"node": "Topic", "id": "CRM"}\\n{"rel": "NOPE"}\\n')
>>> [type(r).__name__ for r in read_graph_jsonl(p)]
['GraphRecord', 'BadLine']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.errors import BadLine, UnreadableFile
from connectors.records import KeyRef, Link, Node, ReadItem
from connectors.sniff import Header
from connectors.source import ReadContext, Source
from graph.errors import SchemaError
from graph.schema import node_type, rel_ends, rel_type


@dataclass(frozen=True, slots=True)
class GraphRecord:
    line: int
    node_label: str | None  # set for a node line
    rel_type: str | None  # set for a relationship line
    from_label: str | None
    to_label: str | None
    row: dict[str, Any]
    size: int  # bytes of the line, for progress


def _parse(path: Path, number: int, text: str, size: int) -> GraphRecord:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(
            path, number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(obj, dict):
        raise BadLine(path, number, None, "each line must be a JSON object")
    try:
        if "node" in obj:
            label = obj.pop("node")
            node_type(label)
            return GraphRecord(number, label, None, None, None, obj, size)
        if "rel" in obj:
            name = obj.pop("rel")
            start, end = rel_ends(rel_type(name), obj.pop("from_label", None),
                                  obj.pop("to_label", None))
            return GraphRecord(number, None, name, start, end, obj, size)
    except SchemaError as exc:
        raise BadLine(path, number, "node" if "id" in obj else "rel", str(exc)) from None
    raise BadLine(path, number, None, 'a line needs "node" (a label) or "rel" (a type)')


def read_graph_jsonl(path: Path | str) -> Iterator[GraphRecord | BadLine]:
    """Records lazily, line by line; a bad line is yielded as a `BadLine`, never raised."""
    path = Path(path)
    try:
        f = path.open("rb")
    except OSError as exc:
        raise UnreadableFile(path, exc.strerror or str(exc)) from None
    with f:
        for number, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                yield BadLine(path, number, None, f"not UTF-8 ({exc.reason})")
                continue
            if not text or text.startswith("//"):
                continue
            try:
                yield _parse(path, number, text, len(raw))
            except BadLine as bad:
                yield bad


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    """The pipeline's view: all nodes of the file first, then all relationships (two streaming
    passes), so a relationship may name a node from anywhere in the file."""
    for phase in ("node", "rel"):
        for rec in read_graph_jsonl(path):
            if isinstance(rec, BadLine):
                if phase == "node":  # reported once, not once per pass
                    yield rec
                continue
            if (rec.node_label is not None) != (phase == "node"):
                continue
            row = dict(rec.row)
            ends = ("id",) if rec.node_label is not None else ("from", "to")
            missing = [e for e in ends if not isinstance(row.get(e), str) or not row[e].strip()]
            if missing:
                yield BadLine(path, rec.line, missing[0], "is required")
                continue
            if rec.node_label is not None:
                yield Node(KeyRef(rec.node_label, row.pop("id")), row, rec.line)
            else:
                assert rec.rel_type and rec.from_label and rec.to_label
                start, end = KeyRef(rec.from_label, row.pop("from")), KeyRef(rec.to_label,
                                                                             row.pop("to"))
                yield Link(rec.rel_type, start, end, row, rec.line)


SOURCE = Source("graph", read, "relgraph's own graph JSON Lines: one node or relationship "
                "per line", format="jsonl", what="relgraph's graph JSON Lines",
                headers=(Header("relgraph's graph JSON Lines", ("node", "rel")),))
