"""API keys: no key 401, a read key mutating 403, revoked keys refused, keys hashed at rest,
GraphiQL only in development mode or with a valid key."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.auth import KeyStore, Scope, bearer_token
from graph.store import GraphStore
from tests.api.conftest import Api, api_settings

pytestmark = pytest.mark.anyio

UPSERT = 'mutation { upsertCompany(input: {domain: "acme.com", name: "Acme"}) { id name } }'


async def test_no_key_is_401_everywhere(api: Api) -> None:
    for response in (
        await api.post("{ __typename }", scope=None),
        await api.client.get("/graphql", params={"query": "{ __typename }"}),
        await api.client.get("/v1/lookup", params={"email": "ada@acme.com"}),
        await api.client.get("/v1/export/connections.csv",
                             params={"readTopic": "crm", "concernTopic": "churn"}),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    "Bearer rgk_000000000000_" + "A" * 43, "Bearer nonsense", "Token abc", "Bearer ",
])
async def test_a_wrong_key_is_401(api: Api, header: str) -> None:
    response = await api.client.post("/graphql", json={"query": "{ __typename }"},
                                     headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_read_key_cannot_mutate(api: Api) -> None:
    for accept in ("application/json", "application/graphql-response+json"):
        response = await api.post(UPSERT, scope="read", accept=accept)
        assert response.status_code == 403, response.text
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "write" in body["errors"][0]["message"]
    assert api.store.existing("Company", ["acme.com"]) == set()
    written = await api.gql(UPSERT, scope="write")
    assert written["upsertCompany"] == {"id": "acme.com", "name": "Acme"}
    assert (await api.gql(UPSERT, scope="admin"))["upsertCompany"]["id"] == "acme.com"


async def test_a_revoked_key_is_refused(api: Api) -> None:
    keys = KeyStore(api.settings.api_keys_path)
    key, token = keys.create(Scope.READ, "soon gone")
    keys.revoke(key.id)
    response = await api.client.post("/graphql", json={"query": "{ __typename }"},
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_keys_are_hashed_at_rest(api: Api) -> None:
    stored = api.settings.api_keys_path.read_bytes()
    for token in api.tokens.values():
        secret = token.split("_", 2)[2]  # rgk_<id>_<secret>: the secret may hold "_" itself
        assert len(secret) == 43
        assert secret.encode() not in stored and token.encode() not in stored
    assert sorted(k.scope.value for k in KeyStore(api.settings.api_keys_path).list()) == [
        "admin", "read", "write"]


async def test_graphiql_needs_a_key_outside_development(api: Api) -> None:
    html = {"Accept": "text/html"}
    refused = await api.client.get("/graphql", headers=html)
    assert refused.status_code == 303  # to the sign-in form (api/web/signin.py)
    assert refused.headers["location"] == "/signin?next=/graphql"
    shown = await api.client.get("/graphql", headers={**html, **api.auth("read")})
    assert shown.status_code == 200 and "graphiql" in shown.text.lower()
    basic = base64.b64encode(f"me:{api.tokens['read']}".encode()).decode()
    typed = await api.client.get("/graphql", headers={**html,
                                                      "Authorization": f"Basic {basic}"})
    assert typed.status_code == 200


async def test_graphiql_is_open_in_development_mode_but_data_still_needs_a_key(
        store: GraphStore, tmp_path: Path) -> None:
    app = create_app(api_settings(tmp_path, api_dev=True), store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        data = await client.post("/graphql", json={"query": "{ __typename }"})
        assert data.status_code == 401


async def test_health_needs_no_key(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "store": api.store.kind.value}


def test_bearer_and_basic_headers() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic " + base64.b64encode(b"user:tok").decode()) == "tok"
    assert bearer_token("Basic !!!") is None
    assert bearer_token(None) is None and bearer_token("Digest x") is None
