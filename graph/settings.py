"""Settings from the environment or `.env`, read once through `get_settings()` (tests clear it)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

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
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", validation_alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr | None = Field(None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", validation_alias="NEO4J_DATABASE")

    @property
    def snapshot_path(self) -> Path:
        return self.data_dir / "graph.snapshot"

    @property
    def rejects_dir(self) -> Path:
        return self.data_dir / "rejects"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
