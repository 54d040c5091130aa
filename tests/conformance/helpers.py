"""Small readable graphs for the conformance suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.pipeline import LoadSummary, load_graph_file
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
