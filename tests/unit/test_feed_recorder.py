"""The feed recorder keeps the newest interactions of a load, however many it writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graph.feed import FeedRecorder
from graph.model import Reject, WriteResult


class FakeStore:
    """Knows `existing` keys; refuses rows whose text is "bad" (test double)."""

    def __init__(self, existing: set[str]) -> None:
        self.known = existing

    def existing(self, label: str, keys: Iterable[str]) -> set[str]:
        return self.known & set(keys)

    def upsert_nodes(self, label: str, rows: Iterable[Mapping[str, Any]], *,
                     source: str) -> WriteResult:
        rows = list(rows)
        return WriteResult(len(rows), [Reject(i, "text", "bad") for i, r in enumerate(rows)
                                       if r.get("text") == "bad"])


def test_only_new_written_rows_count_and_only_the_newest_are_kept() -> None:
    recorder = FeedRecorder(limit=3)
    store = FakeStore({"k0"})
    rows = [{"id": f"k{i}", "text": "bad" if i == 5 else "t",
             "at": f"2026-11-{i + 1:02d}T00:00:00Z"} for i in range(8)]
    recorder.upsert_nodes(store, "Concern", rows[:4], source="s")
    recorder.upsert_nodes(store, "Concern", rows[4:] + [rows[7]], source="s")  # k7 twice
    recorder.upsert_nodes(store, "Person", [{"id": "p"}], source="s")  # not a feed label
    recorder.relationship("RAISED", {"from": "ada@acme.com", "to": "k7"})
    items = recorder.items()
    assert [i.id for i in items] == ["k4", "k6", "k7"]  # k5 refused, k0 known, oldest dropped
    assert items[-1].person == "ada@acme.com" and items[-1].type == "concern_raised"
