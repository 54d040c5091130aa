"""The outbox of meaningful interactions: what the live customer feed shows.

Loads (`relgraph load`) and the API's mutations write through one pipeline. While it writes, a
`FeedRecorder` notes every Event, Concern and Trigger node that did not exist before (an Event
node is a meaningful interaction: first login, setup completed, pricing-page visit, data export
…; a Concern is a concern raised; a Trigger a buying trigger at a company), with who did it and
where. Once the load is checkpointed, so readers can see what the items name, the pipeline
appends them to the outbox under the data dir:

    $RELGRAPH_DATA_DIR/feed/outbox-YYYYMMDD.jsonl     one JSON object per line

A writer appends whole lines under an exclusive `flock`, so lines of concurrent writers never
interleave; each line names the process that wrote it (`origin`). A running server tails the
newest file (`OutboxTail`) and publishes what other processes wrote to its subscribers, so a load
in another process reaches the live feed without a restart; what the server's own mutations
wrote it has already published. A screen opens on the most recent interactions
(`recent_items`: the last lines of the newest files, read from their ends). Writers remove files
older than `KEEP_DAYS`.

Re-loading a file adds nothing to the outbox: only nodes that did not exist are new. A load that
brings more than `MAX_ITEMS` new interactions (a history import) adds the most recent ones.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import os
import socket
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from graph.model import WriteResult
from graph.rows import parse_datetime

FEED_LABELS = frozenset({"Event", "Concern", "Trigger"})
MAX_ITEMS = 10_000  # new interactions one load adds to the outbox (the most recent ones)
KEEP_DAYS = 7
_PREFIX, _SUFFIX = "outbox-", ".jsonl"
_BLOCK = 1 << 16  # bytes read at a time from the end of an outbox file


@cache
def _origin(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"


def process_origin() -> str:
    """Who this process is, for outbox lines (per pid: a forked worker is another writer)."""
    return _origin(os.getpid())


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One meaningful interaction. `kind` is event, concern or trigger; `type` the event type
    (first_login, pricing_viewed …), "concern_raised", or the trigger type (funding_round …)."""

    id: str
    kind: str
    type: str
    at: datetime
    person: str | None = None
    company: str | None = None
    account: str | None = None  # the customer account an event was for
    text: str | None = None  # a concern's text, a trigger's headline
    properties: dict[str, Any] = field(default_factory=dict)
    origin: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, line: str | bytes) -> FeedItem:
        data = json.loads(line)
        data["at"] = parse_datetime(data["at"])
        return cls(**data)


class NodeWriter(Protocol):
    def existing(self, label: str, keys: Iterable[str]) -> set[str]: ...

    def upsert_nodes(self, label: str, rows: Iterable[Mapping[str, Any]], *,
                     source: str) -> WriteResult: ...


class FeedRecorder:
    """What one load adds to the feed: the Event, Concern and Trigger nodes it created."""

    def __init__(self, limit: int = MAX_ITEMS) -> None:
        self.limit = limit
        # the most recent new nodes (a min-heap on their time), so a history import of millions
        # holds only `limit` rows here
        self._new: list[tuple[datetime, str, str, int, Mapping[str, Any]]] = []
        self._seen: set[tuple[str, str]] = set()
        self._by: dict[tuple[str, str], str] = {}  # (label, id) -> the person who did it
        self._company: dict[str, str] = {}  # trigger -> company
        self._account: dict[str, str] = {}  # event -> customer account

    def upsert_nodes(self, store: NodeWriter, label: str, rows: list[dict[str, Any]], *,
                     source: str) -> WriteResult:
        """`store.upsert_nodes`, noting which rows of a feed label created their node."""
        if label not in FEED_LABELS:
            return store.upsert_nodes(label, rows, source=source)
        known = store.existing(label, {r["id"] for r in rows if isinstance(r.get("id"), str)})
        result = store.upsert_nodes(label, rows, source=source)
        bad = {reject.row for reject in result.rejects}
        for index, row in enumerate(rows):
            key = row.get("id")
            if index in bad or not isinstance(key, str) or key in known \
                    or (label, key) in self._seen:
                continue
            try:
                at = parse_datetime(row.get("at"))
            except ValueError:
                continue
            self._seen.add((label, key))
            entry = (at, key, label, len(self._seen), row)  # the count keeps rows uncompared
            if len(self._new) < self.limit:
                heapq.heappush(self._new, entry)
            elif entry[:2] > self._new[0][:2]:
                heapq.heapreplace(self._new, entry)
        return result

    def relationship(self, rel: str, row: Mapping[str, Any]) -> None:
        start, end = row.get("from"), row.get("to")
        if not isinstance(start, str) or not isinstance(end, str):
            return
        if rel == "PERFORMED":
            self._by[("Event", end)] = start
        elif rel == "RAISED":
            self._by[("Concern", end)] = start
        elif rel == "HAD_TRIGGER":
            self._company[end] = start
        elif rel == "FOR_ACCOUNT":
            self._account[start] = end

    def items(self) -> list[FeedItem]:
        """The new interactions, oldest first (at most MAX_ITEMS, the most recent)."""
        found = [self._item(label, key, at, row) for at, key, label, _, row in self._new]
        found.sort(key=lambda i: (i.at, i.id))
        return found

    def _item(self, label: str, key: str, at: datetime, row: Mapping[str, Any]) -> FeedItem:
        person = self._by.get((label, key))
        if label == "Event":
            account = self._account.get(key)
            company = account.removeprefix("company:") if account and account.startswith(
                "company:") else None
            props = row.get("properties")
            if isinstance(props, str):
                try:
                    props = json.loads(props)
                except ValueError:
                    props = {}
            return FeedItem(key, "event", str(row.get("type")), at, person, company, account,
                            None, dict(props) if isinstance(props, Mapping) else {})
        if label == "Concern":
            props = {k: row[k] for k in ("channel", "subject", "url") if row.get(k) is not None}
            return FeedItem(key, "concern", "concern_raised", at, person, None, None,
                            _text(row.get("text")), props)
        props = {k: row[k] for k in ("details", "source_url", "amount", "currency", "round")
                 if row.get(k) is not None}
        return FeedItem(key, "trigger", str(row.get("type")), at, None, self._company.get(key),
                        None, _text(row.get("headline") or row.get("details")), props)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class Outbox:
    """The outbox files of one data dir (append side)."""

    def __init__(self, directory: Path, *, keep_days: int = KEEP_DAYS) -> None:
        self.directory = Path(directory)
        self.keep_days = keep_days

    def append(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        """Append items as this process; returns them as written (with their origin)."""
        if not items:
            return []
        origin = process_origin()
        stamped = [replace(item, origin=origin) for item in items]
        self.directory.mkdir(parents=True, exist_ok=True)
        today = datetime.now(UTC)
        path = self.directory / f"{_PREFIX}{today:%Y%m%d}{_SUFFIX}"
        data = "".join(item.to_json() + "\n" for item in stamped).encode()
        with open(path, "ab") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                file.write(data)
                file.flush()
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)
        self._prune(today)
        return stamped

    def _prune(self, today: datetime) -> None:
        oldest = f"{_PREFIX}{today - timedelta(days=self.keep_days):%Y%m%d}{_SUFFIX}"
        for path in outbox_files(self.directory):
            if path.name < oldest:
                path.unlink(missing_ok=True)


def outbox_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.name.startswith(_PREFIX) and p.name.endswith(_SUFFIX))


class OutboxTail:
    """The read side: lines appended after the tail started, file by file, whole lines only."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        files = outbox_files(self.directory)
        self._path: Path | None = files[-1] if files else None
        self._offset = self._path.stat().st_size if self._path is not None else 0

    def poll(self) -> list[FeedItem]:
        """Items appended since the last poll (blocking file I/O: run it off the event loop)."""
        found: list[FeedItem] = []
        while True:
            if self._path is not None:
                found += self._read_current()
            newer = [p for p in outbox_files(self.directory)
                     if self._path is None or p.name > self._path.name]
            if not newer:
                return found
            self._path, self._offset = newer[0], 0

    def _read_current(self) -> list[FeedItem]:
        assert self._path is not None
        try:
            with open(self._path, "rb") as file:
                if os.fstat(file.fileno()).st_size < self._offset:
                    self._offset = 0  # truncated by an operator: read it again from the start
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:  # pruned: go on with the next file
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
        self._offset += end
        items = []
        for line in data[:end].splitlines():
            try:
                items.append(FeedItem.from_json(line))
            except (ValueError, TypeError, KeyError):
                continue  # a damaged line never stops the feed
        return items


def recent_items(directory: Path, limit: int) -> list[FeedItem]:
    """The outbox's last `limit` lines, most recent interaction first (by when it happened: one
    load appends a whole history in its own order, a news load after a usage load). Files are
    read from their ends a block at a time, newest file first, so a week of outbox costs only
    the lines asked for. An item written twice counts once (its newest line); a damaged line is
    skipped, as the live tail skips it, and a line still being written (no newline yet) is not
    read. Blocking file I/O: run it in a thread."""
    found: dict[str, FeedItem] = {}
    lines = 0
    for path in reversed(outbox_files(Path(directory))):
        if lines >= limit:
            break
        try:
            for line in _lines_backwards(path):
                lines += 1
                try:
                    item = FeedItem.from_json(line)
                except (ValueError, TypeError, KeyError):
                    item = None
                if item is not None:
                    found.setdefault(item.id, item)
                if lines >= limit:
                    break
        except FileNotFoundError:  # pruned while we looked
            continue
    return sorted(found.values(), key=lambda i: i.at, reverse=True)


def _lines_backwards(path: Path, block: int = _BLOCK) -> Iterator[bytes]:
    """A file's whole, non-empty lines, last first, read `block` bytes at a time from its end.
    What follows the last newline is a line still being written: not yielded."""
    with open(path, "rb") as file:
        position = file.seek(0, os.SEEK_END)
        head = b""  # the start of the earliest line seen: its beginning is further back
        complete = False  # whether the newline ending the last whole line was found
        while position > 0:
            size = min(block, position)
            position -= size
            file.seek(position)
            parts = (file.read(size) + head).split(b"\n")
            head = parts[0]
            if not complete:
                if len(parts) == 1:
                    continue  # still inside the unfinished last line
                parts = parts[:-1]  # after the last newline: unfinished, or nothing
                complete = True
            for line in reversed(parts[1:]):
                if line.strip():
                    yield line
        if complete and head.strip():
            yield head


__all__ = ["FEED_LABELS", "FeedItem", "FeedRecorder", "Outbox", "OutboxTail",
           "outbox_files", "process_origin", "recent_items"]
