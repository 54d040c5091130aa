"""The embedded store's durable layer: every write batch committed to SQLite on its own.

The embedded store keeps its graph in memory (networkx, graph/memory_store.py) and commits each
write batch here, in one SQLite transaction (WAL mode: one writer at a time, readers never
blocked, atomic commits). What a commit survives depends on `synchronous`: with NORMAL (the
default) a committed batch survives the process being killed at once, but a power loss or an
OS crash can lose the last commits before the next WAL checkpoint (the file stays consistent:
whole batches only). FULL (`RELGRAPH_SQLITE_SYNCHRONOUS=FULL`) syncs every commit, so it
survives those too, at the price of an fsync per batch.

Several processes may open one data dir — a server answering and taking mutations, a
`relgraph load` beside it: each sees the others' commits without a restart, because every
committed row carries a sequence number and a process that notices a commit (`PRAGMA
data_version`) applies the rows with a higher number than it has seen. A writer
catches up inside its write transaction before it merges its rows into what is stored, so no
process ever overwrites another's newer values with stale ones.

Tables: `nodes(label, key, props, seq)`, `rels(type, start_label, start, end_label, end, props,
seq)`, `gone(kind, ident, seq)` (deletions: a folded node, a moved relationship, everything),
`meta(name, value)` (the format version, the last sequence number and the pruning floor).

Deletions pile up in `gone` (every fold of a load leaves one): `prune_gone` (`relgraph
maintenance compact`) drops them all and records the sequence number they were dropped at as the
floor; a process that had not caught up that far reloads the whole graph on its next catch-up
instead of missing a deletion. Properties are stored as
JSON (orjson) with date-times as ISO-8601 text, turned back into aware datetimes by the schema's
property types on the way in, so the file is readable by any SQLite client.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from graph.errors import SnapshotError
from graph.schema import NODE_TYPES, REL_TYPES, PropType

FORMAT = 1  # bump when the tables change shape; other versions are refused clearly
SYNCHRONOUS = ("NORMAL", "FULL")
_STORE_TIMES = ("loaded_at", "first_seen", "last_seen")

Node = tuple[str, str]
RelKey = tuple[str, str, str, str, str]  # type, start label, start key, end label, end key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    label TEXT NOT NULL, key TEXT NOT NULL, props BLOB NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (label, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodes_seq ON nodes (seq);
CREATE TABLE IF NOT EXISTS rels (
    type TEXT NOT NULL, start_label TEXT NOT NULL, start TEXT NOT NULL,
    end_label TEXT NOT NULL, "end" TEXT NOT NULL, props BLOB NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (type, start_label, start, end_label, "end")) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rels_seq ON rels (seq);
CREATE TABLE IF NOT EXISTS gone (seq INTEGER NOT NULL, kind TEXT NOT NULL, ident BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS gone_seq ON gone (seq);
"""


@cache
def _time_props(kind: str, name: str) -> frozenset[str]:
    """The properties of a label or relationship type that hold date-times."""
    declared = (NODE_TYPES[name] if kind == "node" else REL_TYPES[name]).props
    return frozenset(p.name for p in declared if p.type is PropType.DATETIME) | frozenset(
        _STORE_TIMES)


def _default(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def encode(props: dict[str, Any]) -> bytes:
    return orjson.dumps(props, default=_default)


def decode(blob: bytes, kind: str, name: str) -> dict[str, Any]:
    props: dict[str, Any] = orjson.loads(blob)
    for prop in _time_props(kind, name):
        value = props.get(prop)
        if isinstance(value, str):
            props[prop] = datetime.fromisoformat(value)
    if "sources" in props:
        props["sources"] = tuple(props["sources"])
    return props


class Changes:
    """What one transaction writes: whole property maps of nodes and relationships, and what
    is gone.

    Per node or relationship the batch's last operation wins: writing one takes it off the gone
    list, marking one gone drops its pending write. A batch of folds can add a relationship
    (moved onto a kept node) and move it on again, or keep a node and fold it into another;
    what the file gets must be where the batch ended, not every step replayed, or a deleted
    row is written back and the next process sees a ghost. So the maps are read-only outside:
    change them through the methods below."""

    __slots__ = ("_nodes", "_rels", "_gone_nodes", "_gone_rels", "everything_gone")

    def __init__(self, nodes: Mapping[Node, dict[str, Any]] | None = None,
                 rels: Mapping[RelKey, dict[str, Any]] | None = None) -> None:
        self._nodes: dict[Node, dict[str, Any]] = dict(nodes or {})
        self._rels: dict[RelKey, dict[str, Any]] = dict(rels or {})
        self._gone_nodes: set[Node] = set()
        self._gone_rels: set[RelKey] = set()
        self.everything_gone = False

    @property
    def nodes(self) -> Mapping[Node, dict[str, Any]]:
        return self._nodes

    @property
    def rels(self) -> Mapping[RelKey, dict[str, Any]]:
        return self._rels

    @property
    def gone_nodes(self) -> AbstractSet[Node]:
        return self._gone_nodes

    @property
    def gone_rels(self) -> AbstractSet[RelKey]:
        return self._gone_rels

    def put_node(self, node: Node, props: dict[str, Any]) -> None:
        """The node is stored with these properties (the live map: later changes to it in the
        same batch are written too)."""
        self._nodes[node] = props
        self._gone_nodes.discard(node)

    def drop_node(self, node: Node) -> None:
        """The node is gone (its relationships are dropped on their own, by `drop_rel`)."""
        self._nodes.pop(node, None)
        self._gone_nodes.add(node)

    def put_rel(self, rel: RelKey, props: dict[str, Any]) -> None:
        self._rels[rel] = props
        self._gone_rels.discard(rel)

    def drop_rel(self, rel: RelKey) -> None:
        self._rels.pop(rel, None)
        self._gone_rels.add(rel)

    def drop_everything(self) -> None:
        """Everything stored is gone, and so is whatever this batch wrote before."""
        self._nodes.clear()
        self._rels.clear()
        self._gone_nodes.clear()
        self._gone_rels.clear()
        self.everything_gone = True

    def __bool__(self) -> bool:
        return bool(self._nodes or self._rels or self._gone_nodes or self._gone_rels
                    or self.everything_gone)


@dataclass
class Catchup:
    """Other processes' commits since a sequence number, in commit order."""

    seq: int
    everything_gone: bool = False
    gone_nodes: list[Node] = field(default_factory=list)
    gone_rels: list[RelKey] = field(default_factory=list)
    nodes: list[tuple[Node, dict[str, Any]]] = field(default_factory=list)
    rels: list[tuple[RelKey, dict[str, Any]]] = field(default_factory=list)


class Journal:
    """One SQLite database file: the durable copy of the embedded graph."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, "
                             f"got {synchronous!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # one connection, shared by this process's threads
        try:
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives the process, a power loss only once checkpointed;
            # FULL: every commit is synced (module doc). From SYNCHRONOUS only, never user text.
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(self.path, f"it is not a usable SQLite database ({exc})") from None
        self._data_version = self._version()

    def _check_format(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        if row is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?), ('seq', '0')",
                             (str(FORMAT),))
        elif row[0] != str(FORMAT):
            raise SnapshotError(self.path, f"it has format {row[0]} and this version reads "
                                f"only {FORMAT}; load the data again, or open it with the "
                                "version that wrote it")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _version(self) -> int:
        """SQLite's count of other connections' commits as this connection sees the file.

        Read inside a transaction, after its first read (when the snapshot is taken): it then
        names exactly the commits that transaction saw. Read after COMMIT it may already count
        a commit another process made in between, unread, and that commit would be missed
        until some later one. Our own commits never change it."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def changed_elsewhere(self) -> bool:
        """Whether another connection committed since what we last read (cheap: a pragma).
        Only looks: `since`, `load` and `writing` record what they read."""
        with self._lock:
            return self._version() != self._data_version

    def seq(self) -> int:
        with self._lock:
            return self._seq()

    def _seq(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()[0])

    # --- reading ------------------------------------------------------------------------------

    def load(self, add_node: Callable[[Node, dict[str, Any]], None],
             add_rel: Callable[[RelKey, dict[str, Any]], None]) -> int:
        """Stream the whole graph into the callbacks, nodes first; returns its sequence number."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                seq = self._seq()
                version = self._version()
                for label, key, props in db.execute("SELECT label, key, props FROM nodes"):
                    add_node((label, key), decode(props, "node", label))
                for t, sl, s, el, e, props in db.execute(
                        'SELECT type, start_label, start, end_label, "end", props FROM rels'):
                    add_rel((t, sl, s, el, e), decode(props, "rel", t))
            finally:
                db.execute("COMMIT")
            self._data_version = version
        return seq

    def _floor(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'gone_floor'").fetchone()
        return int(row[0]) if row is not None else 0

    def _since(self, seq: int) -> tuple[Catchup, int]:
        """Inside a transaction: what was committed after `seq`, and the data version it saw.
        Behind the pruning floor (deletions it never saw were dropped): everything, from
        scratch."""
        db = self._db
        catchup = Catchup(self._seq())
        version = self._version()
        if seq < self._floor():
            catchup.everything_gone = True
            seq = -1  # every row: the whole graph again
        gone = () if seq < 0 else db.execute(
            "SELECT seq, kind, ident FROM gone WHERE seq > ? ORDER BY seq", (seq,))
        for _, kind, ident in gone:
            if kind == "all":
                catchup = Catchup(catchup.seq, everything_gone=True)
            elif kind == "node":
                catchup.gone_nodes.append(tuple(orjson.loads(ident)))  # type: ignore[arg-type]
            else:
                catchup.gone_rels.append(tuple(orjson.loads(ident)))  # type: ignore[arg-type]
        catchup.nodes = [((label, key), decode(props, "node", label)) for label, key, props in
                         db.execute("SELECT label, key, props FROM nodes WHERE seq > ?", (seq,))]
        catchup.rels = [((t, sl, s, el, e), decode(props, "rel", t)) for t, sl, s, el, e, props in
                        db.execute('SELECT type, start_label, start, end_label, "end", props '
                                   "FROM rels WHERE seq > ?", (seq,))]
        return catchup, version

    def since(self, seq: int) -> Catchup:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                catchup, version = self._since(seq)
            finally:
                self._db.execute("COMMIT")
            self._data_version = version
            return catchup

    # --- writing ------------------------------------------------------------------------------

    @contextmanager
    def writing(self, seen: int) -> Iterator[Catchup]:
        """A write transaction. Yields what others committed since `seen` (apply it, then add
        your own changes with `write`); commits when the block ends, rolls back on error."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")  # the one writer: waits for another process's commit
            try:
                catchup, version = self._since(seen)
                yield catchup
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self._data_version = version

    def prune_gone(self) -> int:
        """Drop every deletion record (module doc); returns how many there were."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._seq()
                dropped = db.execute("DELETE FROM gone").rowcount
                db.execute("INSERT OR REPLACE INTO meta VALUES ('gone_floor', ?)", (str(seq),))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return int(dropped)

    def write(self, changes: Changes) -> int:
        """Inside `writing`: store the changes under the next sequence number; returns it."""
        db = self._db
        seq = self._seq() + 1
        if changes.everything_gone:
            db.execute("DELETE FROM nodes")
            db.execute("DELETE FROM rels")
            db.execute("DELETE FROM gone")
            db.execute("INSERT INTO gone VALUES (?, 'all', x'')", (seq,))
        if changes.gone_rels:
            db.executemany('DELETE FROM rels WHERE type = ? AND start_label = ? AND start = ? '
                           'AND end_label = ? AND "end" = ?', changes.gone_rels)
            db.executemany("INSERT INTO gone VALUES (?, 'rel', ?)",
                           [(seq, orjson.dumps(list(k))) for k in changes.gone_rels])
        if changes.gone_nodes:
            db.executemany("DELETE FROM nodes WHERE label = ? AND key = ?", changes.gone_nodes)
            db.executemany("INSERT INTO gone VALUES (?, 'node', ?)",
                           [(seq, orjson.dumps(list(k))) for k in changes.gone_nodes])
        db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?)",
                       [(label, key, encode(props), seq)
                        for (label, key), props in changes.nodes.items()])
        db.executemany("INSERT OR REPLACE INTO rels VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(*k, encode(props), seq) for k, props in changes.rels.items()])
        db.execute("UPDATE meta SET value = ? WHERE name = 'seq'", (str(seq),))
        return seq
