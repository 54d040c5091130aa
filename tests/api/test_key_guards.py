"""Guards around API keys: rate limits per key and per failing address, a key cache that junk
tokens cannot flush, `last_used_at` written at most once a minute, introspection for admin keys,
and key rotation with a grace period."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import TOKEN_PREFIX, Authenticator, KeyStore, Principal, RateLimiter, Scope
from graph.store import GraphStore
from tests.api.conftest import Api, api_settings, make_tokens
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

INTROSPECT = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Person") { name fields { name } } }'
LOOKUP = '{ person(email: "nobody@x.io") { name } }'


class CountingKeys(KeyStore):
    """The key store, counting the tokens it was asked to verify."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.verified: list[str] = []

    def verify(self, token: str) -> Principal | None:
        self.verified.append(token)
        return super().verify(token)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def junk(count: int) -> list[str]:
    """Tokens of a token's form that no key has."""
    return [f"{TOKEN_PREFIX}{secrets.token_hex(6)}_{secrets.token_urlsafe(32)[:43]}"
            for _ in range(count)]


async def client_for(store: GraphStore, tmp: Path, **settings: Any
                     ) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    config = api_settings(tmp, **settings)
    tokens = make_tokens(config)
    app = create_app(config, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5000)),
            base_url="http://relgraph.test") as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- rate limits -------------------------------------------------------------------------------

def test_a_token_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = RateLimiter(2.0, 3, clock=clock)
    assert [bucket.take("k") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("k") == pytest.approx(0.5)  # one more in half a second
    clock.now += 0.5
    assert bucket.take("k") == 0 and bucket.take("k") > 0
    assert bucket.take("other") == 0  # each name its own bucket
    assert RateLimiter(0, 1).take("k") == 0  # rate 0: no limit


async def test_a_key_over_its_rate_gets_429_with_retry_after(store: GraphStore,
                                                            tmp_path: Path) -> None:
    async for client, tokens in client_for(store, tmp_path, api_rate=1, api_burst=5):
        answers = [await client.post("/graphql", json={"query": LOOKUP},
                                     headers=bearer(tokens["read"])) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        refused = answers[-1]
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # another key has its own bucket; REST look-ups count against the same one
        other = await client.post("/graphql", json={"query": LOOKUP},
                                  headers=bearer(tokens["write"]))
        assert other.status_code == 200
        rest = await client.get("/v1/lookup", params={"email": "nobody@x.io"},
                                headers=bearer(tokens["read"]))
        assert rest.status_code == 429


async def test_an_address_that_keeps_failing_is_slowed_down(store: GraphStore,
                                                           tmp_path: Path) -> None:
    async for client, tokens in client_for(store, tmp_path, api_auth_failures=3):
        statuses = [(await client.post("/graphql", json={"query": LOOKUP},
                                       headers=bearer(token))).status_code
                    for token in junk(5)]
        assert statuses == [401, 401, 401, 429, 429]
        # a good key from that address is refused too while it waits (the address is what
        # guesses); no key at all is a plain 401
        assert (await client.post("/graphql", json={"query": LOOKUP},
                                  headers=bearer(tokens["read"]))).status_code == 429
        assert (await client.post("/graphql", json={"query": LOOKUP})).status_code == 401


async def test_junk_tokens_cannot_flush_the_good_keys_from_the_cache(tmp_path: Path) -> None:
    keys = CountingKeys(tmp_path / "apikeys.sqlite")
    _, token = keys.create(Scope.READ, "crm")
    auth = Authenticator(keys, ttl=3600)
    assert await auth.principal(token) is not None
    for bad in junk(5000):  # more than both caches hold
        assert await auth.principal(bad) is None
    asked = len(keys.verified)
    assert await auth.principal(token) is not None
    assert len(keys.verified) == asked  # answered from the cache, no look-up
    # a repeated junk token is answered from its own cache; a malformed one is never looked up
    last = keys.verified[-1]
    assert await auth.principal(last) is None and len(keys.verified) == asked
    assert await auth.principal("rgk_not-a-token") is None and len(keys.verified) == asked


def test_last_used_at_is_written_at_most_once_a_minute(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "apikeys.sqlite")
    key, token = keys.create(Scope.READ)
    assert keys.verify(token) is not None
    (first,) = [k.last_used_at for k in keys.list()]
    assert first is not None
    assert keys.verify(token) is not None
    assert [k.last_used_at for k in keys.list()] == [first]  # not written again
    stale = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    with sqlite3.connect(keys.path) as db:
        db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (stale, key.id))
    assert keys.verify(token) is not None
    (again,) = [k.last_used_at for k in keys.list()]
    assert again is not None and again > datetime.fromisoformat(stale)


# --- introspection -----------------------------------------------------------------------------

async def test_introspection_is_for_admin_keys(api: Api) -> None:
    for query in (INTROSPECT, TYPE):
        error = await api.error(query, scope="read")
        assert error["extensions"]["code"] == "FORBIDDEN" and "admin" in error["message"]
        assert (await api.error(query, scope="write"))["extensions"]["code"] == "FORBIDDEN"
        assert await api.gql(query, scope="admin")
    # __typename is not introspection
    assert await api.gql("{ __typename }", scope="read") == {"__typename": "Query"}


async def test_a_setting_opens_introspection(store: GraphStore, tmp_path: Path) -> None:
    async for client, tokens in client_for(store, tmp_path, api_introspection=True):
        answer = await client.post("/graphql", json={"query": INTROSPECT},
                                   headers=bearer(tokens["read"]))
        assert answer.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


# --- rotation ----------------------------------------------------------------------------------

def test_a_rotated_key_works_for_its_grace_period_then_stops(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "apikeys.sqlite")
    old, old_token = keys.create(Scope.WRITE, "crm sync")
    new, new_token, before = keys.rotate(old.id, timedelta(hours=1))
    assert (new.scope, new.name) == (Scope.WRITE, "crm sync") and new.id != old.id
    assert before.replaced_by == new.id and before.expires_at is not None
    assert timedelta(minutes=59) < before.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    assert keys.verify(old_token) is not None and keys.verify(new_token) is not None
    with sqlite3.connect(keys.path) as db:  # the grace period is over
        db.execute("UPDATE api_keys SET expires_at = ? WHERE id = ?",
                   ((datetime.now(UTC) - timedelta(seconds=1)).isoformat(), old.id))
    assert keys.verify(old_token) is None and keys.verify(new_token) is not None
    with pytest.raises(LookupError, match="expired"):
        keys.rotate(old.id, timedelta(hours=1))
    # rotating at once (grace 0) stops the old token now
    _, newer_token, _ = keys.rotate(new.id, timedelta(0))
    assert keys.verify(new_token) is None and keys.verify(newer_token) is not None


def test_a_first_layout_key_file_is_read_and_rotated(tmp_path: Path) -> None:
    path = tmp_path / "apikeys.sqlite"
    keys = KeyStore(path)
    key, token = keys.create(Scope.READ)
    with sqlite3.connect(path) as db:  # as the file was before rotation existed
        db.execute("CREATE TABLE old AS SELECT id, name, scope, digest, created_at, "
                   "last_used_at, revoked_at FROM api_keys")
        db.execute("DROP TABLE api_keys")
        db.execute("ALTER TABLE old RENAME TO api_keys")
    reopened = KeyStore(path)
    assert reopened.verify(token) is not None
    assert reopened.rotate(key.id, timedelta(hours=2))[2].expires_at is not None


async def test_a_rotated_key_over_http(store: GraphStore, tmp_path: Path) -> None:
    config = api_settings(tmp_path)
    keys = KeyStore(config.api_keys_path)
    old, old_token = keys.create(Scope.READ, "sales tool")
    app = create_app(config, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        _, new_token, _ = keys.rotate(old.id, timedelta(hours=1))
        for token in (old_token, new_token):
            answer = await client.post("/graphql", json={"query": LOOKUP}, headers=bearer(token))
            assert answer.status_code == 200
        keys.rotate(keys.list()[-1].id, timedelta(0))  # the new one rotated at once
        await asyncio.sleep(0)
    # a revoked or expired key stops within the cache's few seconds: a fresh server refuses it
    app = create_app(config, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        answer = await client.post("/graphql", json={"query": LOOKUP},
                                   headers=bearer(new_token))
        assert answer.status_code == 401


def test_relgraph_apikey_rotate(tmp_path: Path) -> None:
    env = {"RELGRAPH_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", "apikey", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    created = run("create", "--scope", "read", "--name", "crm")
    token = created.stdout.strip()
    key_id = token.split("_")[1]
    rotated = run("rotate", key_id, "--grace", "2h")
    assert rotated.returncode == 0, rotated.stderr
    new_token = rotated.stdout.strip()
    assert new_token.startswith(TOKEN_PREFIX) and new_token != token
    said = " ".join(rotated.stderr.split())  # rich wraps long lines
    assert f"rotated API key {key_id} to" in said and "the old token works until" in said
    keys = KeyStore(tmp_path / "apikeys.sqlite")
    assert keys.verify(token) is not None and keys.verify(new_token) is not None
    listed = run("list")
    assert "expires" in listed.stdout and listed.returncode == 0
    bad = run("rotate", key_id, "--grace", "soon")
    assert bad.returncode == 2 and "--grace" in bad.stderr
    missing = run("rotate", "000000000000")
    assert missing.returncode == 1 and "no API key" in missing.stderr
