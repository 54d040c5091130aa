"""API tests run over HTTP on both stores: the app in-process behind httpx's ASGI transport, or
a real `relgraph serve` (uvicorn in a subprocess) where a real socket matters (websockets, the
GraphQL-over-HTTP audit). Every test gets three keys: read, write and admin."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import KeyStore, Scope
from graph.settings import Settings
from graph.store import GraphStore
from tests.conformance.helpers import load_demo
from tests.conftest import DEMO, ROOT

AS_OF = "2026-11-01T00:00:00Z"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def api_settings(data_dir: Path, **overrides: Any) -> Settings:
    """The tests' settings: no rate limit (tests send hundreds of requests at once) unless a
    test sets one."""
    return Settings(data_dir=data_dir, **{"api_feed_poll": 0.05, "api_rate": 0, **overrides})


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: dict[str, str]
    store: GraphStore
    settings: Settings
    calls: list[str] = field(default_factory=list)

    def auth(self, scope: str | None = "read") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"} if scope else {}

    async def post(self, query: str, variables: dict[str, Any] | None = None, *,
                   scope: str | None = "read", accept: str | None = None) -> httpx.Response:
        headers = self.auth(scope)
        if accept:
            headers["Accept"] = accept
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=headers)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *,
                  scope: str = "read") -> dict[str, Any]:
        """The data of a query that must succeed."""
        response = await self.post(query, variables, scope=scope)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error(self, query: str, variables: dict[str, Any] | None = None, *,
                    scope: str = "read") -> dict[str, Any]:
        """The first error of a query that must fail."""
        response = await self.post(query, variables, scope=scope)
        body = response.json()
        assert body.get("errors"), body
        error: dict[str, Any] = body["errors"][0]
        return error


def make_tokens(settings: Settings) -> dict[str, str]:
    keys = KeyStore(settings.api_keys_path)
    return {scope.value: keys.create(scope, f"test-{scope.value}")[1] for scope in Scope}


@pytest.fixture
async def api(store: GraphStore, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on an empty store (of each kind)."""
    settings = api_settings(tmp_path)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        yield Api(client, make_tokens(settings), store, settings)


def trigger_world(store: GraphStore, tmp: Path) -> None:
    """The demo graph, and buying triggers at two of its companies."""
    load_demo(store, DEMO, tmp)
    store.upsert_nodes("Trigger", [
        {"id": "acme-series-c", "type": "funding_round", "at": "2026-10-15T00:00:00Z",
         "headline": "Acme raises a Series C", "amount": 40_000_000.0, "currency": "USD",
         "round": "C"},
        {"id": "initech-new-vp", "type": "leadership_change", "at": "2026-10-20T00:00:00Z",
         "headline": "Initech hires a VP Sales"},
        {"id": "umbrella-old", "type": "acquisition", "at": "2026-01-01T00:00:00Z",
         "headline": "Umbrella buys a rival"},
    ], source="test")
    store.upsert_relationships("HAD_TRIGGER", [
        {"from": "acme.com", "to": "acme-series-c"},
        {"from": "initech.com", "to": "initech-new-vp"},
        {"from": "umbrella.com", "to": "umbrella-old"},
    ], source="test")
    store.checkpoint()


@pytest.fixture
async def demo_api(api: Api, tmp_path: Path) -> Api:
    """The app on the demo graph with triggers."""
    trigger_world(api.store, tmp_path / "load")
    return api


# --- a real server --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path


def server_env(store: GraphStore, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RELGRAPH_", "NEO4J_"))}
    env.update({"RELGRAPH_DATA_DIR": str(data_dir), "RELGRAPH_FEED_POLL": "0.05",
                "RELGRAPH_LOG_LEVEL": "warning", "RELGRAPH_API_RATE": "0",
                "PYTHONPATH": str(ROOT)})
    if store.kind.value == "neo4j":
        env.update({"RELGRAPH_STORE": "neo4j",
                    "NEO4J_URI": os.environ["RELGRAPH_TEST_NEO4J_URI"],
                    "NEO4J_USER": os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j"),
                    "NEO4J_PASSWORD": os.environ["RELGRAPH_TEST_NEO4J_PASSWORD"]})
    else:
        env["RELGRAPH_STORE"] = "memory"
        # the embedded store's data dir is this test's: what the fixture wrote is on disk
        store.checkpoint()
    return env


@contextmanager
def running_server(store: GraphStore, data_dir: Path,
                   env: dict[str, str] | None = None) -> Iterator[Server]:
    """`relgraph serve` in a subprocess on a free port, on `store` (its graph as it is now);
    `env`: settings of its own (RELGRAPH_API_TIMEOUT …)."""
    settings = api_settings(data_dir)
    tokens = make_tokens(settings)
    with serve_process(data_dir, {**server_env(store, data_dir), **(env or {})}) as (
            url, process, log):
        yield Server(url, tokens, settings, process, log)


@contextmanager
def serve_process(data_dir: Path, env: dict[str, str]
                  ) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`relgraph serve` in a subprocess on a free port with `env`, once /readyz answers: its
    URL, process and log file (data_dir/server.log); stopped on exit."""
    port = free_port()
    log = data_dir / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            cwd=data_dir, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"relgraph serve exited: {log.read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"relgraph serve did not get ready: {log.read_text()}")
            time.sleep(0.1)
        yield url, process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server(store: GraphStore, tmp_path: Path) -> Iterator[Server]:
    """A real server on the test's (empty) store."""
    with running_server(store, tmp_path) as running:
        yield running


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
