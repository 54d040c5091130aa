"""The production store: Neo4j through the official driver.

Writes are `UNWIND $rows … MERGE` on the natural key, one transaction per batch, retried by the
driver on transient errors, so a re-run is idempotent. Reads are one Cypher round trip per
question. User values only ever travel as parameters; labels and types come from the schema via
`cypher_name`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction, unit_of_work
from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.time import DateTime

from graph.errors import BadRow, NodeNotFound, QueryTimeout, StoreError, StoreUnavailable
from graph.migrations import migrations
from graph.model import (
    SAMPLE_PEOPLE,
    CompanyMatch,
    ConcernEvidence,
    Employment,
    PersonProfile,
    ReaderMatch,
    ReaderQuery,
    ReadEvidence,
    Reject,
    StoreCounts,
    WriteResult,
    as_utc,
    build_profile,
    now_utc,
    person_key,
    sort_match,
)
from graph.rows import batches, node_row, rel_row
from graph.schema import (
    NODE_TYPES,
    REL_TYPES,
    Prop,
    PropType,
    cypher_name,
    node_type,
    rel_ends,
    rel_type,
)
from graph.settings import StoreKind

T = TypeVar("T")

def _set_props(v: str, props: tuple[Prop, ...]) -> str:
    """Provenance, then the row's properties. Date-times travel as ISO-8601 text and become
    DateTime values in Cypher: the driver packs Python datetimes ~100x slower than strings
    (measured: 8k vs 180k rows/s for READ rows), which would cap every load."""
    sets = [
        f"ON CREATE SET {v}.sources = [$source]",
        f"ON MATCH SET {v}.sources = CASE WHEN $source IN coalesce({v}.sources, [])",
        f"                           THEN {v}.sources ELSE coalesce({v}.sources, []) + $source END",
        f"SET {v} += row.props, {v}.loaded_at = $loaded_at",
    ]
    sets += [
        f"SET {v}.{p.name} = coalesce(datetime(row.dt.{p.name}), {v}.{p.name})"
        for p in props if p.type is PropType.DATETIME
    ]
    return "\n" + "\n".join(sets)


def row_params(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split validated properties into plain values and ISO-8601 date-times (see `_set_props`)."""
    plain: dict[str, Any] = {}
    times: dict[str, str] = {}
    for name, value in props.items():
        if isinstance(value, datetime):
            times[name] = value.isoformat()
        else:
            plain[name] = value
    return plain, times


@cache
def node_upsert_cypher(label: str) -> str:
    return (
        f"UNWIND $rows AS row\nMERGE (n:{cypher_name(label)} {{id: row.key}})"
        + _set_props("n", node_type(label).props)
    )


@cache
def rel_upsert_cypher(rel: str, start: str, end: str) -> str:
    # Plain MATCHes keep the plan free of Eager operators (~15% faster than OPTIONAL MATCH +
    # FOREACH); rows whose endpoints are missing are found by `missing_ends_cypher` only when
    # the count written falls short.
    return f"""UNWIND $rows AS row
MATCH (a:{cypher_name(start)} {{id: row.start}})
MATCH (b:{cypher_name(end)} {{id: row.end}})
MERGE (a)-[r:{cypher_name(rel)}]->(b)""" + _set_props("r", rel_type(rel).props) + """
RETURN count(*) AS written"""


@cache
def missing_ends_cypher(start: str, end: str) -> str:
    return f"""UNWIND $rows AS row
OPTIONAL MATCH (a:{cypher_name(start)} {{id: row.start}})
OPTIONAL MATCH (b:{cypher_name(end)} {{id: row.end}})
WITH row, a, b WHERE a IS NULL OR b IS NULL
RETURN row.i AS i, a IS NULL AS no_start, b IS NULL AS no_end"""


_CURRENT = "(w.since IS NULL OR w.since <= $as_of) AND (w.until IS NULL OR w.until > $as_of)"

_SEED_PERSON = "MATCH (s:Person {id: $person})"
_SEED_TEAM = f"MATCH (s:Person)-[w:WORKS_AT]->(:Company {{own: true}}) WHERE {_CURRENT}"

_CANDIDATES = """
WITH collect(DISTINCT s) AS seeds
UNWIND seeds AS s
MATCH (s)-[:KNOWS]-(p:Person)
WHERE NOT p IN seeds
WITH p, collect(DISTINCT s.id) AS via"""

_READ_MATCH = """MATCH (p)-[rd:READ]->(c:Content)-[:ABOUT]->(:Topic {id: $read_topic})
WHERE rd.first_at <= $as_of AND rd.last_at >= $read_since
  AND ($content_kind IS NULL OR c.kind = $content_kind)"""

_CONCERN_MATCH = """MATCH (p)-[:RAISED]->(k:Concern)-[:ABOUT]->(:Topic {id: $concern_topic})
WHERE $concern_since <= k.at <= $as_of"""

READERS_TAIL = f"""
{_READ_MATCH}
WITH p, via, collect({{content_id: c.id, title: c.title, kind: c.kind, first_at: rd.first_at,
                      last_at: rd.last_at, count: coalesce(rd.count, 1)}}) AS reads
{_CONCERN_MATCH}
WITH p, via, reads, max(k.at) AS latest,
     collect({{concern_id: k.id, text: k.text, channel: k.channel, at: k.at}}) AS concerns
ORDER BY latest DESC, p.id
SKIP $offset LIMIT $limit
RETURN p.id AS person_id, p.name AS name, via, reads, concerns,
       [(p)-[w:WORKS_AT]->(co:Company) WHERE {_CURRENT} |
        {{company_id: co.id, name: co.name, title: w.title, since: w.since, until: w.until}}
       ] AS companies"""

COMPANIES_TAIL = f"""
WHERE EXISTS {{ {_READ_MATCH} }}
  AND EXISTS {{ {_CONCERN_MATCH} }}
MATCH (p)-[w:WORKS_AT]->(co:Company)
WHERE {_CURRENT}
WITH co, p ORDER BY p.id
WITH co, collect(DISTINCT p.id) AS ids
WITH co, ids, size(ids) AS people
ORDER BY people DESC, co.id
SKIP $offset LIMIT $limit
RETURN co.id AS company_id, co.name AS name, people, ids[..$sample] AS person_ids"""

PROFILE = """
MATCH (p:Person {id: $id})
RETURN p {.*} AS person,
  [(p)-[w:WORKS_AT]->(co:Company) |
   {company_id: co.id, name: co.name, title: w.title, since: w.since, until: w.until}] AS jobs,
  COUNT { (p)-[:KNOWS]-(:Person) } AS connections,
  [(p)-[r:READ]->(c:Content)-[:ABOUT]->(t:Topic) |
   [t.id, t.name, c.id, coalesce(r.count, 1), r.first_at, r.last_at]] AS reads,
  [(p)-[:RAISED]->(k:Concern) |
   {concern_id: k.id, text: k.text, channel: k.channel, at: k.at,
    topics: [(k)-[:ABOUT]->(t:Topic) | t.id]}] AS concerns"""
# KNOWS is stored once per pair (see RelType.undirected), so counting relationships counts people.


def reader_cypher(query: ReaderQuery, tail: str) -> str:
    """The whole question: a fixed seed clause chosen by shape, never by user text."""
    return (_SEED_PERSON if query.person is not None else _SEED_TEAM) + _CANDIDATES + tail


def reader_params(q: ReaderQuery) -> dict[str, Any]:
    return {
        "person": q.person, "as_of": q.as_of, "read_topic": q.read_topic,
        "concern_topic": q.concern_topic, "read_since": q.read_since,
        "concern_since": q.concern_since, "content_kind": q.content_kind,
        "offset": q.offset, "limit": q.limit, "sample": SAMPLE_PEOPLE,
    }


def native(value: Any) -> Any:
    """Driver values to plain Python: neo4j DateTime to aware datetime, recursively."""
    if isinstance(value, DateTime):
        return value.to_native()
    if isinstance(value, list):
        return [native(v) for v in value]
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    return value


def _count(tx: ManagedTransaction, cypher: str, **params: Any) -> int:
    record = tx.run(cypher, params).single(strict=True)
    return int(record["c"])


def _employment(d: dict[str, Any]) -> Employment:
    return Employment(d["company_id"], d["name"], d["title"], native(d["since"]),
                      native(d["until"]))


class Neo4jStore:
    kind = StoreKind.NEO4J

    def __init__(self, uri: str, *, user: str, password: str, database: str = "neo4j",
                 batch_size: int = 10_000, query_timeout: float = 30.0,
                 migrate: bool = True) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self.query_timeout = query_timeout  # seconds a question may run on the server
        self._driver: Driver = GraphDatabase.driver(
            uri, auth=(user, password), connection_timeout=10, max_transaction_retry_time=30
        )
        try:
            self._driver.verify_connectivity()
        except AuthError as exc:
            self._driver.close()
            raise StoreUnavailable(
                f"Neo4j at {uri} refused the credentials: {exc.message}"
            ) from exc
        except (ServiceUnavailable, OSError) as exc:
            self._driver.close()
            raise StoreUnavailable(f"Neo4j at {uri} cannot be reached: {exc}") from exc
        if migrate:
            self.migrate()

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Driver errors as the store's own: unavailable, timed out, or refused (naming `what`)."""
        try:
            yield
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} became unavailable: {exc}") from exc
        except Neo4jError as exc:
            if "TransactionTimedOut" in (exc.code or ""):
                raise QueryTimeout(what, self.query_timeout) from exc
            raise StoreError(what, f"{exc.code}: {exc.message}") from exc
        except DriverError as exc:
            raise StoreError(what, str(exc)) from exc

    def _run(self, what: str, work: Callable[[ManagedTransaction], T], *, write: bool) -> T:
        with self._translated(what), self._driver.session(database=self.database) as session:
            if write:
                return session.execute_write(work)
            return session.execute_read(unit_of_work(timeout=self.query_timeout)(work))

    def migrate(self) -> list[str]:
        with self._translated("migrations"), \
                self._driver.session(database=self.database) as session:
            existing = {
                r["name"] for r in session.run("SHOW CONSTRAINTS YIELD name")
            } | {r["name"] for r in session.run("SHOW INDEXES YIELD name")}
            created = []
            for step in migrations():
                if step.name not in existing:
                    session.run(step.cypher).consume()
                    created.append(step.name)
            session.run("CALL db.awaitIndexes(300)").consume()
        return created

    def checkpoint(self) -> None:
        """Each batch is committed in its own transaction: once an upsert returns it is durable."""

    def close(self) -> None:
        self._driver.close()

    # --- writes -----------------------------------------------------------------------------

    def _write_pipelined(
        self, jobs: Iterator[tuple[str, Callable[[ManagedTransaction], T]]]
    ) -> Iterator[T]:
        """Run each job's transaction on one writer thread while the next job is prepared.

        Validation is Python CPU and the write waits on the server, so on two cores overlapping
        them is worth ~10% (see docs/benchmarks.md). At most one batch is in flight and none
        waits behind it: the next job is prepared while the current one commits, but it is sent
        only once the current one has committed. So batches commit one at a time and in order;
        if a batch fails, nothing after it is sent; if the input fails while the next batch is
        being prepared, the batch in flight still commits whole. Either way a failure leaves
        whole batches only, and exactly the batches before the failure."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="relgraph-neo4j") as writer:
            in_flight: Future[T] | None = None
            for what, work in jobs:  # preparing this job overlaps the write in flight
                if in_flight is not None:
                    yield in_flight.result()  # a failed batch raises here: `work` is never sent
                in_flight = writer.submit(self._run, what, work, write=True)
            if in_flight is not None:
                yield in_flight.result()

    @staticmethod
    def _prepared(
        rows: Iterable[Mapping[str, Any]],
        batch_size: int,
        to_param: Callable[[int, Mapping[str, Any]], dict[str, Any]],
        rejects: list[Reject],
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Validated parameter batches, lazily; bad rows go to `rejects` and are never sent."""
        for chunk in batches(rows, batch_size):
            params = []
            for index, raw in chunk:
                try:
                    params.append(to_param(index, raw))
                except BadRow as exc:
                    rejects.append(Reject.of(exc))
            if params:
                yield f"rows {chunk[0][0]}..{chunk[-1][0]}", params

    def upsert_nodes(
        self, label: str, rows: Iterable[Mapping[str, Any]], *, source: str
    ) -> WriteResult:
        ntype = node_type(label)
        cypher = node_upsert_cypher(label)
        result = WriteResult()

        def to_param(index: int, raw: Mapping[str, Any]) -> dict[str, Any]:
            row = node_row(ntype, index, raw)
            plain, times = row_params(row.props)
            return {"key": row.key, "props": plain, "dt": times}

        def jobs() -> Iterator[tuple[str, Callable[[ManagedTransaction], int]]]:
            for what, params in self._prepared(rows, self.batch_size, to_param, result.rejects):
                def work(tx: ManagedTransaction, p: list[dict[str, Any]] = params) -> int:
                    tx.run(cypher, rows=p, source=source, loaded_at=now_utc()).consume()
                    return len(p)

                yield f"{label} {what}", work

        for written in self._write_pipelined(jobs()):
            result.written += written
        return result

    def upsert_relationships(
        self,
        rel_type_name: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        source: str,
        from_label: str | None = None,
        to_label: str | None = None,
    ) -> WriteResult:
        rtype = rel_type(rel_type_name)
        start, end = rel_ends(rtype, from_label, to_label)
        start_type, end_type = node_type(start), node_type(end)
        cypher = rel_upsert_cypher(rtype.type, start, end)
        result = WriteResult()

        def to_param(index: int, raw: Mapping[str, Any]) -> dict[str, Any]:
            row = rel_row(rtype, start_type, end_type, index, raw)
            plain, times = row_params(row.props)
            return {"i": index, "start": row.start, "end": row.end, "props": plain, "dt": times}

        def jobs() -> Iterator[tuple[str, Callable[[ManagedTransaction], WriteResult]]]:
            for what, params in self._prepared(rows, self.batch_size, to_param, result.rejects):
                def work(tx: ManagedTransaction, p: list[dict[str, Any]] = params) -> WriteResult:
                    done = WriteResult(written=len(p))
                    written = tx.run(cypher, rows=p, source=source, loaded_at=now_utc()).single()
                    if written is not None and written["written"] == len(p):
                        return done
                    # Same transaction: exactly the rows the MERGE could not write.
                    by_index = {q["i"]: q for q in p}
                    for r in tx.run(missing_ends_cypher(start, end), rows=p):
                        row = by_index[r["i"]]
                        field, label, key = (("from", start, row["start"]) if r["no_start"]
                                             else ("to", end, row["end"]))
                        done.rejects.append(Reject(r["i"], field, f"no {label} with key {key!r}"))
                        done.written -= 1
                    return done

                yield f"{rtype.type} {what}", work

        for batch in self._write_pipelined(jobs()):
            result.written += batch.written
            result.rejects.extend(batch.rejects)
        result.rejects.sort(key=lambda r: r.row)
        return result

    def delete_all(self) -> None:
        # CALL … IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
        with self._translated("delete all"), \
                self._driver.session(database=self.database) as session:
            session.run(
                "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
            ).consume()

    # --- reads ------------------------------------------------------------------------------

    def counts(self) -> StoreCounts:
        def work(tx: ManagedTransaction) -> StoreCounts:
            nodes = {
                label: _count(tx, f"MATCH (n:{cypher_name(label)}) RETURN count(n) AS c")
                for label in NODE_TYPES
            }
            rels = {
                rel: _count(tx, f"MATCH ()-[r:{cypher_name(rel)}]->() RETURN count(r) AS c")
                for rel in REL_TYPES
            }
            return StoreCounts(nodes, {k: v for k, v in sorted(rels.items()) if v})

        return self._run("counts", work, write=False)

    def _require_person(self, key: str) -> None:
        found = self._run(
            f"Person {key!r}",
            lambda tx: _count(tx, "MATCH (p:Person {id: $id}) RETURN count(p) AS c", id=key),
            write=False,
        )
        if not found:
            raise NodeNotFound("Person", key)

    def readers(self, query: ReaderQuery) -> list[ReaderMatch]:
        q = query.resolved()
        cypher = reader_cypher(q, READERS_TAIL)
        records = self._run(
            "readers", lambda tx: list(tx.run(cypher, reader_params(q))), write=False
        )
        if not records and q.person is not None:
            self._require_person(q.person)
        return [
            sort_match(ReaderMatch(
                person_id=r["person_id"], name=r["name"], via=tuple(r["via"]),
                companies=tuple(_employment(c) for c in r["companies"]),
                reads=tuple(
                    ReadEvidence(d["content_id"], d["title"], d["kind"], native(d["first_at"]),
                                 native(d["last_at"]), d["count"])
                    for d in r["reads"]
                ),
                concerns=tuple(
                    ConcernEvidence(d["concern_id"], d["text"], d["channel"], native(d["at"]))
                    for d in r["concerns"]
                ),
            ))
            for r in records
        ]

    def reader_companies(self, query: ReaderQuery) -> list[CompanyMatch]:
        q = query.resolved()
        cypher = reader_cypher(q, COMPANIES_TAIL)
        records = self._run(
            "reader companies", lambda tx: list(tx.run(cypher, reader_params(q))), write=False
        )
        if not records and q.person is not None:
            self._require_person(q.person)
        return [
            CompanyMatch(r["company_id"], r["name"], r["people"], tuple(r["person_ids"]))
            for r in records
        ]

    def person_profile(self, person_id: str, *, as_of: datetime | None = None) -> PersonProfile:
        moment = as_utc(as_of)
        key = person_key(person_id)
        record = self._run(
            f"Person {key!r}", lambda tx: tx.run(PROFILE, id=key).single(), write=False
        )
        if record is None:
            raise NodeNotFound("Person", key)
        return build_profile(
            native(record["person"]),
            [_employment(j) for j in record["jobs"]],
            record["connections"],
            [tuple(native(x) for x in r) for r in record["reads"]],  # type: ignore[misc]
            [
                ConcernEvidence(c["concern_id"], c["text"], c["channel"], native(c["at"]),
                                tuple(sorted(c["topics"])))
                for c in record["concerns"]
            ],
            moment,
        )
