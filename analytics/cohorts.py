"""Cohorts: customers by the week or month they signed up (analytics/onboarding.py `signups`),
against the periods since, with the share of each cohort active in each period.

A customer is *active* in a period when it has an activity event in it ([activity] events), or,
with `active` set to an event type, one of that type. Period 0 is the sign-up period itself
(weeks start on Monday, months on the 1st, in UTC). A cell whose period has not begun before
`as_of` is empty (None), not 0: the cohort has not lived that long; so is one that ended
before the event log's first event (the log cannot say whether anyone was active then, and a 0
would read as churn), and a cohort with no such period left is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from analytics.engine import DAY, records
from analytics.onboarding import signups
from analytics.world import World

_MONDAY = 4 * DAY  # 1970-01-01 was a Thursday: the first Monday is 4 days later


@dataclass(frozen=True, slots=True)
class CohortRow:
    cohort: str  # "2026-03" or "2026-03-02" (the week's Monday)
    size: int
    active: tuple[int | None, ...]  # customers active in period 0, 1, …
    share: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Cohorts:
    period: str
    active: str
    rows: tuple[CohortRow, ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"cohort": r.cohort, "size": r.size,
                              **{f"p{k}": s for k, s in enumerate(r.share)}} for r in self.rows])


def _month_index(ts: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.year * 12 + moment.month - 1


def _week_index(ts: int) -> int:
    return (ts - _MONDAY) // (7 * DAY)


def _start(index: int, period: str) -> int:
    """When period `index` begins, in epoch seconds."""
    if period == "month":
        return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp())
    return _MONDAY + index * 7 * DAY


def _label(index: int, period: str) -> str:
    if period == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    monday = datetime(1970, 1, 5, tzinfo=UTC) + timedelta(weeks=index)
    return monday.date().isoformat()


def cohort_activity(world: World, start: pd.DataFrame, period: str, active: str) -> pd.DataFrame:
    """account, k (periods since its sign-up period) for every period it was active in: an Ibis
    expression over the log joined with the sign-up table."""
    table = world.engine.table(start[["account", "index"]],
                               {"account": "string", "index": "int64"})
    e = world.events
    types = list(world.config.activity.events) if active == "any" else [active]
    e = e.filter(e.account.notnull() & e.type.isin(types))
    if period == "month":
        at = e["at"]
        e = e.mutate(p=(at.year() * 12 + at.month() - 1).cast("int64"))
    else:
        e = e.mutate(p=((e.ts - _MONDAY) // (7 * DAY)).cast("int64"))
    j = e.join(table, e.account == table.account)
    j = j.select(account=j.account, k=j.p - j["index"]).view()
    j = j.filter(j.k >= 0)
    return world.engine.execute(j.distinct().order_by(["account", "k"]))


def cohorts(world: World, *, period: str | None = None, active: str | None = None,
            periods: int | None = None) -> Cohorts:
    period = period or world.config.cohorts.period
    active = active or world.config.cohorts.active
    periods = periods or world.config.cohorts.periods
    if period not in ("week", "month"):
        raise ValueError(f"period is week or month, got {period!r}")
    start = signups(world)
    if start.empty:
        return Cohorts(period, active, ())
    index = _month_index if period == "month" else _week_index
    start = start.assign(index=[index(int(s)) for s in start["signup"]])
    seen = cohort_activity(world, start, period, active)
    e = world.events
    first_rows = records(world.engine.execute(e.aggregate(first=e.ts.min())))
    first = first_rows[0]["first"] if first_rows else None
    log_from = int(first) if first is not None and first == first else world.now
    members: dict[int, set[str]] = {}
    for r in records(start):
        members.setdefault(int(r["index"]), set()).add(r["account"])
    cohort_of = {r["account"]: int(r["index"]) for r in records(start)}
    counts: dict[tuple[int, int], int] = {}
    for r in records(seen):
        k = int(r["k"])
        if k < periods:
            key = (cohort_of[r["account"]], k)
            counts[key] = counts.get(key, 0) + 1
    rows = []
    for cohort in sorted(members):
        size = len(members[cohort])
        active_counts = tuple(counts.get((cohort, k), 0)
                              if _start(cohort + k, period) < world.now
                              and _start(cohort + k + 1, period) > log_from else None
                              for k in range(periods))
        if all(n is None for n in active_counts):
            continue
        rows.append(CohortRow(_label(cohort, period), size, active_counts,
                              tuple(None if n is None else round(n / size, 4)
                                    for n in active_counts)))
    return Cohorts(period, active, tuple(rows))


__all__ = ["CohortRow", "Cohorts", "cohort_activity", "cohorts"]
