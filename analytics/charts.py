"""Charts where a person would rather look than read: the health distribution, the cohort
heat-map and the revenue projection (the churn calibration curve is analytics/churn.py's, the
CLV distribution analytics/clv.py's). PNG files, drawn with matplotlib's Agg backend: no display
needed, nothing fetched.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402

from analytics.cohorts import Cohorts  # noqa: E402
from analytics.health import Health  # noqa: E402
from analytics.revenue import Projection  # noqa: E402

_BANDS = (("at risk", "#d9534f"), ("watch", "#f0ad4e"), ("healthy", "#5cb85c"),
          ("churned", "#9e9e9e"))


def _save(fig: plt.Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def health_chart(healths: list[Health], path: Path, *, at_risk: float = 40,
                 healthy: float = 70, title: str | None = None) -> Path:
    """Customers by health score (bins of 5), coloured by band, with the band limits."""
    scores = np.array([h.score for h in healths], dtype=float)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bins = [float(b) for b in range(0, 105, 5)]
    for name, colour in _BANDS:
        chosen = [h.score for h in healths if h.status == name]
        ax.hist(chosen, bins=bins, color=colour, edgecolor="white",
                label=f"{name} ({len(chosen)})")
    for limit in (at_risk, healthy):
        ax.axvline(limit, color="#555555", linestyle="--", linewidth=1)
    ax.set_xlim(0, 100)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("health score (0–100)")
    ax.set_ylabel("customers")
    median = f", median {np.median(scores):.0f}" if len(scores) else ""
    ax.set_title(title or f"Customer health: {len(scores)} customers{median}")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def cohort_chart(table: Cohorts, path: Path, *, title: str | None = None) -> Path:
    """The cohort table as a heat-map: share active per period since sign-up."""
    rows = table.rows
    periods = max((len(r.share) for r in rows), default=0)
    data = np.full((len(rows), periods), np.nan)
    for i, r in enumerate(rows):
        for k, share in enumerate(r.share):
            if share is not None:
                data[i, k] = share
    fig, ax = plt.subplots(figsize=(1.1 * periods + 3, 0.45 * len(rows) + 1.8))
    image = ax.imshow(data, cmap="YlGnBu", vmin=0, vmax=1, aspect="auto")
    for i in range(len(rows)):
        for k in range(periods):
            if not np.isnan(data[i, k]):
                ax.text(k, i, f"{data[i, k]:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if data[i, k] > 0.6 else "#222222")
    ax.set_xticks(range(periods), [f"{table.period} {k}" for k in range(periods)])
    ax.set_yticks(range(len(rows)), [f"{r.cohort} (n={r.size})" for r in rows])
    active = "any activity" if table.active == "any" else table.active.replace("_", " ")
    ax.set_title(title or f"Share of each sign-up {table.period}'s customers active ({active})")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="share active")
    return _save(fig, path)


def revenue_chart(projections: list[Projection], path: Path, *,
                  title: str | None = None) -> Path:
    """MRR without churn and with each churn rate, month by month."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    first = projections[0]
    months = [0] + [m.month for m in first.months]
    ax.plot(months, [first.mrr] + [m.without_churn for m in first.months], color="#5cb85c",
            label="no churn")
    for p, colour in zip(projections, ("#f0ad4e", "#d9534f", "#8e44ad", "#34495e"),
                         strict=False):
        ax.plot(months, [p.mrr] + [m.with_churn for m in p.months], color=colour,
                label=f"{p.churn:.0%} annual churn (−{p.lowered_by:.0%})")
    ax.set_xlabel("months")
    ax.set_ylabel("MRR")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(title or f"MRR at {first.growth:.0%} annual growth: what churn does")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


__all__ = ["cohort_chart", "health_chart", "revenue_chart"]
