"""API keys: random tokens that the server keeps only as a SHA-256 digest, under the data dir.

A token reads `rgk_<id>_<secret>`: the id (12 hex digits) names the key in `relgraph apikey
list` and finds its row; the secret is 32 random bytes (URL-safe base64). A digest of 256 random
bits cannot be reversed or guessed, so a plain SHA-256 is enough at rest (salts and slow hashes
defend low-entropy passwords). The token is shown once, by `relgraph apikey create`.

Scopes are ordered: `read` asks questions, `write` also runs mutations, `admin` may do anything.
Keys live in `$RELGRAPH_DATA_DIR/apikeys.sqlite` (WAL mode: the CLI and a running server share
it; a revoked key stops working within `CACHE_SECONDS`).

Rotation (`relgraph apikey rotate ID --grace 24h`) makes a new key of the same name and scope
and gives the old one an expiry: both work during the grace period, then only the new one.

A server remembers the answers for tokens it verified, good and bad apart: the good ones (one
per live key) are never pushed out by a stream of junk tokens, which only push out each other,
and a token that is not even of the token's form never reaches the database. `last_used_at`
is written at most once a minute per key. Each key may send `RELGRAPH_API_RATE` requests a
second on average (`RELGRAPH_API_BURST` at once); each client address may fail to authenticate
`RELGRAPH_API_AUTH_FAILURES` times a minute. Over either: 429 with Retry-After.
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
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from api.errors import RateLimited
from graph.errors import GraphError

TOKEN_PREFIX = "rgk_"
SESSION_COOKIE = "relgraph_key"  # the screens' sign-in (api/web/signin.py): a token, HttpOnly
CACHE_SECONDS = 5.0
USED_EVERY = timedelta(minutes=1)  # how stale `last_used_at` may get before it is written
_GOOD_CACHE = 4096
_BAD_CACHE = 1024
_TOKEN = re.compile(r"^rgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    expires_at TEXT,
    replaced_by TEXT
)"""
_ADDED_COLUMNS = ("expires_at", "replaced_by")  # not in a first-layout apikeys.sqlite


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
    expires_at: datetime | None = None  # rotated: valid until then
    replaced_by: str | None = None  # rotated: the key that replaces it


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: the key's id, name and scope."""

    key_id: str
    name: str
    scope: Scope

    def can(self, needed: Scope) -> bool:
        return self.scope.allows(needed)

    def limited_to(self, scope: Scope) -> Principal:
        """The same key with at most `scope` (a browser's sign-in cookie reads, never writes)."""
        return self if scope.allows(self.scope) else replace(self, scope=scope)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class KeyStore:
    """The keys of one data dir. Each call opens its own connection (thread-safe, cheap)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._migrated = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            if not self._migrated:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                have = {row[1] for row in db.execute("PRAGMA table_info(api_keys)")}
                for column in _ADDED_COLUMNS:
                    if column not in have:
                        db.execute(f"ALTER TABLE api_keys ADD COLUMN {column} TEXT")
                self._migrated = True
            yield db

    def create(self, scope: Scope, name: str = "") -> tuple[ApiKey, str]:
        """A new key and its token (the only time the token exists outside the caller)."""
        with self._db() as db:
            return self._create(db, scope, name)

    def _create(self, db: sqlite3.Connection, scope: Scope, name: str) -> tuple[ApiKey, str]:
        key_id, secret, created = secrets.token_hex(6), _secret(), _now()
        db.execute("INSERT INTO api_keys (id, name, scope, digest, created_at) "
                   "VALUES (?, ?, ?, ?, ?)", (key_id, name, scope.value, _digest(secret), created))
        key = ApiKey(key_id, name, scope, datetime.fromisoformat(created), None, None)
        return key, f"{TOKEN_PREFIX}{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._db() as db:
            rows = db.execute("SELECT id, name, scope, created_at, last_used_at, revoked_at, "
                              "expires_at, replaced_by FROM api_keys "
                              "ORDER BY created_at, id").fetchall()
        return [ApiKey(r[0], r[1], Scope(r[2]), datetime.fromisoformat(r[3]), _when(r[4]),
                       _when(r[5]), _when(r[6]), r[7]) for r in rows]

    def _find(self, key_id: str) -> ApiKey:
        found = [k for k in self.list() if k.id == key_id.strip()]
        if not found:
            raise UnknownKey(f"no API key with id {key_id!r} (see `relgraph apikey list`)")
        return found[0]

    def revoke(self, key_id: str) -> ApiKey:
        with self._db() as db:
            changed = db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND "
                                 "revoked_at IS NULL", (_now(), key_id.strip())).rowcount
        found = self._find(key_id)
        if not changed:
            raise UnknownKey(f"API key {key_id} was already revoked")
        return found

    def rotate(self, key_id: str, grace: timedelta) -> tuple[ApiKey, str, ApiKey]:
        """A new key of the same name and scope, and its token; the old key (returned as it is
        now) keeps working for `grace`, then stops. Refused for a revoked or expired key."""
        if grace < timedelta(0):
            raise ValueError("the grace period cannot be negative")
        old = self._find(key_id)
        now = datetime.now(UTC)
        if old.revoked_at is not None:
            raise UnknownKey(f"API key {old.id} is revoked: create a new one instead")
        if old.expires_at is not None and old.expires_at <= now:
            raise UnknownKey(f"API key {old.id} expired at {old.expires_at:%Y-%m-%d %H:%M} UTC")
        with self._db() as db:
            new, token = self._create(db, old.scope, old.name)
            until = now + grace
            if old.expires_at is not None:
                until = min(until, old.expires_at)  # rotating again never lengthens the grace
            db.execute("UPDATE api_keys SET expires_at = ?, replaced_by = ? WHERE id = ?",
                       (until.isoformat(), new.id, old.id))
        return new, token, self._find(old.id)

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked, unexpired token; None for anything else."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        key_id, secret = match.groups()
        with self._db() as db:
            row = db.execute("SELECT name, scope, digest, revoked_at, expires_at, last_used_at "
                             "FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None or row[3] is not None:
                return None
            if not hmac.compare_digest(row[2], _digest(secret)):
                return None
            now = datetime.now(UTC)
            if row[4] is not None and datetime.fromisoformat(row[4]) <= now:
                return None
            used = _when(row[5])
            if used is None or now - used >= USED_EVERY:
                db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                           (now.isoformat(), key_id))
        return Principal(key_id, row[0], Scope(row[1]))


def well_formed(token: str) -> bool:
    """Is this of a token's form at all (anything else is refused without a look-up)?"""
    return _TOKEN.match(token) is not None


class RateLimiter:
    """Token buckets by name: `rate` a second on average, `burst` at once. `rate` 0: no limit.
    At most `size` buckets are kept (the least recently used go: a full bucket again)."""

    def __init__(self, rate: float, burst: int, *, size: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.size, self.clock = rate, burst, size, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _level(self, name: str, now: float) -> float:
        tokens, at = self._buckets.get(name, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)

    def wait(self, name: str) -> float:
        """Seconds until `name` may send one more (0: now), without taking it."""
        if self.rate <= 0:
            return 0.0
        tokens = self._level(name, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, name: str) -> float:
        """Take one for `name`: 0 if there was one, else the seconds to wait (nothing taken)."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens = self._level(name, now)
        if tokens < 1:
            return (1 - tokens) / self.rate
        self._buckets[name] = (tokens - 1, now)
        self._buckets.move_to_end(name)
        if len(self._buckets) > self.size:
            self._buckets.popitem(last=False)
        return 0.0


class Authenticator:
    """Verifies tokens off the event loop, remembering answers for a few seconds (a request
    costs a dict look-up; a revocation takes effect within CACHE_SECONDS), and limits how often
    each key may ask and each address may fail."""

    def __init__(self, keys: KeyStore, *, ttl: float = CACHE_SECONDS, rate: float = 0.0,
                 burst: int = 1, failures: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = keys
        self.ttl = ttl
        self.clock = clock
        self._good: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._bad: OrderedDict[str, float] = OrderedDict()
        self.requests = RateLimiter(rate, burst, clock=clock)
        self.failures = RateLimiter(failures / 60.0, max(failures, 1), clock=clock)

    async def principal(self, token: str | None) -> Principal | None:
        if not token:
            return None
        now = self.clock()
        good = self._good.get(token)
        if good is not None and good[0] > now:
            return good[1]
        bad = self._bad.get(token)
        if bad is not None and bad > now:
            return None
        if not well_formed(token):
            return None
        principal = await asyncio.to_thread(self.keys.verify, token)
        if principal is not None:
            _remember(self._good, token, (now + self.ttl, principal), _GOOD_CACHE)
            self._bad.pop(token, None)
        else:
            self._good.pop(token, None)
            _remember(self._bad, token, now + self.ttl, _BAD_CACHE)
        return principal

    async def admit(self, token: str | None, address: str) -> Principal | None:
        """The principal of `token` (None without one), or RateLimited: this address failed
        too often, or this key asked too often; Unauthenticated is the caller's to raise."""
        if token and self.failures.wait(address):
            raise RateLimited(f"too many requests with a bad API key from {address}; wait",
                              retry_after=self.failures.wait(address))
        principal = await self.principal(token)
        if token and principal is None:
            self.failures.take(address)
            return None
        if principal is not None and (wait := self.requests.take(principal.key_id)):
            raise RateLimited(f"API key {principal.key_id} sent more than its "
                              f"{self.requests.rate:g} requests a second "
                              "(RELGRAPH_API_RATE); wait", retry_after=wait)
        return principal


def _remember(cache: OrderedDict[str, Any], token: str, value: Any, size: int) -> None:
    cache[token] = value
    cache.move_to_end(token)
    if len(cache) > size:
        cache.popitem(last=False)


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


__all__ = ["SESSION_COOKIE", "ApiKey", "Authenticator", "KeyStore", "Principal", "RateLimiter",
           "Scope", "TOKEN_PREFIX", "UnknownKey", "bearer_token", "well_formed"]
