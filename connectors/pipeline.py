"""The load pipeline: reader records -> resolved keys -> batched store writes, one for every source.

`Loader.run(source, paths, ctx)` streams each file through its reader (`connectors/source.py`):
- people and companies are keyed by the resolver (`connectors/resolve.py`), every other node by
  its schema normaliser; customers get their ACCOUNT_OF; Tag records become ABOUT relationships
  to the taxonomy's topics (`connectors/tagging.py`), keeping the phrase that matched;
- nodes and relationships are buffered per label/type and written in batches; before any
  relationship batch is written every buffered node is, so a relationship never misses an end
  its file named before it;
- product events go to the event log (`graph/eventlog.py`), de-duplicated by id; the meaningful
  ones (sign-up, first login, setup completed, pricing visit, data export, purchase, newsletter
  click) also become Event nodes; READ relationships (channel web or newsletter) are computed
  from the log for the people and pages the load touched, so counts never double on a re-load;
- at the end: aliases learned are applied (nodes folded), each touched person's first login and
  first use of each key feature (connectors/adoption.py) derived from the log as Event nodes,
  observed jobs re-dated, same-name candidates proposed as merges, and the store checkpointed;
  then the Event, Concern and Trigger nodes the load created go to the live feed's outbox
  (graph/feed.py). Every Event node has a stable key (a message id, a click's hash, "zendesk:<Id>:
  solved", "first_login:<person>" …), so a re-load or another order of the same files adds no
  second feed item.

Every bad row goes to the reject file (file, line, field, reason) and the rest loads. A problem
with a whole file (missing columns, not a file of that kind) is raised before anything of any of
the files is written. Writes are upserts on natural keys and events are de-duplicated, so a load
killed half way and run again leaves exactly one complete load.
"""

from __future__ import annotations

import gc
import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from connectors import adoption
from connectors.errors import BadLine
from connectors.folds import final, fold, folds_by_label
from connectors.merges import MergeBook, propose_people
from connectors.records import (
    CompanyRef,
    CustomerRef,
    Identify,
    Link,
    Node,
    PersonRef,
    ProductEvent,
    ReadItem,
    Ref,
    Tag,
)
from connectors.resolve import BadRef, Resolver
from connectors.source import ReadContext, Source
from connectors.tagging import Taxonomy, load_taxonomy
from connectors.zendesk import SOLVED
from graph import keys
from graph import version as graph_version
from graph.eventlog import READ_CHANNELS, AppendResult, EventLog, LoggedEvent, ReadSpan
from graph.feed import FeedRecorder, Outbox
from graph.model import WriteResult
from graph.schema import INFERRED, OBSERVED, REL_TYPES
from graph.store import GraphStore

# Interactions worth a node of their own: timelines and the live customer feed show these.
MEANINGFUL = frozenset({"sign_up", "setup_completed", "pricing_viewed", "data_exported",
                        "purchase", "first_login", "trial_started", "subscription_cancelled",
                        "newsletter_click"})
# Every type of Event node a load makes, so every kind of event the live feed shows: the
# meaningful events, a key feature's first use (connectors/adoption.py) and a solved concern (a
# Zendesk ticket solved or closed, connectors/zendesk.py).
INTERACTIONS = MEANINGFUL | {adoption.FIRST_USE, SOLVED}
EVENT_BATCH = 100_000
PROGRESS_EVERY = 1_000  # rows between two progress callbacks (a progress bar per row is slow)
_DONE_LIMIT = 1 << 19  # bare rows remembered as written (then forgotten: they are only a shortcut)
_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME \
    | orjson.OPT_PASSTHROUGH_DATACLASS


def properties_json(properties: Mapping[str, Any]) -> str:
    """An event's properties as the event log keeps them: a JSON object, keys sorted, text as
    UTF-8, anything that is not JSON as its str() (orjson; the standard library for what orjson
    refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(dict(properties), default=str, option=_JSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(dict(properties), sort_keys=True, default=str, ensure_ascii=False)


class RejectWriter:
    """Rejected lines, as JSON Lines naming file, line, field and reason; created on first use.

    The file is named after the input and the moment of the load; it is created exclusively, with
    a counter added when that name is taken (two inputs of the same name loaded in the same
    instant), so one load never overwrites another's rejects."""

    def __init__(self, directory: Path, source_path: Path) -> None:
        self.directory = directory
        self.stem = f"{source_path.name}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}"
        self.path = directory / f"{self.stem}.rejects.jsonl"
        self.count = 0
        self._file: IO[str] | None = None

    def _open(self) -> IO[str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        for attempt in itertools.count():
            suffix = f"-{attempt}" if attempt else ""
            path = self.directory / f"{self.stem}{suffix}.rejects.jsonl"
            try:
                file = path.open("x", encoding="utf-8")
            except FileExistsError:
                continue
            self.path = path
            return file
        raise AssertionError("unreachable")

    def add(self, file: str, line: int, field: str | None, reason: str,
            record: dict[str, Any] | None = None) -> None:
        if self._file is None:
            self._file = self._open()
        entry = {"file": file, "line": line, "field": field, "reason": reason, "record": record}
        self._file.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass
class LoadSummary:
    source: str
    paths: list[Path]
    rows: int = 0  # the file's rows (lines) read, bad ones included
    # Distinct nodes and relationships this load created or changed (as `store info` counts
    # them: a node written by many rows once, a row that changes nothing not at all).
    nodes: Counter[str] = field(default_factory=Counter)
    relationships: Counter[str] = field(default_factory=Counter)
    created_nodes: Counter[str] = field(default_factory=Counter)  # of which new
    created_relationships: Counter[str] = field(default_factory=Counter)
    events_added: int = 0
    events_known: int = 0  # already in the event log (a re-load) or repeated
    merged: int = 0  # nodes folded into another by an alias this load learned
    proposed: int = 0  # new proposed merges (`relgraph merges list`)
    rejected: int = 0
    rejects_file: Path | None = None
    examples: list[str] = field(default_factory=list)  # the first few reject messages
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.paths[0]

    @property
    def loaded(self) -> int:
        return sum(self.nodes.values()) + sum(self.relationships.values())


@dataclass(frozen=True, slots=True)
class _Where:
    path: Path
    line: int
    record: Mapping[str, Any] | None = None


Progress = Callable[[int], None]


class Loader:
    """One `relgraph load`: a source, its files, one store, the data dir's event log and merges."""

    def __init__(self, store: GraphStore, *, data_dir: Path, batch_size: int = 10_000,
                 taxonomy: Taxonomy | None = None, progress: Progress | None = None,
                 outbox: Outbox | None = None,
                 key_features: Collection[str] | None = None) -> None:
        self.store = store
        self.data_dir = Path(data_dir)
        self.batch_size = batch_size
        self.taxonomy = taxonomy
        self.progress = progress
        self.events = EventLog(self.data_dir / "events")
        self.merges = MergeBook(self.data_dir / "merges.sqlite")
        # The live feed's outbox (graph/feed.py): new interactions, appended once checkpointed.
        self.outbox = outbox if outbox is not None else Outbox(self.data_dir / "feed")
        # Whose first use makes a feed item (connectors/adoption.py): the analytics' setting.
        self.key_features = frozenset(key_features) if key_features is not None \
            else adoption.configured_key_features()

    def run(self, source: Source, paths: list[Path], ctx: ReadContext, *,
            provenance: str | None = None) -> LoadSummary:
        """Load `paths` through `source`'s reader. Provenance (`sources` on what is written) is
        "<source>:<file name>" per file unless `provenance` names it."""
        paths = [Path(p) for p in paths]
        summary = LoadSummary(source.name, paths)
        if not ctx.team:
            ctx.team = frozenset(self.store.team())
        readers = [_primed(source.read(path, ctx)) for path in paths]  # whole-file errors now
        rejects = RejectWriter(self.data_dir / "rejects",
                               Path(f"{source.name}-{paths[0].name}"))
        run = _Run(self, summary, rejects, ctx)
        try:
            with fewer_collections():
                for path, items in zip(paths, readers, strict=True):
                    run.start_file(provenance or f"{source.name}:{path.name}")
                    for item in items:
                        run.take(path, item)
                    run.report_progress()
                run.finish()
        finally:
            run.close()
            rejects.close()
            graph_version.bump(self.data_dir)  # what was computed from the data is stale
        summary.rejected = rejects.count
        summary.rejects_file = rejects.path if rejects.count else None
        if ctx.clock.naive:
            ctx.note(f"{ctx.clock.naive:,} times without a zone were read as {ctx.clock.tz.key}"
                     " (--timezone)")
        summary.notes = ctx.notes + run.resolver.notes
        return summary


    def apply(self, records: list[ReadItem], *, source: str, provenance: str,
              where: str = "<api>") -> LoadSummary:
        """Write records that come from no file (an API mutation) exactly as a load would:
        the same resolver, key normalisation, tagging, event log and rejects."""
        summary = LoadSummary(source, [Path(where)])
        rejects = RejectWriter(self.data_dir / "rejects", Path(f"{source}-api"))
        ctx = ReadContext(source)
        run = _Run(self, summary, rejects, ctx)
        try:
            run.start_file(provenance)
            for item in records:
                run.take(Path(where), item)
            run.finish()
        finally:
            run.close()
            rejects.close()
            graph_version.bump(self.data_dir)
        summary.rejected = rejects.count
        summary.rejects_file = rejects.path if rejects.count else None
        summary.notes = ctx.notes + run.resolver.notes
        return summary


_gc_lock = threading.Lock()
_gc_loads = 0  # loads running in this process (threads)
_gc_threshold: tuple[int, int, int] = (0, 0, 0)  # the thresholds before the first of them


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the young generation every 100,000 allocations instead of every 700 while a load
    runs: a load allocates millions of small objects that live on (rows, nodes, properties) and
    makes next to no cycles, and with a large graph in memory the default collections took a
    quarter of a load's time. The thresholds are restored when the last load of the process
    ends; nothing is ever left uncollected, only collected less often."""
    global _gc_loads, _gc_threshold
    with _gc_lock:
        if not _gc_loads:
            _gc_threshold = gc.get_threshold()
            gc.set_threshold(max(_gc_threshold[0], 100_000), *_gc_threshold[1:])
        _gc_loads += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_loads -= 1
            if not _gc_loads:
                gc.set_threshold(*_gc_threshold)


def _primed(items: Iterator[ReadItem]) -> Iterator[ReadItem]:
    """Run a reader up to its first item now, so a whole-file error stops the load before
    anything is written; then hand out that item and the rest."""
    first = next(items, None)
    return items if first is None else itertools.chain([first], items)


class _Batch:
    """Rows waiting to be written to one label or relationship type, with where each came from.

    A bare row (a node's key alone, a relationship's two ends alone) already in the batch is not
    sent again: writing it twice changes nothing. Should the store reject it, every line that
    named it gets its reject, in the order the lines came."""

    __slots__ = ("rows", "wheres", "lines", "bare", "repeats")

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.wheres: list[tuple[int, _Where]] = []  # (arrival, where) of each row
        self.lines = 0  # rows and repeats: what the batch size counts
        self.bare: dict[Hashable, int] = {}  # bare row -> its index in rows
        self.repeats: dict[int, list[tuple[int, _Where]]] = {}

    def add(self, row: dict[str, Any], where: _Where, bare: Hashable | None) -> None:
        arrival = self.lines
        self.lines += 1
        if bare is not None:
            first = self.bare.get(bare)
            if first is not None:
                self.repeats.setdefault(first, []).append((arrival, where))
                return
            self.bare[bare] = len(self.rows)
        self.rows.append(row)
        self.wheres.append((arrival, where))

    def rejected(self, rejects: list[Any]) -> list[tuple[_Where, Any]]:
        """(where, reject) for every line of every rejected row, in arrival order."""
        found = []
        for rej in rejects:
            for arrival, where in (self.wheres[rej.row], *self.repeats.get(rej.row, ())):
                found.append((arrival, where, rej))
        found.sort(key=lambda f: f[0])
        return [(where, rej) for _, where, rej in found]


def _node_key(row: Mapping[str, Any]) -> Hashable:
    return row["id"]  # type: ignore[no-any-return]


def _rel_key(row: Mapping[str, Any]) -> Hashable:
    return (row["from"], row["to"])


def _knows_key(row: Mapping[str, Any]) -> Hashable:
    return tuple(sorted((row["from"], row["to"])))  # undirected: one per pair


class _Run:
    """The state of one load while it runs."""

    def __init__(self, loader: Loader, summary: LoadSummary, rejects: RejectWriter,
                 ctx: ReadContext) -> None:
        self.loader = loader
        self.store = loader.store
        self.summary = summary
        self.rejects = rejects
        self.ctx = ctx
        self.source = summary.source
        self.resolver = Resolver.for_store(self.store)
        self.nodes: dict[tuple[str, bool, bool], _Batch] = {}
        self.rels: dict[tuple[str, str, str], _Batch] = {}
        # Bare rows written under the current provenance: writing one again changes nothing
        # (the same key, no properties, the same source), so it is counted, not sent.
        self._done: set[Hashable] = set()
        self._unreported = 0  # rows read since the last progress callback
        self._last_row: tuple[Path, int] | None = None
        # Keys of what this load created or changed, per label / relationship type.
        self._touched: dict[tuple[str, ...], set[Hashable]] = {}
        self._created: dict[tuple[str, ...], set[Hashable]] = {}
        self._event_prefix = f"{summary.source}:"
        self._appender: ThreadPoolExecutor | None = None  # appends the event log behind reading
        self._appending: Future[AppendResult] | None = None
        self.events: list[LoggedEvent] = []
        self.topics_written: set[str] = set()
        self.read_people: set[str] = set()
        self.read_lines: dict[str, _Where] = {}  # person -> the line of their first event
        self.login_people: set[str] = set()
        self.feature_people: set[str] = set()  # people with a key-feature event in this load
        self.observed_people: set[str] = set()
        self.companies: set[str] = set()
        self.contents: set[str] = set()
        self.rejected_rows: set[tuple[str, int, str | None, str]] = set()
        self._taxonomy = loader.taxonomy
        self.feed = FeedRecorder()

    # --- records ------------------------------------------------------------------------------

    def start_file(self, provenance: str) -> None:
        if provenance != self.source:
            self.flush_events()
            self.flush_rels()
            self.source = provenance
            self._done.clear()

    def report_progress(self) -> None:
        if self._unreported and self.loader.progress is not None:
            self.loader.progress(self._unreported)
        self._unreported = 0

    def take(self, path: Path, item: ReadItem) -> None:
        # A row is a line of the file: the several records one row makes share its line (a
        # record at line 0, such as --owner's node, comes from no row).
        if item.line and (path, item.line) != self._last_row:
            self._last_row = (path, item.line)
            self.summary.rows += 1
        self._unreported += 1
        if self._unreported >= PROGRESS_EVERY:
            self.report_progress()
        if isinstance(item, BadLine):
            self.reject(_Where(path, item.line), item.field, item.reason)
            return
        where = _Where(path, item.line)
        try:
            if isinstance(item, Node):
                self.node(item, where)
            elif isinstance(item, Link):
                self.link(item, where)
            elif isinstance(item, Tag):
                self.tag(item, where)
            elif isinstance(item, ProductEvent):
                self.event(item, where)
            elif isinstance(item, Identify):
                person = self.resolver.alias_person(item.alias, item.person)
                self.read_people.add(person)
                self.add_node("Person", {"id": person}, where)
        except BadRef as exc:
            self.reject(where, exc.field, exc.reason)

    def resolve(self, ref: Ref, where: _Where) -> tuple[str, str]:
        label, key = self.resolver.key(ref)
        if isinstance(ref, CustomerRef):
            _, owner_label, owner = self.resolver.customer(ref)
            self.add_node("Customer", {"id": key}, where)
            self.add_node(owner_label, {"id": owner}, where)
            self.add_rel("ACCOUNT_OF", "Customer", owner_label, {"from": key, "to": owner}, where)
        if label == "Company":
            self.companies.add(key)
        return label, key

    def node(self, item: Node, where: _Where) -> None:
        label, key = self.resolve(item.ref, where)
        row = {**item.props, "id": key}
        if isinstance(item.ref, CompanyRef):
            if item.ref.domain and "domain" not in row and keys.is_domain_key(key):
                row["domain"] = key
            if item.ref.domain and item.ref.name:
                self.resolver.claim_website(item.ref, f"{where.path.name}:{where.line}",
                                            item.observed_at)
            if item.ref.name and item.ref.name.strip():
                row.setdefault("name", item.ref.name.strip())
        if isinstance(item.ref, PersonRef) and item.ref.name and item.ref.name.strip():
            row.setdefault("name", item.ref.name.strip())
        if isinstance(item.ref, PersonRef) and item.ref.email:
            if self.resolver.email(item.ref.email) is None:
                row.pop("email", None)  # keyed by its source id; the bad address is not kept
            else:
                row.setdefault("email", item.ref.email.strip())
        if item.observed_at is not None:
            row[OBSERVED] = item.observed_at
        if item.inferred:
            row[INFERRED] = True
        if label == "Content":
            self.contents.add(key)
        self.add_node(label, row, where)

    def link(self, item: Link, where: _Where) -> None:
        start_label, start = self.resolve(item.start, where)
        end_label, end = self.resolve(item.end, where)
        row = {**item.props, "from": start, "to": end}
        if item.type == "WORKS_AT" and isinstance(item.end, CompanyRef):
            # the row's own address is the evidence (the person's key may be another of theirs)
            email = item.start.email if isinstance(item.start, PersonRef) else None
            self.resolver.claim_email(item.end, (email and self.resolver.email(email)) or start,
                                      item.observed_at)
        if item.observed_at is not None:
            row[OBSERVED] = item.observed_at
            if item.type == "WORKS_AT":
                self.observed_people.add(start)
        self.add_rel(item.type, start_label, end_label, row, where)

    def tag(self, item: Tag, where: _Where) -> None:
        label, key = self.resolve(item.ref, where)
        if self._taxonomy is None:
            self._taxonomy = self.loader.taxonomy = load_taxonomy()
        for match in self._taxonomy.topics_of(item.text, item.topics):
            if match.topic_id not in self.topics_written:
                self.topics_written.add(match.topic_id)
                known = self._taxonomy.by_id.get(match.topic_id)
                row: dict[str, Any] = {"id": match.topic_id, "name": match.name}
                if known is not None and known.synonyms:
                    row["synonyms"] = list(known.synonyms)
                self.add_node("Topic", row, where)
            about: dict[str, Any] = {"from": key, "to": match.topic_id,
                                     "weight": match.weight, "matched": match.matched}
            if item.inferred:
                about[INFERRED] = True
            self.add_rel("ABOUT", label, "Topic", about, where)

    def event(self, item: ProductEvent, where: _Where) -> None:
        person = self.resolver.person(item.person) if item.person is not None else None
        anonymous = f"segment:{item.anonymous_id}" if item.anonymous_id and ":" not in \
            item.anonymous_id else item.anonymous_id
        if person is None and anonymous is not None:
            person = self.resolver.person_aliases.get(anonymous)
        account = self.resolver.customer(item.account)[0] if item.account else None
        url = None
        if item.url:
            try:
                url = keys.canonical_url(item.url)
            except ValueError:
                self.resolver.note("events with a URL that is not a web URL were kept without it")
        event_id = item.id if item.id.startswith(self._event_prefix) \
            else self._event_prefix + item.id
        self.events.append(LoggedEvent(event_id, item.type, item.at, person, anonymous, account,
                                       url, properties_json(item.properties), self.source))
        if len(self.events) >= EVENT_BATCH:
            self._append_behind()
        if person is None:
            return
        self.read_lines.setdefault(person, where)
        if item.type in READ_CHANNELS and url is not None:
            # A reader is a person even before (or without) an identify naming them: the
            # READ needs its node, and a later identify folds it into theirs.
            self.add_node("Person", {"id": person}, where)
            self.read_people.add(person)
        if item.type == "login":
            self.login_people.add(person)
        if adoption.feature_of(item.type, item.properties, self.loader.key_features):
            self.feature_people.add(person)
        if item.type in MEANINGFUL:
            if item.account is not None:
                self.resolve(item.account, where)
            properties = dict(item.properties)
            if item.type == "newsletter_click" and url is not None:
                properties.setdefault("url", url)  # what was clicked: the feed says it
            self.interaction(person, event_id, item.type, item.at, properties, account, where)

    def interaction(self, person: str, event_id: str, type_: str, at: datetime,
                    properties: dict[str, Any], account: str | None, where: _Where) -> None:
        """A meaningful interaction as an Event node the person PERFORMED (for its account)."""
        self.add_node("Person", {"id": person}, where)
        self.add_node("Event", {"id": event_id, "type": type_, "at": at,
                                "properties": properties}, where)
        self.add_rel("PERFORMED", "Person", "Event", {"from": person, "to": event_id}, where)
        if account is not None:
            self.add_rel("FOR_ACCOUNT", "Event", "Customer", {"from": event_id, "to": account},
                         where)

    # --- batches ------------------------------------------------------------------------------

    def add_node(self, label: str, row: dict[str, Any], where: _Where) -> None:
        bare = None
        if len(row) == 1 and isinstance(row.get("id"), str):  # {"id": key}
            bare = row["id"]
            if (label, bare) in self._done:  # written already: it changes nothing
                return
        key = (label, OBSERVED in row, INFERRED in row)  # each kind its own statement
        batch = self.nodes.get(key)
        if batch is None:
            batch = self.nodes[key] = _Batch()
        batch.add(row, where, bare)
        if batch.lines >= self.loader.batch_size:
            self.flush_nodes()

    def add_rel(self, rel: str, start: str, end: str, row: dict[str, Any],
                where: _Where) -> None:
        bare = None
        if len(row) == 2 and isinstance(row.get("from"), str) and isinstance(row.get("to"), str):
            bare = (row["from"], row["to"])  # {"from": key, "to": key}
            if (rel, start, end, bare) in self._done:
                return
        self.feed.relationship(rel, row)
        key = (rel, start, end)
        batch = self.rels.get(key)
        if batch is None:
            batch = self.rels[key] = _Batch()
        batch.add(row, where, bare)
        if batch.lines >= self.loader.batch_size:
            self.flush_rels()

    def flush_nodes(self) -> None:
        nodes, self.nodes = self.nodes, {}
        for (label, *_), batch in nodes.items():
            if batch.rows:
                result = self.feed.upsert_nodes(self.store, label, batch.rows,
                                                source=self.source)
                self._written(batch, result, (label,), _node_key)

    def flush_rels(self) -> None:
        self.flush_nodes()  # every end a relationship names is written first
        rels, self.rels = self.rels, {}
        for (rel, start, end), batch in rels.items():
            if batch.rows:
                result = self.store.upsert_relationships(
                    rel, batch.rows, source=self.source, from_label=start, to_label=end)
                self._written(batch, result, (rel, start, end),
                              _knows_key if REL_TYPES[rel].undirected else _rel_key)

    def _written(self, batch: _Batch, result: WriteResult, kind: tuple[str, ...],
                 key_of: Callable[[dict[str, Any]], Hashable]) -> None:
        bad = {rej.row for rej in result.rejects}
        touched = self._touched.setdefault(kind, set())
        created = self._created.setdefault(kind, set())
        for i in result.created:
            created.add(key_of(batch.rows[i]))
        touched.update(key_of(batch.rows[i]) for i in (*result.created, *result.changed))
        if len(self._done) + len(batch.bare) > _DONE_LIMIT:
            self._done.clear()
        self._done.update((*kind, bare) for bare, i in batch.bare.items() if i not in bad)
        for where, rej in batch.rejected(result.rejects):
            self.reject(_Where(where.path, where.line, batch.rows[rej.row]), rej.field,
                        rej.reason)

    def flush_events(self) -> None:
        """Append the events buffered (after any append still running), and wait for it."""
        self._collect()
        if self.events:
            self._count(self.loader.events.append(self.events))
            self.events = []

    def _append_behind(self) -> None:
        """Hand a full batch of events to a worker thread and read on: DuckDB and the Parquet
        writer release the GIL, so the append overlaps with the next batch's records. Appends
        still run one at a time and in order (each waits for the one before), and everything
        that reads the log (the end of the load) runs after `flush_events`."""
        self._collect()
        events, self.events = self.events, []
        if self._appender is None:
            self._appender = ThreadPoolExecutor(1, thread_name_prefix="relgraph-eventlog")
        self._appending = self._appender.submit(self.loader.events.append, events)

    def _collect(self) -> None:
        if self._appending is not None:
            appending, self._appending = self._appending, None
            self._count(appending.result())  # an append's error is raised here

    def _count(self, result: AppendResult) -> None:
        self.summary.events_added += result.added
        self.summary.events_known += result.duplicates

    def close(self) -> None:
        """Wait for an append still running (a load that failed half way leaves whole parts)."""
        if self._appender is not None:
            self._appender.shutdown(wait=True)
            self._appender = None

    def reject(self, where: _Where, field_name: str | None, reason: str) -> None:
        """One reject per row and reason: a bad ref shared by a row's records counts once."""
        seen = (str(where.path), where.line, field_name, reason)
        if seen in self.rejected_rows:
            return
        self.rejected_rows.add(seen)
        record = dict(where.record) if where.record is not None else None
        self.rejects.add(str(where.path), where.line, field_name, reason, record)
        if len(self.summary.examples) < 5:
            at = f"{where.path}:{where.line}" + (f": field {field_name!r}" if field_name else "")
            self.summary.examples.append(f"{at}: {reason}")

    # --- the end of the load ------------------------------------------------------------------

    def finish(self) -> None:
        self.flush_events()
        self.flush_rels()
        proposals = self.resolver.decide_companies().proposals
        merged_people = self._apply_aliases()
        self._stitched_interactions()
        self._reads()
        self._first_logins()
        self._first_uses()
        self.flush_rels()
        self.store.reconcile_jobs(self.observed_people | merged_people)
        self.summary.proposed = propose_people(self.store, self.loader.merges, self.companies)
        self.summary.proposed += self.loader.merges.propose_many(
            "Company", [(p.keep, p.drop, p.score, p.evidence) for p in proposals])
        self.store.checkpoint()
        self.loader.outbox.append(self.feed.items())
        self._tally()

    def _tally(self) -> None:
        """The summary's counts: distinct keys created or changed, each folded key counted as
        the node it was folded into (a company first written by name, then folded into its
        domain, is one company)."""
        moves = folds_by_label({"Person": self.resolver.pending_people,
                                "Company": self.resolver.pending_companies},
                               self.loader.key_features)
        summary = self.summary
        for kind, touched in self._touched.items():
            created = self._created.get(kind, set())
            if len(kind) == 1:
                move = moves.get(kind[0], {})
                nodes = {move.get(k, k) for k in cast(set[str], touched)}
                summary.nodes[kind[0]] = len(nodes)
                # A node made under a key folded away in this load is new as the node it
                # became only if that node is new too (recorded by the fold).
                summary.created_nodes[kind[0]] = len(
                    {k for k in cast(set[str], created) if k not in move} & nodes)
                continue
            rel, start, end = kind
            a, b = moves.get(start, {}), moves.get(end, {})
            pairs = cast(set[tuple[str, str]], touched)
            summary.relationships[rel] += len({(a.get(u, u), b.get(v, v)) for u, v in pairs})
            summary.created_relationships[rel] += len(
                [1 for u, v in cast(set[tuple[str, str]], created) if u not in a and v not in b])
        for counts in (summary.nodes, summary.relationships, summary.created_nodes,
                       summary.created_relationships):
            for name in [n for n, c in counts.items() if not c]:
                del counts[name]

    def _apply_aliases(self) -> set[str]:
        """Fold the nodes of the aliases this load learned into their kept nodes, with the
        accounts and first logins keyed by them (connectors/folds.py)."""
        self._done.clear()  # folded nodes are gone: what was written is no longer a shortcut
        kept: set[str] = set()
        for label, pending in (("Person", self.resolver.pending_people),
                               ("Company", self.resolver.pending_companies)):
            if not pending:
                continue
            folds = final(pending)
            done = fold(self.store, label, folds, source=self.source,
                        key_features=self.loader.key_features)
            self.summary.merged += done.merged
            self._created.setdefault((label,), set()).update(done.created)
            if label == "Person":
                kept.update(folds.values())
                self.read_people.update(folds.values())
                self.login_people.update(folds.values())
                self.feature_people.update(folds.values())
        return kept

    def identities(self) -> dict[str, str]:
        """Every person key or anonymous id the log may hold -> the person it is now."""
        return self.resolver.people_now()

    def _stitched_interactions(self) -> None:
        """Meaningful events an anonymous visitor did before this load learned who they are
        (earlier in this load or in an earlier one): credited to the person now."""
        stitched = {a: k for a, k in final(self.resolver.pending_people).items()
                    if a.startswith("segment:")}
        where = _Where(self.summary.paths[0], 0)
        for event in self.loader.events.unclaimed(stitched, MEANINGFUL):
            assert event.anonymous_id is not None
            self.interaction(stitched[event.anonymous_id], event.id, event.type, event.at,
                             json.loads(event.properties), event.account, where)

    def _reads(self) -> None:
        """READ relationships from the event log, for the people and pages this load touched.
        Every event counts for whoever its person or visitor is *now* (an identify later in the
        file, or in a later file, credits earlier page views)."""
        if not self.read_people and not self.contents:
            return
        identities = self.identities()
        people = {identities.get(p, p) for p in self.read_people}
        lines = {identities.get(p, p): w for p, w in self.read_lines.items()}
        # Only pages the graph has a Content node for can be READ: asked first (a few thousand
        # URLs), so the log hands back only their spans.
        known = self.store.existing("Content", self.loader.events.read_urls())
        spans = self.loader.events.read_spans(people, self.contents, identities, among=known)
        first = _Where(self.summary.paths[0], 0)
        # A READ's provenance is the files that logged its events, whichever load derives it
        # (so the graph does not depend on which load came last).
        by_source: dict[str, list[ReadSpan]] = {}
        for span in spans:
            for provenance in span.sources or (self.source,):
                by_source.setdefault(provenance, []).append(span)
        current = self.source
        for provenance, group in sorted(by_source.items()):
            self.start_file(provenance)
            for span in group:
                self.add_rel("READ", "Person", "Content", {
                    "from": span.person, "to": span.url, "first_at": span.first_at,
                    "last_at": span.last_at, "count": span.count,
                    "channel": ",".join(span.channels)}, lines.get(span.person, first))
        self.start_file(current)

    def _first_logins(self) -> None:
        """Each touched person's first login, an Event node derived from the log; like a
        READ, its provenance is the files that logged the logins, whichever load derives it."""
        identities = self.identities()
        people = {identities.get(p, p) for p in self.login_people}
        found = self.loader.events.firsts("login", people, identities)
        self._derived([(person, f"first_login:{person}", {"type": "first_login", "at": at},
                        sources) for person, (at, sources) in sorted(found.items())],
                      identities)

    def _first_uses(self) -> None:
        """Each touched person's first use of each key feature (connectors/adoption.py), an
        Event node derived from the log like a first login."""
        if not self.feature_people or not self.loader.key_features:
            return
        identities = self.identities()
        people = {identities.get(p, p) for p in self.feature_people}
        found = adoption.first_uses(self.loader.events, self.loader.key_features, people,
                                    identities)
        self._derived([(person, adoption.event_id(feature, person),
                        {"type": adoption.FIRST_USE, "at": at,
                         "properties": {"feature": feature}}, sources)
                       for (person, feature), (at, sources) in sorted(found.items())],
                      identities)

    def _derived(self, found: list[tuple[str, str, dict[str, Any], tuple[str, ...]]],
                 identities: Mapping[str, str]) -> None:
        """Event nodes derived from the log: (person, event id, its properties, the files that
        logged what it was derived from), each written under that provenance and PERFORMED by
        the person."""
        lines = {identities.get(p, p): w for p, w in self.read_lines.items()}
        first = _Where(self.summary.paths[0], 0)
        by_source: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for person, event_id, props, sources in found:
            for provenance in sources or (self.source,):
                by_source.setdefault(provenance, []).append((person, event_id, props))
        current = self.source
        for provenance, group in sorted(by_source.items()):
            self.start_file(provenance)
            for person, event_id, props in group:
                where = lines.get(person, first)
                self.add_node("Person", {"id": person}, where)
                self.add_node("Event", {"id": event_id, **props}, where)
                self.add_rel("PERFORMED", "Person", "Event", {"from": person, "to": event_id},
                             where)
        self.start_file(current)


def load_files(store: GraphStore, source: Source, paths: list[Path], *, data_dir: Path,
               ctx: ReadContext | None = None, batch_size: int = 10_000,
               progress: Progress | None = None,
               key_features: Collection[str] | None = None) -> LoadSummary:
    """Load files of one source (what `relgraph load SOURCE` does)."""
    return Loader(store, data_dir=data_dir, batch_size=batch_size, progress=progress,
                  key_features=key_features).run(source, paths, ctx or ReadContext(source.name))


def load_graph_file(store: GraphStore, path: Path, *, rejects_dir: Path,
                    batch_size: int = 10_000, source: str | None = None,
                    progress: Progress | None = None) -> LoadSummary:
    """Load one relgraph graph JSON Lines file; rejects go to `rejects_dir`, the event log and
    merge book beside it (its parent is the data dir)."""
    from connectors.graph_jsonl import SOURCE

    data_dir = Path(rejects_dir).parent
    loader = Loader(store, data_dir=data_dir, batch_size=batch_size, progress=progress)
    return loader.run(SOURCE, [Path(path)], ReadContext(SOURCE.name), provenance=source)


__all__ = ["INTERACTIONS", "MEANINGFUL", "Loader", "LoadSummary", "RejectWriter", "load_files",
           "load_graph_file"]
