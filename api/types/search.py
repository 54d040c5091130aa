"""Search hits: a person, company, content item or topic whose words match, with a score."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.types.company import Company, company
from api.types.content import Content, content
from api.types.person import Person, person
from api.types.topic import Topic
from graph.questions.search import SearchHit as SearchHitData

SearchNode = Annotated[Person | Company | Content | Topic, strawberry.union("SearchNode")]


@strawberry.type(description="A match: its label, key, name, score (3: exact, 2: prefix, 1: all "
                             "words) and the node itself.")
class SearchHit:
    label: str
    id: strawberry.ID
    name: str | None
    score: float
    node: SearchNode


def search_hit(h: SearchHitData) -> SearchHit:
    node: Person | Company | Content | Topic
    if h.label == "Person":
        node = person(h.key, name=h.name)
    elif h.label == "Company":
        node = company(h.key, name=h.name)
    elif h.label == "Content":
        node = content(h.key, h.name, None)
    else:
        node = Topic(id=strawberry.ID(h.key))
    return SearchHit(label=h.label, id=strawberry.ID(h.key), name=h.name, score=h.score,
                     node=node)
