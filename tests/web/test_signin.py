"""Sign-in over HTTP: the form, the cookie and what it may do, `?key=`, redirects that stay on
this site, and the cookie on GraphQL, REST and the websocket (a real server for that one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.app import create_app
from api.auth import KeyStore, Principal, Scope
from api.web.signin import COOKIE, MAX_AGE, safe_next
from graph.memory_store import MemoryStore
from tests.api.conftest import api_settings, make_tokens
from tests.conformance.helpers import load_demo
from tests.conftest import DEMO
from tests.web.conftest import LiveServer

BASE = "http://relgraph.test"
HTML = {"Accept": "text/html,application/xhtml+xml"}
READ_ADA = '{ person(email: "ada@acme.com") { name } }'
MUTATION = 'mutation { upsertPerson(input: {email: "eve@acme.com", name: "Eve"}) { id } }'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Web:
    client: httpx.AsyncClient
    tokens: dict[str, str]
    keys: KeyStore

    def cookie(self, scope: str = "read", **more: str) -> dict[str, str]:
        """The headers of a browser signed in with the `scope` key, on a page of this site."""
        return {"Cookie": f"{COOKIE}={self.tokens[scope]}", "Origin": BASE, **more}

    async def send(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A request with only the cookies given here (the client's jar is emptied)."""
        self.client.cookies.clear()
        return await self.client.request(method, path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    store = MemoryStore(tmp_path / "graph.sqlite", batch_size=50)
    load_demo(store, DEMO, tmp_path / "load")
    settings = api_settings(tmp_path)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield Web(client, make_tokens(settings), KeyStore(settings.api_keys_path))
    store.close()


def set_cookie(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/graphql", "/docs"])
async def test_a_page_without_a_key_goes_to_the_signin_form(web: Web, path: str) -> None:
    response = await web.send("GET", path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next={path}"
    form = await web.send("GET", response.headers["location"])
    assert form.status_code == 200
    assert 'type="password"' in form.text and "API key" in form.text
    assert f'name="next" value="{path}"' in form.text


@pytest.mark.anyio
async def test_the_form_signs_in_with_an_httponly_strict_cookie(web: Web) -> None:
    response = await web.send("POST", "/signin", data={"key": web.tokens["read"],
                                                       "next": "/graphql"})
    assert response.status_code == 303 and response.headers["location"] == "/graphql"
    morsel = set_cookie(response)[COOKIE]
    assert morsel.value == web.tokens["read"]
    assert morsel["httponly"] is True and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/" and int(morsel["max-age"]) == MAX_AGE
    assert not morsel["secure"]  # plain http: a Secure cookie would never come back
    page = await web.send("GET", "/graphql", headers={**HTML, "Cookie": f"{COOKIE}={morsel.value}"})
    assert page.status_code == 200 and "/static/vendor/graphiql.min.js" in page.text


@pytest.mark.anyio
async def test_the_cookie_is_secure_over_https(tmp_path: Path, web: Web) -> None:
    web.client.base_url = httpx.URL("https://relgraph.test")
    response = await web.send("POST", "/signin", data={"key": web.tokens["read"]})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert set_cookie(response)[COOKIE]["secure"] is True


@pytest.mark.anyio
async def test_a_wrong_key_shows_the_form_again(web: Web) -> None:
    for key in ("rgk_000000000000_" + "A" * 43, "not a key", ""):
        response = await web.send("POST", "/signin", data={"key": key, "next": "/docs"})
        assert response.status_code == 401
        assert "not a valid API key" in response.text
        assert 'name="next" value="/docs"' in response.text
        assert COOKIE not in set_cookie(response)


@pytest.mark.anyio
async def test_a_key_in_the_address_signs_in_and_leaves_the_address(web: Web) -> None:
    response = await web.send("GET", "/docs", params={"key": web.tokens["read"], "x": "1"},
                              headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/docs?x=1"
    assert set_cookie(response)[COOKIE].value == web.tokens["read"]
    graphiql = await web.send("GET", "/graphql", params={"key": web.tokens["read"]},
                              headers=HTML)
    assert graphiql.status_code == 303 and graphiql.headers["location"] == "/graphql"
    wrong = await web.send("GET", "/docs", params={"key": "rgk_nope"}, headers=HTML)
    assert wrong.status_code == 401 and "not a valid API key" in wrong.text
    assert COOKIE not in set_cookie(wrong)


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "javascript:alert(1)", "evil.example", "", None, "///evil.example"])
def test_next_never_leaves_the_site(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/people/ada%40acme.com?as_of=2026-11-01", "/graphql"])
def test_next_keeps_a_path_of_this_site(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.anyio
async def test_an_open_redirect_is_refused_over_http(web: Web) -> None:
    response = await web.send("POST", "/signin", data={"key": web.tokens["read"],
                                                       "next": "//evil.example/x"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    form = await web.send("GET", "/signin", params={"next": "https://evil.example"})
    assert 'name="next" value="/"' in form.text and "evil" not in form.text


@pytest.mark.anyio
async def test_another_sites_form_cannot_sign_a_browser_in(web: Web) -> None:
    response = await web.send("POST", "/signin", data={"key": web.tokens["read"]},
                              headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and COOKIE not in set_cookie(response)


@pytest.mark.anyio
async def test_the_cookie_reads_graphql_and_rest(web: Web) -> None:
    response = await web.send("POST", "/graphql", json={"query": READ_ADA},
                              headers=web.cookie())
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"person": {"name": "Ada Lovelace"}}}
    sdl = await web.send("GET", "/graphql/schema.graphql", headers=web.cookie())
    assert sdl.status_code == 200 and "type Query" in sdl.text
    lookup = await web.send("GET", "/v1/lookup", params={"email": "ada@acme.com"},
                            headers=web.cookie())
    assert lookup.status_code == 200 and lookup.json()["person"]["name"] == "Ada Lovelace"


@pytest.mark.anyio
async def test_a_get_query_from_a_browser_is_still_the_graphql_endpoint(web: Web) -> None:
    response = await web.send("GET", "/graphql", params={"query": READ_ADA},
                              headers={**HTML, **web.cookie()})
    assert response.status_code == 200
    assert response.json() == {"data": {"person": {"name": "Ada Lovelace"}}}
    unsigned = await web.send("GET", "/graphql", params={"query": READ_ADA}, headers=HTML)
    assert unsigned.status_code == 401  # no page, no redirect: the endpoint's answer


@pytest.mark.anyio
async def test_a_cookie_alone_never_writes_even_with_an_admin_key(web: Web) -> None:
    refused = await web.send("POST", "/graphql", json={"query": MUTATION},
                             headers=web.cookie("admin"))
    body = refused.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert "data" not in body or body["data"] is None
    written = await web.send("POST", "/graphql", json={"query": MUTATION},
                             headers={"Authorization": f"Bearer {web.tokens['admin']}"})
    assert written.json() == {"data": {"upsertPerson": {"id": "eve@acme.com"}}}


@pytest.mark.anyio
async def test_the_cookie_is_ignored_from_another_sites_page(web: Web) -> None:
    response = await web.send("POST", "/graphql", json={"query": READ_ADA},
                              headers=web.cookie(Origin="https://evil.example"))
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.anyio
async def test_a_revoked_key_signs_the_browser_out(web: Web) -> None:
    key_id = web.tokens["read"].split("_")[1]
    web.keys.revoke(key_id)
    web.client._transport.app.state.services.auth._good.clear()  # type: ignore[attr-defined]
    api = await web.send("POST", "/graphql", json={"query": READ_ADA}, headers=web.cookie())
    assert api.status_code == 401 and "sign in again" in api.json()["errors"][0]["message"]
    page = await web.send("GET", "/docs", headers={**HTML, **web.cookie()})
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=/docs"


@pytest.mark.anyio
async def test_signout_clears_the_cookie(web: Web) -> None:
    response = await web.send("POST", "/signout", headers=web.cookie())
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    morsel = set_cookie(response)[COOKIE]
    assert morsel.value == "" and int(morsel["max-age"]) == 0


def test_a_cookie_principal_is_a_read_key() -> None:
    admin = Principal("abc", "ops", Scope.ADMIN)
    assert admin.limited_to(Scope.READ) == Principal("abc", "ops", Scope.READ)
    reader = Principal("def", "wall", Scope.READ)
    assert reader.limited_to(Scope.WRITE) is reader


# --- the websocket, on a real server ---------------------------------------------------------

async def ws_answer(server: LiveServer, headers: dict[str, str]) -> str:
    """What the server answers a connection_init without a key: `ack`, the close code, or the
    handshake's HTTP status when it refuses the socket outright."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    try:
        return await _ws_answer(url, headers)
    except InvalidStatus as refused:
        return f"HTTP {refused.response.status_code}"


async def _ws_answer(url: str, headers: dict[str, str]) -> str:
    async with connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        try:
            message = json.loads(await ws.recv(decode=True))
        except ConnectionClosed as closed:
            return str(closed.rcvd.code if closed.rcvd else None)
        if message["type"] != "connection_ack":
            return str(message)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { customerFeed { id } }"}}))
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        return "ack"


@pytest.mark.anyio
async def test_the_websocket_takes_the_cookie_only_from_this_origin(
        live_server: LiveServer) -> None:
    cookie = {"Cookie": f"{COOKIE}={live_server.read_key}"}
    assert await ws_answer(live_server, {**cookie, "Origin": live_server.url}) == "ack"
    # cross-site websocket hijacking: another site's page opens a socket with our cookie
    # (strawberry refuses other origins at the handshake; api/context.py ignores their cookie)
    assert await ws_answer(live_server, {**cookie, "Origin": "https://evil.example"}) == "HTTP 403"
    # without an Origin it is no browser's page: the cookie counts for nothing, no key: 4403
    assert await ws_answer(live_server, cookie) == "4403"
