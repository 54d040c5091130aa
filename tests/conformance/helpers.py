"""Small readable graphs for the conformance suite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.pipeline import LoadSummary, load_graph_file
from graph.memory_store import MemoryStore
from graph.model import ReaderMatch, ReaderQuery
from graph.store import GraphStore

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_demo(store: GraphStore, demo: Path, tmp: Path) -> LoadSummary:
    summary = load_graph_file(store, demo, rejects_dir=tmp / "rejects", batch_size=7,
                              source="demo")
    assert summary.rejected == 0, summary.examples
    return summary


def demo_query(**overrides: Any) -> ReaderQuery:
    args: dict[str, Any] = {
        "read_topic": "crm", "concern_topic": "churn", "read_window": timedelta(days=90),
        "concern_window": timedelta(days=30), "as_of": AS_OF,
    }
    args.update(overrides)
    return ReaderQuery(**args)


def summary_of(matches: list[ReaderMatch]) -> list[tuple[Any, ...]]:
    """The comparable core of an answer: who, via whom, where, which evidence."""
    return [
        (m.person_id, m.via, tuple(c.company_id for c in m.companies),
         tuple(r.content_id for r in m.reads), tuple(c.concern_id for c in m.concerns))
        for m in matches
    ]


def tiny_world(store: GraphStore, *, concern_at: str = "2026-10-20T12:00:00Z") -> None:
    """Our team (me@us.io) knows ann@a.com, who read a CRM article and raised one concern."""
    store.upsert_nodes("Company", [{"id": "us.io", "own": True}, {"id": "a.com", "name": "A"},
                                   {"id": "b.com", "name": "B"}], source="t")
    store.upsert_nodes("Person", [{"id": "me@us.io"}, {"id": "ann@a.com", "name": "Ann"}],
                       source="t")
    store.upsert_nodes("Topic", [{"id": "crm"}, {"id": "churn"}], source="t")
    store.upsert_nodes("Content", [{"id": "https://x.org/crm", "kind": "article"}], source="t")
    store.upsert_nodes("Concern", [{"id": "k1", "text": "may leave", "at": concern_at}],
                       source="t")
    store.upsert_relationships("WORKS_AT", [{"from": "me@us.io", "to": "us.io"},
                                            {"from": "ann@a.com", "to": "a.com"}], source="t")
    store.upsert_relationships("KNOWS", [{"from": "ann@a.com", "to": "me@us.io"}], source="t")
    store.upsert_relationships("ABOUT", [{"from": "https://x.org/crm", "to": "crm"}],
                               source="t", from_label="Content")
    store.upsert_relationships("ABOUT", [{"from": "k1", "to": "churn"}], source="t",
                               from_label="Concern")
    store.upsert_relationships(
        "READ", [{"from": "ann@a.com", "to": "https://x.org/crm",
                  "first_at": "2026-10-01T00:00:00Z", "last_at": "2026-10-01T00:00:00Z"}],
        source="t")
    store.upsert_relationships("RAISED", [{"from": "ann@a.com", "to": "k1"}], source="t")


# --- the graph as a fresh process sees it ---------------------------------------------------

Graph = dict[tuple[str, ...], dict[str, Any]]
Dump = tuple[Graph, Graph]  # nodes, relationships


@contextmanager
def reopened(store: GraphStore) -> Iterator[GraphStore]:
    """The store as the next process opens it: for the embedded store a new MemoryStore on the
    same file (what the loading process holds in memory does not count); Neo4j has no
    process-local copy, so it is the same store, and both legs run the same assertions."""
    if not isinstance(store, MemoryStore):
        yield store
        return
    assert store.path is not None, "an in-memory-only store has nothing to reopen"
    again = MemoryStore(store.path)
    try:
        yield again
    finally:
        again.close()


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _comparable(props: dict[str, Any]) -> dict[str, Any]:
    """Properties minus `loaded_at` (a write's clock, not data), sequences as lists."""
    return {k: _plain(v) for k, v in props.items() if k != "loaded_at"}


def graph_dump(store: GraphStore) -> Dump:
    """Every node by (label, key) and every relationship by (type, start label, start key, end
    label, end key), each with its properties minus loaded_at: two dumps are equal when the
    graphs are."""
    nodes: Graph = {}
    rels: Graph = {}
    if isinstance(store, MemoryStore):
        with store._reading():
            for (label, key), props in store._g.nodes(data=True):
                nodes[(label, key)] = _comparable(props)
            for u, v, rel, props in store._g.edges(keys=True, data=True):
                rels[(rel, *u, *v)] = _comparable(props)
        return nodes, rels
    from graph.neo4j_store import Neo4jStore, native

    assert isinstance(store, Neo4jStore)

    def work(tx: Any) -> None:
        for r in tx.run("MATCH (n) RETURN labels(n) AS labels, n.id AS id, "
                        "properties(n) AS props"):
            (label,) = r["labels"]
            nodes[(label, r["id"])] = _comparable(native(r["props"]))
        for r in tx.run("MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a) AS al, a.id AS a, "
                        "labels(b) AS bl, b.id AS b, properties(r) AS props"):
            key = (r["type"], r["al"][0], r["a"], r["bl"][0], r["b"])
            rels[key] = _comparable(native(r["props"]))

    store._run("dump", work, write=False)
    return nodes, rels


def assert_reopens_the_same(store: GraphStore) -> Dump:
    """The graph a fresh process opens is the graph this one answers from. Returns it."""
    live = graph_dump(store)
    with reopened(store) as again:
        seen = graph_dump(again)
    assert seen == live, "reopened differs from live:\n" + "\n".join(_differences(live, seen))
    return live


def _differences(live: Dump, seen: Dump) -> list[str]:
    lines = []
    for kind, a, b in (("node", live[0], seen[0]), ("relationship", live[1], seen[1])):
        for key in sorted(a.keys() | b.keys()):
            if key not in b:
                lines.append(f"  {kind} {key} is missing after reopening")
            elif key not in a:
                lines.append(f"  {kind} {key} is a ghost: only after reopening, {b[key]}")
            elif a[key] != b[key]:
                lines.append(f"  {kind} {key}: live {a[key]} != reopened {b[key]}")
    return lines
