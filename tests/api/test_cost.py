"""Query cost (api/cost.py), capped lists, and the time limit under a costly query.

The issue's fan-out — `company { people { currentCompanies { people { … } } } }` with a read
key — stayed inside the depth, alias and token limits and grew as 40^k: k = 4 answered only
after 213 s while /healthz waited up to 91 s. Now every list has a page, the cost is counted
before anything runs, and a query at the cost limit runs off the server's event loop with a
deadline checked while it resolves."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse
from graphql.type import is_list_type, is_non_null_type

from api.app import create_app
from api.cost import COST, LIST, Cap
from api.schema import build_schema
from graph.settings import Settings
from graph.store import GraphStore
from tests.api.conftest import Api, api_settings, make_tokens, running_server
from tests.api.test_dataloaders import Counting
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

LIMIT = Settings().api_max_cost


def fan_out(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"people {{ currentCompanies {{ {inner} }} }}"
    return f'{{ company(id: "apex.co") {{ {inner} }} }}'


def cost(document: str, variables: dict[str, Any] | None = None, **settings: Any) -> int:
    schema = build_schema(Settings(**settings))
    return schema.costs.of(parse(document), None, variables).total


def company_world(store: GraphStore, people: int) -> None:
    store.upsert_nodes("Company", [{"id": "apex.co", "name": "Apex"}], source="t")
    store.upsert_nodes("Person", [{"id": f"p{i:04}@apex.co", "name": f"P {i}"}
                                  for i in range(people)], source="t")
    store.upsert_relationships("WORKS_AT", [{"from": f"p{i:04}@apex.co", "to": "apex.co"}
                                            for i in range(people)], source="t")
    store.checkpoint()


# --- the cost, worked out from the document ----------------------------------------------------

def test_every_list_of_objects_has_a_page() -> None:
    """A list field without a Cap would be counted as 1000 and never cut: none may exist."""
    schema = build_schema(Settings())._schema
    missing = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not hasattr(type_, "fields") \
                or not hasattr(type_, "interfaces"):
            continue
        for name, field in type_.fields.items():
            kind = field.type.of_type if is_non_null_type(field.type) else field.type
            if not is_list_type(kind):
                continue
            item = kind.of_type.of_type if is_non_null_type(kind.of_type) else kind.of_type
            if not hasattr(item, "fields") and not hasattr(item, "types"):
                continue  # a list of scalars or enums: nothing to resolve per item
            definition = (field.extensions or {}).get("strawberry-definition")
            cap = (getattr(definition, "metadata", None) or {}).get(COST)
            if not isinstance(cap, Cap):
                missing.append(f"{type_.name}.{name}")
            elif cap.argument is not None:
                assert cap.argument in field.args, f"{type_.name}.{name} has no {cap.argument}"
    assert not missing, f"lists without a page: {missing}"


def test_the_fan_out_grows_with_each_level_and_is_over_the_limit_at_two() -> None:
    costs = [cost(fan_out(k)) for k in range(1, 5)]
    # company 1, people 50, their companies 10 each; then ×50 and ×10 again per level
    assert costs[0] == 1 + 50 + 50 * 10
    assert costs[1] == costs[0] + 50 * 10 * 50 + 50 * 10 * 50 * 10
    assert all(b > a * 100 for a, b in zip(costs, costs[1:], strict=False))
    assert costs[0] < LIMIT < costs[1]


def test_the_readme_queries_and_introspection_stay_well_inside_the_limit() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```graphql\n(.*?)```", readme, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        assert cost(block) < LIMIT / 5, block
    assert cost(get_introspection_query()) < LIMIT / 10
    # nested introspection multiplies as data lists do: refused long before it could hurt
    nested = "{ __schema { types { fields { type { fields { type { fields { type { fields { " \
             "type { fields { name } } } } } } } } } } } }"
    assert cost(nested) > LIMIT


def test_pages_variables_fragments_and_the_page_size_setting() -> None:
    by_variable = 'query($n: Int) { company(id: "apex.co") { people(first: $n) { id } } }'
    assert cost(by_variable, {"n": 7}) == 1 + 7
    assert cost(by_variable, {}) == 1 + LIST.default
    defaulted = 'query($n: Int = 3) { company(id: "apex.co") { people(first: $n) { id } } }'
    assert cost(defaulted, {}) == 1 + 3
    spread = """{ company(id: "apex.co") { ...staff } }
                fragment staff on Company { people(first: 4) { ... on Person { id } } }"""
    assert cost(spread) == 1 + 4
    connections = '{ connections(readTopic: "crm", concernTopic: "churn") ' \
                  '{ totalCount edges { node { person { id } } } } }'
    # the connection, then per item of the page: an edge, its node, the person
    assert cost(connections, api_page_size=30) == 1 + 30 * 3
    assert cost(connections, api_page_size=60) == 1 + 60 * 3
    # a first out of range is refused when it runs, before any item: counted as one
    assert cost('{ company(id: "apex.co") { people(first: 5000) { id } } }') == 2


# --- over HTTP, on both stores -----------------------------------------------------------------

async def test_the_fan_out_is_refused_before_it_runs(store: GraphStore, tmp_path: Path) -> None:
    company_world(store, 40)
    counting = Counting(store)
    settings = api_settings(tmp_path)
    tokens = make_tokens(settings)
    app = create_app(settings, store=counting)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        started = time.monotonic()
        response = await client.post("/graphql", json={"query": fan_out(4)}, headers={
            "Authorization": f"Bearer {tokens['read']}",
            "Accept": "application/graphql-response+json"})
        took = time.monotonic() - started
    assert response.status_code == 400 and took < 2, (response.status_code, took)
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] == cost(fan_out(4)) > LIMIT
    assert error["extensions"]["limit"] == LIMIT
    assert "RELGRAPH_API_MAX_COST" in error["message"]
    assert not counting.asked  # nothing ran: not one question reached the store


async def test_the_limit_is_a_setting(store: GraphStore, tmp_path: Path) -> None:
    company_world(store, 3)
    settings = api_settings(tmp_path, api_max_cost=101)
    tokens = make_tokens(settings)
    app = create_app(settings, store=store)
    under = '{ company(id: "apex.co") { people(first: 100) { id name } } }'  # 101
    over = '{ company(id: "apex.co") { people(first: 100) { id currentCompanies(first: 1) ' \
           '{ id } } } }'  # 201
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        headers = {"Authorization": f"Bearer {tokens['read']}"}
        ok = (await client.post("/graphql", json={"query": under}, headers=headers)).json()
        refused = (await client.post("/graphql", json={"query": over}, headers=headers)).json()
    assert len(ok["data"]["company"]["people"]) == 3
    assert refused["errors"][0]["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 201,
                                                  "limit": 101}


async def test_lists_are_paged_with_a_default_and_a_maximum(api: Api) -> None:
    company_world(api.store, 60)
    query = """query($first: Int, $offset: Int! = 0) { company(id: "apex.co") {
                 people(first: $first, offset: $offset) { id } } }"""

    async def people(**variables: Any) -> list[str]:
        data = await api.gql(query, variables)
        return [p["id"] for p in data["company"]["people"]]

    everyone = [f"p{i:04}@apex.co" for i in range(60)]
    assert await people() == everyone[:LIST.default]
    assert await people(first=60) == everyone
    assert await people(first=50, offset=50) == everyone[50:]
    assert await people(offset=100) == []
    for bad in ({"first": 0}, {"first": LIST.maximum + 1}, {"first": -1}, {"offset": -1}):
        error = await api.error(query, bad)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (bad, error)
    # the company's people, each with their companies: the nested lists are paged too
    nested = await api.gql('{ company(id: "apex.co") { people(first: 2) { '
                           'currentCompanies(first: 1) { id people(first: 3) { id } } } } }')
    for person in nested["company"]["people"]:
        (company,) = person["currentCompanies"]
        assert [p["id"] for p in company["people"]] == everyone[:3]


async def test_a_persons_jobs_are_paged(api: Api) -> None:
    api.store.upsert_nodes("Person", [{"id": "ada@x.io", "name": "Ada"}], source="t")
    api.store.upsert_nodes("Company", [{"id": f"c{i:02}.com", "name": f"C{i}"}
                                       for i in range(12)], source="t")
    api.store.upsert_relationships("WORKS_AT", [{"from": "ada@x.io", "to": f"c{i:02}.com",
                                                 "title": "Advisor"} for i in range(12)],
                                   source="t")
    api.store.checkpoint()
    data = await api.gql('{ person(id: "ada@x.io") { currentCompanies { id } '
                         'all: currentCompanies(first: 12) { id } currentJobs(first: 3) '
                         '{ title } } }')
    person = data["person"]
    assert len(person["currentCompanies"]) == 10 and len(person["all"]) == 12
    assert [j["title"] for j in person["currentJobs"]] == ["Advisor"] * 3


# --- a query at the limit, on a real server: inside its time limit, /healthz answering -------

AT_THE_LIMIT = ('{ company(id: "apex.co") { people(first: 1000) { name currentCompanies(first: 1)'
                ' { name people(first: 45) { id name } } } } }')


class Probe:
    """/healthz every 20 ms from a thread, the slowest answer kept."""

    def __init__(self, url: str) -> None:
        self.url, self.worst, self.count = url, 0.0, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._done.is_set():
                started = time.perf_counter()
                assert client.get(f"{self.url}/healthz").status_code == 200
                self.worst = max(self.worst, time.perf_counter() - started)
                self.count += 1
                time.sleep(0.02)

    def __enter__(self) -> Probe:
        self._thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@pytest.fixture
def limit_world(store: GraphStore) -> Iterator[GraphStore]:
    company_world(store, 1000)
    yield store


def test_a_query_at_the_limit_finishes_while_health_checks_answer(
        limit_world: GraphStore, tmp_path: Path) -> None:
    assert LIMIT - 5_000 < cost(AT_THE_LIMIT) <= LIMIT
    with running_server(limit_world, tmp_path) as server, Probe(server.url) as probe:
        started = time.monotonic()
        response = httpx.post(f"{server.url}/graphql", json={"query": AT_THE_LIMIT},
                              headers={"Authorization": f"Bearer {server.tokens['read']}"},
                              timeout=120)
        took = time.monotonic() - started
    assert response.status_code == 200, response.text[:500]
    people = response.json()["data"]["company"]["people"]
    assert len(people) == 1000 and all(len(p["currentCompanies"][0]["people"]) == 45
                                       for p in people)
    assert took < server.settings.api_timeout
    assert probe.count >= 5 and probe.worst < 0.1, (probe.worst, probe.count, took)


def test_the_time_limit_stops_a_costly_query_and_the_server_goes_on(
        limit_world: GraphStore, tmp_path: Path) -> None:
    with running_server(limit_world, tmp_path, {"RELGRAPH_API_TIMEOUT": "0.3"}) as server, \
            Probe(server.url) as probe:
        headers = {"Authorization": f"Bearer {server.tokens['read']}",
                   "Accept": "application/graphql-response+json"}
        started = time.monotonic()
        response = httpx.post(f"{server.url}/graphql", json={"query": AT_THE_LIMIT},
                              headers=headers, timeout=60)
        took = time.monotonic() - started
        after = httpx.post(f"{server.url}/graphql", headers=headers, timeout=30,
                           json={"query": '{ company(id: "apex.co") { name } }'})
    assert response.status_code == 504, response.text[:300]
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert took < 2.0, took  # stopped at its limit (0.3 s), not when it would have finished
    assert after.status_code == 200 and after.json()["data"]["company"]["name"] == "Apex"
    assert probe.worst < 0.1, probe.worst
