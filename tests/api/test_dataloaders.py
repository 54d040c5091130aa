"""DataLoaders: a query of many people with their companies and connections costs the same
number of store questions whatever the number of people (one batch per kind of look-up)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from graph.store import GraphStore
from tests.api.conftest import api_settings, make_tokens

pytestmark = pytest.mark.anyio

QUERY = """{ connections(readTopic: "crm", concernTopic: "churn", asOf: "2026-11-01T00:00:00Z",
                         first: 50) {
  totalCount
  edges { node {
    person { id name email title
             currentCompanies(first: 2) { id name domain flags people { id name } }
             connections(first: 5) { totalCount edges { node { person { id name } strength } } }
             knownBy { person { id name } strength } openConcerns { id } }
    via { id name email currentCompanies { id } }
    reads { content { id } }
  } }
} }"""


class Counting:
    """The store, counting the questions asked of it (test double)."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self.asked: Counter[str] = Counter()

    async def ask_async(self, question: Any, query: Any) -> Any:
        self.asked[question.name] += 1
        return await self._store.ask_async(question, query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def world(store: GraphStore, people: int) -> None:
    """Our team member knows `people` people at ten companies; each read a CRM paper and raised
    a churn concern in October."""
    ids = [f"p{i}@c{i % 10}.com" for i in range(people)]
    store.upsert_nodes("Company", [{"id": "us.io", "own": True}] + [
        {"id": f"c{c}.com", "name": f"C{c}", "customer": c % 2 == 0} for c in range(10)],
        source="t")
    store.upsert_nodes("Person", [{"id": "me@us.io", "name": "Me"}] + [
        {"id": p, "name": f"Person {i}"} for i, p in enumerate(ids)], source="t")
    store.upsert_nodes("Topic", [{"id": "crm"}, {"id": "churn"}], source="t")
    store.upsert_nodes("Content", [{"id": "https://x.org/crm", "kind": "white_paper"}],
                       source="t")
    store.upsert_nodes("Concern", [{"id": f"k{i}", "text": "may leave",
                                    "at": f"2026-10-{10 + i % 20:02d}T12:00:00Z"}
                                   for i in range(people)], source="t")
    store.upsert_relationships("WORKS_AT", [{"from": "me@us.io", "to": "us.io"}] + [
        {"from": p, "to": f"c{i % 10}.com", "title": "VP"} for i, p in enumerate(ids)],
        source="t")
    store.upsert_relationships("KNOWS", [{"from": "me@us.io", "to": p, "strength": 0.5}
                                         for p in ids], source="t")
    store.upsert_relationships("ABOUT", [{"from": "https://x.org/crm", "to": "crm"}],
                               source="t", from_label="Content")
    store.upsert_relationships("ABOUT", [{"from": f"k{i}", "to": "churn"}
                                         for i in range(people)], source="t",
                               from_label="Concern")
    store.upsert_relationships("READ", [
        {"from": p, "to": "https://x.org/crm", "first_at": "2026-10-01T00:00:00Z",
         "last_at": "2026-10-02T00:00:00Z", "count": 2} for p in ids], source="t")
    store.upsert_relationships("RAISED", [{"from": p, "to": f"k{i}"}
                                          for i, p in enumerate(ids)], source="t")


async def questions_asked(store: GraphStore, tmp: Path, people: int) -> Counter[str]:
    store.delete_all()
    world(store, people)
    counting = Counting(store)
    settings = api_settings(tmp)
    tokens = make_tokens(settings)
    app = create_app(settings, store=counting)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        response = await client.post("/graphql", json={"query": QUERY},
                                     headers={"Authorization": f"Bearer {tokens['read']}"})
    body = response.json()
    assert "errors" not in body, body
    found = body["data"]["connections"]
    assert found["totalCount"] == people and len(found["edges"]) == people
    first = found["edges"][0]["node"]["person"]
    assert first["currentCompanies"][0]["people"] and first["knownBy"][0]["strength"] == 0.5
    return counting.asked


async def test_store_questions_do_not_grow_with_the_people(store: GraphStore,
                                                           tmp_path: Path) -> None:
    few = await questions_asked(store, tmp_path / "few", 10)
    many = await questions_asked(store, tmp_path / "many", 50)
    assert few == many, (few, many)
    assert sum(many.values()) <= 6, many  # the question, people, companies, connections
