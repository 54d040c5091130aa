"""The editorial workflow of a roundup issue: draft → scheduled → published, every edit kept.

An issue (table `issues`) holds every candidate of its window as an item (`items`, with what it
shows in `item_details`): the picked ones have a section (the source kinds: company, vendor,
ours) and a 1-based position in it; the others wait with position 0 and can be picked later.
Items are named on the command line by their number in the ranking (`3`), by their URL, or by
any part of the URL that names one item only (`churn-is-a-symptom`).

Status moves draft → scheduled (`schedule --at`) → published; `unschedule` pulls a scheduled
issue back to draft; `publish` also takes a draft (publish now). Drafts and scheduled issues take
every edit; a published issue is frozen: any edit, schedule or publish of it raises
`FrozenIssue`. Every change — the build itself, each pick, drop, move, blurb, verdict and intro,
each schedule, unschedule and publish — is one row of `edits`: who (`--by`, else $USER), when,
what, on which item, and the value before and after, in words an editor reads.

Publishing writes the issue into the graph through the load pipeline (`Loader.apply`, source
"curation"): a Roundup node (key = issue id; date, title, status published) that FEATURES each
picked item's Content (section: company, vendor or ours; position; blurb; verdict), the Content
nodes with their title, author, date and summary and their ABOUT topics (tagged by the taxonomy,
as every load tags) — inferred, so they only fill what the graph does not know (a catalogued
white paper keeps its kind, date and topics); then renders the archive pages, the index, the
Atom feed and the e-mail under the data dir (`curation.render.write_site`).
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from connectors.records import KeyRef, Link, Node, ReadItem, Tag
from connectors.tagging import Taxonomy
from curation.errors import BadEdit, CurationError, FrozenIssue, NotFound
from curation.model import Candidate, IssueStatus, Reason, SourceKind
from graph import keys
from graph.store import GraphStore

LATEST = "latest"  # names the newest issue


def now_utc() -> datetime:
    return datetime.now(UTC)


def who_default() -> str:
    """Who edits when `--by` is not given: $USER, else the login name."""
    try:
        return os.environ.get("USER") or getpass.getuser() or "unknown"
    except (OSError, KeyError):
        return "unknown"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _when(moment: datetime | None) -> str:
    """A moment as the history and listings show it."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class Issue:
    id: str
    date: date
    since: datetime
    until: datetime
    status: IssueStatus
    title: str
    intro: str
    scheduled_at: datetime | None
    published_at: datetime | None
    created_at: datetime

    @property
    def frozen(self) -> bool:
        return self.status is IssueStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class Item:
    issue_id: str
    content_id: str  # the Content key: canonical URL
    rank: int  # 1-based place in the build's ranking (the number editors name it by)
    section: SourceKind
    position: int  # 1-based within the section when picked, 0 when not
    picked: bool
    blurb: str
    verdict: str
    score: float
    reasons: tuple[Reason, ...]
    title: str
    url: str  # the link as the feed gave it (readers go there)
    author: str | None
    outlet: str | None
    published_at: datetime
    summary: str
    topics: tuple[str, ...]
    sources: tuple[str, ...]
    source_weight: float = 1.0

    @property
    def place(self) -> str:
        return f"{self.section.value} #{self.position}" if self.picked else "not picked"

    def candidate(self) -> Candidate:
        return Candidate(self.content_id, self.title, self.url, self.author, self.outlet,
                         self.section, self.published_at, self.summary, self.topics,
                         self.sources, (), self.source_weight)


@dataclass(frozen=True, slots=True)
class Edit:
    id: int
    issue_id: str
    at: datetime
    who: str
    action: str
    target: str | None
    before: str | None
    after: str | None


# --- reading -----------------------------------------------------------------------------------

_ISSUE_COLUMNS = ("id, date, since, until, status, title, intro, scheduled_at, published_at, "
                  "created_at")


def _issue(row: Sequence[Any]) -> Issue:
    return Issue(row[0], date.fromisoformat(row[1]), datetime.fromisoformat(row[2]),
                 datetime.fromisoformat(row[3]), IssueStatus(row[4]), row[5], row[6],
                 _moment(row[7]), _moment(row[8]), datetime.fromisoformat(row[9]))


def list_issues(db: sqlite3.Connection) -> list[Issue]:
    """Every issue, newest date first."""
    rows = db.execute(f"SELECT {_ISSUE_COLUMNS} FROM issues ORDER BY date DESC, created_at DESC, "
                      "id DESC").fetchall()
    return [_issue(r) for r in rows]


def get(db: sqlite3.Connection, ref: str) -> Issue:
    """The issue of this id (or `latest`: the newest)."""
    if ref == LATEST:
        found = list_issues(db)
        if not found:
            raise NotFound("there is no issue yet: `relgraph roundup build` makes one")
        return found[0]
    row = db.execute(f"SELECT {_ISSUE_COLUMNS} FROM issues WHERE id = ?", (ref,)).fetchone()
    if row is None:
        known = [i.id for i in list_issues(db)[:5]]
        hint = f"; the newest: {', '.join(known)}" if known else ""
        raise NotFound(f"no issue {ref!r}{hint}")
    return _issue(row)


_ITEM_QUERY = """SELECT i.issue_id, i.content_id, d.rank, i.section, i.position, i.picked,
    i.blurb, i.verdict, i.score, i.reasons, d.title, d.url, d.author, d.outlet, d.published_at,
    d.summary, d.topics, d.sources, d.source_weight
FROM items i JOIN item_details d USING (issue_id, content_id)
WHERE i.issue_id = ?"""


def _item(row: Sequence[Any]) -> Item:
    return Item(row[0], row[1], row[2], SourceKind(row[3]), row[4], bool(row[5]), row[6],
                row[7], row[8] or 0.0, tuple(Reason(**r) for r in json.loads(row[9])), row[10],
                row[11], row[12], row[13], datetime.fromisoformat(row[14]), row[15],
                tuple(json.loads(row[16])), tuple(json.loads(row[17])), row[18])


def items(db: sqlite3.Connection, issue_id: str) -> list[Item]:
    """Every item of the issue, in ranking order."""
    return [_item(r) for r in db.execute(_ITEM_QUERY + " ORDER BY d.rank", (issue_id,))]


def sections(db: sqlite3.Connection, issue_id: str) -> dict[SourceKind, list[Item]]:
    """The picked items by section (every section, in the roundup's order), by position."""
    found: dict[SourceKind, list[Item]] = {kind: [] for kind in SourceKind}
    for row in db.execute(_ITEM_QUERY + " AND i.picked = 1 ORDER BY i.position, d.rank",
                          (issue_id,)):
        item = _item(row)
        found[item.section].append(item)
    return found


def history(db: sqlite3.Connection, issue_id: str) -> list[Edit]:
    rows = db.execute("SELECT id, issue_id, at, who, action, target, before, after FROM edits "
                      "WHERE issue_id = ? ORDER BY id", (issue_id,))
    return [Edit(r[0], r[1], datetime.fromisoformat(r[2]), *r[3:]) for r in rows]


def last_published(db: sqlite3.Connection) -> Issue | None:
    row = db.execute(f"SELECT {_ISSUE_COLUMNS} FROM issues WHERE status = 'published' "
                     "ORDER BY until DESC, published_at DESC LIMIT 1").fetchone()
    return None if row is None else _issue(row)


def featured(db: sqlite3.Connection) -> set[str]:
    """Content ids an earlier published issue featured (never featured again)."""
    rows = db.execute("SELECT DISTINCT i.content_id FROM items i JOIN issues s ON s.id = "
                      "i.issue_id WHERE s.status = 'published' AND i.picked = 1")
    return {r[0] for r in rows}


def due(db: sqlite3.Connection, now: datetime) -> list[Issue]:
    """Scheduled issues whose time has come, oldest first."""
    return sorted((i for i in list_issues(db) if i.status is IssueStatus.SCHEDULED
                   and i.scheduled_at is not None and i.scheduled_at <= now),
                  key=lambda i: (i.scheduled_at or now, i.id))


def find_item(db: sqlite3.Connection, issue: Issue, ref: str) -> Item:
    """An item by its rank number, its URL or a part of its URL naming one item only."""
    every = items(db, issue.id)
    text = ref.strip()
    if text.isdecimal():
        for item in every:
            if item.rank == int(text):
                return item
        raise NotFound(f"issue {issue.id} has no item number {text} (1 to {len(every)})")
    try:
        canonical = keys.canonical_url(text) if "/" in text or "." in text else None
    except ValueError:
        canonical = None
    for item in every:
        if text in (item.content_id, item.url) or canonical == item.content_id:
            return item
    matches = [item for item in every if text.casefold() in item.content_id.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"issue {issue.id} has no item {ref!r} (give its number, its URL or a "
                       "part of its URL)")
    raise BadEdit(f"issue {issue.id}: {ref!r} names {len(matches)} items (numbers "
                  f"{', '.join(str(m.rank) for m in matches[:8])}): be more precise")


# --- writing -----------------------------------------------------------------------------------

def new_issue_id(db: sqlite3.Connection, day: date) -> str:
    """`roundup-YYYY-MM-DD`, then `-2`, `-3` … for further issues of the same date."""
    base = f"roundup-{day.isoformat()}"
    taken = {r[0] for r in db.execute("SELECT id FROM issues WHERE id = ? OR id LIKE ?",
                                      (base, base + "-%"))}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def log(db: sqlite3.Connection, issue_id: str, who: str, at: datetime, action: str,
        target: str | None = None, before: str | None = None, after: str | None = None) -> None:
    db.execute("INSERT INTO edits (issue_id, at, who, action, target, before, after) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (issue_id, _iso(at), who, action, target, before, after))


def insert(db: sqlite3.Connection, issue: Issue, new_items: Iterable[Item], *, who: str) -> None:
    """Store a newly built issue and its items; the build is the first entry of its history."""
    db.execute(f"INSERT INTO issues ({_ISSUE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (issue.id, issue.date.isoformat(), _iso(issue.since), _iso(issue.until),
                issue.status.value, issue.title, issue.intro, _iso(issue.scheduled_at),
                _iso(issue.published_at), _iso(issue.created_at)))
    count = picked = 0
    for item in new_items:
        count += 1
        picked += item.picked
        db.execute("INSERT INTO items (issue_id, content_id, section, position, blurb, verdict, "
                   "score, reasons, picked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (issue.id, item.content_id, item.section.value, item.position, item.blurb,
                    item.verdict, item.score,
                    json.dumps([{"name": r.name, "value": r.value, "why": r.why}
                                for r in item.reasons], ensure_ascii=False), int(item.picked)))
        db.execute("INSERT INTO item_details (issue_id, content_id, rank, title, url, author, "
                   "outlet, kind, published_at, summary, topics, sources, source_weight) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (issue.id, item.content_id, item.rank, item.title, item.url, item.author,
                    item.outlet, item.section.value, _iso(item.published_at), item.summary,
                    json.dumps(list(item.topics), ensure_ascii=False),
                    json.dumps(list(item.sources), ensure_ascii=False), item.source_weight))
    log(db, issue.id, who, issue.created_at, "build", None, None,
        f"{count} candidates from {_when(issue.since)} to {_when(issue.until)}; {picked} picked")


def _editable(db: sqlite3.Connection, ref: str, action: str) -> Issue:
    issue = get(db, ref)
    if issue.frozen:
        raise FrozenIssue(f"issue {issue.id} was published {_when(issue.published_at)}: it is "
                          f"frozen ({action} refused)")
    return issue


def _set_item(db: sqlite3.Connection, item: Item, **values: Any) -> None:
    sets = ", ".join(f"{name} = ?" for name in values)
    db.execute(f"UPDATE items SET {sets} WHERE issue_id = ? AND content_id = ?",
               (*values.values(), item.issue_id, item.content_id))


def _renumber(db: sqlite3.Connection, issue_id: str, section: SourceKind,
              order: Sequence[Item]) -> None:
    for n, item in enumerate(order, 1):
        _set_item(db, item, position=n, section=section.value, picked=1)


def _section_of(db: sqlite3.Connection, issue_id: str, section: SourceKind) -> list[Item]:
    return sections(db, issue_id)[section]


def pick(db: sqlite3.Connection, ref: str, content: str, *, section: SourceKind | None = None,
         who: str, now: datetime | None = None) -> Item:
    """Put an item in the issue, at the end of its section (or of `section`)."""
    issue = _editable(db, ref, "pick")
    item = find_item(db, issue, content)
    target = section or item.section
    if item.picked and item.section is target:
        raise BadEdit(f"issue {issue.id}: {item.content_id} is already picked ({item.place})")
    if item.picked:
        rest = [i for i in _section_of(db, issue.id, item.section)
                if i.content_id != item.content_id]
        _renumber(db, issue.id, item.section, rest)
    order = [*_section_of(db, issue.id, target), item]
    _renumber(db, issue.id, target, order)
    after = find_item(db, issue, item.content_id)
    log(db, issue.id, who, now or now_utc(), "pick", item.content_id, item.place, after.place)
    return after


def drop(db: sqlite3.Connection, ref: str, content: str, *, who: str,
         now: datetime | None = None) -> Item:
    """Take an item out of the issue (it stays a candidate: `pick` puts it back)."""
    issue = _editable(db, ref, "drop")
    item = find_item(db, issue, content)
    if not item.picked:
        raise BadEdit(f"issue {issue.id}: {item.content_id} is not picked")
    _set_item(db, item, picked=0, position=0)
    _renumber(db, issue.id, item.section, _section_of(db, issue.id, item.section))
    log(db, issue.id, who, now or now_utc(), "drop", item.content_id, item.place, "not picked")
    return find_item(db, issue, item.content_id)


def move(db: sqlite3.Connection, ref: str, content: str, to: int, *,
         section: SourceKind | None = None, who: str, now: datetime | None = None) -> Item:
    """Move a picked item to position `to` (1-based) of its section, or of `section`."""
    issue = _editable(db, ref, "move")
    item = find_item(db, issue, content)
    if not item.picked:
        raise BadEdit(f"issue {issue.id}: {item.content_id} is not picked: pick it first")
    target = section or item.section
    if target is not item.section:
        rest = [i for i in _section_of(db, issue.id, item.section)
                if i.content_id != item.content_id]
        _renumber(db, issue.id, item.section, rest)
    order = [i for i in _section_of(db, issue.id, target) if i.content_id != item.content_id]
    if not 1 <= to <= len(order) + 1:
        raise BadEdit(f"issue {issue.id}: position {to} is outside section {target.value} "
                      f"(1 to {len(order) + 1})")
    order.insert(to - 1, item)
    _renumber(db, issue.id, target, order)
    after = find_item(db, issue, item.content_id)
    log(db, issue.id, who, now or now_utc(), "move", item.content_id, item.place, after.place)
    return after


def _text(value: str, what: str) -> str:
    text = " ".join(value.split()) if what != "intro" else value.strip()
    if not text:
        raise BadEdit(f"an empty {what}: write some text")
    return text


def set_blurb(db: sqlite3.Connection, ref: str, content: str, text: str, *, who: str,
              now: datetime | None = None) -> Item:
    issue = _editable(db, ref, "blurb")
    item = find_item(db, issue, content)
    new = _text(text, "blurb")
    _set_item(db, item, blurb=new)
    log(db, issue.id, who, now or now_utc(), "blurb", item.content_id, item.blurb, new)
    return replace(item, blurb=new)


def set_verdict(db: sqlite3.Connection, ref: str, content: str, text: str, *, who: str,
                now: datetime | None = None) -> Item:
    issue = _editable(db, ref, "verdict")
    item = find_item(db, issue, content)
    new = _text(text, "verdict")
    _set_item(db, item, verdict=new)
    log(db, issue.id, who, now or now_utc(), "verdict", item.content_id, item.verdict, new)
    return replace(item, verdict=new)


def set_intro(db: sqlite3.Connection, ref: str, text: str, *, who: str,
              now: datetime | None = None) -> Issue:
    issue = _editable(db, ref, "intro")
    new = _text(text, "intro")
    db.execute("UPDATE issues SET intro = ? WHERE id = ?", (new, issue.id))
    log(db, issue.id, who, now or now_utc(), "intro", None, issue.intro, new)
    return replace(issue, intro=new)


def _has_items(db: sqlite3.Connection, issue: Issue, action: str) -> None:
    if not any(sections(db, issue.id).values()):
        raise BadEdit(f"issue {issue.id} has no picked item: nothing to {action} "
                      "(`relgraph roundup edit ISSUE pick N`)")


def _status_words(issue: Issue) -> str:
    if issue.status is IssueStatus.SCHEDULED:
        return f"scheduled for {_when(issue.scheduled_at)}"
    return issue.status.value


def schedule(db: sqlite3.Connection, ref: str, at: datetime, *, who: str,
             now: datetime | None = None) -> Issue:
    """Schedule (or re-schedule) a draft for `at`; `relgraph roundup publish --due` sends it."""
    now = now or now_utc()
    issue = _editable(db, ref, "schedule")
    if at.tzinfo is None:
        raise BadEdit("the schedule time must carry a timezone (e.g. 2026-11-27T08:00:00Z)")
    if at < now:
        raise BadEdit(f"issue {issue.id}: {_when(at)} is in the past (now: {_when(now)})")
    _has_items(db, issue, "schedule")
    db.execute("UPDATE issues SET status = 'scheduled', scheduled_at = ? WHERE id = ?",
               (_iso(at), issue.id))
    after = get(db, issue.id)
    log(db, issue.id, who, now, "schedule", None, _status_words(issue), _status_words(after))
    return after


def unschedule(db: sqlite3.Connection, ref: str, *, who: str,
               now: datetime | None = None) -> Issue:
    """Pull a scheduled issue back to draft."""
    issue = _editable(db, ref, "unschedule")
    if issue.status is not IssueStatus.SCHEDULED:
        raise BadEdit(f"issue {issue.id} is a draft, not scheduled: nothing to pull back")
    db.execute("UPDATE issues SET status = 'draft', scheduled_at = NULL WHERE id = ?",
               (issue.id,))
    log(db, issue.id, who, now or now_utc(), "unschedule", None, _status_words(issue), "draft")
    return get(db, issue.id)


def discard(db: sqlite3.Connection, ref: str) -> Issue:
    """Delete a draft, its items and its history: the day's id is free again. A published
    issue is frozen; a scheduled one is pulled back (`unschedule`) before it can go."""
    issue = _editable(db, ref, "discard")
    if issue.status is not IssueStatus.DRAFT:
        raise BadEdit(f"issue {issue.id} is {_status_words(issue)}: `relgraph roundup "
                      f"unschedule {issue.id}` first, then discard the draft")
    for table, column in (("item_details", "issue_id"), ("items", "issue_id"),
                          ("edits", "issue_id"), ("issues", "id")):
        db.execute(f"DELETE FROM {table} WHERE {column} = ?", (issue.id,))
    return issue


@dataclass(frozen=True, slots=True)
class Published:
    issue: Issue
    files: tuple[Path, ...]
    nodes: int
    relationships: int


def graph_records(issue: Issue, by_section: dict[SourceKind, list[Item]],
                  published_at: datetime) -> list[ReadItem]:
    """What a published issue says to the graph (written through the load pipeline)."""
    roundup = KeyRef("Roundup", issue.id)
    records: list[ReadItem] = [Node(roundup, {"date": day_start(issue.date),
                                              "status": "published", "title": issue.title})]
    for kind, section in by_section.items():
        for item in section:
            content = KeyRef("Content", item.content_id)
            props: dict[str, Any] = {"title": item.title, "published_at": item.published_at}
            if item.author:
                props["author"] = item.author
            if item.summary:
                props["summary"] = item.summary
            # What the story's feeds said: it fills gaps, never overwrites (a catalogue's).
            records.append(Node(content, props, inferred=True))
            records.append(Tag(content, text=f"{item.title}.\n{item.summary}",
                               topics=item.topics, inferred=True))
            records.append(Link("FEATURES", roundup, content, {
                "section": kind.value, "position": item.position, "blurb": item.blurb,
                "verdict": item.verdict}))
    return records


def publish(db: sqlite3.Connection, store: GraphStore, ref: str, *, data_dir: Path, who: str,
            now: datetime | None = None, taxonomy: Taxonomy | None = None,
            templates: Path | None = None) -> Published:
    """Publish now: the graph first (idempotent upserts, so a failure later is retried by
    publishing again), then the issue frozen, then the archive, index, feed and e-mail files."""
    from connectors.pipeline import Loader
    from curation.render import write_site

    now = now or now_utc()
    issue = _editable(db, ref, "publish")
    _has_items(db, issue, "publish")
    by_section = sections(db, issue.id)
    summary = Loader(store, data_dir=data_dir, taxonomy=taxonomy).apply(
        graph_records(issue, by_section, now), source="curation",
        provenance=f"curation:{issue.id}", where=f"roundup {issue.id}")
    if summary.rejected:
        raise CurationError(f"issue {issue.id}: the graph refused {summary.rejected} of its "
                            f"records ({'; '.join(map(str, summary.examples[:3]))}); nothing "
                            "was published")
    db.execute("UPDATE issues SET status = 'published', published_at = ? WHERE id = ?",
               (_iso(now), issue.id))
    after = get(db, issue.id)
    log(db, issue.id, who, now, "publish", None, _status_words(issue), "published")
    files = write_site(db, data_dir, templates=templates, issue=after)
    return Published(after, tuple(files), sum(summary.nodes.values()),
                     sum(summary.relationships.values()))
