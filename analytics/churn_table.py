"""The churn model's table: one row per customer, its label and its features (the model itself is
analytics/churn.py).

*Churn* is non-renewal — the customer's churned flag or status, with its `churned_at` in the
label window (or no date) — or, for customers with product events, no activity for
`[churn] inactive_days` days. So that no feature sees the outcome it predicts, features are taken
at the *cutoff* (`as_of` less `inactive_days`) and the label says what happened after it;
customers already gone at the cutoff are left out.

Features, by default all of them (`features=` chooses):
- every customer field the mapping loaded (plan, MRR, contract, tenure, orders, total spent,
  currency …; `started` becomes days as a customer at the cutoff) and every attribute of the
  customer table (`attributes`: gender, region, seats …), categoricals and numbers as they are
  (the model one-hot encodes and standardises);
- usage at the cutoff, when the log holds events: logins, active days, people active, activity
  trend against the account's own normal, key features used, exports, pricing views, open
  concerns, spend trend.
It works on a plain customer table with a churned flag and no events at all (a Telco-style
table loaded with `relgraph load csv --mapping`): then only the fields and attributes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from analytics.activity import accounts_activity
from analytics.anomalies import pricing_views, weekly_exports
from analytics.engine import epoch, records
from analytics.health import open_concerns
from analytics.world import World

# Fields that are the outcome, or say it: never features.
OUTCOME = frozenset({"churned", "churned_at", "status", "renews", "sources", "name",
                     "attributes", "last_order_at"})


@dataclass(frozen=True, slots=True)
class ChurnTable:
    frame: pd.DataFrame  # id, churned, [started], features …
    definition: str
    cutoff: datetime
    time_column: str | None
    usage: bool  # usage features were added (the log has events)
    left_out: int  # customers already gone at the cutoff


def _attributes(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def churn_table(world: World) -> ChurnTable:
    cfg = world.config
    days = cfg.churn.inactive_days
    cutoff = world.as_of - timedelta(days=days)
    before = World(cutoff, cfg, world.engine, world.accounts,
                   world.events.filter(world.events.ts <= epoch(cutoff)).view(), world.store)
    e = world.events
    activity_types = list(cfg.activity.events)
    seen = world.engine.execute(
        e.filter(e.account.notnull() & e.type.isin(activity_types))
        .group_by("account").aggregate(
            last_before=e.ts.max(where=e.ts <= epoch(cutoff)),
            after=(e.ts > epoch(cutoff)).cast("int64").sum()))
    usage_of = {r["account"]: r for r in records(seen)}
    usage = bool(usage_of)
    activity = accounts_activity(before) if usage else {}
    exports: dict[str, int] = {}
    pricing: dict[str, int] = {}
    if usage:
        for r in records(weekly_exports(before)):
            if int(r["week"]) < cfg.activity.recent_weeks:
                exports[r["account"]] = exports.get(r["account"], 0) + int(r["exports"])
        pricing = {r["account"]: int(r["views"]) for r in records(pricing_views(before))}
    rows = []
    left_out = 0
    for account in world.accounts:
        props = account.properties
        churned_at = props.get("churned_at")
        flagged = props.get("churned") is True or props.get("status") == "churned"
        if flagged and isinstance(churned_at, datetime) and churned_at <= cutoff:
            left_out += 1  # gone before the cutoff: nothing to predict
            continue
        u = usage_of.get(account.customer_id) or {}
        last = u.get("last_before")
        went_quiet = last is not None and last == last and int(u.get("after", 0)) == 0
        label = flagged or went_quiet
        row: dict[str, Any] = {"id": account.customer_id, "churned": label}
        started = props.get("started")
        if isinstance(started, datetime):
            row["started"] = started
            row["days_as_customer"] = max(0.0, (cutoff - started).total_seconds() / 86_400)
        for key, value in props.items():
            if key in OUTCOME or key == "started" or isinstance(value, datetime | list | dict):
                continue
            row[key] = value
        for key, value in _attributes(props.get("attributes")).items():
            row.setdefault(key, value)
        if usage:
            a = activity[account.customer_id]
            row.update({
                "logins": a.logins, "active_days": a.active_days,
                "people_active": a.engaged_people,
                "activity_trend": a.trend if a.trend is not None else float("nan"),
                "key_features_used": len(a.key_features),
                "exports": exports.get(account.customer_id, 0),
                "pricing_views": pricing.get(account.customer_id, 0),
                "open_concerns": len(open_concerns(account, cutoff)),
                "spend_trend": (a.spend_recent / a.spend_baseline) if a.spend_baseline > 0
                else float("nan"),
            })
        rows.append(row)
    frame = pd.DataFrame(rows)
    dated = any(isinstance(a.properties.get("churned_at"), datetime) for a in world.accounts)
    if not usage and not dated:
        # a snapshot table (the Telco layout): no dates to put the flag after a cutoff
        definition = ("non-renewal: the churned flag or status as the customer table records it "
                      "(no churn dates and no event log, so flag and features come from the "
                      "same snapshot)")
        return ChurnTable(frame, definition, cutoff, _time_column(frame), usage, left_out)
    definition = (f"non-renewal (the churned flag or status) after {cutoff.date().isoformat()}"
                  + (f", or no activity in the {days} days to {world.as_of.date().isoformat()}"
                     if usage else "")
                  + f"; features as of {cutoff.date().isoformat()}")
    return ChurnTable(frame, definition, cutoff, _time_column(frame), usage, left_out)


def _time_column(frame: pd.DataFrame) -> str | None:
    """"started" when enough rows carry a sign-up date for a split by time."""
    if "started" in frame.columns and frame["started"].notna().sum() >= max(20, len(frame) // 2):
        return "started"
    return None


__all__ = ["ChurnTable", "OUTCOME", "churn_table"]
