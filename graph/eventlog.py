"""The event log: raw product events, append-only, in Parquet files under the data dir.

Millions of page views and clicks do not belong in the graph as nodes. They are kept here, one
row per event, de-duplicated by event id (a re-load adds nothing), and queried with DuckDB; the
graph gets what relationships need (READ edges computed from these rows, the meaningful
interactions as Event nodes). Both stores share this log, so both give the same answers.

Layout: `<data dir>/events/part-<utc time>-<random>.parquet`, each file one appended batch, all
with the columns of `SCHEMA`. A part appears only whole (written to a temp name, fsynced,
renamed), so a load killed half way leaves whole parts only and its re-run adds exactly what is
missing. The same layout in object storage is read by DuckDB or Spark unchanged
(`read_parquet('s3://bucket/events/part-*.parquet')`).

    >>> import tempfile, datetime as dt
    >>> log = EventLog(Path(tempfile.mkdtemp()) / "events")
    >>> e = LoggedEvent("m1", "login", dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "ada@acme.com")
    >>> log.append([e, e]).added, log.append([e]).added, log.count()
    (1, 0, 1)
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from graph.errors import GraphError

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("type", pa.string()),
    ("at", pa.timestamp("us", tz="UTC")),
    ("person", pa.string()),  # person key when known at load time
    ("anonymous_id", pa.string()),  # pre-identification visitor id ("segment:<anonymousId>")
    ("account", pa.string()),  # Customer key
    ("url", pa.string()),  # canonical URL (page views, clicks)
    ("properties", pa.string()),  # JSON object
    ("source", pa.string()),
    ("loaded_at", pa.timestamp("us", tz="UTC")),
])
_COLUMNS = [f.name for f in SCHEMA]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventLogError(GraphError):
    """The event log cannot be read or written (names the directory or file)."""


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    id: str
    type: str
    at: datetime
    person: str | None = None
    anonymous_id: str | None = None
    account: str | None = None
    url: str | None = None
    properties: str = "{}"
    source: str = ""


@dataclass(frozen=True, slots=True)
class AppendResult:
    added: int
    duplicates: int  # already in the log, or repeated within the batch


@dataclass(frozen=True, slots=True)
class ReadSpan:
    """All reads of one URL by one person in the log: what a READ relationship says."""

    person: str
    url: str
    first_at: datetime
    last_at: datetime
    count: int
    channels: tuple[str, ...]
    sources: tuple[str, ...] = ()  # the provenance of its events (which files logged them)


# Whom an event is by now: its person as folded since, else its person, else its visitor's.
_WHO = "coalesce(ip.person, e.person, ia.person)"
_IDENTITY_JOINS = """LEFT JOIN identities ip ON ip.alias = e.person
                    LEFT JOIN identities ia ON e.person IS NULL AND ia.alias = e.anonymous_id"""

# Event types that are reads, and the READ channel each one means.
READ_CHANNELS = {"page_viewed": "web", "pricing_viewed": "web", "newsletter_click": "newsletter"}


class EventLog:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _parts(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(str(p) for p in self.directory.glob("part-*.parquet"))

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")
            parts = self._parts()
            if parts:
                con.read_parquet(parts).create_view("events")
            else:
                con.register("events", SCHEMA.empty_table())
            yield con
        except duckdb.Error as exc:
            raise EventLogError(f"event log {self.directory}: {exc}") from exc
        finally:
            con.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, events: Sequence[LoggedEvent]) -> AppendResult:
        """Add the events whose ids are new, as one part file; returns how many were added."""
        if not events:
            return AppendResult(0, 0)
        now = datetime.now(UTC)
        text, moment = pa.string(), SCHEMA.field("at").type
        batch = pa.table([  # a comprehension per column: the fastest way to columns here
            pa.array([e.id for e in events], text), pa.array([e.type for e in events], text),
            pa.array([e.at for e in events], moment),
            pa.array([e.person for e in events], text),
            pa.array([e.anonymous_id for e in events], text),
            pa.array([e.account for e in events], text), pa.array([e.url for e in events], text),
            pa.array([e.properties for e in events], text),
            pa.array([e.source for e in events], text),
            pa.array([now] * len(events), moment),
        ], schema=SCHEMA)
        with self._locked(), self._connection() as con:
            for orphan in self.directory.glob(".part-*.tmp"):  # of an append that was killed
                orphan.unlink(missing_ok=True)
            con.register("batch", batch)
            con.execute("""
                CREATE TEMP TABLE fresh AS
                SELECT * FROM batch ANTI JOIN events USING (id)
                QUALIFY row_number() OVER (PARTITION BY id ORDER BY "at") = 1""")
            added = con.execute("SELECT count(*) FROM fresh").fetchall()[0][0]
            if added:
                stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
                final = self.directory / f"part-{stamp}-{secrets.token_hex(4)}.parquet"
                tmp = self.directory / f".{final.name}.tmp"
                try:
                    con.table("fresh").write_parquet(str(tmp), compression="zstd")
                    _fsync(tmp)
                    os.replace(tmp, final)
                    _fsync(self.directory)
                finally:
                    tmp.unlink(missing_ok=True)
        return AppendResult(added, len(events) - added)

    def count(self, type_: str | None = None) -> int:
        with self._connection() as con:
            if type_ is None:
                rows = con.execute("SELECT count(*) FROM events").fetchall()
            else:
                rows = con.execute("SELECT count(*) FROM events WHERE type = $t",
                                   {"t": type_}).fetchall()
        return int(rows[0][0])

    def read_urls(self) -> set[str]:
        """Every URL the log holds a read of (page views, newsletter clicks)."""
        with self._connection() as con:
            con.register("wanted", pa.table({"v": pa.array(list(READ_CHANNELS), pa.string())}))
            rows = con.execute("""SELECT DISTINCT url FROM events
                                  WHERE url IS NOT NULL AND type IN (SELECT v FROM wanted)""")
            return {r[0] for r in rows.fetchall()}

    def read_spans(self, persons: Iterable[str] = (), urls: Iterable[str] = (),
                   identities: Mapping[str, str] | None = None, *,
                   among: Iterable[str] | None = None) -> list[ReadSpan]:
        """Every (person, URL) read span that involves one of these people or one of these
        URLs. `identities` maps a key an event may have been logged under (a person key folded
        since, an anonymous visitor id) to the person it is now: each event counts for
        `identities[person]`, else its person, else `identities[anonymous_id]` (visits of an
        anonymous id nobody claimed are not anyone's reads). With `among`, only spans of those
        URLs (the pages the graph knows)."""
        people, pages = sorted(set(persons)), sorted(set(urls))
        if not people and not pages:
            return []
        only = None if among is None else sorted(set(among))
        if only == []:
            return []
        channels = pa.table({"type": list(READ_CHANNELS), "channel": list(READ_CHANNELS.values())})
        with self._connection() as con:
            self._register_identities(con, identities)
            con.register("wanted_people", pa.table({"v": pa.array(people, pa.string())}))
            con.register("wanted_urls", pa.table({"v": pa.array(pages, pa.string())}))
            con.register("only_urls", pa.table({"v": pa.array(only or [], pa.string())}))
            con.register("channels", channels)
            # Times as microseconds since the epoch: made into datetimes here about twice as fast as
            # DuckDB's own conversion of time-zoned values. Channel names hold no comma.
            rows = con.execute(f"""
                WITH reads AS (
                    SELECT {_WHO} AS who, e.url, e."at", c.channel, e.source
                    FROM events e
                    JOIN channels c USING (type)
                    {_IDENTITY_JOINS}
                    WHERE e.url IS NOT NULL
                      {"" if only is None else "AND e.url IN (SELECT v FROM only_urls)"})
                SELECT who, url, epoch_us(min("at")), epoch_us(max("at")), count(*),
                       array_to_string(list(DISTINCT channel ORDER BY channel), ','),
                       list(DISTINCT source ORDER BY source)
                FROM reads
                WHERE who IS NOT NULL
                  AND (who IN (SELECT v FROM wanted_people) OR url IN (SELECT v FROM wanted_urls))
                GROUP BY who, url
                ORDER BY who, url""").fetchall()
        return [ReadSpan(who, url, _EPOCH + timedelta(microseconds=first),
                         _EPOCH + timedelta(microseconds=last), count, tuple(kinds.split(",")),
                         tuple(s for s in sources if s))
                for who, url, first, last, count, kinds, sources in rows]

    @staticmethod
    def _register_identities(con: duckdb.DuckDBPyConnection,
                             identities: Mapping[str, str] | None) -> None:
        con.register("identities", pa.table(
            {"alias": list((identities or {}).keys()), "person": list((identities or {}).values())},
            schema=pa.schema([("alias", pa.string()), ("person", pa.string())])))

    def first_of(self, type_: str, persons: Iterable[str],
                 identities: Mapping[str, str] | None = None) -> dict[str, datetime]:
        """The earliest event of `type_` per person (e.g. each person's first login), counting
        events logged under keys `identities` maps to them (see `read_spans`)."""
        return {who: at for who, (at, _) in self.firsts(type_, persons, identities).items()}

    def firsts(self, type_: str, persons: Iterable[str],
               identities: Mapping[str, str] | None = None
               ) -> dict[str, tuple[datetime, tuple[str, ...]]]:
        """`first_of` with the provenance of each person's events of `type_` (the files that
        logged them, sorted), so a node derived from them does not depend on which load
        derived it last."""
        people = sorted(set(persons))
        if not people:
            return {}
        with self._connection() as con:
            self._register_identities(con, identities)
            con.register("wanted", pa.table({"person": people}))
            rows = con.execute(f"""
                SELECT who, min("at"), list(DISTINCT source ORDER BY source) FROM (
                    SELECT {_WHO} AS who, e."at", e.source FROM events e {_IDENTITY_JOINS}
                    WHERE e.type = $t)
                WHERE who IN (SELECT person FROM wanted)
                GROUP BY who""", {"t": type_}).fetchall()
        return {r[0]: (_utc(r[1]), tuple(s for s in r[2] if s)) for r in rows}

    def unclaimed(self, anonymous: Iterable[str], types: Iterable[str]) -> list[LoggedEvent]:
        """Events of these types that anonymous visitors did before anyone knew who they were
        (no person recorded), so that stitching them later can credit the person."""
        ids, wanted = sorted(set(anonymous)), sorted(set(types))
        if not ids or not wanted:
            return []
        with self._connection() as con:
            con.register("ids", pa.table({"v": pa.array(ids, pa.string())}))
            con.register("wanted", pa.table({"v": pa.array(wanted, pa.string())}))
            rows = con.execute(f"""
                SELECT {", ".join(f'"{c}"' for c in _COLUMNS[:-1])} FROM events
                WHERE person IS NULL AND anonymous_id IN (SELECT v FROM ids)
                  AND type IN (SELECT v FROM wanted)
                ORDER BY "at", id""").fetchall()
        return [LoggedEvent(r[0], r[1], _utc(r[2]), r[3], r[4], r[5], r[6], r[7], r[8])
                for r in rows]

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a read-only query over the `events` view (analytics, tests)."""
        with self._connection() as con:
            return con.execute(query, params or {}).fetchall()


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
