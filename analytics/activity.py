"""Activity and value, per customer and per person: logins, DAU/WAU/MAU and the weekly trend,
spend from billing events beside the customer's MRR, key features used.

Windows end at `as_of`: *recent* is the last `recent_weeks` weeks, the *baseline* the
`baseline_weeks` weeks before them (the account's own normal). Week 0 is the seven days ending
at `as_of`, week 1 the seven before, and so on. What counts as activity, which features are key
and which events are billing is configuration ([activity] in analytics/default.toml). A key
feature is an event of that type, or a `feature_used` event whose properties name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from ibis.expr.types import Table

from analytics.engine import DAY, records
from analytics.world import World

WEEK = 7 * DAY
_AMOUNT = r'"(?:amount|revenue|total|value|price)"\s*:\s*"?(-?[0-9]+(?:\.[0-9]+)?)'


def activity_events(world: World) -> Table:
    """Activity events (configured types) of known accounts, with `day` and `week` indexes."""
    e = world.events
    cfg = world.config.activity
    wanted = e.type.isin(list(cfg.events)) | e.type.isin(list(cfg.key_features))
    return e.filter(wanted).mutate(day=(world.now - e.ts) // DAY, week=(world.now - e.ts) // WEEK)


def key_feature(e: Table, key_features: tuple[str, ...]) -> Any:
    """The key feature an event shows (its type, or the feature a feature_used names), else
    null: a portable expression over the resolved log (world.resolve_events)."""
    return (e.type.isin(list(key_features)).ifelse(e.type, e.named_feature)
            .nullif("").cast("string"))


def amount(e: Table) -> Any:
    return e.properties.re_extract(_AMOUNT, 1).nullif("").cast("float64")


@dataclass(frozen=True, slots=True)
class AccountActivity:
    customer_id: str
    logins: int  # in the recent weeks
    active_days: int  # days with any activity in the recent weeks
    dau: int  # people active in the last day
    wau: int  # … the last 7 days
    mau: int  # … the last 30 days
    engaged_people: int  # people active in the recent weeks
    weekly: tuple[int, ...]  # active people per week, oldest first (baseline then recent)
    recent_rate: float  # activity events a week, recent weeks
    baseline_rate: float  # activity events a week, baseline weeks
    trend: float | None  # recent_rate / baseline_rate (None: no baseline)
    key_features: tuple[str, ...]  # key features used in the baseline and recent weeks
    mrr: float | None  # the customer's own MRR field
    spend_recent: float  # billing events' amounts, recent weeks (refunds subtracted)
    spend_baseline: float  # … baseline weeks, scaled to the same number of weeks
    billing_events: int  # billing events seen in both windows
    last_active: float | None  # epoch seconds of the last activity event
    components: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PersonActivity:
    person_id: str
    customer_id: str | None
    logins: int
    active_days: int
    events: int
    key_features: tuple[str, ...]
    last_active: float | None


def _windows(world: World) -> tuple[int, int, int, int]:
    cfg = world.config.activity
    return cfg.recent_weeks, cfg.baseline_weeks, world.weeks_ago(cfg.recent_weeks), \
        world.weeks_ago(cfg.recent_weeks + cfg.baseline_weeks)


def account_totals(world: World) -> pd.DataFrame:
    """One row per account with activity: the counts the signals share (an Ibis expression)."""
    recent_weeks, _, recent_start, base_start = _windows(world)
    a = activity_events(world)
    a = a.filter(a.account.notnull() & (a.ts > base_start))
    recent = a.ts > recent_start
    expr = a.group_by("account").aggregate(
        logins=((a.type == "login") & recent).cast("int64").sum(),
        active_days=a.day.nunique(where=recent),
        dau=a.who.nunique(where=a.ts > world.now - DAY),
        wau=a.who.nunique(where=a.ts > world.now - 7 * DAY),
        mau=a.who.nunique(where=a.ts > world.now - 30 * DAY),
        engaged_people=a.who.nunique(where=recent),
        events_recent=recent.cast("int64").sum(),
        events_baseline=(~recent).cast("int64").sum(),
        last_active=a.ts.max(),
    )
    return world.engine.execute(expr)


def weekly_active(world: World, weeks: int) -> pd.DataFrame:
    """account, week (0 = the last 7 days), active people, activity events: an Ibis table."""
    a = activity_events(world)
    a = a.filter(a.account.notnull() & (a.week >= 0) & (a.week < weeks))
    expr = a.group_by(["account", "week"]).aggregate(people=a.who.nunique(),
                                                     events=a.count())
    return world.engine.execute(expr.order_by(["account", "week"]))


def key_features_used(world: World) -> pd.DataFrame:
    _, _, _, base_start = _windows(world)
    e = world.events
    e = e.filter(e.account.notnull() & (e.ts > base_start))
    e = e.mutate(feature=key_feature(e, world.config.activity.key_features))
    e = e.filter(e.feature.notnull())
    return world.engine.execute(e.group_by(["account", "feature"]).aggregate(n=e.count())
                                .order_by(["account", "feature"]))


def spend(world: World) -> pd.DataFrame:
    recent_weeks, _, recent_start, base_start = _windows(world)
    cfg = world.config.activity
    e = world.events
    billed = e.filter(e.account.notnull() & (e.ts > base_start)
                      & e.type.isin([*cfg.billing_events, *cfg.refund_events]))
    money = amount(billed).fill_null(0.0)
    signed = billed.type.isin(list(cfg.refund_events)).ifelse(-money.abs(), money)
    billed = billed.mutate(signed=signed, recent=billed.ts > recent_start)
    expr = billed.group_by("account").aggregate(
        spend_recent=billed.signed.sum(where=billed.recent),
        spend_baseline=billed.signed.sum(where=~billed.recent),
        billing_events=billed.count())
    return world.engine.execute(expr)


def _num(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return default if result != result else result  # NaN


def accounts_activity(world: World) -> dict[str, AccountActivity]:
    """Every customer's activity and value (customers without events too)."""
    cfg = world.config.activity
    recent_weeks, baseline_weeks = cfg.recent_weeks, cfg.baseline_weeks
    totals = {r["account"]: r for r in records(account_totals(world))}
    weeks = recent_weeks + baseline_weeks
    series: dict[str, list[int]] = {}
    for r in records(weekly_active(world, weeks)):
        series.setdefault(r["account"], [0] * weeks)[int(r["week"])] = int(r["people"])
    features: dict[str, list[str]] = {}
    for r in records(key_features_used(world)):
        features.setdefault(r["account"], []).append(r["feature"])
    money = {r["account"]: r for r in records(spend(world))}
    found = {}
    for account in world.accounts:
        cid = account.customer_id
        t = totals.get(cid, {})
        recent_rate = _num(t.get("events_recent")) / recent_weeks
        baseline_rate = _num(t.get("events_baseline")) / baseline_weeks
        m = money.get(cid, {})
        mrr = account.properties.get("mrr")
        found[cid] = AccountActivity(
            customer_id=cid, logins=int(_num(t.get("logins"))),
            active_days=int(_num(t.get("active_days"))), dau=int(_num(t.get("dau"))),
            wau=int(_num(t.get("wau"))), mau=int(_num(t.get("mau"))),
            engaged_people=int(_num(t.get("engaged_people"))),
            weekly=tuple(reversed(series.get(cid, [0] * weeks))),
            recent_rate=recent_rate, baseline_rate=baseline_rate,
            trend=recent_rate / baseline_rate if baseline_rate > 0 else None,
            key_features=tuple(sorted(features.get(cid, ()))),
            mrr=float(mrr) if isinstance(mrr, int | float) else None,
            spend_recent=_num(m.get("spend_recent")),
            spend_baseline=_num(m.get("spend_baseline")) * recent_weeks / baseline_weeks,
            billing_events=int(_num(m.get("billing_events"))),
            last_active=_num(t["last_active"]) if t.get("last_active") is not None else None)
    return found


def people_activity(world: World) -> dict[str, PersonActivity]:
    """Each person active in the recent weeks: logins, active days, events, key features."""
    _, _, recent_start, _ = _windows(world)
    a = activity_events(world)
    a = a.filter(a.who.notnull() & (a.ts > recent_start))
    a = a.mutate(feature=key_feature(a, world.config.activity.key_features))
    expr = a.group_by("who").aggregate(
        account=a.account.max(), logins=(a.type == "login").cast("int64").sum(),
        active_days=a.day.nunique(), events=a.count(), last_active=a.ts.max(),
        features=a.feature.collect(distinct=True))
    rows = records(world.engine.execute(expr))
    return {r["who"]: PersonActivity(
        r["who"], r["account"] if isinstance(r["account"], str) else None, int(r["logins"]),
        int(r["active_days"]), int(r["events"]),
        tuple(sorted(f for f in (r["features"] if r["features"] is not None else ())
                     if isinstance(f, str))),
        _num(r["last_active"])) for r in rows}


__all__ = ["AccountActivity", "PersonActivity", "WEEK", "account_totals", "accounts_activity",
           "activity_events", "amount", "key_feature", "key_features_used", "people_activity",
           "spend", "weekly_active"]
