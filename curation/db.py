"""The curation database: `<data dir>/curation.sqlite` (SQLite, WAL), shared by its two halves.

Tables and who writes them (both read all of them):
- feeds half: `sources` (the feed list and conditional-GET state), `fetches` (one row per feed
  per fetch: the fetch report's lines), `entries` (every entry ever fetched, by stable id) and
  `clusters` (entry id -> the cluster of entries that are one story);
- issues half: `issues` (one roundup issue: date, window, status, schedule, intro), `items`
  (an issue's picked candidates: section, position, blurb, verdict), `edits` (every edit: who,
  when, what, before/after — the edit history), `item_details` (what an item shows, copied
  from its candidate when the issue is built: title, link, author, outlet, date, summary,
  topics, feeds — so an issue renders the same however the feeds change later).

    >>> import tempfile, pathlib
    >>> with connect(pathlib.Path(tempfile.mkdtemp()) / "curation.sqlite") as db:
    ...     db.execute("SELECT count(*) FROM sources").fetchone()[0]
    0
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from curation.errors import CurationError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    url TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('company', 'vendor', 'ours')),
    name TEXT, weight REAL NOT NULL DEFAULT 1.0, etag TEXT, last_modified TEXT, moved_to TEXT,
    added_at TEXT NOT NULL, last_fetched_at TEXT, last_status TEXT);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY, feed_url TEXT NOT NULL, at TEXT NOT NULL, outcome TEXT NOT NULL,
    status INTEGER, entries INTEGER NOT NULL DEFAULT 0, new_entries INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY, feed_url TEXT NOT NULL, guid TEXT, url TEXT NOT NULL,
    title TEXT NOT NULL, author TEXT, published_at TEXT NOT NULL, first_seen_at TEXT NOT NULL,
    summary TEXT NOT NULL, content_html TEXT, topics TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS entries_published ON entries (published_at);
CREATE INDEX IF NOT EXISTS entries_url ON entries (url);
CREATE TABLE IF NOT EXISTS clusters (entry_id TEXT PRIMARY KEY, cluster TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS clusters_cluster ON clusters (cluster);
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY, date TEXT NOT NULL, since TEXT NOT NULL, until TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    title TEXT NOT NULL, intro TEXT NOT NULL DEFAULT '', scheduled_at TEXT,
    published_at TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    issue_id TEXT NOT NULL REFERENCES issues (id), content_id TEXT NOT NULL,
    section TEXT NOT NULL, position INTEGER NOT NULL, blurb TEXT NOT NULL,
    verdict TEXT NOT NULL, score REAL, reasons TEXT NOT NULL DEFAULT '[]',
    picked INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (issue_id, content_id));
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY, issue_id TEXT NOT NULL, at TEXT NOT NULL, who TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT, before TEXT, after TEXT);
CREATE INDEX IF NOT EXISTS edits_issue ON edits (issue_id, id);
CREATE TABLE IF NOT EXISTS item_details (
    issue_id TEXT NOT NULL, content_id TEXT NOT NULL, rank INTEGER NOT NULL,
    title TEXT NOT NULL, url TEXT NOT NULL, author TEXT, outlet TEXT, kind TEXT NOT NULL,
    published_at TEXT NOT NULL, summary TEXT NOT NULL, topics TEXT NOT NULL DEFAULT '[]',
    sources TEXT NOT NULL DEFAULT '[]', source_weight REAL NOT NULL DEFAULT 1.0,
    PRIMARY KEY (issue_id, content_id),
    FOREIGN KEY (issue_id, content_id) REFERENCES items (issue_id, content_id));
"""


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection with the schema in place; commits when the block ends, rolls back on error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as exc:
        raise CurationError(f"curation database {path}: {exc}") from exc
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise CurationError(f"curation database {path} has schema {row[0]}; this version "
                                f"reads {SCHEMA_VERSION}")
        with db:
            yield db
    except sqlite3.DatabaseError as exc:
        raise CurationError(f"curation database {path}: {exc}") from exc
    finally:
        db.close()
