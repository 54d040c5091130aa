"""Revenue impact of churn: MRR projected over N months for given growth and churn rates, beside
the same growth without churn, and the revenue churn took.

The convention, in words: rates are *annual*; each month MRR grows by growth/12 of itself and
loses churn/12 of itself (`monthly`, the usual SaaS reading: "30% a year is 2.5% a month"), or,
with `annual`, it changes once a year by growth − churn. The no-churn line grows the same way
with churn 0. *Lowered by* is 1 − (MRR with churn / MRR without) at the end; *lost* is the
revenue between the two lines, month by month, summed.

The seed's worked example — 1,000 customers at $100 a month, growing 50% a year, losing 30% —
reads "revenue lowered by 56%" off a chart after three years. Under the monthly convention it
is 58.3% (MRR $181,313 against $434,746), under the annual one 48.8% ($172,800 against
$337,500); the chart's 56% lies between the two. `tests/analytics/test_revenue.py` checks both
by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.world import World


@dataclass(frozen=True, slots=True)
class Month:
    month: int
    without_churn: float
    with_churn: float

    @property
    def lost(self) -> float:
        return self.without_churn - self.with_churn


@dataclass(frozen=True, slots=True)
class Projection:
    mrr: float
    growth: float  # annual
    churn: float  # annual
    months: tuple[Month, ...]
    convention: str

    @property
    def lowered_by(self) -> float:
        last = self.months[-1]
        return 0.0 if last.without_churn == 0 else 1 - last.with_churn / last.without_churn

    @property
    def revenue_lost(self) -> float:
        return sum(m.lost for m in self.months)

    @property
    def text(self) -> str:
        last = self.months[-1]
        return (f"after {last.month} months MRR is {last.with_churn:,.0f} with {self.churn:.0%} "
                f"annual churn against {last.without_churn:,.0f} without: lowered by "
                f"{self.lowered_by:.1%}; {self.revenue_lost:,.0f} of revenue lost on the way")


def project(mrr: float, *, months: int, growth: float, churn: float,
            convention: str = "monthly") -> Projection:
    if months < 1:
        raise ValueError(f"months is at least 1, got {months}")
    if mrr < 0 or growth < -1 or not 0 <= churn <= 1:
        raise ValueError("MRR is not negative, growth is at least -100% and churn between 0 and "
                         f"100%, got {mrr}, {growth}, {churn}")
    if convention not in ("monthly", "annual"):
        raise ValueError(f"convention is monthly or annual, got {convention!r}")
    rows = []
    plain, churned = mrr, mrr
    for m in range(1, months + 1):
        if convention == "monthly":
            plain *= 1 + growth / 12
            churned *= 1 + (growth - churn) / 12
            rows.append(Month(m, plain, churned))
        else:
            years = m / 12
            rows.append(Month(m, mrr * (1 + growth) ** int(years),
                              mrr * (1 + growth - churn) ** int(years)))
    return Projection(mrr, growth, churn, tuple(rows), convention)


@dataclass(frozen=True, slots=True)
class ChurnLoss:
    since: datetime
    customers: tuple[str, ...]  # churned in the window
    mrr_lost: float  # their MRR
    mrr_now: float  # MRR of the customers not churned
    annual_rate: float | None  # churned MRR over the MRR they and the rest had, a year's worth


def churn_loss(world: World, *, months: int = 12) -> ChurnLoss:
    """Customers that churned in the last `months` months (churned_at in it, or churned with no
    date), their MRR, and the annual churn rate it means."""
    since = world.as_of - timedelta(days=30.4375 * months)
    lost, mrr_lost, mrr_now = [], 0.0, 0.0
    for account in world.accounts:
        props = account.properties
        mrr = props.get("mrr") if isinstance(props.get("mrr"), int | float) else 0.0
        at = props.get("churned_at")
        churned = props.get("churned") is True or props.get("status") == "churned"
        if churned and (not isinstance(at, datetime) or since < at <= world.as_of):
            lost.append(account.customer_id)
            mrr_lost += float(mrr or 0.0)
        elif not churned:
            mrr_now += float(mrr or 0.0)
    base = mrr_lost + mrr_now
    rate = None if base == 0 else (mrr_lost / base) * 12 / months
    return ChurnLoss(since, tuple(sorted(lost)), mrr_lost, mrr_now, rate)


__all__ = ["ChurnLoss", "Month", "Projection", "churn_loss", "project"]
