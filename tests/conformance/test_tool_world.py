"""The load-trust proof: a world written only in the tools' own export layouts
(tests/worlds/tools.py), loaded through `relgraph` processes on both stores, in two orders and
twice over. The headline answers are the ones worked out by hand in the world's docstring; every
company with a known domain is keyed by it; the second load changes no count; both orders give
the same graph, as a fresh process opens it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.memory_store import MemoryStore
from graph.store import GraphStore
from tests.conformance.helpers import Dump, graph_dump
from tests.worlds.cli import relgraph
from tests.worlds.tools import ARTICLE, LOADS, ORDERS, PAPER, write_world

AS_OF = "2026-11-01"
HEADLINE = ["query", "readers", "--topic", "crm", "--concern", "churn", "--as-of", AS_OF,
            "--format", "json"]


@pytest.fixture(params=["memory", "neo4j"])
def kind(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "neo4j":
        request.getfixturevalue("neo4j_store").delete_all()
    yield request.param


def _neo4j(request: pytest.FixtureRequest) -> GraphStore:
    store: GraphStore = request.getfixturevalue("neo4j_store")
    return store


def load(world: Path, data: Path, kind: str, order: str) -> list[str]:
    """Every load of `order` as its own process; returns what each printed."""
    printed = []
    for email, name in (("maya@relgraph.io", "Maya Chen"), ("tom@relgraph.io", "Tom Berg")):
        relgraph("team", "add", email, "--name", name, data=data, store=kind)
    for step in ORDERS[order]:
        source, path, *options = LOADS[step]
        result = relgraph("load", source, str(world / path), *options, data=data, store=kind)
        printed.append(result.stdout)
    return printed


def dump(kind: str, data: Path, request: pytest.FixtureRequest) -> Dump:
    """The whole graph as a fresh process opens it, with list properties whose order is only
    the order of the loads (sources, aliases) compared as sets."""
    if kind == "memory":
        store = MemoryStore(data / "graph.sqlite")
        try:
            nodes, rels = graph_dump(store)
        finally:
            store.close()
    else:
        nodes, rels = graph_dump(_neo4j(request))
    for props in (*nodes.values(), *rels.values()):
        for name in ("sources", "aliases"):
            if name in props:
                props[name] = sorted(props[name])
    return nodes, rels


def headline(data: Path, kind: str, *extra: str) -> list[dict[str, Any]]:
    result = relgraph(*HEADLINE, *extra, data=data, store=kind)
    return [{"person": m["person_id"], "via": m["via"],
             "companies": [c["company_id"] for c in m["companies"]],
             "reads": [(r["content_id"], r["count"]) for r in m["reads"]],
             "concerns": [c["concern_id"] for c in m["concerns"]]}
            for m in json.loads(result.stdout)]


ADA = {"person": "ada@apex.co", "via": ["maya@relgraph.io"], "companies": ["apex.co"],
       "reads": [(PAPER, 2)], "concerns": ["zendesk:5001"]}
ZOE = {"person": "zoe@northwind.io", "via": ["tom@relgraph.io"], "companies": ["northwind.io"],
       "reads": [(PAPER, 1)], "concerns": ["zendesk:5003"]}
BEN = {"person": "ben@apex.co", "via": ["tom@relgraph.io"], "companies": ["apex.co"],
       "reads": [(PAPER, 1)], "concerns": ["zendesk:5002"]}
LI = {"person": "li@northwind.io", "via": ["tom@relgraph.io"], "companies": ["northwind.io"],
      "reads": [(ARTICLE, 1)], "concerns": ["zendesk:5005"]}


def _by_person(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["person"])


def test_the_world_in_two_orders_twice(kind: str, tmp_path: Path,
                                       request: pytest.FixtureRequest) -> None:
    world = write_world(tmp_path / "exports")
    graphs = {}
    for order in ORDERS:
        data = tmp_path / order
        first = load(world, data, kind, order)
        assert all("rejected 0" in out for out in first), "\n".join(first)
        once = dump(kind, data, request)
        load(world, data, kind, order)
        again = dump(kind, data, request)
        assert again == once, (f"a second load of the same files changed the graph ({order}):\n"
                               + "\n".join(differences(once, again)))

        assert _by_person(headline(data, kind, "--kind", "white_paper")) == [ADA, BEN, ZOE]
        assert _by_person(headline(data, kind)) == [ADA, BEN, LI, ZOE]
        nodes, _ = once
        companies = sorted(key for label, key in nodes if label == "Company")
        assert companies == ["apex.co", "embersoft.com", "globex.com", "northwind.io",
                             "relgraph.io"]
        customers = sorted(key for label, key in nodes if label == "Customer")
        assert customers == ["company:apex.co", "company:embersoft.com"]
        paper = nodes[("Content", PAPER)]
        assert (paper["kind"], paper["title"]) == ("white_paper", "The CRM playbook")
        graphs[order] = once
        if kind == "neo4j":
            _neo4j(request).delete_all()
    first, second = graphs.values()
    assert first == second, ("the two load orders gave different graphs:\n"
                             + "\n".join(differences(first, second)))


def differences(a: Dump, b: Dump) -> list[str]:
    lines = []
    for kind, x, y in (("node", a[0], b[0]), ("relationship", a[1], b[1])):
        for key in sorted(x.keys() | y.keys(), key=str):
            if x.get(key) != y.get(key):
                lines.append(f"  {kind} {key}: {x.get(key)} != {y.get(key)}")
    return lines
