"""How many customers do we have: those active in a window, each counted once.

- A *subscription* customer (it has a plan, an MRR, a renewal date or a status) is active when
  it paid in the last billing cycle (a billing event within `billing_cycle_days` before `as_of`),
  or, where the log holds none of its billing, when its status is active or trial and it has
  not churned (and a renewal date, if it has one, is not over a cycle past).
- A *purchase* customer (orders, a last order, or purchase events) is active when it bought
  within `purchase_months` months (a purchase event, else its `last_order_at`).
- *Each counted once*: customers loaded from several channels or sources (a Shopify customer and
  a transactions customer, two billing tools) that belong to the same account — the same person
  or company — are one customer; folded customer keys are already one node.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from analytics.activity import amount
from analytics.engine import DAY, epoch, records
from analytics.world import World
from graph.questions.accounts import Account

_SUBSCRIPTION = ("plan", "mrr", "renews", "status", "contract")
_PURCHASE = ("orders", "last_order_at", "total_spent")


@dataclass(frozen=True, slots=True)
class CustomerCount:
    as_of: datetime
    window_days: int | None  # the window asked for (None: each kind's own)
    total: int  # distinct accounts active
    subscription: int
    purchase: int
    customer_records: int  # Customer nodes behind them
    merged: int  # records that were another record's account (counted once)
    by_source: dict[str, int] = field(default_factory=dict)
    inactive: int = 0
    customers: tuple[str, ...] = ()  # the active accounts (or customer ids without one)


def _kind(account: Account, purchases: set[str]) -> str:
    props = account.properties
    bought = account.customer_id in purchases or any(props.get(k) is not None for k in _PURCHASE)
    if bought and not any(props.get(k) is not None for k in ("plan", "mrr", "renews")):
        return "purchase"
    if any(props.get(k) is not None for k in _SUBSCRIPTION):
        return "subscription"
    return "purchase" if account.customer_id in purchases else "subscription"


def has_churned(account: Account, as_of: datetime) -> bool:
    """Whether the account had churned by `as_of`: flagged churned (or its status says so),
    and its churned_at, when it has one, is not after `as_of`."""
    props = account.properties
    if props.get("churned") is not True and props.get("status") != "churned":
        return False
    at = props.get("churned_at")
    return not isinstance(at, datetime) or at <= as_of


def _active_by_status(props: dict[str, object], cycle_start: datetime) -> bool:
    """A subscription whose billing the log does not hold: by its own fields."""
    status = props.get("status")
    renews = props.get("renews")
    if props.get("churned") is True or status in ("churned", "paused"):
        return False
    if isinstance(renews, datetime) and renews < cycle_start:
        return False
    return status in ("active", "trial") or (status is None and bool(props.get("mrr")))


def customer_count(world: World, *, window_days: int | None = None) -> CustomerCount:
    cfg = world.config
    cycle = window_days or cfg.customers.billing_cycle_days
    months = cfg.customers.purchase_months
    purchase_days = window_days or int(months * 30.4375)
    e = world.events
    billing = list(cfg.activity.billing_events)
    paid = e.filter(e.account.notnull() & e.type.isin(billing))
    last = world.engine.execute(paid.group_by("account").aggregate(
        last=paid.ts.max(), purchases=(paid.type == "purchase").cast("int64").sum(),
        spent=amount(paid).fill_null(0).sum()))
    last_rows = records(last)
    last_paid = {r["account"]: int(r["last"]) for r in last_rows}
    purchasers = {r["account"] for r in last_rows if int(r["purchases"]) > 0}
    active_accounts: dict[str, str] = {}  # the account (person/company or customer) -> kind
    per_owner = Counter[str]()
    sources = Counter[str]()
    inactive = 0
    for account in world.accounts:
        props = account.properties
        kind = _kind(account, purchasers)
        paid_at = last_paid.get(account.customer_id)
        if kind == "subscription":
            if paid_at is not None:
                active = paid_at > world.now - cycle * DAY
            else:
                active = _active_by_status(props, world.as_of - timedelta(days=cycle))
        else:
            when = paid_at
            if when is None and isinstance(props.get("last_order_at"), datetime):
                when = epoch(props["last_order_at"])
            active = when is not None and when > world.now - purchase_days * DAY
        if not active:
            inactive += 1
            continue
        owner = account.account_id or f"customer:{account.customer_id}"
        per_owner[owner] += 1
        active_accounts.setdefault(owner, kind)
        for source in props.get("sources") or ():
            sources[str(source).split(":", 1)[0]] += 1
    kinds = Counter(active_accounts.values())
    return CustomerCount(
        world.as_of, window_days, len(active_accounts), kinds.get("subscription", 0),
        kinds.get("purchase", 0), sum(per_owner.values()),
        sum(n - 1 for n in per_owner.values()), dict(sorted(sources.items())), inactive,
        tuple(sorted(active_accounts)))


__all__ = ["has_churned", "CustomerCount", "customer_count"]
