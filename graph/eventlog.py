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

Compaction (`compact`, `relgraph maintenance compact`, and after an append once the log holds
more than `AUTO_COMPACT_PARTS` small parts): thousands of small loads leave thousands of parts,
and every query pays for each file. The small parts (under `SMALL_PART` bytes) are rewritten as
one, sorted by time, each event once; the big ones stay as they are. Readers never see an event
twice or miss one: the log's own reads (and the analytics' DuckDB reads) hold a shared lock on
`.readers.lock` while they read, and compaction swaps the parts (the new one in, the old ones
out) under the exclusive lock, which takes a moment, not the rewrite. A crash half way through
the swap is finished by the next append or compaction: `compacting.json`, written before the
new part appears, names the parts it replaces, and while it exists and its new part does,
readers leave those parts out. Appends wait for a compaction (one writer at a time).

    >>> import tempfile, datetime as dt
    >>> log = EventLog(Path(tempfile.mkdtemp()) / "events")
    >>> e = LoggedEvent("m1", "login", dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "ada@acme.com")
    >>> log.append([e, e]).added, log.append([e]).added, log.count()
    (1, 0, 1)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
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


SMALL_PART = 8 << 20  # bytes: parts smaller than this are merged by a compaction
AUTO_COMPACT_PARTS = 256  # small parts past which an append compacts them
JOURNAL = "compacting.json"


class EventLogBusy(EventLogError):
    """Compaction waited too long for readers to finish (try again, or later)."""


@dataclass(frozen=True, slots=True)
class Compacted:
    parts_before: int
    parts_after: int
    merged: int  # small parts rewritten as one (0: nothing to do)
    events: int  # events in the merged parts
    seconds: float


class EventLog:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _parts(self) -> list[str]:
        """The live parts: every part file, but those a finished compaction replaced and a
        crash left behind (see the module doc)."""
        if not self.directory.is_dir():
            return []
        found = sorted(str(p) for p in self.directory.glob("part-*.parquet"))
        replaced = self._replaced(found)
        return [p for p in found if Path(p).name not in replaced] if replaced else found

    def _replaced(self, found: Sequence[str]) -> set[str]:
        journal = self.directory / JOURNAL
        if not journal.exists():
            return set()
        try:
            said = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()  # being written: its new part is not in yet either
        names = {Path(p).name for p in found}
        return set(said["replaces"]) if said.get("part") in names else set()

    def live_parts(self) -> list[Path]:
        """The part files a reader should read (analytics lists them this way)."""
        return [Path(p) for p in self._parts()]

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold while reading parts: a compaction does not swap them meanwhile. A reader passes
        the gate (held by a compaction only for its swap, so a stream of readers cannot starve
        it), then holds the readers' lock shared until it is done."""
        if not self.directory.is_dir():
            yield
            return
        with open(self.directory / ".gate.lock", "a") as gate, \
                open(self.directory / ".readers.lock", "a") as readers:
            fcntl.flock(gate, fcntl.LOCK_SH)
            try:
                fcntl.flock(readers, fcntl.LOCK_SH)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                yield
            finally:
                fcntl.flock(readers, fcntl.LOCK_UN)

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.reading(), self._open() as con:
            yield con

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
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
        with self._locked():
            self._recover()
            result = self._append(batch, now, len(events))
            small = [p for p in self._parts() if Path(p).stat().st_size < SMALL_PART]
            if len(small) > AUTO_COMPACT_PARTS:
                with contextlib.suppress(EventLogBusy):  # readers at work: next time
                    self._compact(wait=0.0)
        return result

    def _append(self, batch: pa.Table, now: datetime, n: int) -> AppendResult:
        with self._connection() as con:
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
        return AppendResult(added, n - added)

    # --- compaction ---------------------------------------------------------------------------

    def compact(self, *, wait: float = 60.0, min_parts: int = 2) -> Compacted:
        """Merge the small parts into one (module doc). `wait`: seconds to wait for readers
        before giving up (`EventLogBusy`); fewer than `min_parts` small parts: nothing done."""
        if not self.directory.is_dir():
            return Compacted(0, 0, 0, 0, 0.0)
        with self._locked():
            self._recover()
            return self._compact(wait=wait, min_parts=min_parts)

    def _recover(self) -> None:
        """Finish what a killed append or compaction left (callers hold the append lock)."""
        for orphan in self.directory.glob(".part-*.tmp"):
            orphan.unlink(missing_ok=True)
        journal = self.directory / JOURNAL
        if not journal.exists():
            return
        try:
            said = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            said = {}
        if said.get("part") and (self.directory / said["part"]).exists():
            with self._swapping(wait=None):
                for name in said.get("replaces", ()):
                    (self.directory / name).unlink(missing_ok=True)
                _fsync(self.directory)
        journal.unlink(missing_ok=True)  # done, or its new part never came in

    @contextmanager
    def _swapping(self, wait: float | None) -> Iterator[None]:
        """No reader between the new part in and the old out: the gate closed to new readers,
        then the readers' lock exclusive once those reading have finished."""
        deadline = None if wait is None else time.monotonic() + wait
        with open(self.directory / ".gate.lock", "a") as gate, \
                open(self.directory / ".readers.lock", "a") as readers:
            self._exclusive(gate, deadline, wait)
            try:
                self._exclusive(readers, deadline, wait)
                try:
                    yield
                finally:
                    fcntl.flock(readers, fcntl.LOCK_UN)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)

    def _exclusive(self, lock: Any, deadline: float | None, wait: float | None) -> None:
        if deadline is None:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EventLogBusy(f"event log {self.directory}: readers kept it busy for "
                                       f"{wait:g} s; nothing changed") from None
                time.sleep(0.01)

    def _compact(self, *, wait: float, min_parts: int = 2) -> Compacted:
        started = time.perf_counter()
        parts = self._parts()
        small = [p for p in parts if Path(p).stat().st_size < SMALL_PART]
        if len(small) < max(2, min_parts):
            return Compacted(len(parts), len(parts), 0, 0, time.perf_counter() - started)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.directory / f"part-{stamp}-{secrets.token_hex(4)}.parquet"
        tmp = self.directory / f".{final.name}.tmp"
        journal = self.directory / JOURNAL
        try:
            con = duckdb.connect(":memory:")
            try:
                con.execute("SET TimeZone = 'UTC'")
                con.read_parquet(small).create_view("small")
                # by time (a time filter then skips most row groups); parts never share an id
                # (an append adds only new ones), so every event is there once
                con.execute(f"""COPY (SELECT {", ".join(f'"{c}"' for c in _COLUMNS)} FROM small
                                ORDER BY "at", id)
                                TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)""")
                events = con.execute(f"SELECT count(*) FROM read_parquet('{_sql_path(tmp)}')"
                                     ).fetchall()[0][0]
            finally:
                con.close()
            _fsync(tmp)
            said = json.dumps({"part": final.name, "replaces": [Path(p).name for p in small]})
            journal_tmp = self.directory / f".{JOURNAL}.tmp"
            journal_tmp.write_text(said, encoding="utf-8")
            _fsync(journal_tmp)
            os.replace(journal_tmp, journal)
            with self._swapping(wait=wait):
                os.replace(tmp, final)
                for name in small:
                    Path(name).unlink(missing_ok=True)
                _fsync(self.directory)
            journal.unlink(missing_ok=True)
        except duckdb.Error as exc:
            raise EventLogError(f"event log {self.directory}: compaction: {exc}") from exc
        except EventLogBusy:
            journal.unlink(missing_ok=True)  # the new part never came in: nothing changed
            raise
        finally:
            tmp.unlink(missing_ok=True)
        return Compacted(len(parts), len(parts) - len(small) + 1, len(small), int(events),
                         time.perf_counter() - started)

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


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
