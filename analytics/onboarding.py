"""Onboarding, per customer: when it signed up, how long until setup was completed, logins in each
of its first weeks, which key features it reached, and whether it stalled.

- *Sign-up*: the account's first sign-up event ([onboarding] signup_events), else its `started`
  field, else its first activity event (said which, in `signup_from`).
- *Setup*: its first `setup_event` at or after sign-up; `days_to_setup` between them.
- *Logins per week*: logins in week 1 (the 7 days from sign-up), week 2 … up to `weeks`; a week
  that has not ended by `as_of` is not counted (None).
- *Stalled*: no setup `stall_days` or more after sign-up, for a sign-up in the last
  `horizon_days`; an older customer without a setup event is past onboarding, not stalled. Only
  a known sign-up (an event or the `started` field) can stall: a first activity is a guess (the
  log may simply begin there), so it is said, never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analytics.activity import WEEK, key_feature
from analytics.engine import DAY, epoch, records
from analytics.world import World


@dataclass(frozen=True, slots=True)
class Onboarding:
    customer_id: str
    signed_up: datetime | None
    signup_from: str | None  # "sign-up event", "started field", "first activity"
    setup_completed: datetime | None
    days_to_setup: float | None
    logins_per_week: tuple[int | None, ...]
    key_features: tuple[str, ...]  # reached by as_of
    stalled: bool
    text: str


def _moment(ts: Any) -> datetime | None:
    if ts is None or ts != ts:
        return None
    return datetime.fromtimestamp(float(ts), UTC)


def signups(world: World) -> pd.DataFrame:
    """account, signup ts (epoch seconds), from: the sign-up of every customer that has one."""
    cfg = world.config
    e = world.events.filter(world.events.account.notnull())
    first = e.group_by("account").aggregate(
        signup=e.ts.min(where=e.type.isin(list(cfg.onboarding.signup_events))),
        first_activity=e.ts.min(where=e.type.isin(list(cfg.activity.events))))
    found = {r["account"]: r for r in records(world.engine.execute(first))}
    rows = []
    for account in world.accounts:
        r = found.get(account.customer_id, {})
        started = account.properties.get("started")
        if r.get("signup") is not None and r["signup"] == r["signup"]:
            rows.append((account.customer_id, int(r["signup"]), "sign-up event"))
        elif isinstance(started, datetime) and started <= world.as_of:
            rows.append((account.customer_id, epoch(started), "started field"))
        elif r.get("first_activity") is not None and r["first_activity"] == r["first_activity"]:
            rows.append((account.customer_id, int(r["first_activity"]), "first activity"))
    return pd.DataFrame(rows, columns=["account", "signup", "signup_from"])


def onboarding(world: World) -> list[Onboarding]:
    cfg = world.config.onboarding
    start = signups(world)
    if start.empty:
        return []
    table = world.engine.table(start, {"account": "string", "signup": "int64",
                                       "signup_from": "string"})
    e = world.events
    j = e.join(table, e.account == table.account)
    j = j.select(type=j.type, ts=j.ts, account=j.account, signup=j.signup,
                 named_feature=j.named_feature).view()
    j = j.filter(j.ts >= j.signup)
    j = j.mutate(week=(j.ts - j.signup) // WEEK,
                 feature=key_feature(j, world.config.activity.key_features))
    setup = world.engine.execute(j.group_by("account").aggregate(
        setup=j.ts.min(where=j.type == cfg.setup_event)))
    early = j.filter((j.type == "login") & (j.week < cfg.weeks))
    logins = world.engine.execute(early.group_by(["account", "week"]).aggregate(n=early.count()))
    keys = j.filter(j.feature.notnull())
    features = world.engine.execute(keys.group_by(["account", "feature"])
                                    .aggregate(at=keys.ts.min()))
    setups = {r["account"]: r["setup"] for r in records(setup)}
    weekly: dict[str, dict[int, int]] = {}
    for r in records(logins):
        weekly.setdefault(r["account"], {})[int(r["week"])] = int(r["n"])
    reached: dict[str, list[str]] = {}
    for r in records(features.sort_values(["account", "at", "feature"])):
        reached.setdefault(r["account"], []).append(r["feature"])
    found = []
    for r in records(start):
        cid, signup = r["account"], int(r["signup"])
        done = _moment(setups.get(cid))
        signed = _moment(signup)
        assert signed is not None
        age_days = (world.now - signup) / DAY
        per_week = tuple(weekly.get(cid, {}).get(k, 0) if signup + (k + 1) * WEEK <= world.now
                         else None for k in range(cfg.weeks))
        days = None if done is None else round((done - signed).total_seconds() / DAY, 2)
        known = r["signup_from"] != "first activity"
        stalled = done is None and known and cfg.stall_days <= age_days <= cfg.horizon_days
        if done is not None:
            text = f"set up {days:g} days after signing up"
        elif age_days > cfg.horizon_days:
            text = (f"signed up {age_days:.0f} days ago ({r['signup_from']}), past onboarding; "
                    "no setup recorded")
        elif stalled:
            text = f"not set up {age_days:.0f} days after signing up: stalled"
        elif not known:
            text = (f"first active {age_days:.0f} days ago (no sign-up recorded), "
                    "no setup recorded")
        else:
            text = f"signed up {age_days:.0f} days ago, not set up yet"
        found.append(Onboarding(cid, signed, r["signup_from"], done, days, per_week,
                                tuple(reached.get(cid, ())), stalled, text))
    return sorted(found, key=lambda o: (not o.stalled, o.signed_up or world.as_of,
                                        o.customer_id))


__all__ = ["Onboarding", "onboarding", "signups"]
