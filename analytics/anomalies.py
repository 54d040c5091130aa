"""Anomalies: when more activity is bad news (and when less is not).

- **export_burst** — extraction before quitting: in one of the recent weeks an account exported
  (or downloaded reports) at least `export_min` times and `export_ratio` times its own trailing
  normal (the mean of the `baseline_weeks` weeks before that week; a normal of zero is taken as
  half an export a week, so a first burst still needs `export_min`).
- **pricing_visits** — looking at the door: `pricing_visits` or more views of pricing, billing or
  account-management pages (configured event types, or page views whose URL path holds one of
  `pricing_urls`) in the last `pricing_days` days.
- **confused_clicking** — `confused_sessions` or more sessions in the recent weeks with at least
  `confused_events` events in at most `confused_minutes` minutes that never reach a key feature
  (a pause of `session_gap_minutes` starts a new session).
- **gone_quiet** — recent activity under `quiet_ratio` of the account's normal, unless a
  configured cadence says this is its quiet season (then it is listed as expected, not flagged),
  or the account has churned (it is quiet because it left).

The weekly counts, the pricing views and the sessions are Ibis expressions (the same on DuckDB
and Spark); the comparisons with each account's own normal are made here on those small tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import ibis
import pandas as pd

from analytics.activity import WEEK, AccountActivity, accounts_activity, key_feature
from analytics.customers import has_churned
from analytics.engine import DAY, records
from analytics.seasons import quiet_season
from analytics.world import World

KINDS = ("export_burst", "pricing_visits", "confused_clicking", "gone_quiet")


@dataclass(frozen=True, slots=True)
class Anomaly:
    customer_id: str
    kind: str
    text: str  # one sentence a person reads
    numbers: dict[str, Any] = field(default_factory=dict)
    expected: bool = False  # a quiet season: listed, not flagged


def weekly_exports(world: World) -> pd.DataFrame:
    """account, week (0 = the last 7 days), exports: over the recent and baseline weeks and the
    baseline before the oldest recent week."""
    cfg = world.config
    weeks = cfg.activity.recent_weeks + cfg.activity.baseline_weeks
    e = world.events
    e = e.filter(e.account.notnull() & e.type.isin(list(cfg.anomalies.export_events)))
    e = e.mutate(week=(world.now - e.ts) // WEEK)
    e = e.filter((e.week >= 0) & (e.week < weeks))
    return world.engine.execute(e.group_by(["account", "week"]).aggregate(exports=e.count())
                                .order_by(["account", "week"]))


def pricing_views(world: World) -> pd.DataFrame:
    cfg = world.config.anomalies
    e = world.events
    since = world.now - cfg.pricing_days * DAY
    by_url = ibis.literal(False)
    for part in cfg.pricing_urls:  # the whole segment: "/pricing" is not "/pricing-tips"
        by_url = by_url | e.url.fill_null("").re_search(re.escape(part) + r"([/.?#;]|$)")
    seen = e.filter(e.account.notnull() & (e.ts > since)
                    & (e.type.isin(list(cfg.pricing_events))
                       | ((e.type == "page_viewed") & by_url)))
    return world.engine.execute(seen.group_by("account").aggregate(
        views=seen.count(), people=seen.who.nunique(), first=seen.ts.min(), last=seen.ts.max()))


def sessions(world: World) -> pd.DataFrame:
    """Sessions of the recent weeks that look confused: account, person, events, minutes."""
    cfg = world.config
    e = world.events
    start = world.weeks_ago(cfg.activity.recent_weeks)
    e = e.filter(e.who.notnull() & (e.ts > start))
    e = e.mutate(key=key_feature(e, cfg.activity.key_features).notnull().cast("int64"))
    w = ibis.window(group_by="who", order_by=["ts", "id"])
    gap = e.ts - e.ts.lag().over(w)
    e = e.mutate(new=(gap.isnull() | (gap > cfg.anomalies.session_gap_minutes * 60))
                 .cast("int64"))
    e = e.mutate(session=e.new.cumsum().over(
        ibis.window(group_by="who", order_by=["ts", "id"], preceding=None, following=0)))
    s = e.group_by(["who", "session"]).aggregate(
        account=e.account.max(), events=e.count(), start=e.ts.min(), end=e.ts.max(),
        keys=e.key.sum())
    confused = s.filter((s.events >= cfg.anomalies.confused_events)
                        & ((s.end - s.start) <= cfg.anomalies.confused_minutes * 60)
                        & (s.keys == 0) & s.account.notnull())
    return world.engine.execute(confused.order_by(["account", "who", "start"]))


def _day(world: World, ts: float) -> str:
    return (world.as_of - timedelta(seconds=world.now - ts)).date().isoformat()


def anomalies(world: World, activity: dict[str, AccountActivity] | None = None,
              *, include_expected: bool = True) -> list[Anomaly]:
    cfg = world.config
    activity = activity if activity is not None else accounts_activity(world)
    found: list[Anomaly] = []
    recent, baseline = cfg.activity.recent_weeks, cfg.activity.baseline_weeks
    exports: dict[str, dict[int, int]] = {}
    for r in records(weekly_exports(world)):
        exports.setdefault(r["account"], {})[int(r["week"])] = int(r["exports"])
    for account, weeks in sorted(exports.items()):
        best: tuple[float, int, int, float] | None = None
        for week in range(recent):
            count = weeks.get(week, 0)
            normal = sum(weeks.get(week + 1 + k, 0) for k in range(baseline)) / baseline
            ratio = count / max(normal, 0.5)
            if count >= cfg.anomalies.export_min and ratio >= cfg.anomalies.export_ratio \
                    and (best is None or ratio > best[0]):
                best = (ratio, week, count, normal)
        if best is not None:
            ratio, week, count, normal = best
            ended = world.as_of - timedelta(weeks=week)
            found.append(Anomaly(account, "export_burst", (
                f"{count} exports in the week to {ended.date().isoformat()}, {ratio:.0f}x its "
                f"normal of {normal:.1f} a week: it may be taking its data out before leaving"),
                {"exports": count, "normal": round(normal, 2), "ratio": round(ratio, 1),
                 "week_ending": ended.date().isoformat()}))
    for r in records(pricing_views(world)):
        if int(r["views"]) >= cfg.anomalies.pricing_visits:
            found.append(Anomaly(r["account"], "pricing_visits", (
                f"{int(r['views'])} views of pricing or account pages in the last "
                f"{cfg.anomalies.pricing_days} days by {int(r['people'])} "
                f"{'person' if int(r['people']) == 1 else 'people'} (last on "
                f"{_day(world, r['last'])}): they may be reconsidering the plan"),
                {"views": int(r["views"]), "people": int(r["people"]),
                 "last": _day(world, r["last"])}))
    confused: dict[str, list[dict[str, Any]]] = {}
    for r in records(sessions(world)):
        confused.setdefault(r["account"], []).append(r)
    for account, rows in sorted(confused.items()):
        if len(rows) >= cfg.anomalies.confused_sessions:
            people = sorted({r["who"] for r in rows})
            events = sum(int(r["events"]) for r in rows)
            found.append(Anomaly(account, "confused_clicking", (
                f"{len(rows)} short sessions of many clicks ({events} events) without reaching "
                f"a key feature, by {', '.join(people[:3])}: they may be lost"),
                {"sessions": len(rows), "events": events, "people": people}))
    for customer in world.accounts:
        a = activity[customer.customer_id]
        if a.baseline_rate <= 0 or a.recent_rate >= cfg.anomalies.quiet_ratio * a.baseline_rate:
            continue
        if has_churned(customer, world.as_of):
            continue  # quiet because it left: churn, not an anomaly to act on
        quiet = quiet_season(cfg.anomalies.seasonal, customer, world.as_of)
        share = a.recent_rate / a.baseline_rate
        if quiet is not None:
            if include_expected:
                found.append(Anomaly(customer.customer_id, "gone_quiet", (
                    f"activity at {share:.0%} of its normal, expected: {quiet}"),
                    {"share": round(share, 3)}, expected=True))
            continue
        found.append(Anomaly(customer.customer_id, "gone_quiet", (
            f"activity at {share:.0%} of its normal ({a.recent_rate:.1f} events a week against "
            f"{a.baseline_rate:.1f})"), {"share": round(share, 3)}))
    return sorted(found, key=lambda x: (x.customer_id, KINDS.index(x.kind)))


__all__ = ["Anomaly", "KINDS", "anomalies", "pricing_views", "sessions", "weekly_exports"]
