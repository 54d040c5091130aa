"""A read-only view of the embedded store's graph, for the questions' embedded implementations.

Questions (graph/questions/) never touch the store's internals: they walk the graph through this
view, which the memory store hands them while it holds its shared lock. Nodes are `(label, key)`
tuples; relationships are found through networkx's adjacency dicts (the views cost ~3x).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from graph.model import Employment, is_current

Node = tuple[str, str]
Adjacency = dict[Node, dict[Node, dict[str, dict[str, Any]]]]


class GraphView:
    def __init__(self, nodes: dict[Node, dict[str, Any]], succ: Adjacency, pred: Adjacency,
                 labels: Mapping[str, set[str]], flags: Mapping[str, set[str]]) -> None:
        self._nodes = nodes
        self._succ = succ
        self._pred = pred
        self._labels = labels
        self._flags = flags

    def node(self, label: str, key: str) -> dict[str, Any] | None:
        """The properties of a node, or None."""
        return self._nodes.get((label, key))

    def attrs(self, node: Node) -> dict[str, Any]:
        return self._nodes[node]

    def has(self, node: Node) -> bool:
        return node in self._nodes

    def keys(self, label: str) -> set[str]:
        return self._labels[label]

    def flagged(self, flag: str) -> set[str]:
        """Keys of the companies with this flag (own, customer, prospect …)."""
        return self._flags[flag]

    def out(self, node: Node, rel: str) -> Iterator[tuple[Node, dict[str, Any]]]:
        """(other node, relationship properties) for each `rel` from `node`."""
        for other, by_type in self._succ.get(node, {}).items():
            attrs = by_type.get(rel)
            if attrs is not None:
                yield other, attrs

    def out_by_type(self, node: Node, rels: tuple[str, ...]
                    ) -> dict[str, list[tuple[Node, dict[str, Any]]]]:
        """out() for several relationship types in one pass over the node's neighbours: rel ->
        [(other node, relationship properties)], each list in out()'s order."""
        found: dict[str, list[tuple[Node, dict[str, Any]]]] = {rel: [] for rel in rels}
        for other, by_type in self._succ.get(node, {}).items():
            for rel, attrs in by_type.items():
                bucket = found.get(rel)
                if bucket is not None:
                    bucket.append((other, attrs))
        return found

    def into(self, node: Node, rel: str) -> Iterator[tuple[Node, dict[str, Any]]]:
        """(other node, relationship properties) for each `rel` into `node`."""
        for other, by_type in self._pred.get(node, {}).items():
            attrs = by_type.get(rel)
            if attrs is not None:
                yield other, attrs

    def both(self, node: Node, rel: str) -> Iterator[tuple[Node, dict[str, Any]]]:
        """Both directions: for relationships treated as undirected (KNOWS)."""
        yield from self.out(node, rel)
        yield from self.into(node, rel)

    def about(self, node: Node, topic: str) -> bool:
        return "ABOUT" in self._succ.get(node, {}).get(("Topic", topic), ())

    def topics(self, node: Node) -> tuple[str, ...]:
        return tuple(sorted(t[1] for t, _ in self.out(node, "ABOUT")))

    def jobs(self, person: Node) -> list[Employment]:
        return [
            Employment(company[1], self._nodes[company].get("name"), w.get("title"),
                       w.get("since"), w.get("until"))
            for company, w in self.out(person, "WORKS_AT")
        ]

    def current_jobs(self, person: Node, as_of: datetime) -> tuple[Employment, ...]:
        return tuple(j for j in self.jobs(person) if is_current(j.since, j.until, as_of))

    def team(self, as_of: datetime) -> set[Node]:
        """People working at a company flagged own at `as_of`."""
        team: set[Node] = set()
        for key in self._flags["own"]:
            for person, w in self.into(("Company", key), "WORKS_AT"):
                if is_current(w.get("since"), w.get("until"), as_of):
                    team.add(person)
        return team
