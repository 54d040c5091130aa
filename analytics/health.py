"""Health 0–100 per customer, from weighted components, each 0..1 and explained in words:

- **activity**: activity events a week in the recent weeks against the account's own baseline
  weeks (1 at or above its normal; new activity with no history is 1; none at all is 0). In a
  configured quiet season (a seasonal product) it is not scored: quiet is expected.
- **spend**: billing in the recent weeks against the baseline (refunds subtracted); without
  billing events it is not scored, except that a churned or paused customer scores 0.
- **adoption**: the share of the configured key features the account used in the baseline and
  recent weeks.
- **concerns**: 1 less 1/`concerns_at_zero` for each open concern (raised in the last 90 days,
  not solved or closed by `as_of`) of the account's people.
- **breadth**: people active in the recent weeks over `breadth_at_full`.

The score is the weighted mean of the scored components (weights in [health], normalised over
the components scored), times 100. Under `at_risk` the customer is at risk; at `healthy` or
over, healthy. An account that had churned by `as_of` keeps its score (what it looked like
when it left) under the status churned: it is never listed at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.activity import AccountActivity, accounts_activity
from analytics.customers import has_churned
from analytics.seasons import quiet_season
from analytics.world import World
from graph.questions.accounts import Account
from graph.questions.entities import is_open

CONCERN_DAYS = 90


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    value: float | None  # 0..1; None: not scored
    weight: float  # its share of the score (0 when not scored)
    detail: str


@dataclass(frozen=True, slots=True)
class Health:
    customer_id: str
    score: float
    status: str  # at risk, watch, healthy; churned for an account that had churned by as_of
    components: tuple[Component, ...]

    def explain(self) -> str:
        scored = sorted((c for c in self.components if c.value is not None),
                        key=lambda c: c.value if c.value is not None else 0)
        weakest = "; ".join(f"{c.name} {c.value:.2f} ({c.detail})" for c in scored[:2])
        return f"health {self.score:.0f} ({self.status}): weakest {weakest}"


def open_concerns(account: Account, as_of: datetime) -> list[tuple[str, str]]:
    """(person, concern id) of the account's concerns open at `as_of`, raised in 90 days."""
    since = as_of - timedelta(days=CONCERN_DAYS)
    return [(p.person_id, c.concern_id) for p in account.people for c in p.concerns
            if since <= c.at <= as_of and is_open(c.status, c.solved_at, as_of)]


def _activity(a: AccountActivity, quiet: str | None) -> tuple[float | None, str]:
    if quiet is not None:
        return None, f"not scored: {quiet}"
    if a.baseline_rate > 0:
        ratio = a.recent_rate / a.baseline_rate
        return min(1.0, ratio), (f"{a.recent_rate:.1f} events a week against its normal "
                                 f"{a.baseline_rate:.1f} ({ratio:.0%})")
    if a.recent_rate > 0:
        return 1.0, f"{a.recent_rate:.1f} events a week, new (no earlier weeks to compare)"
    return 0.0, "no activity in the recent or baseline weeks"


def _spend(a: AccountActivity, status: str | None) -> tuple[float | None, str]:
    if status in ("churned", "paused"):
        return 0.0, f"the customer is {status}"
    if a.billing_events == 0:
        return None, "not scored: no billing events" + (
            f" (MRR {a.mrr:g})" if a.mrr is not None else "")
    if a.spend_baseline > 0:
        ratio = a.spend_recent / a.spend_baseline
        return max(0.0, min(1.0, ratio)), (f"{a.spend_recent:,.2f} billed recently against "
                                           f"{a.spend_baseline:,.2f} before ({ratio:.0%})")
    if a.spend_recent > 0:
        return 1.0, f"{a.spend_recent:,.2f} billed recently (nothing before)"
    return 0.0, "billing events with no amount"


def health_of(world: World, account: Account, activity: AccountActivity) -> Health:
    cfg = world.config.health
    weights = cfg.normalised()
    quiet = quiet_season(world.config.anomalies.seasonal, account, world.as_of)
    key = world.config.activity.key_features
    open_now = open_concerns(account, world.as_of)
    raw: list[tuple[str, float | None, str]] = [
        ("activity", *_activity(activity, quiet)),
        ("spend", *_spend(activity, account.properties.get("status"))),
        ("adoption", (min(1.0, len(activity.key_features) / len(key)) if key else None),
         (f"{len(activity.key_features)} of {len(key)} key features"
          + (f": {', '.join(activity.key_features)}" if activity.key_features else ""))
         if key else "not scored: no key features configured"),
        ("concerns", max(0.0, 1.0 - len(open_now) / cfg.concerns_at_zero),
         f"{len(open_now)} open concern{'s' if len(open_now) != 1 else ''}"
         + (f" ({', '.join(c for _, c in open_now[:3])})" if open_now else "")),
        ("breadth", min(1.0, activity.engaged_people / cfg.breadth_at_full),
         f"{activity.engaged_people} people active recently (full at {cfg.breadth_at_full})"),
    ]
    scored = sum(weights.get(name, 0.0) for name, value, _ in raw if value is not None)
    components = tuple(
        Component(name, None if value is None else round(value, 4),
                  0.0 if value is None or scored == 0 else round(weights.get(name, 0.0) / scored,
                                                                 4), detail)
        for name, value, detail in raw)
    score = 0.0 if scored == 0 else 100 * sum(
        c.value * c.weight for c in components if c.value is not None)
    score = round(score, 1)
    if has_churned(account, world.as_of):
        status = "churned"  # gone, not at risk: no outreach saves it, no at-risk list shows it
    else:
        status = "at risk" if score < cfg.at_risk else "healthy" if score >= cfg.healthy \
            else "watch"
    return Health(account.customer_id, score, status, components)


def health(world: World, activity: dict[str, AccountActivity] | None = None
           ) -> list[Health]:
    """Every customer's health, lowest first (then by id)."""
    activity = activity if activity is not None else accounts_activity(world)
    found = [health_of(world, a, activity[a.customer_id]) for a in world.accounts]
    return sorted(found, key=lambda h: (h.score, h.customer_id))


__all__ = ["CONCERN_DAYS", "Component", "Health", "health", "health_of", "open_concerns"]
