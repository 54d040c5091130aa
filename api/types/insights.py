"""What the customer-success analytics (analytics/) say of a customer, as GraphQL: health with its
components, churn risk with its factors, anomalies, onboarding, the relationship level and the
rule that decided it, a timeline. Every number comes with what made it (the components, the
factors, the rule); answers are for `asOf` (default: the start of the current hour) and come
from the analytics' cache until a load changes the data."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.cost import fixed

if TYPE_CHECKING:
    from analytics.run import CustomerCard


MAX_COHORTS = 520  # ten years of weeks


def plain(value: Any) -> Any:
    """Dataclass values as JSON (datetimes as ISO 8601 in UTC)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and value != value:
        return None
    return value


@strawberry.type(description="Health 0–100 from weighted components (activity against the "
                             "account's own normal, spend trend, key-feature adoption, open "
                             "concerns, breadth of engaged contacts).")
class CustomerHealth:
    score: float
    status: str = strawberry.field(
        description="at risk, watch, healthy, or churned (an account that had churned by then)")
    components: JSON = strawberry.field(
        description="[{name, value (0..1, null when not scored), weight, detail}]")
    summary: str


@strawberry.type(description="The churn model's probability for this customer, and the top "
                             "factors behind it, in words.")
class ChurnRisk:
    probability: float
    factors: JSON = strawberry.field(description="[{feature, text, contribution (log-odds)}]")


@strawberry.type(description="Seed 002's five levels: trusted adviser, partner, credible "
                             "source, transactional, commodity; `rule` says which rule decided.")
class RelationshipLevel:
    level: str
    rule: str


async def card_of(info: Info, customer_id: str, as_of: datetime | None) -> CustomerCard | None:
    card: CustomerCard | None = await info.context.cards.load((customer_id, as_of))
    return card


def health(card: CustomerCard | None) -> CustomerHealth | None:
    if card is None or card.health is None:
        return None
    h = card.health
    return CustomerHealth(score=h.score, status=h.status,
                          components=JSON([plain(asdict(c)) for c in h.components]),
                          summary=h.explain())


def churn_risk(card: CustomerCard | None) -> ChurnRisk | None:
    if card is None or card.churn is None:
        return None
    return ChurnRisk(probability=card.churn["probability"],
                     factors=JSON(plain(card.churn["factors"])))


def anomalies(card: CustomerCard | None) -> JSON:
    return JSON([plain({"kind": a.kind, "text": a.text, "numbers": a.numbers,
                        "expected": a.expected}) for a in card.anomalies] if card else [])


def onboarding(card: CustomerCard | None) -> JSON | None:
    if card is None or card.onboarding is None:
        return None
    found = plain(asdict(card.onboarding))
    found.pop("customer_id", None)
    return JSON(found)


def level(card: CustomerCard | None) -> RelationshipLevel | None:
    if card is None or card.level is None:
        return None
    return RelationshipLevel(level=card.level.level, rule=card.level.rule)


def timeline(card: CustomerCard | None) -> JSON:
    return JSON([plain(asdict(t)) for t in card.timeline] if card else [])


__all__ = ["ChurnRisk", "CustomerHealth", "RelationshipLevel", "anomalies", "card_of",
           "churn_risk", "health", "level", "onboarding", "plain", "timeline"]


@strawberry.type(description="One cohort: customers who signed up in the period, and the share "
                             "active in each period since (null: not begun before asOf).")
class CohortRow:
    cohort: str
    size: int
    active: list[int | None]
    share: list[float | None]


@strawberry.type(description="Sign-up week or month × periods since, with the definition of "
                             "active used.")
class CohortTable:
    period: str
    active: str
    rows: list[CohortRow] = strawberry.field(metadata=fixed(MAX_COHORTS).metadata())


@strawberry.type(description="Customers active in a window, each counted once across "
                             "channels and sources.")
class CustomerCount:
    as_of: datetime
    total: int
    subscription: int
    purchase: int
    customer_records: int
    merged: int = strawberry.field(description="Records counted once because they belong to "
                                               "another record's account.")
    inactive: int
    by_source: JSON


__all__ += ["CohortRow", "CohortTable", "CustomerCount"]
