"""The `GraphStore` protocol: domain-level writes and questions, never raw query strings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from graph.errors import StoreUnavailable
from graph.model import (
    CompanyMatch,
    PersonProfile,
    ReaderMatch,
    ReaderQuery,
    StoreCounts,
    WriteResult,
)
from graph.questions import A, Q, Question
from graph.settings import Settings, StoreKind, get_settings


@runtime_checkable
class GraphStore(Protocol):
    kind: StoreKind

    def migrate(self) -> list[str]:
        """Create what the questions need (constraints, indexes); idempotent. Names what it did."""
        ...

    def upsert_nodes(
        self, label: str, rows: Iterable[Mapping[str, Any]], *, source: str
    ) -> WriteResult:
        """Insert or update nodes by natural key, in batches; bad rows are rejected, not written."""
        ...

    def upsert_relationships(
        self,
        rel_type: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        source: str,
        from_label: str | None = None,
        to_label: str | None = None,
    ) -> WriteResult:
        """Insert or update relationships between existing nodes; one per (type, from, to)."""
        ...

    def checkpoint(self) -> None:
        """Make everything written so far durable and visible to other processes."""
        ...

    def counts(self) -> StoreCounts: ...

    # Identity and observed jobs (rules in graph/merging.py) --------------------------------

    def merge_nodes(self, label: str, keep: str, drop: str) -> bool:
        """Fold node `drop` into `keep` (relationships moved, properties and provenance united,
        `drop` kept among keep's aliases). True if a `drop` node existed; `keep` must exist."""
        ...

    def fold_aliases(self, label: str, folds: Sequence[tuple[str, str]]) -> int:
        """`merge_nodes(label, keep, folded)` for each (folded, keep) pair, in order, in batches
        (a first CRM load learns an alias per contact: one transaction each would be most of
        the load). Returns how many folded nodes existed. Each batch is atomic."""
        ...

    def aliases(self, label: str) -> dict[str, str]:
        """Every key folded into a node of `label` -> the key of that node."""
        ...

    def existing(self, label: str, keys: Iterable[str]) -> set[str]:
        """Which of these normalised keys are nodes of `label`."""
        ...

    def companies(self) -> list[tuple[str, str | None]]:
        """(key, name) of every company."""
        ...

    def people_at(self, companies: Iterable[str]) -> list[tuple[str, str, str | None]]:
        """(company, person, name) of everyone who works or worked at these companies."""
        ...

    def team(self, *, as_of: datetime | None = None) -> list[str]:
        """Keys of the people working at a company flagged own at `as_of` (default now)."""
        ...

    def reconcile_jobs(self, persons: Iterable[str]) -> int:
        """Re-date these people's observed jobs (since/until from first/last_seen)."""
        ...

    def delete_all(self) -> None: ...

    def ask(self, question: Question[Q, A], query: Q) -> A:
        """Run a question of graph/questions/ (one Cypher round trip, or a walk of the
        embedded graph)."""
        ...

    async def ask_async(self, question: Question[Q, A], query: Q) -> A:
        """The same without blocking the event loop."""
        ...

    def readers(self, query: ReaderQuery) -> list[ReaderMatch]:
        """Question a: matching connections with their evidence and current employers."""
        ...

    def reader_companies(self, query: ReaderQuery) -> list[CompanyMatch]:
        """Question b: companies ranked by how many matching people work there at as_of."""
        ...

    def person_profile(self, person_id: str, *, as_of: datetime | None = None) -> PersonProfile:
        """Question c: employers, connections, topics read and concerns raised, as of a moment."""
        ...

    def close(self) -> None: ...

    async def aclose(self) -> None:
        """Release what the async path holds (call from the event loop that used it)."""
        ...


def open_store(settings: Settings | None = None) -> GraphStore:
    """The configured store. Backends are imported lazily: the embedded one needs no server."""
    settings = settings or get_settings()
    if settings.store is StoreKind.MEMORY:
        from graph.memory_store import MemoryStore

        return MemoryStore(settings.graph_path, batch_size=settings.batch_size,
                           synchronous=settings.sqlite_synchronous)
    if settings.store is StoreKind.NEO4J:
        if settings.neo4j_password is None:
            raise StoreUnavailable(
                "RELGRAPH_STORE=neo4j needs NEO4J_PASSWORD (and NEO4J_URI, default "
                f"{settings.neo4j_uri}); see README 'A real Neo4j'"
            )
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore(
            settings.neo4j_uri,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
            batch_size=settings.batch_size,
            query_timeout=settings.query_timeout,
        )
    raise StoreUnavailable(f"unknown store kind {settings.store!r}")
