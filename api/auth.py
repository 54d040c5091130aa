"""API keys: random tokens that the server keeps only as a SHA-256 digest, under the data dir.

A token reads `rgk_<id>_<secret>`: the id (12 hex digits) names the key in `relgraph apikey
list` and finds its row; the secret is 32 random bytes (URL-safe base64). A digest of 256 random
bits cannot be reversed or guessed, so a plain SHA-256 is enough at rest (salts and slow hashes
defend low-entropy passwords). The token is shown once, by `relgraph apikey create`.

Scopes are ordered: `read` asks questions, `write` also runs mutations, `admin` may do anything.
Keys live in `$RELGRAPH_DATA_DIR/apikeys.sqlite` (WAL mode: the CLI and a running server share
it; a revoked key stops working within `CACHE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from graph.errors import GraphError

TOKEN_PREFIX = "rgk_"
CACHE_SECONDS = 5.0
_CACHE_SIZE = 4096
_TOKEN = re.compile(r"^rgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
)"""


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def allows(self, needed: Scope) -> bool:
        order = (Scope.READ, Scope.WRITE, Scope.ADMIN)
        return order.index(self) >= order.index(needed)


class UnknownKey(GraphError, LookupError):
    """A key that `relgraph apikey revoke` cannot find."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: the key's id, name and scope."""

    key_id: str
    name: str
    scope: Scope

    def can(self, needed: Scope) -> bool:
        return self.scope.allows(needed)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class KeyStore:
    """The keys of one data dir. Each call opens its own connection (thread-safe, cheap)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            yield db

    def create(self, scope: Scope, name: str = "") -> tuple[ApiKey, str]:
        """A new key and its token (the only time the token exists outside the caller)."""
        key_id = secrets.token_hex(6)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        created = _now()
        with self._db() as db:
            db.execute("INSERT INTO api_keys (id, name, scope, digest, created_at) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (key_id, name, scope.value, _digest(secret), created))
        key = ApiKey(key_id, name, scope, datetime.fromisoformat(created), None, None)
        return key, f"{TOKEN_PREFIX}{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._db() as db:
            rows = db.execute("SELECT id, name, scope, created_at, last_used_at, revoked_at "
                              "FROM api_keys ORDER BY created_at, id").fetchall()
        return [ApiKey(r[0], r[1], Scope(r[2]), datetime.fromisoformat(r[3]), _when(r[4]),
                       _when(r[5])) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self._db() as db:
            changed = db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND "
                                 "revoked_at IS NULL", (_now(), key_id.strip())).rowcount
        found = [k for k in self.list() if k.id == key_id.strip()]
        if not found:
            raise UnknownKey(f"no API key with id {key_id!r} (see `relgraph apikey list`)")
        if not changed:
            raise UnknownKey(f"API key {key_id} was already revoked")
        return found[0]

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked token; None for anything else."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        key_id, secret = match.groups()
        with self._db() as db:
            row = db.execute("SELECT name, scope, digest, revoked_at FROM api_keys WHERE id = ?",
                             (key_id,)).fetchone()
            if row is None or row[3] is not None:
                return None
            if not hmac.compare_digest(row[2], _digest(secret)):
                return None
            db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (_now(), key_id))
        return Principal(key_id, row[0], Scope(row[1]))


class Authenticator:
    """Verifies tokens off the event loop, remembering answers for a few seconds (a request
    costs a dict look-up; a revocation takes effect within CACHE_SECONDS)."""

    def __init__(self, keys: KeyStore, *, ttl: float = CACHE_SECONDS) -> None:
        self.keys = keys
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, token: str | None) -> Principal | None:
        if not token:
            return None
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = await asyncio.to_thread(self.keys.verify, token)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = (now + self.ttl, principal)
        return principal


def bearer_token(authorization: str | None, *, basic: bool = True) -> str | None:
    """The token of an `Authorization: Bearer …` header, or the password of `Basic …` (how a
    browser sends a key typed into its log-in prompt, for GraphiQL) when `basic` is allowed."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic" and basic:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


__all__ = ["ApiKey", "Authenticator", "UnknownKey", "KeyStore", "Principal", "Scope",
           "TOKEN_PREFIX", "bearer_token"]
