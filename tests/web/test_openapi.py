"""/openapi.json and /docs for anyone with a key: the look-up's answer typed field by field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.web.signin import COOKIE
from graph.memory_store import MemoryStore
from tests.api.conftest import api_settings, make_tokens

pytestmark = pytest.mark.anyio
BASE = "http://relgraph.test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    store = MemoryStore(tmp_path / "graph.sqlite")
    settings = api_settings(tmp_path)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http, make_tokens(settings)
    store.close()


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        found: dict[str, Any] = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return found
    return node


async def test_openapi_needs_a_key(client: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    http, _ = client
    response = await http.get("/openapi.json")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_lookup_answer_is_typed(
        client: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    http, tokens = client
    response = await http.get("/openapi.json",
                              headers={"Authorization": f"Bearer {tokens['read']}"})
    assert response.status_code == 200
    schema = response.json()
    ok = schema["paths"]["/v1/lookup"]["get"]["responses"]["200"]["content"]["application/json"]
    answers = [resolve(schema, s) for s in ok["schema"]["anyOf"]]
    assert [a["title"] for a in answers] == ["PersonLookup", "CompanyLookup"]
    person, company = answers
    assert list(person["properties"]) == ["person", "company", "knownBy", "openConcerns",
                                          "recentTriggers"]
    assert list(company["properties"]) == ["company", "known", "openConcerns", "recentTriggers"]
    contact = resolve(schema, person["properties"]["knownBy"]["items"])
    assert contact["properties"]["strength"]["anyOf"][0]["type"] == "number"
    trigger = resolve(schema, person["properties"]["recentTriggers"]["items"])
    assert trigger["properties"]["at"]["format"] == "date-time"
    assert set(trigger["required"]) == {"id", "type", "at", "headline"}
    # the pages' own routes are no part of the API's description
    assert not {"/signin", "/docs", "/openapi.json"} & set(schema["paths"])


async def test_docs_is_swagger_ui_from_our_files_for_a_signed_in_browser(
        client: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    http, tokens = client
    away = await http.get("/docs", headers={"Accept": "text/html"})
    assert away.status_code == 303 and away.headers["location"] == "/signin?next=/docs"
    cookie = {"Cookie": f"{COOKIE}={tokens['read']}"}
    page = await http.get("/docs", headers=cookie)
    assert page.status_code == 200
    assert '<script src="/static/vendor/swagger-ui-bundle.js">' in page.text
    assert '"validatorUrl": null' in page.text  # no badge fetched from validator.swagger.io
    http.cookies.clear()
    described = await http.get("/openapi.json", headers=cookie)
    assert described.status_code == 200 and "/v1/lookup" in described.json()["paths"]
    script = await http.get("/static/vendor/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
