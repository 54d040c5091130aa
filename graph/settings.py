"""Settings from the environment or `.env`, read once through `get_settings()` (tests clear it)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreKind(StrEnum):
    MEMORY = "memory"
    NEO4J = "neo4j"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    store: StoreKind = Field(StoreKind.MEMORY, validation_alias="RELGRAPH_STORE")
    data_dir: Path = Field(Path("data"), validation_alias="RELGRAPH_DATA_DIR")
    batch_size: int = Field(10_000, ge=1, le=100_000, validation_alias="RELGRAPH_BATCH_SIZE")
    query_timeout: float = Field(30.0, gt=0, le=3600, validation_alias="RELGRAPH_QUERY_TIMEOUT")
    taxonomy: Path | None = Field(None, validation_alias="RELGRAPH_TAXONOMY")
    roundup_templates: Path | None = Field(None, validation_alias="RELGRAPH_ROUNDUP_TEMPLATES")
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", validation_alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr | None = Field(None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", validation_alias="NEO4J_DATABASE")

    # The GraphQL/REST service (`relgraph serve`, api/). Limits keep one request from taking
    # the server down; see README "The API's settings".
    api_dev: bool = Field(False, validation_alias="RELGRAPH_API_DEV")  # GraphiQL without a key
    api_host: str = Field("127.0.0.1", validation_alias="RELGRAPH_API_HOST")
    api_port: int = Field(8000, ge=1, le=65535, validation_alias="RELGRAPH_API_PORT")
    api_max_depth: int = Field(12, ge=2, le=100, validation_alias="RELGRAPH_API_MAX_DEPTH")
    api_max_aliases: int = Field(20, ge=1, le=1000, validation_alias="RELGRAPH_API_MAX_ALIASES")
    api_max_tokens: int = Field(
        2000, ge=50, le=100_000, validation_alias="RELGRAPH_API_MAX_TOKENS")
    api_timeout: float = Field(30.0, gt=0, le=3600, validation_alias="RELGRAPH_API_TIMEOUT")
    api_max_body: int = Field(
        4 << 20, ge=1024, le=1 << 30, validation_alias="RELGRAPH_API_MAX_BODY")
    api_page_size: int = Field(100, ge=1, le=1000, validation_alias="RELGRAPH_API_PAGE_SIZE")
    api_feed_poll: float = Field(0.5, gt=0, le=60, validation_alias="RELGRAPH_FEED_POLL")
    # The most objects one query may ask for, counted before it runs (api/cost.py).
    api_max_cost: int = Field(
        50_000, ge=100, le=10_000_000, validation_alias="RELGRAPH_API_MAX_COST")
    # Requests per second each key may send on average, and how many at once above that
    # (a token bucket); 0 turns the limit off. Failed authentications are limited per client
    # address to `api_auth_failures` a minute.
    api_rate: float = Field(50.0, ge=0, le=1_000_000, validation_alias="RELGRAPH_API_RATE")
    api_burst: int = Field(200, ge=1, le=1_000_000, validation_alias="RELGRAPH_API_BURST")
    api_auth_failures: int = Field(
        30, ge=1, le=1_000_000, validation_alias="RELGRAPH_API_AUTH_FAILURES")
    # __schema and __type for every key (default: admin keys only; development mode opens it).
    api_introspection: bool = Field(False, validation_alias="RELGRAPH_API_INTROSPECTION")
    # Web pages on these origins (comma-separated, e.g. "https://crm.example.com") may call the
    # API from the browser; none by default.
    api_cors_origins: str = Field("", validation_alias="RELGRAPH_API_CORS_ORIGINS")
    log_level: str = Field("info", validation_alias="RELGRAPH_LOG_LEVEL")
    # The embedded store's SQLite commits (graph/durable.py): NORMAL survives a killed process,
    # and a power loss once checkpointed; FULL syncs every commit (an fsync per write batch).
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL", validation_alias="RELGRAPH_SQLITE_SYNCHRONOUS")
    # The analytics (analytics/): a TOML over the shipped analytics/default.toml; where the event
    # log is when it is not the data dir's (a Spark cluster reading object storage).
    analytics_config: Path | None = Field(None, validation_alias="RELGRAPH_ANALYTICS_CONFIG")
    events_uri: str | None = Field(None, validation_alias="RELGRAPH_EVENTS_URI")

    # `relgraph roundup fetch` (curation/fetch.py): caps on each feed, and the hosts its guard
    # against server-side request forgery lets through although they are not public
    # (comma-separated host names, IP addresses or CIDR ranges, e.g. "feeds.intranet,10.1.0.0/16";
    # none by default: loopback, private, link-local … addresses are refused).
    feeds_allow_hosts: str = Field("", validation_alias="RELGRAPH_FEEDS_ALLOW_HOSTS")
    feeds_max_bytes: int = Field(
        16 << 20, ge=1024, le=1 << 30, validation_alias="RELGRAPH_FEEDS_MAX_BYTES")
    feeds_max_redirects: int = Field(
        8, ge=0, le=50, validation_alias="RELGRAPH_FEEDS_MAX_REDIRECTS")
    feeds_timeout: float = Field(60.0, gt=0, le=3600, validation_alias="RELGRAPH_FEEDS_TIMEOUT")

    @property
    def graph_path(self) -> Path:
        """The embedded store's durable graph (SQLite)."""
        return self.data_dir / "graph.sqlite"

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.api_cors_origins.split(",") if o.strip()]

    @property
    def feeds_allow_list(self) -> list[str]:
        """RELGRAPH_FEEDS_ALLOW_HOSTS as entries (checked by curation.fetch.AllowList.parse)."""
        return [h.strip() for h in self.feeds_allow_hosts.split(",") if h.strip()]

    @property
    def rejects_dir(self) -> Path:
        return self.data_dir / "rejects"

    @property
    def api_keys_path(self) -> Path:
        return self.data_dir / "apikeys.sqlite"

    @property
    def feed_dir(self) -> Path:
        """The outbox of meaningful interactions that loads and mutations append to."""
        return self.data_dir / "feed"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
