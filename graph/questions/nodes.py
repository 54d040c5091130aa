"""The stored properties of some nodes of one label, by key (what a fold must copy when the node
it folds into does not exist yet: an Event needs its type and time).

Anchored on the label's key index; the label comes from the schema only (never user text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph.questions import Cypher, Question, Record
from graph.schema import cypher_name, node_type
from graph.view import GraphView


@dataclass(frozen=True, slots=True)
class NodesQuery:
    label: str
    keys: tuple[str, ...]


def _prepare(query: NodesQuery) -> NodesQuery:
    ntype = node_type(query.label)  # an unknown label is refused here
    return NodesQuery(ntype.label, tuple(sorted({ntype.normalise_key(k) for k in query.keys})))


def _cypher(query: NodesQuery) -> Cypher:
    return Cypher(f"MATCH (n:{cypher_name(query.label)}) WHERE n.id IN $keys "
                  "RETURN n.id AS key, properties(n) AS props", {"keys": list(query.keys)})


def _from_records(query: NodesQuery, records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    return {r["key"]: dict(r["props"]) for r in records}


def _embedded(view: GraphView, query: NodesQuery) -> dict[str, dict[str, Any]]:
    found = {}
    for key in query.keys:
        props = view.node(query.label, key)
        if props is not None:
            found[key] = dict(props)
    return found


NODES: Question[NodesQuery, dict[str, dict[str, Any]]] = Question(
    "nodes", _prepare, _cypher, _from_records, _embedded)
