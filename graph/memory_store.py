"""The embedded store: a networkx MultiDiGraph in memory, persisted to one snapshot file.

Nodes are `(label, key)` tuples; each relationship is the edge keyed by its type, so there is at
most one per (type, from, to) as in Neo4j. networkx's adjacency dicts already index every node's
relationships; beside them the store keeps the keys per label, the companies per flag and the count
per relationship type. Those indexes are derived: never saved, rebuilt whenever a snapshot is read.

Threads: questions take a shared lock and writes an exclusive one (a batch at a time), so a
server can answer while a load writes. A snapshot saved by another process is read outside the
lock and swapped in whole under it: a question sees the old graph or the new one, never a mix.

The snapshot is written atomically (temp file, fsync, rename, fsync of the directory) with the
data dir's normal file mode, and carries one format version in its header and a length and SHA-256
trailer, so a truncated, corrupt or older-format file is refused with a clear error instead of
being read as an empty graph. It is a pickle: only ever load snapshots from your own data dir.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import pickle
import secrets
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx

from graph.errors import BadRow, NodeNotFound, SnapshotConflict, SnapshotError
from graph.merging import ObservedJob, job_dates, merged_props
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
from graph.questions import A, Q, Question
from graph.questions.profile import PROFILE, ProfileQuery
from graph.questions.readers import COMPANIES, READERS
from graph.rows import NodeRow, RelRow, batches, newer_wins, node_row, rel_row
from graph.schema import COMPANY_FLAGS, NODE_TYPES, REL_TYPES, node_type, rel_ends, rel_type
from graph.settings import StoreKind
from graph.view import GraphView

# The one format marker. Bump FORMAT whenever what is pickled changes shape; a snapshot of any
# other version is refused with a clear message (its data must be loaded again).
FORMAT = 2
_MAGIC_PREFIX = b"RELGRAPH-SNAPSHOT\x00"
MAGIC = _MAGIC_PREFIX + f"v{FORMAT}\n".encode()
_TRAILER = struct.Struct(">Q32s4s")  # payload length, sha256 of the payload, end marker
_END = b"END!"
_TEMP_PREFIX, _TEMP_SUFFIX = ".graph-", ".tmp"

Node = tuple[str, str]
Signature = tuple[int, int, int]  # inode, size, mtime of the snapshot this state was read from


class _HashingWriter:
    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.raw.write(data)


class _ReadWriteLock:
    """Many questions at once, or one writer. Waiting writers go first, so a steady stream of
    questions cannot starve a load. Not re-entrant: public methods take it, helpers never do."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass(slots=True)
class _State:
    """The graph and the indexes derived from it; replaced as one object on reload."""

    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)
    labels: dict[str, set[str]] = field(
        default_factory=lambda: {label: set() for label in NODE_TYPES})
    # Company keys per flag (own, customer, prospect …): "our team" is everyone currently
    # working at an `own` company, asked on every team question.
    flags: dict[str, set[str]] = field(
        default_factory=lambda: {flag: set() for flag in COMPANY_FLAGS})
    rel_counts: Counter[str] = field(default_factory=Counter)
    # label -> {folded key: the key it was folded into} (see merge_nodes)
    aliases: dict[str, dict[str, str]] = field(
        default_factory=lambda: {label: {} for label in NODE_TYPES})

    @classmethod
    def derived_from(cls, graph: nx.MultiDiGraph) -> _State:
        """Rebuild every index from the graph alone (what a snapshot holds)."""
        state = cls(graph)
        for node, attrs in graph.nodes(data=True):
            label, key = node
            state.labels[label].add(key)
            if label == "Company":
                state.index_flags(key, attrs)
            for alias in attrs.get("aliases") or ():
                state.aliases[label][alias] = key
        state.rel_counts.update(rel for _, _, rel in graph.edges(keys=True))
        return state

    def index_flags(self, key: str, props: Mapping[str, Any]) -> None:
        for flag, keys in self.flags.items():
            if flag in props:
                (keys.add if props[flag] else keys.discard)(key)


def read_snapshot(path: Path) -> tuple[_State, Signature]:
    """The state saved in `path`, checked end to end; any defect is a `SnapshotError`."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise SnapshotError(path, f"cannot be opened ({exc.strerror})") from None
    with f:
        st = os.fstat(f.fileno())
        header = f.read(len(MAGIC))
        if not header.startswith(_MAGIC_PREFIX):
            raise SnapshotError(path, "it is not a relgraph snapshot (bad header)")
        if header != MAGIC:
            found = header[len(_MAGIC_PREFIX):].strip().decode("ascii", "replace") or "?"
            raise SnapshotError(
                path, f"it has snapshot format {found} and this version reads only v{FORMAT}; "
                "load the data again, or open it with the version that wrote it")
        size = st.st_size
        if size < len(MAGIC) + _TRAILER.size:
            raise SnapshotError(path, "it is truncated")
        f.seek(size - _TRAILER.size)
        length, digest, end = _TRAILER.unpack(f.read(_TRAILER.size))
        if end != _END or length != size - len(MAGIC) - _TRAILER.size:
            raise SnapshotError(path, "it is truncated or was not completely written")
        f.seek(len(MAGIC))
        hasher, remaining = hashlib.sha256(), length
        while remaining:
            chunk = f.read(min(remaining, 1 << 20))
            if not chunk:
                raise SnapshotError(path, "it is truncated")
            hasher.update(chunk)
            remaining -= len(chunk)
        if hasher.digest() != digest:
            raise SnapshotError(path, "its checksum does not match (the file is corrupt)")
        f.seek(len(MAGIC))
        try:
            graph = pickle.load(f)  # noqa: S301 - our own file, checksum verified above
            if not isinstance(graph, nx.MultiDiGraph):
                raise TypeError(f"it holds a {type(graph).__name__}, not a graph")
            state = _State.derived_from(graph)
        except Exception as exc:  # any decoding failure means the same thing here
            raise SnapshotError(path, f"it cannot be decoded ({exc!r})") from None
    return state, (st.st_ino, st.st_size, st.st_mtime_ns)


class MemoryStore:
    kind = StoreKind.MEMORY

    def __init__(self, path: Path | None, *, batch_size: int = 10_000) -> None:
        self.path = Path(path) if path is not None else None
        self.batch_size = batch_size
        self._lock = _ReadWriteLock()
        self._dirty = False  # written since the last save or load
        self._signature: Signature | None = None
        self._sources: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}
        self._use(_State())
        if self.path is not None:
            self._remove_orphaned_temp_files(wait=False)
            if self.path.exists():
                self._use(*read_snapshot(self.path))

    # --- state ------------------------------------------------------------------------------

    def _use(self, state: _State, signature: Signature | None = None) -> None:
        """Make `state` the current one. Callers hold the exclusive lock (or own the store)."""
        self._state = state
        self._g = state.graph
        # networkx's own adjacency dicts, used directly on the hot paths (the views cost ~3x).
        self._succ: dict[Node, dict[Node, dict[str, dict[str, Any]]]] = self._g._succ
        self._pred: dict[Node, dict[Node, dict[str, dict[str, Any]]]] = self._g._pred
        self._nodes: dict[Node, dict[str, Any]] = self._g._node
        self._labels = state.labels
        self._flags = state.flags
        self._rel_counts = state.rel_counts
        self._signature = signature
        self._dirty = False

    def _with_source(self, current: tuple[str, ...], source: str) -> tuple[str, ...]:
        # Provenance tuples are shared between the many rows that have the same sources.
        combined = self._sources.get((current, source))
        if combined is None:
            combined = current if source in current else (*current, source)
            self._sources[(current, source)] = combined
        return combined

    # --- persistence ------------------------------------------------------------------------

    def _stat_signature(self) -> Signature | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _refresh(self) -> None:
        """Pick up a snapshot saved by another process (a load beside a running server).

        The file is read and checked without holding the lock, so questions go on meanwhile;
        the new state is swapped in whole, and only if nothing was written here in between."""
        if self.path is None or self._dirty:
            return
        signature = self._stat_signature()
        if signature is None or signature == self._signature:
            return
        state, signature = read_snapshot(self.path)
        with self._lock.exclusive():
            if not self._dirty:
                self._use(state, signature)

    @contextmanager
    def _file_lock(self, *, wait: bool = True) -> Iterator[bool]:
        """The data dir's save lock, shared with other processes; yields whether it was got."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _remove_orphaned_temp_files(self, *, wait: bool) -> None:
        assert self.path is not None
        if not self.path.parent.is_dir():
            return
        with self._file_lock(wait=wait) as got:
            if got:
                self._remove_orphans_locked()

    def _remove_orphans_locked(self) -> None:
        """Temp files of a save that was killed. Only under the save lock: a save in progress
        in another process holds it, so any temp file seen then is an orphan."""
        assert self.path is not None
        for orphan in self.path.parent.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            with suppress(FileNotFoundError):
                orphan.unlink()

    def save(self) -> None:
        """Write the snapshot atomically. Refuses to overwrite a newer save by another process:
        then this store drops its unsaved writes and takes up that newer graph, so it goes on
        seeing new data (the caller is told to run its load again)."""
        if self.path is None:
            return
        with self._file_lock():
            if self._stat_signature() != self._signature:
                state, signature = read_snapshot(self.path)
                with self._lock.exclusive():
                    self._use(state, signature)
                raise SnapshotConflict(self.path)
            self._remove_orphans_locked()
            tmp = self.path.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(8)}{_TEMP_SUFFIX}")
            try:
                # 0o666 less the umask: the mode any other file in the data dir gets.
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                with os.fdopen(fd, "wb") as raw, self._lock.shared():
                    raw.write(MAGIC)
                    writer = _HashingWriter(raw)
                    pickle.dump(self._g, writer, protocol=pickle.HIGHEST_PROTOCOL)
                    raw.write(_TRAILER.pack(writer.size, writer.hash.digest(), _END))
                    raw.flush()
                    os.fsync(raw.fileno())
                    os.replace(tmp, self.path)
                    self._signature = self._stat_signature()
                    self._dirty = False
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def checkpoint(self) -> None:
        if self._dirty or (self.path is not None and self._signature is None):
            self.save()

    def migrate(self) -> list[str]:
        # Nothing to create in memory; an empty snapshot makes the data dir ready for `serve`.
        if self.path is not None and not self.path.exists():
            self.save()
            return [f"created empty graph snapshot {self.path}"]
        return []

    def close(self) -> None:
        """Closing never saves implicitly: a failed load must not leave half its rows on disk."""

    async def aclose(self) -> None:
        """Nothing async to release: questions run in worker threads."""

    # --- writes -----------------------------------------------------------------------------
    # Rows are validated outside the lock; each batch is applied under the exclusive lock, so
    # questions interleave with a long load batch by batch, as they do with Neo4j transactions.

    def upsert_nodes(
        self, label: str, rows: Iterable[Mapping[str, Any]], *, source: str
    ) -> WriteResult:
        ntype = node_type(label)
        result = WriteResult()
        for chunk in batches(rows, self.batch_size):
            valid: list[NodeRow] = []
            for index, raw in chunk:
                try:
                    valid.append(node_row(ntype, index, raw))
                except BadRow as exc:
                    result.rejects.append(Reject.of(exc))
            with self._lock.exclusive():
                self._apply_nodes(label, valid, source)
            result.written += len(valid)
        return result

    def _apply_nodes(self, label: str, rows: list[NodeRow], source: str) -> None:
        keys, loaded_at = self._labels[label], now_utc()
        for row in rows:
            node = (label, row.key)
            attrs = self._nodes.get(node)
            if attrs is None:
                self._g.add_node(node, sources=(source,), loaded_at=loaded_at)
                attrs = self._nodes[node]
                keys.add(row.key)
            else:
                attrs["sources"] = self._with_source(attrs["sources"], source)
                attrs["loaded_at"] = loaded_at
            newer_wins(attrs, row.props, row.seen)
            if label == "Company":
                self._state.index_flags(row.key, attrs)
        self._dirty = True

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
        start_label, end_label = rel_ends(rtype, from_label, to_label)
        start_type, end_type = node_type(start_label), node_type(end_label)
        result = WriteResult()
        for chunk in batches(rows, self.batch_size):
            valid: list[RelRow] = []
            for index, raw in chunk:
                try:
                    valid.append(rel_row(rtype, start_type, end_type, index, raw))
                except BadRow as exc:
                    result.rejects.append(Reject.of(exc))
            with self._lock.exclusive():
                written = self._apply_relationships(rtype.type, start_label, end_label, valid,
                                                    source, result.rejects)
            result.written += written
        result.rejects.sort(key=lambda r: r.row)
        return result

    def _apply_relationships(self, rel: str, start_label: str, end_label: str,
                             rows: list[RelRow], source: str, rejects: list[Reject]) -> int:
        """Write the rows whose two ends exist; the others become rejects. Returns how many."""
        written, loaded_at = 0, now_utc()
        for row in rows:
            u, v = (start_label, row.start), (end_label, row.end)
            if u not in self._nodes:
                rejects.append(Reject(row.index, "from",
                                      f"no {start_label} with key {row.start!r}"))
                continue
            if v not in self._nodes:
                rejects.append(Reject(row.index, "to", f"no {end_label} with key {row.end!r}"))
                continue
            attrs = self._succ[u].get(v, {}).get(rel)
            if attrs is None:
                self._g.add_edge(u, v, key=rel, sources=(source,), loaded_at=loaded_at)
                attrs = self._succ[u][v][rel]
                self._rel_counts[rel] += 1
            else:
                attrs["sources"] = self._with_source(attrs["sources"], source)
                attrs["loaded_at"] = loaded_at
            newer_wins(attrs, row.props, row.seen)
            written += 1
        self._dirty = True
        return written

    def delete_all(self) -> None:
        with self._lock.exclusive():
            self._use(_State(), self._signature)
            self._dirty = True

    # --- identity and observed jobs (rules in graph/merging.py) --------------------------

    def merge_nodes(self, label: str, keep: str, drop: str) -> bool:
        """Fold node `drop` into `keep`: every relationship moved, properties and provenance
        united, `drop` recorded among keep's aliases. True if a `drop` node existed."""
        ntype = node_type(label)
        keep, drop = ntype.normalise_key(keep), ntype.normalise_key(drop)
        with self._lock.exclusive():
            k, d = (label, keep), (label, drop)
            kept = self._nodes.get(k)
            if kept is None:
                raise NodeNotFound(label, keep)
            if keep == drop:
                return False
            folded = self._nodes.get(d)
            for other, by_type in list(self._succ.get(d, {}).items()):
                for rel, attrs in list(by_type.items()):
                    self._move_edge((d, other), (k, other), rel, attrs)
            for other, by_type in list(self._pred.get(d, {}).items()):
                for rel, attrs in list(by_type.items()):
                    self._move_edge((other, d), (other, k), rel, attrs)
            merged = merged_props(kept, folded or {}, drop)
            kept.clear()
            kept.update(merged)
            if folded is not None:
                self._g.remove_node(d)
                self._labels[label].discard(drop)
                for keys in self._flags.values():
                    keys.discard(drop)
            if label == "Company":
                self._state.index_flags(keep, kept)
            for alias in merged["aliases"]:
                self._state.aliases[label][alias] = keep
            self._dirty = True
            return folded is not None

    def _move_edge(self, old: tuple[Node, Node], new: tuple[Node, Node], rel: str,
                   attrs: dict[str, Any]) -> None:
        self._g.remove_edge(*old, key=rel)
        self._rel_counts[rel] -= 1
        u, v = new
        if u == v:  # a relationship between the two nodes being merged
            return
        if REL_TYPES[rel].undirected and u[1] > v[1]:
            u, v = v, u
        existing = self._succ[u].get(v, {}).get(rel)
        if existing is None:
            self._g.add_edge(u, v, key=rel, **attrs)
            self._rel_counts[rel] += 1
        else:
            merged = merged_props(existing, attrs)
            existing.clear()
            existing.update(merged)

    def aliases(self, label: str) -> dict[str, str]:
        """Every folded key of `label` -> the key of the node it was folded into."""
        node_type(label)
        with self._reading():
            return dict(self._state.aliases[label])

    def existing(self, label: str, keys: Iterable[str]) -> set[str]:
        """Which of these (normalised) keys are nodes of `label`."""
        node_type(label)
        with self._reading():
            present = self._labels[label]
            return {key for key in keys if key in present}

    def companies(self) -> list[tuple[str, str | None]]:
        """(key, name) of every company: the resolver's index of names and domains."""
        with self._reading():
            return [(key, self._nodes[("Company", key)].get("name"))
                    for key in self._labels["Company"]]

    def people_at(self, companies: Iterable[str]) -> list[tuple[str, str, str | None]]:
        """(company, person, person's name) for everyone who works or worked at these."""
        with self._reading():
            found = []
            for company in set(companies):
                node = ("Company", company)
                for person, by_type in self._pred.get(node, {}).items():
                    if "WORKS_AT" in by_type:
                        found.append((company, person[1], self._nodes[person].get("name")))
            return sorted(found)

    def team(self, *, as_of: datetime | None = None) -> list[str]:
        """Keys of the people who work at a company flagged own at `as_of` (default now)."""
        moment = as_utc(as_of)
        with self._reading():
            return sorted(p[1] for p in self._view().team(moment))

    def reconcile_jobs(self, persons: Iterable[str]) -> int:
        """Re-date the observed jobs of these people; returns how many jobs changed."""
        changed = 0
        with self._lock.exclusive():
            for key in set(persons):
                person = ("Person", key)
                if person not in self._nodes:
                    continue
                observed = [(company, w) for company, w in self._view().out(person, "WORKS_AT")
                            if w.get("first_seen") is not None]
                dates = job_dates(ObservedJob(c[1], w["first_seen"], w["last_seen"])
                                  for c, w in observed)
                for company, w in observed:
                    since, until = dates[company[1]]
                    if (w.get("since"), w.get("until")) != (since, until):
                        w["since"], w["until"] = since, until
                        changed += 1
            self._dirty = self._dirty or changed > 0
        return changed

    # --- reads ------------------------------------------------------------------------------
    # Each question first picks up another process's newer save, then runs under the shared
    # lock; the private helpers below assume it is held.

    @contextmanager
    def _reading(self) -> Iterator[None]:
        self._refresh()
        with self._lock.shared():
            yield

    def counts(self) -> StoreCounts:
        with self._reading():
            return StoreCounts(
                nodes={label: len(keys) for label, keys in self._labels.items()},
                relationships=dict(sorted(self._rel_counts.items())),
            )

    def _view(self) -> GraphView:
        return GraphView(self._nodes, self._succ, self._pred, self._labels, self._flags)

    def ask(self, question: Question[Q, A], query: Q) -> A:
        """Run a question (graph/questions/) on the graph as it is now."""
        prepared = question.prepare(query)
        with self._reading():
            return question.embedded(self._view(), prepared)

    async def ask_async(self, question: Question[Q, A], query: Q) -> A:
        """The same, in a worker thread: the event loop never waits on a graph walk."""
        return await asyncio.to_thread(self.ask, question, query)

    def readers(self, query: ReaderQuery) -> list[ReaderMatch]:
        return list(self.ask(READERS, query).items)

    def reader_companies(self, query: ReaderQuery) -> list[CompanyMatch]:
        return list(self.ask(COMPANIES, query).items)

    def person_profile(self, person_id: str, *, as_of: datetime | None = None) -> PersonProfile:
        return self.ask(PROFILE, ProfileQuery(person_id, as_of))
