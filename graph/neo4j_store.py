"""The production store: Neo4j through the official driver.

Writes are `UNWIND $rows … MERGE` on the natural key, one transaction per batch, retried by the
driver on transient errors, so a re-run is idempotent. Reads are one Cypher round trip per
question. User values only ever travel as parameters; labels and types come from the schema via
`cypher_name`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from functools import cache, partial
from operator import itemgetter
from typing import Any, TypeVar

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    Query,
    unit_of_work,
)
from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.time import DateTime

from graph.errors import BadRow, NodeNotFound, QueryTimeout, StoreError, StoreUnavailable
from graph.merging import ObservedJob, check_folds, job_dates
from graph.migrations import migrations
from graph.model import (
    CompanyMatch,
    PersonProfile,
    ReaderMatch,
    ReaderQuery,
    Reject,
    StoreCounts,
    WriteResult,
    as_utc,
    now_utc,
)
from graph.questions import MAX_REKEYS, A, Cypher, Q, Question, rekey
from graph.questions.profile import PROFILE, ProfileQuery
from graph.questions.readers import COMPANIES, READERS
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
READ_RETRY = 30.0  # seconds a read is retried on retryable errors (the driver's default)

def _value(p: Prop) -> str:
    """A row's value of `p` in Cypher (None when the row lacks it)."""
    return f"datetime(row.dt.{p.name})" if p.type is PropType.DATETIME else f"row.props.{p.name}"


def _set_props(v: str, props: tuple[Prop, ...], *, observed: bool = False,
               present: frozenset[str] | None = None, fill: bool = False,
               set_by: bool = False, mark: bool = False) -> str:
    """Provenance, then the row's properties, then the statement's verdict. Date-times travel as
    ISO-8601 text and become DateTime values in Cypher: the driver packs Python datetimes ~100x
    slower than strings (measured: 8k vs 180k rows/s for READ rows), which would cap every load.

    `observed`: rows carry `seen` (their observed_at) and follow `graph.rows.newer_wins`: their
    values win only if no later observation is stored, else they only fill gaps; first_seen and
    last_seen keep the earliest and latest observation.

    `fill`: inferred rows, which follow `graph.rows.fill_gaps` (`_fill_props`). `set_by`: the
    label records which source set each property (`graph.rows.record_setters`), in the same
    statement. `mark`: the relationships written are inferred ones (`inferred: true`). Without
    these the statement is what it always was: ordinary labels pay nothing for them.

    Before anything is set, `sources` (none: the MERGE created it) and `differs` (whether the
    row will change a property) are read for `_VERDICT`. `differs` is spelled out per property,
    the twin of each SET, for the properties `present` in the batch's rows (None: all declared):
    each property read costs (a node's 7 read for rows carrying 3 cost ~15% more server time in
    a re-load that changes nothing), and comparing properties() before and after costs more."""
    value = {p.name: _value(p) for p in props if present is None or p.name in present}
    if fill:
        return _fill_props(v, props, value, set_by=set_by)
    sources = [
        f"SET {v}.sources = CASE WHEN sources IS NULL THEN [$source]",
        "    WHEN $source IN sources THEN sources ELSE sources + $source END,",
    ]
    if not observed:
        differs = [f"NOT coalesce({v}.{p} = {x}, {x} IS NULL)" for p, x in value.items()]
        sets = [f"WITH {v}, row, {v}.sources AS sources,"
                + (f" coalesce({v}.set_by, []) AS set_by," if set_by else ""),
                "     " + "\n     OR ".join(differs or ["false"]) + " AS differs"]
        if set_by:
            wins = {p: f"{x} IS NOT NULL" for p, x in value.items()}
            sets += _record_setters(v, props, wins, "")
        sets += [*sources, f"    {v} += row.props, {v}.loaded_at = $loaded_at"
                 + (f", {v}.inferred = true" if mark else "")
                 + (f",\n    {v}.set_by = {_SETTERS}" if set_by else "")]
        sets += [
            f"SET {v}.{p.name} = coalesce(datetime(row.dt.{p.name}), {v}.{p.name})"
            for p in props if p.type is PropType.DATETIME
        ]
        return "\n" + "\n".join(sets) + _VERDICT
    carry = ", set_by" if set_by else ""
    moved = (f"seen IS NOT NULL AND ({v}.first_seen IS NULL OR seen < {v}.first_seen"
             f" OR newer AND NOT coalesce({v}.last_seen = seen, false))")
    differs = [f"CASE WHEN newer THEN NOT coalesce({v}.{p} = {x}, {x} IS NULL)"
               f" ELSE {x} IS NOT NULL AND {v}.{p} IS NULL END" for p, x in value.items()]
    sets = [
        f"WITH {v}, row, {v}.sources AS sources, datetime(row.seen) AS seen"
        + (f", coalesce({v}.set_by, []) AS set_by" if set_by else ""),
        f"WITH {v}, row, sources, seen{carry},"
        f" seen IS NULL OR {v}.last_seen IS NULL OR seen >= {v}.last_seen AS newer",
        f"WITH {v}, row, sources, seen, newer{carry},",
        "     " + "\n     OR ".join([moved, *differs]) + " AS differs",
    ]
    if set_by:
        wins = {p: f"{x} IS NOT NULL AND (newer OR {v}.{p} IS NULL)" for p, x in value.items()}
        sets += _record_setters(v, props, wins, " seen, newer,")
    sets += [
        *sources,
        f"    {v}.loaded_at = $loaded_at,",
        f"    {v}.first_seen = CASE WHEN seen IS NOT NULL AND ({v}.first_seen IS NULL"
        f" OR seen < {v}.first_seen) THEN seen ELSE {v}.first_seen END,",
        f"    {v}.last_seen = CASE WHEN seen IS NOT NULL AND newer THEN seen"
        f" ELSE {v}.last_seen END" + (f",\n    {v}.set_by = {_SETTERS}" if set_by else ""),
    ]
    for p, x in value.items():
        sets.append(f"SET {v}.{p} = CASE WHEN newer THEN coalesce({x}, {v}.{p})"
                    f" ELSE coalesce({v}.{p}, {x}) END")
    return "\n" + "\n".join(sets) + _VERDICT


# The setters a statement computed (`now_set_by`), stored; an empty list removes the property
# (the embedded store keeps none either).
_SETTERS = "CASE WHEN size(now_set_by) > 0 THEN now_set_by END"


def _record_setters(v: str, props: tuple[Prop, ...], wins: dict[str, str],
                    carry: str) -> list[str]:
    """WITH lines computing `now_set_by` (each property's "name=source" entry, in the label's
    property order: this row's source where `wins[name]` holds, else the stored entry) and
    adding a change of it to `differs`; `set_by` holds the stored entries."""
    entries = []
    for p in props:
        old = f"head([e IN set_by WHERE e STARTS WITH '{p.name}='])"
        entries.append(f"CASE WHEN {wins[p.name]} THEN '{p.name}=' + $source ELSE {old} END"
                       if p.name in wins else old)
    listed = ",\n       ".join(entries)
    return [f"WITH {v}, row, sources,{carry} differs, set_by,",
            f"     [e IN [{listed}] WHERE e IS NOT NULL] AS now_set_by",
            f"WITH {v}, row, sources,{carry} now_set_by, differs OR now_set_by <> set_by"
            " AS differs"]


def _fill_props(v: str, props: tuple[Prop, ...], value: dict[str, str], *,
                set_by: bool) -> str:
    """`_set_props` for inferred rows (`graph.rows.fill_gaps`): a property is written where it
    is missing, or (with `set_by`) where this same source set it; nothing else changes."""
    fills = []
    for p, x in value.items():
        own = f" OR ('{p}=' + $source) IN set_by" if set_by else ""
        fills.append(f"{p}: {x} IS NOT NULL AND ({v}.{p} IS NULL{own})")
    differs = [f"fill.{p} AND NOT coalesce({v}.{p} = {x}, false)" for p, x in value.items()]
    carry = ", set_by" if set_by else ""
    sets = [f"WITH {v}, row, {v}.sources AS sources"
            + (f", coalesce({v}.set_by, []) AS set_by" if set_by else ""),
            f"WITH {v}, row, sources{carry}, {{" + ", ".join(fills) + "} AS fill",
            f"WITH {v}, row, sources{carry}, fill,",
            "     " + "\n     OR ".join(differs or ["false"]) + " AS differs"]
    if set_by:
        sets += _record_setters(v, props, {p: f"fill.{p}" for p in value}, " fill,")
    sets += [f"SET {v}.sources = CASE WHEN sources IS NULL THEN [$source]",
             "    WHEN $source IN sources THEN sources ELSE sources + $source END,",
             f"    {v}.loaded_at = $loaded_at"
             + (f",\n    {v}.set_by = {_SETTERS}" if set_by else "")]
    sets += [f"SET {v}.{p} = CASE WHEN fill.{p} THEN {x} ELSE {v}.{p} END"
             for p, x in value.items()]
    return "\n" + "\n".join(sets) + _VERDICT


# The statement's one record: rows written, and the positions (`row.i`) of those that created a
# node or relationship (it had no provenance) and of those that changed one (a property other
# than loaded_at differs, a new source included). Judged per row against what the MERGE found,
# so a statement must not name one node or relationship twice (`_runs`).
_VERDICT = """
RETURN count(*) AS written,
       collect(CASE WHEN sources IS NULL THEN row.i END) AS created,
       collect(CASE WHEN sources IS NOT NULL AND (differs OR NOT $source IN sources)
               THEN row.i END) AS changed"""


def _runs(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
          ) -> list[list[dict[str, Any]]]:
    """A batch cut, in order, before each row whose node or relationship an earlier row of its
    part already names, and where rows turn from explicit to inferred or back (each kind has
    its own statement; a load sends them in batches of their own, so that is rare). One UNWIND
    statement MERGEs all its rows before it SETs any (the plan has an Eager there), so a second
    row of the same key would be judged against the state before the first; parts run one
    after another in the batch's transaction, so each row is judged against what the rows
    before it left, as the embedded store judges it."""
    runs: list[list[dict[str, Any]]] = [[]]
    seen: set[Any] = set()
    inferred = bool(rows) and rows[0]["inferred"]
    for row in rows:
        k = key(row)
        if k in seen or row["inferred"] is not inferred:
            runs.append([])
            seen.clear()
            inferred = row["inferred"]
        seen.add(k)
        runs[-1].append(row)
    return runs


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
def node_upsert_cypher(label: str, observed: bool = False,
                       present: frozenset[str] | None = None, inferred: bool = False) -> str:
    """`present`: the properties the batch's rows carry (see `_set_props`); `inferred`: the
    rows are inferred (they fill gaps only)."""
    ntype = node_type(label)
    return (
        f"UNWIND $rows AS row\nMERGE (n:{cypher_name(label)} {{id: row.key}})"
        + _set_props("n", ntype.props, observed=observed, present=present, fill=inferred,
                     set_by=ntype.set_by)
    )


@cache
def rel_upsert_cypher(rel: str, start: str, end: str, observed: bool = False,
                      present: frozenset[str] | None = None, inferred: bool = False) -> str:
    """`inferred`: the rows are inferred, written (marked) only from a start node without an
    explicit relationship of this type (`RelType.inferable`)."""
    # Plain MATCHes keep the plan free of Eager operators (~15% faster than OPTIONAL MATCH +
    # FOREACH); rows whose endpoints are missing are found by `missing_ends_cypher` only when
    # the count written falls short (inferred rows skipped beside an explicit one fall short
    # too, and are not among them).
    name = cypher_name(rel)
    skip = (f"\nWITH a, b, row WHERE NOT EXISTS {{ MATCH (a)-[e:{name}]->()"
            " WHERE e.inferred IS NULL }" if inferred else "")
    return f"""UNWIND $rows AS row
MATCH (a:{cypher_name(start)} {{id: row.start}})
MATCH (b:{cypher_name(end)} {{id: row.end}}){skip}
MERGE (a)-[r:{name}]->(b)""" + _set_props("r", rel_type(rel).props, observed=observed,
                                          present=present, mark=inferred)


@cache
def drop_inferred_cypher(rel: str, start: str) -> str:
    """Remove the inferred `rel` relationships of the start nodes an explicit run writes."""
    return (f"UNWIND $starts AS s\nMATCH (:{cypher_name(start)} {{id: s}})"
            f"-[r:{cypher_name(rel)}]->()\nWHERE r.inferred\nDELETE r")


@cache
def missing_ends_cypher(start: str, end: str) -> str:
    return f"""UNWIND $rows AS row
OPTIONAL MATCH (a:{cypher_name(start)} {{id: row.start}})
OPTIONAL MATCH (b:{cypher_name(end)} {{id: row.end}})
WITH row, a, b WHERE a IS NULL OR b IS NULL
RETURN row.i AS i, a IS NULL AS no_start, b IS NULL AS no_end"""


def _fold_props(v: str, kept: str, folded: str, props: tuple[Prop, ...]) -> str:
    """SET clause folding map `folded` into `v` whose old properties are map `kept`: kept values
    win, unless both were observed and `folded` later; provenance united; earliest first_seen,
    latest last_seen (as graph.merging)."""
    def pick(name: str, op: str) -> str:
        a, b = f"{kept}.{name}", f"{folded}.{name}"
        return (f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL THEN {a} "
                f"WHEN {b} {op} {a} THEN {b} ELSE {a} END")

    newer = f"coalesce({folded}.last_seen > {kept}.last_seen, false)"
    sets = [f"{v}.{p.name} = CASE WHEN {newer} THEN coalesce({folded}.{p.name}, {kept}.{p.name}) "
            f"ELSE coalesce({kept}.{p.name}, {folded}.{p.name}) END" for p in props]
    sets += [
        f"{v}.sources = coalesce({kept}.sources, []) + [s IN coalesce({folded}.sources, [])"
        f" WHERE NOT s IN coalesce({kept}.sources, [])]",
        f"{v}.loaded_at = coalesce({kept}.loaded_at, {folded}.loaded_at)",
        f"{v}.first_seen = {pick('first_seen', '<')}",
        f"{v}.last_seen = {pick('last_seen', '>')}",
    ]
    return "SET " + ",\n    ".join(sets)


@cache
def merge_cypher(label: str) -> tuple[str, ...]:
    """The statements that fold node $drop into node $keep (same label), in order: move each
    relationship type the label takes part in (both directions; KNOWS kept one per pair from
    the smaller key to the larger), then fold the node's properties and delete it."""
    node = cypher_name(label)
    statements = []
    for rel in REL_TYPES.values():
        name = cypher_name(rel.type)
        moves = []
        if rel.undirected and any(label in ends for ends in rel.ends):
            moves = [("(d)-[r:{n}]-(x)", "x.id > k.id", "(k)-[n:{n}]->(x)"),
                     ("(d)-[r:{n}]-(x)", "x.id < k.id", "(x)-[n:{n}]->(k)")]
        else:
            if any(start == label for start, _ in rel.ends):
                moves.append(("(d)-[r:{n}]->(x)", "true", "(k)-[n:{n}]->(x)"))
            if any(end == label for _, end in rel.ends):
                moves.append(("(x)-[r:{n}]->(d)", "true", "(x)-[n:{n}]->(k)"))
        for pattern, condition, target in moves:
            statements.append(
                f"MATCH (k:{node} {{id: $keep}})\n"
                f"MATCH {pattern.format(n=name).replace('(d)', f'(d:{node} {{id: $drop}})')}\n"
                f"WHERE x <> k AND {condition}\n"
                f"MERGE {target.format(n=name)}\n"
                "WITH r, n, properties(r) AS moved, properties(n) AS kept\n"
                + _fold_props("n", "kept", "moved", rel.props) + "\nDELETE r")
    statements.append(
        f"MATCH (k:{node} {{id: $keep}})\n"
        f"OPTIONAL MATCH (d:{node} {{id: $drop}})\n"
        "WITH k, d, properties(k) AS kept, coalesce(properties(d), {}) AS folded\n"
        + _fold_props("k", "kept", "folded", node_type(label).props) + ",\n"
        "    k.aliases = reduce(acc = coalesce(kept.aliases, []),"
        " a IN [$drop] + coalesce(folded.aliases, []) |"
        " CASE WHEN a IN acc THEN acc ELSE acc + a END)\n"
        "WITH d WHERE d IS NOT NULL\nDETACH DELETE d")
    return tuple(statements)


_CURRENT = "(w.since IS NULL OR w.since <= $as_of) AND (w.until IS NULL OR w.until > $as_of)"

_SEED_TEAM = f"MATCH (s:Person)-[w:WORKS_AT]->(:Company {{own: true}}) WHERE {_CURRENT}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _observed(params: list[dict[str, Any]]) -> bool:
    """Whether a batch needs the observation-aware Cypher (slower: a CASE per property)."""
    return any(p["seen"] is not None for p in params)


def _present(params: list[dict[str, Any]]) -> frozenset[str]:
    """The properties a batch's rows carry (one Cypher per shape: loads have a few)."""
    return frozenset().union(*(p["props"] for p in params), *(p["dt"] for p in params))


def native(value: Any) -> Any:
    """Driver values to plain Python: neo4j DateTime to aware datetime, recursively."""
    if isinstance(value, DateTime):
        return value.to_native()
    if isinstance(value, list):
        return [native(v) for v in value]
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    return value


def _add(result: WriteResult, written: int, created: list[int], changed: list[int]) -> None:
    result.written += written
    result.created += created
    result.changed += changed


def _count(tx: ManagedTransaction, cypher: str, **params: Any) -> int:
    record = tx.run(cypher, params).single(strict=True)
    return int(record["c"])


class Neo4jStore:
    kind = StoreKind.NEO4J

    def __init__(self, uri: str, *, user: str, password: str, database: str = "neo4j",
                 batch_size: int = 10_000, query_timeout: float = 30.0,
                 migrate: bool = True) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self.query_timeout = query_timeout  # seconds a question may run on the server
        self._auth = (user, password)
        self._driver: Driver = GraphDatabase.driver(
            uri, auth=self._auth, connection_timeout=10, max_transaction_retry_time=30,
            notifications_min_severity="OFF",  # planner hints are not the user's business
        )
        # One async driver per event loop that asks (the API's, and its execution thread's:
        # api/execution.py): an async driver's connections belong to the loop that made them.
        self._async_drivers: dict[asyncio.AbstractEventLoop, AsyncDriver] = {}
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

    async def aclose(self) -> None:
        """Close the async driver of the running event loop (each loop closes its own);
        `close` the rest."""
        driver = self._async_drivers.pop(asyncio.get_running_loop(), None)
        if driver is not None:
            await driver.close()

    def _async_driver(self) -> AsyncDriver:
        loop = asyncio.get_running_loop()
        driver = self._async_drivers.get(loop)
        if driver is None:
            driver = self._async_drivers[loop] = AsyncGraphDatabase.driver(
                self.uri, auth=self._auth, connection_timeout=10, max_transaction_retry_time=30,
                notifications_min_severity="OFF")
        return driver

    # --- questions (graph/questions/) --------------------------------------------------------

    def ask(self, question: Question[Q, A], query: Q) -> A:
        """Run a question: its one Cypher round trip, under the server-side time limit. A node
        named by a key folded into another (an old e-mail) is answered as the node it is now:
        one more round trip finds the node holding the key, only when the key is no node."""
        for attempt in range(MAX_REKEYS + 1):
            try:
                return self._ask_once(question, query)
            except NodeNotFound as missing:
                now = self._holder(missing.label, missing.key) if attempt < MAX_REKEYS else None
                query = rekey(question, query, missing, now, attempt)
        raise AssertionError("unreachable")

    def _ask_once(self, question: Question[Q, A], query: Q) -> A:
        prepared = question.prepare(query)
        cypher = question.cypher(prepared)

        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [native(r.data()) for r in tx.run(cypher.text, cypher.params)]

        return question.from_records(prepared, self._run(question.name, work, write=False))

    def _holder(self, label: str, key: str) -> str | None:
        """The key of the node holding `key` among its aliases, if one does. A scan of the
        label's nodes that have aliases (a list property has no index to seek): asked only for
        a key that is no node, so a look-up of a key that exists never pays it."""
        cypher = (f"MATCH (n:{cypher_name(node_type(label).label)}) "
                  "WHERE n.aliases IS NOT NULL AND $key IN n.aliases RETURN n.id AS id LIMIT 1")
        found = self._run(f"{label} alias", lambda tx: [r["id"] for r in tx.run(cypher, key=key)],
                          write=False)
        return found[0] if found else None

    async def ask_async(self, question: Question[Q, A], query: Q) -> A:
        """The same through the driver's async API (the API's event loop never blocks)."""
        for attempt in range(MAX_REKEYS + 1):
            try:
                return await self._ask_async_once(question, query)
            except NodeNotFound as missing:
                now = await asyncio.to_thread(self._holder, missing.label, missing.key) \
                    if attempt < MAX_REKEYS else None
                query = rekey(question, query, missing, now, attempt)
        raise AssertionError("unreachable")

    async def _ask_async_once(self, question: Question[Q, A], query: Q) -> A:
        prepared = question.prepare(query)
        cypher = question.cypher(prepared)
        driver = self._async_driver()
        with self._translated(question.name):
            records = await self._read_async(driver, cypher)
        return question.from_records(prepared, records)

    async def _read_async(self, driver: AsyncDriver, cypher: Cypher) -> list[dict[str, Any]]:
        """One read as an auto-commit query, retried as a managed transaction would be.

        A question is one statement: a managed transaction adds BEGIN and COMMIT to its RUN and
        PULL, and on one worker serving look-ups that is a third of the client's CPU per
        question (docs/benchmarks.md). Errors the driver calls retryable (a lost connection, a
        transient server error) are retried with back-off for up to READ_RETRY seconds."""
        delay, deadline = 0.05, time.monotonic() + READ_RETRY
        while True:
            try:
                async with driver.session(database=self.database,
                                          default_access_mode=READ_ACCESS) as session:
                    result = await session.run(Query(cypher.text, timeout=self.query_timeout),
                                               cypher.params)
                    return [native(r) for r in await result.data()]
            except (Neo4jError, DriverError) as exc:
                if not exc.is_retryable() or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

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
        result = WriteResult()

        def to_param(index: int, raw: Mapping[str, Any]) -> dict[str, Any]:
            row = node_row(ntype, index, raw)
            plain, times = row_params(row.props)
            return {"i": index, "key": row.key, "props": plain, "dt": times,
                    "seen": _iso(row.seen), "inferred": row.inferred}

        def jobs() -> Iterator[tuple[str, Callable[[ManagedTransaction], WriteResult]]]:
            for what, params in self._prepared(rows, self.batch_size, to_param, result.rejects):
                shape = (label, _observed(params), _present(params))

                def work(tx: ManagedTransaction, p: list[dict[str, Any]] = params,
                         shape: tuple[str, bool, frozenset[str]] = shape) -> WriteResult:
                    done, loaded_at = WriteResult(), now_utc()
                    for run in _runs(p, itemgetter("key")):
                        cypher = node_upsert_cypher(*shape, inferred=run[0]["inferred"])
                        record = tx.run(cypher, rows=run, source=source,
                                        loaded_at=loaded_at).single(strict=True)
                        _add(done, record["written"], record["created"], record["changed"])
                    return done

                yield f"{label} {what}", work

        for batch in self._write_pipelined(jobs()):
            _add(result, batch.written, batch.created, batch.changed)
        result.created.sort()
        result.changed.sort()
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
        result = WriteResult()

        def to_param(index: int, raw: Mapping[str, Any]) -> dict[str, Any]:
            row = rel_row(rtype, start_type, end_type, index, raw)
            plain, times = row_params(row.props)
            return {"i": index, "start": row.start, "end": row.end, "props": plain, "dt": times,
                    "seen": _iso(row.seen), "inferred": row.inferred}

        def jobs() -> Iterator[tuple[str, Callable[[ManagedTransaction], WriteResult]]]:
            for what, params in self._prepared(rows, self.batch_size, to_param, result.rejects):
                shape = (rtype.type, start, end, _observed(params), _present(params))

                def work(tx: ManagedTransaction, p: list[dict[str, Any]] = params,
                         shape: tuple[str, str, str, bool, frozenset[str]] = shape
                         ) -> WriteResult:
                    done, loaded_at = WriteResult(), now_utc()
                    for run in _runs(p, itemgetter("start", "end")):
                        inferred = run[0]["inferred"]
                        if rtype.inferable and not inferred:  # explicit ones replace guesses
                            tx.run(drop_inferred_cypher(rtype.type, start),
                                   starts=sorted({r["start"] for r in run})).consume()
                        cypher = rel_upsert_cypher(*shape, inferred=inferred)
                        record = tx.run(cypher, rows=run, source=source,
                                        loaded_at=loaded_at).single(strict=True)
                        _add(done, record["written"], record["created"], record["changed"])
                        if record["written"] < len(run):
                            self._missing_ends(tx, run, start, end, done.rejects)
                    return done

                yield f"{rtype.type} {what}", work

        for batch in self._write_pipelined(jobs()):
            _add(result, batch.written, batch.created, batch.changed)
            result.rejects.extend(batch.rejects)
        result.rejects.sort(key=lambda r: r.row)
        result.created.sort()
        result.changed.sort()
        return result

    @staticmethod
    def _missing_ends(tx: ManagedTransaction, rows: list[dict[str, Any]], start: str, end: str,
                      rejects: list[Reject]) -> None:
        """Same transaction: exactly the rows the MERGE could not write, as rejects."""
        by_index = {q["i"]: q for q in rows}
        for r in tx.run(missing_ends_cypher(start, end), rows=rows):
            row = by_index[r["i"]]
            field, label, key = (("from", start, row["start"]) if r["no_start"]
                                 else ("to", end, row["end"]))
            rejects.append(Reject(r["i"], field, f"no {label} with key {key!r}"))

    def delete_all(self) -> None:
        # CALL … IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
        with self._translated("delete all"), \
                self._driver.session(database=self.database) as session:
            session.run(
                "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
            ).consume()

    # --- identity and observed jobs (rules in graph/merging.py) --------------------------

    def merge_nodes(self, label: str, keep: str, drop: str) -> bool:
        """Fold node `drop` into `keep` in one transaction: every relationship moved,
        properties and provenance united, `drop` recorded among keep's aliases (refused if
        another node holds `drop` or one of its aliases)."""
        ntype = node_type(label)
        keep, drop = ntype.normalise_key(keep), ntype.normalise_key(drop)
        return self._fold(label, keep, drop, check=True)

    def _fold(self, label: str, keep: str, drop: str, *, check: bool) -> bool:
        """merge_nodes on normalised keys; `check`: first look for a node holding the aliases
        (a scan of the label's nodes that have aliases: fold_aliases does it once per call)."""

        def work(tx: ManagedTransaction) -> bool:
            found = {r["id"] for r in tx.run(
                f"MATCH (n:{cypher_name(label)}) WHERE n.id IN [$keep, $drop] RETURN n.id AS id",
                keep=keep, drop=drop)}
            if keep not in found:
                raise NodeNotFound(label, keep)
            if keep == drop:
                return False
            if check:
                check_folds(label, [(drop, keep)], self._holders(tx, label, [drop]))
            for statement in merge_cypher(label):
                tx.run(statement, keep=keep, drop=drop).consume()
            return drop in found

        return self._run(f"{label} {drop!r} into {keep!r}", work, write=True)

    @staticmethod
    def _holders(tx: ManagedTransaction, label: str, folded: list[str]) -> dict[str, str]:
        """alias -> holder for these folded keys and every alias their nodes hold (and the
        holders' other aliases)."""
        cypher = f"""MATCH (h:{cypher_name(label)})
WHERE h.aliases IS NOT NULL AND (h.id IN $folded OR any(a IN h.aliases WHERE a IN $folded))
UNWIND h.aliases AS alias
RETURN alias, h.id AS holder"""
        return {r["alias"]: r["holder"] for r in tx.run(cypher, folded=folded)}

    FOLD_BATCH = 2_000  # kept nodes per alias-recording transaction in fold_aliases

    def fold_aliases(self, label: str, folds: Sequence[tuple[str, str]]) -> int:
        """Folds in order; those that only record an alias in a batch statement.

        A fold whose folded key has no node, into a kept node that is itself not folded and
        takes no folded node, changes nothing but the kept node's `aliases` (merge_nodes would
        move no relationship and unite no property). Such kept nodes get all their aliases in
        one `UNWIND` per FOLD_BATCH of them; every other fold runs first, through merge_nodes,
        in order. A folded key whose node appeared since it was checked is folded by
        merge_nodes after its batch (the statement leaves it out).

        A fold that would record an alias another node holds (graph.merging.check_folds) is
        refused before anything is written: the aliases the folds touch are read once, and the
        folds checked in order against them."""
        ntype = node_type(label)
        pairs = [(ntype.normalise_key(folded), ntype.normalise_key(keep))
                 for folded, keep in folds]
        folded_keys = {folded for folded, _ in pairs}
        check_folds(label, pairs, self._run(
            f"{label} aliases", partial(self._holders, label=label, folded=sorted(folded_keys)),
            write=False))
        kept_keys = {keep for _, keep in pairs}
        existing = self.existing(label, folded_keys)
        groups: dict[str, list[str]] = {}
        for folded, keep in pairs:
            groups.setdefault(keep, []).append(folded)
        simple = sorted(keep for keep, fs in groups.items()
                        if keep not in folded_keys
                        and not any(f in existing or f in kept_keys for f in fs))
        alone = set(simple)
        merged = sum(self._fold(label, keep, folded, check=False) for folded, keep in pairs
                     if keep not in alone)
        node = cypher_name(label)
        cypher = f"""UNWIND $rows AS row
OPTIONAL MATCH (k:{node} {{id: row.keep}})
WITH row, k, [a IN row.aliases WHERE NOT EXISTS {{ MATCH (:{node} {{id: a}}) }}] AS free
FOREACH (_ IN CASE WHEN k IS NULL THEN [] ELSE [1] END |
  SET k.aliases = reduce(acc = coalesce(k.aliases, []), a IN free |
                         CASE WHEN a IN acc THEN acc ELSE acc + a END))
RETURN row.keep AS keep, k IS NULL AS missing,
       [a IN row.aliases WHERE NOT a IN free] AS taken"""

        def record(tx: ManagedTransaction, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
            taken = []
            for r in tx.run(cypher, rows=rows):
                if r["missing"]:  # rolls the batch back, as merge_nodes refuses
                    raise NodeNotFound(label, r["keep"])
                taken += [(r["keep"], folded) for folded in r["taken"]]
            return taken

        for start in range(0, len(simple), self.FOLD_BATCH):
            rows = [{"keep": keep, "aliases": groups[keep]}
                    for keep in simple[start:start + self.FOLD_BATCH]]
            taken = self._run(f"{label} aliases", partial(record, rows=rows), write=True)
            merged += sum(self._fold(label, keep, folded, check=False) for keep, folded in taken)
        return merged

    def aliases(self, label: str) -> dict[str, str]:
        cypher = (f"MATCH (n:{cypher_name(label)}) WHERE n.aliases IS NOT NULL "
                  "UNWIND n.aliases AS alias RETURN alias, n.id AS key")
        return self._run(f"{label} aliases",
                         lambda tx: {r["alias"]: r["key"] for r in tx.run(cypher)}, write=False)

    def existing(self, label: str, keys: Iterable[str]) -> set[str]:
        cypher = (f"UNWIND $keys AS k MATCH (n:{cypher_name(label)} {{id: k}}) "
                  "RETURN n.id AS id")
        wanted = sorted(set(keys))
        return self._run(f"{label} keys",
                         lambda tx: {r["id"] for r in tx.run(cypher, keys=wanted)}, write=False)

    def companies(self) -> list[tuple[str, str | None]]:
        return self._run("companies", lambda tx: [
            (r["id"], r["name"]) for r in tx.run("MATCH (c:Company) RETURN c.id AS id, "
                                                  "c.name AS name")], write=False)

    def people_at(self, companies: Iterable[str]) -> list[tuple[str, str, str | None]]:
        cypher = """UNWIND $companies AS cid
MATCH (p:Person)-[:WORKS_AT]->(c:Company {id: cid})
RETURN DISTINCT c.id AS company, p.id AS person, p.name AS name"""
        wanted = sorted(set(companies))
        return sorted(self._run("people at companies", lambda tx: [
            (r["company"], r["person"], r["name"]) for r in tx.run(cypher, companies=wanted)],
            write=False))

    def team(self, *, as_of: datetime | None = None) -> list[str]:
        cypher = _SEED_TEAM + "\nRETURN DISTINCT s.id AS id"
        moment = as_utc(as_of)
        return sorted(self._run("team", lambda tx: [r["id"] for r in tx.run(cypher,
                                                                            as_of=moment)],
                                write=False))

    def reconcile_jobs(self, persons: Iterable[str]) -> int:
        """Re-date the observed jobs of these people; returns how many jobs changed."""
        read = """UNWIND $persons AS pid
MATCH (p:Person {id: pid})-[w:WORKS_AT]->(c:Company)
WHERE w.first_seen IS NOT NULL
RETURN p.id AS person, c.id AS company, w.first_seen AS first, w.last_seen AS last,
       w.since AS since, w.until AS until"""
        write = """UNWIND $rows AS row
MATCH (:Person {id: row.person})-[w:WORKS_AT]->(:Company {id: row.company})
SET w.since = datetime(row.since), w.until = datetime(row.until)"""

        def work(tx: ManagedTransaction, chunk: list[str]) -> int:
            jobs: dict[str, list[dict[str, Any]]] = {}
            for r in tx.run(read, persons=chunk):
                jobs.setdefault(r["person"], []).append(native(dict(r)))
            changes = []
            for person, rows in jobs.items():
                dates = job_dates(ObservedJob(j["company"], j["first"], j["last"]) for j in rows)
                for j in rows:
                    since, until = dates[j["company"]]
                    if (j["since"], j["until"]) != (since, until):
                        changes.append({"person": person, "company": j["company"],
                                        "since": _iso(since), "until": _iso(until)})
            if changes:
                tx.run(write, rows=changes).consume()
            return len(changes)

        people = sorted(set(persons))
        changed = 0
        for i in range(0, len(people), self.batch_size):
            chunk = people[i:i + self.batch_size]
            changed += self._run("reconcile jobs", partial(work, chunk=chunk), write=True)
        return changed

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

    def readers(self, query: ReaderQuery) -> list[ReaderMatch]:
        return list(self.ask(READERS, query).items)

    def reader_companies(self, query: ReaderQuery) -> list[CompanyMatch]:
        return list(self.ask(COMPANIES, query).items)

    def person_profile(self, person_id: str, *, as_of: datetime | None = None) -> PersonProfile:
        return self.ask(PROFILE, ProfileQuery(person_id, as_of))
