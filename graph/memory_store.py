"""The embedded store: a networkx MultiDiGraph in memory, each write batch durable in SQLite.

Nodes are `(label, key)` tuples; each relationship is the edge keyed by its type, so there is at
most one per (type, from, to) as in Neo4j. networkx's adjacency dicts already index every node's
relationships; beside them the store keeps the keys per label, the companies per flag, the count
per relationship type and the folded keys (aliases). Those indexes are derived: never stored,
rebuilt when the graph is read.

Durability (graph/durable.py): each write batch is one SQLite transaction in `graph.sqlite`
(WAL), so a write costs milliseconds, not a rewrite of the whole graph, and a crash leaves whole
batches only. A committed batch survives the process being killed; against a power loss, only
once checkpointed, unless RELGRAPH_SQLITE_SYNCHRONOUS=FULL syncs every commit. Several
processes may share one data dir — a server and a `relgraph load`: each applies the others'
commits before its next question or write, so neither loses the other's writes and the server
sees a load's rows without a restart.

Threads: questions take a shared lock and writes an exclusive one (a batch at a time), so a
server can answer while a load writes; other processes' commits are applied under the exclusive
lock, so a question sees the graph before or after them, never half.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import networkx as nx

from graph.durable import Catchup, Changes, Journal, RelKey
from graph.errors import AliasTaken, BadRow, NodeNotFound
from graph.merging import ObservedJob, check_folds, job_dates, merged_props
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
from graph.questions import MAX_REKEYS, A, Q, Question, rekey
from graph.questions.profile import PROFILE, ProfileQuery
from graph.questions.readers import COMPANIES, READERS
from graph.rows import (
    NodeRow,
    RelRow,
    batches,
    fill_gaps,
    newer_wins,
    node_row,
    record_setters,
    rel_row,
)
from graph.schema import (
    COMPANY_FLAGS,
    INFERRED,
    NODE_TYPES,
    REL_TYPES,
    node_type,
    rel_ends,
    rel_type,
)
from graph.settings import StoreKind
from graph.snapshot import read_snapshot
from graph.view import GraphView

Node = tuple[str, str]
_MISSING = object()
Signature = tuple[int, int, int]  # inode, size, mtime of the snapshot this state was read from


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


class MemoryStore:
    kind = StoreKind.MEMORY

    def __init__(self, path: Path | None, *, batch_size: int = 10_000,
                 synchronous: str = "NORMAL") -> None:
        """`path`: the SQLite file (None: in memory only, nothing kept). A data dir that still
        holds the old `graph.snapshot` beside it is imported into it once. `synchronous`:
        NORMAL or FULL (graph/durable.py)."""
        self.path = Path(path) if path is not None else None
        self.batch_size = batch_size
        self._lock = _ReadWriteLock()
        self._sources: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}
        self._use(_State())
        self._seq = 0  # the journal's sequence number this graph reflects
        self._journal: Journal | None = None
        self.created = False  # whether opening created the file
        if self.path is not None:
            self.created = not self.path.exists()
            self._journal = Journal(self.path, synchronous=synchronous)
            legacy = self.path.with_name("graph.snapshot")
            if self.created and legacy.exists():
                self._import_snapshot(legacy)
            else:
                self._reload()

    # --- state ------------------------------------------------------------------------------

    def _use(self, state: _State) -> None:
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

    def _with_source(self, current: tuple[str, ...], source: str) -> tuple[str, ...]:
        # Provenance tuples are shared between the many rows that have the same sources.
        combined = self._sources.get((current, source))
        if combined is None:
            combined = current if source in current else (*current, source)
            self._sources[(current, source)] = combined
        return combined

    # --- durability (graph/durable.py) ------------------------------------------------------

    def _reload(self) -> None:
        """Read the whole graph from the journal (on open, or after a failed write)."""
        assert self._journal is not None
        graph = nx.MultiDiGraph()
        add_node, add_edge = graph.add_node, graph.add_edge
        seq = self._journal.load(
            lambda node, props: add_node(node, **props),
            lambda k, props: add_edge((k[1], k[2]), (k[3], k[4]), key=k[0], **props))
        self._use(_State.derived_from(graph))
        self._seq = seq

    def _import_snapshot(self, legacy: Path) -> None:
        """A data dir from before the journal: its snapshot becomes the first commit."""
        graph = read_snapshot(legacy)
        changes = Changes(
            nodes={node: attrs for node, attrs in graph.nodes(data=True)},
            rels={(rel, u[0], u[1], v[0], v[1]): attrs
                  for u, v, rel, attrs in graph.edges(keys=True, data=True)})
        assert self._journal is not None
        with self._journal.writing(self._seq):
            self._seq = self._journal.write(changes)
        self._use(_State.derived_from(graph))
        legacy.rename(legacy.with_name("graph.snapshot.imported"))

    def _catch_up(self, changes: Catchup) -> None:
        """Apply other processes' commits. Callers hold the exclusive lock."""
        if changes.everything_gone:
            self._use(_State())
        for k in changes.gone_rels:
            self._drop_edge(k)
        for node in changes.gone_nodes:
            self._drop_node(node)
        for node, props in changes.nodes:
            attrs = self._nodes.get(node)
            if attrs is None:
                self._g.add_node(node, **props)
                self._labels[node[0]].add(node[1])
            else:
                attrs.clear()
                attrs.update(props)
            self._index_node(node, props)
        for (rel, sl, s, el, e), props in changes.rels:
            u, v = (sl, s), (el, e)
            attrs = self._succ.get(u, {}).get(v, {}).get(rel)
            if attrs is None:
                self._g.add_edge(u, v, key=rel, **props)
                self._rel_counts[rel] += 1
            else:
                attrs.clear()
                attrs.update(props)
        self._seq = changes.seq

    def _index_node(self, node: Node, attrs: Mapping[str, Any]) -> None:
        if node[0] == "Company":
            self._state.index_flags(node[1], attrs)
        for alias in attrs.get("aliases") or ():
            self._state.aliases[node[0]][alias] = node[1]

    def _drop_edge(self, k: RelKey, changes: Changes | None = None) -> None:
        """Remove a relationship; `changes`: this process's write batch, which records it (None
        when applying another process's commit)."""
        rel, u, v = k[0], (k[1], k[2]), (k[3], k[4])
        if rel in self._succ.get(u, {}).get(v, {}):
            self._g.remove_edge(u, v, key=rel)
            self._rel_counts[rel] -= 1
        if changes is not None:
            changes.drop_rel(k)

    def _drop_node(self, node: Node, changes: Changes | None = None) -> None:
        """Remove a node and what relationships it still has (recorded in `changes` too, so
        the file never keeps a relationship whose node is gone)."""
        if node not in self._nodes:
            return
        for other, by_type in list(self._succ[node].items()):
            for rel in list(by_type):
                self._drop_edge((rel, *node, *other), changes)
        for other, by_type in list(self._pred[node].items()):
            for rel in list(by_type):
                self._drop_edge((rel, *other, *node), changes)
        if changes is not None:
            changes.drop_node(node)
        self._g.remove_node(node)
        self._labels[node[0]].discard(node[1])
        if node[0] == "Company":
            for keys in self._flags.values():
                keys.discard(node[1])

    @contextmanager
    def _writing(self) -> Iterator[Changes]:
        """One write batch: exclusive lock, others' commits applied first, then this process's
        changes committed as one transaction. A failed commit re-reads the journal, so memory
        never keeps what the file does not."""
        with self._lock.exclusive():
            changes = Changes()
            if self._journal is None:
                yield changes
                return
            try:
                with self._journal.writing(self._seq) as others:
                    self._catch_up(others)
                    yield changes
                    if changes:
                        self._seq = self._journal.write(changes)
            except BaseException:
                self._reload()
                raise

    def _refresh(self) -> None:
        """Before a question: apply what other processes committed meanwhile (cheap when none:
        one pragma)."""
        if self._journal is not None and self._journal.changed_elsewhere():
            with self._lock.exclusive():
                self._catch_up(self._journal.since(self._seq))

    def checkpoint(self) -> None:
        """Every batch is committed on its own: once an upsert returns it survives the process
        (and a power loss too with synchronous FULL; see graph/durable.py)."""
        self._refresh()

    def migrate(self) -> list[str]:
        """Nothing to create in memory; opening made the data dir's graph file (named once)."""
        if not self.created:
            return []
        self.created = False
        return [f"the embedded graph {self.path}"]

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()

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
            with self._writing() as changes:
                self._apply_nodes(label, valid, source, changes, result)
            result.written += len(valid)
        return result

    def _apply_nodes(self, label: str, rows: list[NodeRow], source: str,
                     changes: Changes, result: WriteResult) -> None:
        keys, loaded_at = self._labels[label], now_utc()
        ntype = NODE_TYPES[label]
        order = tuple(ntype.prop_map) if ntype.set_by else None  # see graph.schema.SET_BY
        for row in rows:
            node = (label, row.key)
            attrs = self._nodes.get(node)
            if attrs is None:
                self._g.add_node(node, sources=(source,), loaded_at=loaded_at)
                attrs = self._nodes[node]
                keys.add(row.key)
                written = newer_wins(attrs, row.props, row.seen)
                if order is not None:
                    record_setters(attrs, written, source, order)
                result.created.append(row.index)
            elif self._update(attrs, row.props, row.seen, source, loaded_at,
                              fill=row.inferred, order=order):
                result.changed.append(row.index)
            if label == "Company":
                self._state.index_flags(row.key, attrs)
            changes.put_node(node, attrs)

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
            with self._writing() as changes:
                written = self._apply_relationships(rtype.type, start_label, end_label, valid,
                                                    source, result, changes)
            result.written += written
        result.rejects.sort(key=lambda r: r.row)
        return result

    def _apply_relationships(self, rel: str, start_label: str, end_label: str,
                             rows: list[RelRow], source: str, result: WriteResult,
                             changes: Changes) -> int:
        """Write the rows whose two ends exist; the others become rejects. Returns how many."""
        rejects = result.rejects
        written, loaded_at = 0, now_utc()
        inferable = REL_TYPES[rel].inferable
        for row in rows:
            u, v = (start_label, row.start), (end_label, row.end)
            if u not in self._nodes:
                rejects.append(Reject(row.index, "from",
                                      f"no {start_label} with key {row.start!r}"))
                continue
            if v not in self._nodes:
                rejects.append(Reject(row.index, "to", f"no {end_label} with key {row.end!r}"))
                continue
            if row.inferred:
                if self._explicit(u, rel):
                    continue  # an explicit one is there: the guess is not written
            elif inferable:
                self._drop_inferred(u, rel, changes)
            attrs = self._succ[u].get(v, {}).get(rel)
            if attrs is None:
                self._g.add_edge(u, v, key=rel, sources=(source,), loaded_at=loaded_at)
                attrs = self._succ[u][v][rel]
                self._rel_counts[rel] += 1
                newer_wins(attrs, row.props, row.seen)
                if row.inferred:
                    attrs[INFERRED] = True
                result.created.append(row.index)
            elif self._update(attrs, row.props, row.seen, source, loaded_at):
                result.changed.append(row.index)
            changes.put_rel((rel, *u, *v), attrs)
            written += 1
        return written

    def _explicit(self, start: Node, rel: str) -> bool:
        """Whether `start` has a `rel` relationship that was not inferred."""
        return any(INFERRED not in by_type[rel] for by_type in self._succ[start].values()
                   if rel in by_type)

    def _drop_inferred(self, start: Node, rel: str, changes: Changes) -> None:
        """Remove `start`'s inferred `rel` relationships: an explicit one is being written."""
        for other, by_type in list(self._succ[start].items()):
            attrs = by_type.get(rel)
            if attrs is not None and INFERRED in attrs:
                self._drop_edge((rel, *start, *other), changes)

    def _update(self, attrs: dict[str, Any], props: Mapping[str, Any], seen: datetime | None,
                source: str, loaded_at: datetime, *, fill: bool = False,
                order: tuple[str, ...] | None = None) -> bool:
        """Apply a row to a stored node or relationship; whether any property other than
        loaded_at changed. Properties are only ever added or replaced, never removed. `fill`:
        an inferred row (graph.rows.fill_gaps); `order`: the label keeps `set_by`."""
        sources = attrs["sources"]
        attrs["sources"] = self._with_source(sources, source)
        attrs["loaded_at"] = loaded_at
        if seen is None and not fill and order is None:
            # the row's values win: a change if any differs (the common case)
            changed = len(attrs["sources"]) != len(sources) or any(
                attrs.get(name, _MISSING) != value for name, value in props.items())
            attrs.update(props)
            return changed
        before = dict(attrs)
        written = (fill_gaps(attrs, props, source, set_by=order is not None) if fill
                   else newer_wins(attrs, props, seen))
        if order is not None:
            record_setters(attrs, written, source, order)
        return len(attrs["sources"]) != len(sources) or len(attrs) != len(before) or any(
            before[name] != value for name, value in attrs.items())

    def delete_all(self) -> None:
        with self._writing() as changes:
            self._use(_State())
            changes.drop_everything()

    # --- identity and observed jobs (rules in graph/merging.py) --------------------------

    def merge_nodes(self, label: str, keep: str, drop: str) -> bool:
        """Fold node `drop` into `keep`: every relationship moved, properties and provenance
        united, `drop` recorded among keep's aliases. True if a `drop` node existed."""
        ntype = node_type(label)
        keep, drop = ntype.normalise_key(keep), ntype.normalise_key(drop)
        with self._writing() as changes:
            return self._merge(label, keep, drop, changes)

    FOLD_BATCH = 10_000  # folds per transaction in fold_aliases

    def fold_aliases(self, label: str, folds: Sequence[tuple[str, str]]) -> int:
        """Every fold of a batch in one transaction (one SQLite commit, not one per alias).
        Folds that would record an alias another node holds are refused before any is written
        (each fold is checked again as it is made: others may have written meanwhile)."""
        ntype = node_type(label)
        pairs = [(ntype.normalise_key(keep), ntype.normalise_key(folded))
                 for folded, keep in folds]
        merged = 0
        for start in range(0, len(pairs), self.FOLD_BATCH):
            with self._writing() as changes:
                if start == 0:
                    check_folds(label, [(drop, keep) for keep, drop in pairs],
                                self._holders(label, {drop for _, drop in pairs}))
                for keep, drop in pairs[start:start + self.FOLD_BATCH]:
                    merged += self._merge(label, keep, drop, changes)
        return merged

    def _merge(self, label: str, keep: str, drop: str, changes: Changes) -> bool:
        """merge_nodes' work on normalised keys, inside a write batch."""
        k, d = (label, keep), (label, drop)
        kept = self._nodes.get(k)
        if kept is None:
            raise NodeNotFound(label, keep)
        if keep == drop:
            return False
        folded = self._nodes.get(d)
        for alias in (drop, *((folded or {}).get("aliases") or ())):
            holder = self._holder(label, alias)
            if holder not in (None, keep, drop):
                raise AliasTaken(label, alias, holder, keep)  # before anything is changed
        for other, by_type in list(self._succ.get(d, {}).items()):
            for rel, attrs in list(by_type.items()):
                self._move_edge((d, other), (k, other), rel, attrs, changes)
        for other, by_type in list(self._pred.get(d, {}).items()):
            for rel, attrs in list(by_type.items()):
                self._move_edge((other, d), (other, k), rel, attrs, changes)
        merged = merged_props(kept, folded or {}, drop)
        kept.clear()
        kept.update(merged)
        if folded is not None:
            self._drop_node(d, changes)
        self._index_node(k, kept)
        changes.put_node(k, kept)
        return folded is not None

    def _holder(self, label: str, alias: str) -> str | None:
        """The key of the node holding `alias` (None: no node does)."""
        holder = self._state.aliases[label].get(alias)
        if holder is None or alias not in self._nodes.get((label, holder), {}).get("aliases", ()):
            return None
        return holder

    def _holders(self, label: str, folded: Iterable[str]) -> dict[str, str]:
        """alias -> holder for these folded keys and every alias their nodes hold."""
        holders = {}
        for key in folded:
            holder = self._holder(label, key)
            if holder is not None:
                holders[key] = holder
            for alias in self._nodes.get((label, key), {}).get("aliases") or ():
                holders[alias] = key
        return holders

    def _move_edge(self, old: tuple[Node, Node], new: tuple[Node, Node], rel: str,
                   attrs: dict[str, Any], changes: Changes) -> None:
        self._drop_edge((rel, *old[0], *old[1]), changes)
        u, v = new
        if u == v:  # a relationship between the two nodes being merged
            return
        if REL_TYPES[rel].undirected and u[1] > v[1]:
            u, v = v, u
        existing = self._succ[u].get(v, {}).get(rel)
        if existing is None:
            self._g.add_edge(u, v, key=rel, **attrs)
            self._rel_counts[rel] += 1
            existing = self._succ[u][v][rel]
        else:
            merged = merged_props(existing, attrs)
            existing.clear()
            existing.update(merged)
        changes.put_rel((rel, *u, *v), existing)

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

    def prune_journal(self) -> int:
        """Drop the durable file's deletion records (graph/durable.py `prune_gone`); returns how
        many. Other processes behind them reload the graph on their next catch-up."""
        if self._journal is None:
            return 0
        return self._journal.prune_gone()

    def reconcile_jobs(self, persons: Iterable[str]) -> int:
        """Re-date the observed jobs of these people; returns how many jobs changed."""
        changed = 0
        with self._writing() as changes:
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
                        changes.put_rel(("WORKS_AT", *person, *company), w)
                        changed += 1
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
        """Run a question (graph/questions/) on the graph as it is now. A node named by a key
        folded into another (an old e-mail) is answered as the node it is now."""
        for attempt in range(MAX_REKEYS + 1):
            prepared = question.prepare(query)
            with self._reading():
                try:
                    return question.embedded(self._view(), prepared)
                except NodeNotFound as missing:
                    now = self._state.aliases.get(missing.label, {}).get(missing.key)
                    query = rekey(question, query, missing, now, attempt)
        raise AssertionError("unreachable")

    async def ask_async(self, question: Question[Q, A], query: Q) -> A:
        """The same, in a worker thread: the event loop never waits on a graph walk."""
        return await asyncio.to_thread(self.ask, question, query)

    def readers(self, query: ReaderQuery) -> list[ReaderMatch]:
        return list(self.ask(READERS, query).items)

    def reader_companies(self, query: ReaderQuery) -> list[CompanyMatch]:
        return list(self.ask(COMPANIES, query).items)

    def person_profile(self, person_id: str, *, as_of: datetime | None = None) -> PersonProfile:
        return self.ask(PROFILE, ProfileQuery(person_id, as_of))
