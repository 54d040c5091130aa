"""GraphQL over HTTP: media types, status codes, no `data` on request errors (the spec the
graphql-http audit checks; the audit itself runs against a real server in test_audit.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.http import GRAPHQL_RESPONSE, negotiate
from graph.store import GraphStore
from tests.api.conftest import Api, api_settings

pytestmark = pytest.mark.anyio
JSON = "application/json"


@pytest.mark.parametrize(("accept", "media"), [
    (None, JSON), ("*/*", JSON), ("application/json", JSON), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
    (f"application/json, {GRAPHQL_RESPONSE}", JSON),
    (f"application/json;q=0.5, {GRAPHQL_RESPONSE};q=0.8", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0", JSON), ("text/html", JSON),
])
def test_negotiation(accept: str | None, media: str) -> None:
    assert negotiate(accept) == media


async def test_success_in_either_media_type(api: Api) -> None:
    for accept, media in ((GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), (JSON, JSON), ("*/*", JSON)):
        response = await api.post("{ __typename }", accept=accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(("query", "variables", "code"), [
    ("{", None, "GRAPHQL_PARSE_FAILED"),
    ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query ($id: ID!) { person(id: $id) { id } }", {"id": None}, "BAD_USER_INPUT"),
])
async def test_request_errors_have_no_data(api: Api, query: str, variables: dict | None,
                                           code: str) -> None:
    strict = await api.post(query, variables, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert strict.json()["errors"][0]["extensions"]["code"] == code
    lenient = await api.post(query, variables, accept=JSON)
    assert lenient.status_code == 200 and "data" not in lenient.json()


async def test_field_errors_keep_data_and_200(api: Api) -> None:
    response = await api.post('{ person(email: "a..b@x.com") { id } __typename }',
                              accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"person": None, "__typename": "Query"}
    assert body["errors"][0]["path"] == ["person"]


async def test_get_runs_queries_but_never_mutations(api: Api) -> None:
    query = await api.client.get("/graphql", params={"query": "{ __typename }"},
                                 headers=api.auth())
    assert query.status_code == 200 and query.json()["data"] == {"__typename": "Query"}
    mutation = await api.client.get("/graphql", headers=api.auth("write"), params={
        "query": 'mutation { upsertCompany(input: {domain: "acme.com"}) { id } }'})
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"
    assert mutation.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(("content", "content_type"), [
    (b'{"query": "{ __typename }"', "application/json"),
    (b'{"query": "{ __typename }"}', "text/plain"),
    (b'{"query": {"no": "string"}}', "application/json"),
    (b'{"query": "{ __typename }", "variables": "x"}', "application/json"),
])
async def test_bad_bodies_are_400_json(api: Api, content: bytes, content_type: str) -> None:
    response = await api.client.post("/graphql", content=content, headers={
        **api.auth(), "Content-Type": content_type, "Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_parsed_and_validated_documents_are_cached(api: Api) -> None:
    from strawberry.extensions.validation_cache import _get_validate_cache

    from api.schema import CACHE_SIZE

    cache = _get_validate_cache(CACHE_SIZE)
    query = '{ person(email: "cache-probe@acme.com") { id name } }'
    await api.post(query)
    hits = cache.cache_info().hits
    await api.post(query)
    await api.post(query)
    assert cache.cache_info().hits == hits + 2


async def test_cors_only_for_the_origins_listed(store: GraphStore, tmp_path: Path) -> None:
    settings = api_settings(tmp_path, api_cors_origins="https://crm.example.com, https://x.io")
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        preflight = {"Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization, content-type"}
        allowed = await client.options("/graphql", headers={
            "Origin": "https://crm.example.com", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://crm.example.com"
        other = await client.options("/graphql", headers={"Origin": "https://evil.example",
                                                          **preflight})
        assert "access-control-allow-origin" not in other.headers
