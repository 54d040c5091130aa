"""The live customer feed: meaningful interactions as they happen, and the filter a subscriber
gives (types, people, companies, customers only)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.types.company import Company, company
from api.types.enums import INTERACTION_TYPES, InteractionType
from api.types.person import Person, person
from graph.feed import FeedItem


@strawberry.input(description="Which interactions to receive; every condition given must hold.")
class FeedFilter:
    types: list[InteractionType] | None = None
    people: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these people (e-mails or source keys).")
    companies: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only interactions at these companies (domains or keys).")
    customers_only: bool = strawberry.field(
        default=False, description="Only at companies flagged customer (a trigger always is).")


@strawberry.type(description="A meaningful interaction: a first login, setup completed, a "
                             "pricing-page visit, a data export, a newsletter click, a key "
                             "feature used for the first time (FEATURE_USED, the feature in "
                             "properties.feature), a concern raised or solved, a buying "
                             "trigger at a customer …")
class Interaction:
    id: strawberry.ID
    type: InteractionType
    at: datetime
    person: Person | None
    company: Company | None
    account: strawberry.ID | None = strawberry.field(
        description="The customer account an event was for.")
    text: str | None = strawberry.field(
        description="A concern's text, a trigger's headline.")
    properties: JSON


def type_of(item: FeedItem) -> str:
    return "trigger" if item.kind == "trigger" else item.type


def interaction(item: FeedItem, company_id: str | None) -> Interaction | None:
    kind = type_of(item)
    if kind not in INTERACTION_TYPES:
        return None
    props = dict(item.properties)
    if item.kind == "trigger":
        props["trigger_type"] = item.type
    return Interaction(
        id=strawberry.ID(item.id), type=InteractionType(kind), at=item.at,
        person=person(item.person) if item.person else None,
        company=company(company_id) if company_id else None,
        account=strawberry.ID(item.account) if item.account else None, text=item.text,
        properties=JSON(props))
