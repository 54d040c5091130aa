"""Competitor drift: customers whose people suddenly connect to many people at a competitor,
against their own baseline.

A customer drifts when its people made at least `min_new` new connections (KNOWS with a
`since`) to people now at competitors in the recent window (`recent_days`, or from `since`), and
at least `ratio` times what its own rate over the `baseline_days` before would predict for a
window that long (a rate of zero counts as half a connection, so a first burst still needs
`min_new`). The evidence comes from the store's DRIFT question (graph/questions/drift.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.world import World
from graph.questions.drift import DRIFT, DriftEdge, DriftQuery


@dataclass(frozen=True, slots=True)
class Drift:
    customer_id: str
    new: int  # connections in the recent window
    expected: float  # what its baseline rate predicts for a window that long
    ratio: float
    competitors: tuple[tuple[str, int], ...]  # (competitor name or id, new connections), most first
    people: tuple[str, ...]  # the customer's people who connected
    since: datetime
    text: str
    drifting: bool


def competitor_drift(world: World, *, since: datetime | None = None,
                     everyone: bool = False) -> list[Drift]:
    """Drifting customers (`everyone`: every customer with a new connection), most first."""
    cfg = world.config.drift
    start = since or world.as_of - timedelta(days=cfg.recent_days)
    if world.store is None:
        raise ValueError("competitor drift reads the graph: build the world from a store")
    window = (world.as_of - start).total_seconds() / 86_400
    baseline_start = start - timedelta(days=cfg.baseline_days)
    edges = world.store.ask(DRIFT, DriftQuery(baseline_start, world.as_of))
    by_customer: dict[str, list[DriftEdge]] = {}
    for edge in edges:
        by_customer.setdefault(edge.customer_id, []).append(edge)
    found = []
    for customer, rows in sorted(by_customer.items()):
        recent = [e for e in rows if e.since > start]
        before = [e for e in rows if e.since <= start]
        if not recent:
            continue
        expected = len(before) / cfg.baseline_days * window
        ratio = len(recent) / max(expected, 0.5)
        drifting = len(recent) >= cfg.min_new and ratio >= cfg.ratio
        if not drifting and not everyone:
            continue
        competitors = Counter(e.competitor_name or e.competitor_id for e in recent)
        ranked = tuple(sorted(competitors.items(), key=lambda kv: (-kv[1], kv[0])))
        people = tuple(sorted({e.person_id for e in recent}))
        names = ", ".join(f"{name} ({n})" for name, n in ranked[:3])
        text = (f"{len(recent)} new connections to people at competitors since "
                f"{start.date().isoformat()} ({names}) by {len(people)} of its people, "
                f"against {expected:.1f} expected from its own past")
        found.append(Drift(customer, len(recent), round(expected, 2), round(ratio, 1), ranked,
                           people, start, text, drifting))
    return sorted(found, key=lambda d: (not d.drifting, -d.ratio, -d.new, d.customer_id))


__all__ = ["Drift", "competitor_drift"]
