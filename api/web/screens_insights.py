"""Beside the customer feed: today's outreach list with its reasons, the accounts at risk and
health at a glance, from the customer-success analytics (analytics/run.py `Analysis`).

`insights(analysis, accounts)` runs in the analytics' worker thread (AnalyticsService.ask). An
account filter keeps the lists to those customer accounts; an owner filter (`Known`: whom that
member of our team knows, and the customer accounts of those people) keeps them to the accounts
where the owner knows someone now and the outreach to people the owner knows. With no Customer
in the graph (or none the filters keep) the answer says so (`customers: 0`) and the screen says
it in words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

OUTREACH = 12
AT_RISK = 8
STATUSES = ("healthy", "watch", "at risk")


def account_href(customer_id: str | None) -> str | None:
    """The screen of whom a customer account is of: `company:x` a company, `person:x` a person."""
    if customer_id is None:
        return None
    if customer_id.startswith("company:"):
        return "/companies/" + customer_id.removeprefix("company:")
    if customer_id.startswith("person:"):
        return "/people/" + customer_id.removeprefix("person:")
    return None


@dataclass(frozen=True, slots=True)
class Known:
    """What an owner filter keeps: the people a member of our team knows, and the customer
    accounts where they know someone now (`company:<where they work>`, `person:<them>`)."""

    people: frozenset[str]
    customers: frozenset[str]


def insights(analysis: Any, accounts: tuple[str, ...] = (), *, outreach: int = OUTREACH,
             at_risk: int = AT_RISK, known: Known | None = None) -> dict[str, Any]:
    """Health at a glance, the accounts at risk (lowest health first) and today's outreach."""
    customers: dict[str, dict[str, Any]] = analysis.customers()
    wanted = {f"company:{a}" for a in accounts}
    if wanted:
        customers = {k: f for k, f in customers.items() if k in wanted}
    if known is not None:
        customers = {k: f for k, f in customers.items() if k in known.customers}
    filtered = bool(wanted) or known is not None
    if not customers:
        return {"customers": 0, "filtered": filtered, "as_of": analysis.as_of.isoformat()}
    scored = [h for h in analysis.health() if h.customer_id in customers]
    healths = [h for h in scored if h.status != "churned"]  # at a glance: those we still have
    statuses = Counter(h.status for h in healths)
    scores = [h.score for h in healths]

    def mrr(customer_id: str) -> float | None:
        value = customers.get(customer_id, {}).get("mrr")
        return float(value) if isinstance(value, int | float) else None

    risky = [h for h in analysis.at_risk() if h.customer_id in customers]
    reach = [r for r in analysis.outreach(None)
             if (not wanted or r.customer_id in wanted)
             and (known is None or r.person_id in known.people)][:outreach]
    return {
        "customers": len(customers),
        "as_of": analysis.as_of.isoformat(),
        "health": {  # the customers we still have; churned ones only counted
            "scored": len(healths),
            "churned": len(scored) - len(healths),
            "average": round(sum(scores) / len(scores), 1) if scores else None,
            "by_status": {s: statuses.get(s, 0) for s in STATUSES},
            "mrr_at_risk": sum(mrr(h.customer_id) or 0.0 for h in risky),
        },
        "at_risk": [{
            "id": h.customer_id, "name": customers[h.customer_id].get("name") or h.customer_id,
            "href": account_href(h.customer_id), "score": h.score, "mrr": mrr(h.customer_id),
            "summary": h.explain(),
            "weakest": [{"name": c.name, "detail": c.detail} for c in sorted(
                (c for c in h.components if c.value is not None),
                key=lambda c: c.value)[:2]],
        } for h in risky[:at_risk]],
        "at_risk_total": len(risky),
        "outreach": [{
            "person": {"id": r.person_id, "name": r.name, "href": f"/people/{r.person_id}"},
            "customer": None if r.customer_id is None else {
                "id": r.customer_id, "href": account_href(r.customer_id),
                "name": customers.get(r.customer_id, {}).get("name") or r.company},
            "kind": r.kind, "reason": r.reason,
        } for r in reach],
    }


__all__ = ["Known", "account_href", "insights"]
