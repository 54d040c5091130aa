"""Warm paths: chains of people who know each other, from one person to another."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.cost import fixed
from api.types.company import Company, company
from api.types.person import Person, person
from graph.questions.warm_paths import MAX_HOPS
from graph.questions.warm_paths import WarmPath as WarmPathData


@strawberry.type(description="One person on a path, with their role at asOf.")
class PathStep:
    person: Person
    title: str | None
    company: Company | None


@strawberry.type(description="An introduction path: source first, target last; hops is the "
                             "number of KNOWS, strength their product (0.5 where unknown).")
class WarmPath:
    people: list[PathStep] = strawberry.field(metadata=fixed(MAX_HOPS + 1).metadata())
    hops: int
    strength: float


def warm_path(p: WarmPathData, as_of: datetime | None) -> WarmPath:
    return WarmPath(hops=p.hops, strength=p.strength, people=[
        PathStep(person=person(s.person_id, as_of, name=s.name, title=s.title, has_title=True),
                 title=s.title,
                 company=company(s.company_id, as_of, name=s.company_name)
                 if s.company_id else None)
        for s in p.people])
