"""The embedded store: a networkx MultiDiGraph in memory, persisted to one snapshot file.

Nodes are `(label, key)` tuples; each relationship is the edge keyed by its type, so there is at
most one per (type, from, to) as in Neo4j. networkx's adjacency dicts already index every node's
relationships; beside them the store keeps the keys per label and the count per relationship type.

The snapshot is written atomically (temp file, fsync, rename, fsync of the directory) and carries
a length and a SHA-256 trailer, so a truncated or corrupt file is refused with a clear error instead
of being read as an empty graph. It is a pickle: only ever load snapshots from your own data dir.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import struct
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx

from graph.errors import BadRow, NodeNotFound, SnapshotConflict, SnapshotError
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
    is_current,
    match_order,
    now_utc,
    person_key,
    read_overlaps,
    sort_match,
)
from graph.rows import batches, node_row, rel_row
from graph.schema import COMPANY_FLAGS, NODE_TYPES, node_type, rel_ends, rel_type
from graph.settings import StoreKind

MAGIC = b"RELGRAPH-SNAPSHOT\x00v1\n"
_TRAILER = struct.Struct(">Q32s4s")  # payload length, sha256 of the payload, end marker
_END = b"END!"
_FORMAT = 1

Node = tuple[str, str]


class _HashingWriter:
    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.raw.write(data)


class MemoryStore:
    kind = StoreKind.MEMORY

    def __init__(self, path: Path | None, *, batch_size: int = 10_000) -> None:
        self.path = Path(path) if path is not None else None
        self.batch_size = batch_size
        self._dirty = False
        self._signature: tuple[int, int, int] | None = None
        self._reset()
        if self.path is not None and self.path.exists():
            self._load()

    # --- state ------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._g = nx.MultiDiGraph()
        # networkx's own adjacency dicts, used directly on the hot paths (the views cost ~3x).
        self._succ: dict[Node, dict[Node, dict[str, dict[str, Any]]]] = self._g._succ
        self._pred: dict[Node, dict[Node, dict[str, dict[str, Any]]]] = self._g._pred
        self._nodes: dict[Node, dict[str, Any]] = self._g._node
        self._labels: dict[str, set[str]] = {label: set() for label in NODE_TYPES}
        # Company keys per flag (own, customer, prospect …): "our team" is everyone currently
        # working at an `own` company, asked on every team question.
        self._flags: dict[str, set[str]] = {flag: set() for flag in COMPANY_FLAGS}
        self._rel_counts: Counter[str] = Counter()
        self._sources: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}

    def _with_source(self, current: tuple[str, ...], source: str) -> tuple[str, ...]:
        # Provenance tuples are shared between the many rows that have the same sources.
        combined = self._sources.get((current, source))
        if combined is None:
            combined = current if source in current else (*current, source)
            self._sources[(current, source)] = combined
        return combined

    # --- persistence ------------------------------------------------------------------------

    def _stat_signature(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _load(self) -> None:
        assert self.path is not None
        path = self.path
        try:
            f = path.open("rb")
        except OSError as exc:
            raise SnapshotError(path, f"cannot be opened ({exc.strerror})") from None
        with f:
            signature = os.fstat(f.fileno())
            size = signature.st_size
            if f.read(len(MAGIC)) != MAGIC:
                raise SnapshotError(path, "it is not a relgraph snapshot (bad header)")
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
                state = pickle.load(f)  # noqa: S301 - our own file, checksum verified above
            except Exception as exc:  # any unpickling failure means the same thing here
                raise SnapshotError(path, f"it cannot be decoded ({exc})") from None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise SnapshotError(path, "it was written by an incompatible version")
        self._reset()
        self._g = state["graph"]
        self._succ, self._pred, self._nodes = self._g._succ, self._g._pred, self._g._node
        self._labels = state["labels"]
        self._flags = state["flags"]
        self._rel_counts = state["rel_counts"]
        self._sources = {}
        self._signature = (signature.st_ino, signature.st_size, signature.st_mtime_ns)
        self._dirty = False

    def _refresh(self) -> None:
        """Pick up a snapshot saved by another process (a load beside a running server)."""
        if self.path is not None and not self._dirty:
            signature = self._stat_signature()
            if signature is not None and signature != self._signature:
                self._load()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def save(self) -> None:
        """Write the snapshot atomically. Refuses to overwrite a newer save by another process."""
        if self.path is None:
            return
        with self._locked():
            if self._stat_signature() != self._signature:
                raise SnapshotConflict(self.path)
            state = {"format": _FORMAT, "graph": self._g, "labels": self._labels,
                     "flags": self._flags, "rel_counts": self._rel_counts}
            fd, tmp = tempfile.mkstemp(prefix=".graph-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as raw:
                    raw.write(MAGIC)
                    writer = _HashingWriter(raw)
                    pickle.dump(state, writer, protocol=pickle.HIGHEST_PROTOCOL)
                    raw.write(_TRAILER.pack(writer.size, writer.hash.digest(), _END))
                    raw.flush()
                    os.fsync(raw.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            self._signature = self._stat_signature()
            self._dirty = False

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

    # --- writes -----------------------------------------------------------------------------

    def upsert_nodes(
        self, label: str, rows: Iterable[Mapping[str, Any]], *, source: str
    ) -> WriteResult:
        ntype = node_type(label)
        keys = self._labels[label]
        result = WriteResult()
        for chunk in batches(rows, self.batch_size):
            loaded_at = now_utc()
            for index, raw in chunk:
                try:
                    row = node_row(ntype, index, raw)
                except BadRow as exc:
                    result.rejects.append(Reject.of(exc))
                    continue
                node = (label, row.key)
                attrs = self._nodes.get(node)
                if attrs is None:
                    self._g.add_node(node, **row.props, sources=(source,), loaded_at=loaded_at)
                    keys.add(row.key)
                else:
                    attrs.update(row.props)
                    attrs["sources"] = self._with_source(attrs["sources"], source)
                    attrs["loaded_at"] = loaded_at
                if label == "Company":
                    self._index_flags(row.key, row.props)
                result.written += 1
            self._dirty = True
        return result

    def _index_flags(self, key: str, props: dict[str, Any]) -> None:
        for flag, keys in self._flags.items():
            if flag in props:
                (keys.add if props[flag] else keys.discard)(key)

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
            loaded_at = now_utc()
            for index, raw in chunk:
                try:
                    row = rel_row(rtype, start_type, end_type, index, raw)
                    u, v = (start_label, row.start), (end_label, row.end)
                    if u not in self._nodes:
                        raise BadRow(index, "from", f"no {start_label} with key {row.start!r}")
                    if v not in self._nodes:
                        raise BadRow(index, "to", f"no {end_label} with key {row.end!r}")
                except BadRow as exc:
                    result.rejects.append(Reject.of(exc))
                    continue
                attrs = self._succ[u].get(v, {}).get(rtype.type)
                if attrs is None:
                    self._g.add_edge(u, v, key=rtype.type, **row.props, sources=(source,),
                                     loaded_at=loaded_at)
                    self._rel_counts[rtype.type] += 1
                else:
                    attrs.update(row.props)
                    attrs["sources"] = self._with_source(attrs["sources"], source)
                    attrs["loaded_at"] = loaded_at
                result.written += 1
            self._dirty = True
        return result

    def delete_all(self) -> None:
        self._reset()
        self._dirty = True

    # --- reads ------------------------------------------------------------------------------

    def counts(self) -> StoreCounts:
        self._refresh()
        return StoreCounts(
            nodes={label: len(keys) for label, keys in self._labels.items()},
            relationships=dict(sorted(self._rel_counts.items())),
        )

    def _out(self, node: Node, rel: str) -> Iterator[tuple[Node, dict[str, Any]]]:
        for other, by_type in self._succ[node].items():
            attrs = by_type.get(rel)
            if attrs is not None:
                yield other, attrs

    def _about(self, node: Node, topic: str) -> bool:
        return "ABOUT" in self._succ[node].get(("Topic", topic), ())

    def _jobs(self, person: Node) -> list[Employment]:
        return [
            Employment(company[1], self._nodes[company].get("name"), w.get("title"),
                       w.get("since"), w.get("until"))
            for company, w in self._out(person, "WORKS_AT")
        ]

    def _seeds(self, q: ReaderQuery) -> set[Node]:
        assert q.as_of is not None
        if q.person is not None:
            seed = ("Person", q.person)
            if seed not in self._nodes:
                raise NodeNotFound("Person", q.person)
            return {seed}
        team: set[Node] = set()
        for key in self._flags["own"]:
            for person, by_type in self._pred[("Company", key)].items():
                w = by_type.get("WORKS_AT")
                if w is not None and is_current(w.get("since"), w.get("until"), q.as_of):
                    team.add(person)
        return team

    def _matches(self, q: ReaderQuery) -> Iterator[ReaderMatch]:
        assert q.as_of is not None
        seeds = self._seeds(q)
        via: dict[Node, set[str]] = {}
        for seed in seeds:
            for neighbours in (self._succ[seed], self._pred[seed]):
                for other, by_type in neighbours.items():
                    if "KNOWS" in by_type and other not in seeds:
                        via.setdefault(other, set()).add(seed[1])
        read_since, concern_since = q.read_since, q.concern_since
        for person, knowers in via.items():
            reads = []
            for content, r in self._out(person, "READ"):
                c = self._nodes[content]
                if (
                    read_overlaps(r["first_at"], r["last_at"], read_since, q.as_of)
                    and (q.content_kind is None or c.get("kind") == q.content_kind)
                    and self._about(content, q.read_topic)
                ):
                    reads.append(ReadEvidence(content[1], c.get("title"), c.get("kind"),
                                              r["first_at"], r["last_at"], r.get("count", 1)))
            if not reads:
                continue
            concerns = [
                ConcernEvidence(concern[1], k["text"], k.get("channel"), k["at"])
                for concern, _ in self._out(person, "RAISED")
                for k in (self._nodes[concern],)
                if concern_since <= k["at"] <= q.as_of and self._about(concern, q.concern_topic)
            ]
            if not concerns:
                continue
            companies = tuple(
                j for j in self._jobs(person) if is_current(j.since, j.until, q.as_of)
            )
            yield ReaderMatch(person[1], self._nodes[person].get("name"), tuple(knowers),
                              companies, tuple(reads), tuple(concerns))

    def readers(self, query: ReaderQuery) -> list[ReaderMatch]:
        self._refresh()
        q = query.resolved()
        matches = sorted(self._matches(q), key=match_order)
        return [sort_match(m) for m in matches[q.offset:q.offset + q.limit]]

    def reader_companies(self, query: ReaderQuery) -> list[CompanyMatch]:
        self._refresh()
        q = query.resolved()
        people: dict[str, set[str]] = {}
        names: dict[str, str | None] = {}
        for match in self._matches(q):
            for job in match.companies:
                people.setdefault(job.company_id, set()).add(match.person_id)
                names[job.company_id] = job.name
        ranked = sorted(people.items(), key=lambda item: (-len(item[1]), item[0]))
        return [
            CompanyMatch(company, names[company], len(ids), tuple(sorted(ids)[:SAMPLE_PEOPLE]))
            for company, ids in ranked[q.offset:q.offset + q.limit]
        ]

    def person_profile(self, person_id: str, *, as_of: datetime | None = None) -> PersonProfile:
        self._refresh()
        moment = as_utc(as_of)
        key = person_key(person_id)
        person = ("Person", key)
        attrs = self._nodes.get(person)
        if attrs is None:
            raise NodeNotFound("Person", key)
        connections = {
            other
            for neighbours in (self._succ[person], self._pred[person])
            for other, by_type in neighbours.items()
            if "KNOWS" in by_type
        }
        reads = [
            (topic[1], self._nodes[topic].get("name"), content[1], r.get("count", 1),
             r["first_at"], r["last_at"])
            for content, r in self._out(person, "READ")
            for topic, _ in self._out(content, "ABOUT")
        ]
        concerns = [
            ConcernEvidence(concern[1], k["text"], k.get("channel"), k["at"],
                            tuple(sorted(t[1] for t, _ in self._out(concern, "ABOUT"))))
            for concern, _ in self._out(person, "RAISED")
            for k in (self._nodes[concern],)
        ]
        return build_profile({"id": key, **attrs}, self._jobs(person), len(connections), reads,
                             concerns, moment)
