"""`relgraph roundup fetch`: every source's feed, fetched concurrently, one report line each.

Fetching (httpx, async):
- concurrent, at most `FetchOptions.concurrency` feeds at once and `per_host` per server;
- connect and read timeouts, and a deadline for the whole feed (a server dripping one byte a
  second never trips a read timeout);
- a real User-Agent (`relgraph-roundup/0.1 (+URL)`), an Accept header naming feed types;
- conditional GET: the ETag and Last-Modified of the last good fetch are sent back, and a 304
  means "nothing new" (no body, no parse);
- redirects followed by hand (at most `max_redirects`), so a loop is named as one ("redirect
  loop: A -> B -> A") and permanent ones (301, 308, while every hop before was permanent too) are
  recorded: the source's `moved_to`, fetched there from the next fetch on;
- a size cap: the body is streamed (decompressed) and reading stops past `max_bytes`, so a
  huge or endless response (or a compression bomb) costs at most that much memory.

Each feed's failure is caught and reported on its line — timeouts, refused connections, 4xx and
5xx answers, an HTML page instead of a feed (naming the feed the page links to, when it does),
a body over the cap, a broken encoding, a feed without entries — and never stops the others.
Nothing already fetched is ever deleted: a feed that fails keeps its entries and its
conditional-GET state.

Parsing is `curation.parse.parse_feed`; every usable entry is kept in the `entries` table by a
stable id (the source's URL and the entry's GUID, else its link), so fetching twice adds
nothing, and an entry's first-seen time (the date of an entry that has none) never moves.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import httpx

from curation.model import Entry, FeedSource
from curation.parse import NotAFeed, ParsedEntry, ParsedFeed, clip, parse_feed
from curation.sources import list_sources
from graph.keys import canonical_url

VERSION = "0.1"
# Where a feed's owner reads who fetches their feed: set it to your own page (`fetch --contact`,
# RELGRAPH_ROUNDUP_CONTACT).
DEFAULT_CONTACT = "https://relgraph.example/roundup"
ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
          "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
          "application/json;q=0.5, */*;q=0.1")
_PERMANENT = frozenset({301, 308})
_REDIRECT = frozenset({301, 302, 303, 307, 308})
_ALTERNATE = re.compile(
    r"""<link\b(?=[^>]*\brel\s*=\s*["']?alternate)(?=[^>]*\btype\s*=\s*["']?application/"""
    r"""(?:rss|atom)\+xml)[^>]*\bhref\s*=\s*["']([^"'>]+)""", re.IGNORECASE)


def user_agent(contact: str = DEFAULT_CONTACT) -> str:
    """The User-Agent every request sends: who we are and where to read about us."""
    return f"relgraph-roundup/{VERSION} (+{contact})"


@dataclass(frozen=True, slots=True)
class FetchOptions:
    concurrency: int = 16
    per_host: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # the whole feed: connect, redirects, every byte
    max_bytes: int = 16 << 20  # the largest body read (decompressed)
    max_redirects: int = 8
    user_agent: str = field(default_factory=user_agent)


class Outcome(StrEnum):
    OK = "ok"  # fetched and parsed
    UNCHANGED = "unchanged"  # 304 Not Modified
    WARNING = "warning"  # fetched, entries kept, but something was off (named on the line)
    FAILED = "failed"  # nothing usable this time (named on the line); nothing lost either


@dataclass(slots=True)
class FeedReport:
    """One feed's outcome: what the report's line for it says, and the figures behind it."""

    url: str  # the source's URL as the editor gave it
    outcome: Outcome
    message: str
    status: int | None = None
    fetched_url: str | None = None  # where the body came from, after redirects
    moved_to: str | None = None  # a permanent redirect recorded by this fetch
    entries: int = 0  # usable entries in the feed
    new_entries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    parser: str | None = None
    fell_back: bool = False
    parse_seconds: float = 0.0
    name: str | None = None  # the feed's own title

    @property
    def line(self) -> str:
        return f"{self.outcome.value:<9} {self.url}  {self.message}"


@dataclass(slots=True)
class FetchReport:
    feeds: list[FeedReport]
    seconds: float

    def count(self, outcome: Outcome) -> int:
        return sum(f.outcome is outcome for f in self.feeds)

    @property
    def new_entries(self) -> int:
        return sum(f.new_entries for f in self.feeds)

    @property
    def parse_seconds(self) -> float:
        return sum(f.parse_seconds for f in self.feeds)

    @property
    def parsed(self) -> int:
        return sum(f.parser is not None for f in self.feeds)

    @property
    def fallbacks(self) -> int:
        return sum(f.fell_back for f in self.feeds)

    @property
    def summary(self) -> str:
        counts = ", ".join(f"{self.count(o)} {o.value}" for o in Outcome if self.count(o))
        return (f"{len(self.feeds)} feed{'s' if len(self.feeds) != 1 else ''} in "
                f"{self.seconds:.1f} s: {counts or 'none'}; {self.new_entries} new "
                f"entr{'y' if self.new_entries == 1 else 'ies'}")


class _Failed(Exception):
    """A feed's failure, with the report line's text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.moved_to: str | None = None  # a permanent redirect seen before the failure


@dataclass(slots=True)
class _Body:
    status: int
    url: str
    data: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None
    redirects: int = 0


# --- HTTP ------------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _megabytes(count: int) -> str:
    return f"{count / (1 << 20):.1f} MB" if count >= 1 << 20 else f"{count:,} bytes"


async def _get(client: httpx.AsyncClient, source: FeedSource, opts: FetchOptions) -> _Body:
    url = source.moved_to or source.url
    headers: dict[str, str] = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    visited = [url]
    moved_to: str | None = None
    permanent_so_far = True
    while True:
        try:
            request = client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise _Failed(f"cannot fetch {url!r}: {exc}") from None
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            if status in _REDIRECT and response.headers.get("location"):
                url, moved_to, permanent_so_far = _redirect(response, url, visited, moved_to,
                                                            permanent_so_far, opts)
                continue
            return await _read(response, url, visited, moved_to, opts)
        except _Failed as exc:
            exc.moved_to = moved_to
            raise
        finally:
            await response.aclose()


def _redirect(response: httpx.Response, url: str, visited: list[str], moved_to: str | None,
              permanent_so_far: bool, opts: FetchOptions) -> tuple[str, str | None, bool]:
    """The next URL of a redirect (checked for loops and count), and the permanent move so far."""
    status = response.status_code
    target = urljoin(url, response.headers["location"].strip())
    if urlsplit(target).scheme not in ("http", "https"):
        raise _Failed(f"redirected to {target!r}, which is not a web URL", status)
    if status in _PERMANENT and permanent_so_far:
        moved_to = target
    else:
        permanent_so_far = False
    if target in visited:
        loop = " -> ".join([*visited[visited.index(target):], target])
        raise _Failed(f"redirect loop: {clip(loop, 300)}", status)
    visited.append(target)
    if len(visited) > opts.max_redirects + 1:
        raise _Failed(f"more than {opts.max_redirects} redirects (last to {target})", status)
    return target, moved_to, permanent_so_far


async def _read(response: httpx.Response, url: str, visited: list[str], moved_to: str | None,
                opts: FetchOptions) -> _Body:
    """The final answer: a 304, or a 200's body read up to the size cap; else `_Failed`."""
    status = response.status_code
    body = _Body(status, url, moved_to=moved_to, redirects=len(visited) - 1,
                 content_type=response.headers.get("content-type"),
                 etag=response.headers.get("etag"),
                 last_modified=response.headers.get("last-modified"))
    if status == 304:
        return body
    if status >= 400 or status < 200:
        reason = response.reason_phrase or ""
        retry = response.headers.get("retry-after")
        hint = f" (retry after {retry})" if retry and status in (429, 503) else ""
        raise _Failed(f"HTTP {status}{' ' + reason if reason else ''}{hint}", status)
    if status != 200:
        raise _Failed(f"HTTP {status} {response.reason_phrase}: no feed in the answer", status)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > opts.max_bytes \
            and not response.headers.get("content-encoding"):
        raise _Failed(f"too large: {_megabytes(int(declared))} announced, more than the "
                      f"{_megabytes(opts.max_bytes)} a feed may have", status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > opts.max_bytes:
            raise _Failed(f"too large: more than {_megabytes(opts.max_bytes)}, stopped reading",
                          status)
        chunks.append(chunk)
    body.data = b"".join(chunks)
    return body


def _http_failure(exc: Exception, opts: FetchOptions) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting (after {_seconds(opts.connect_timeout)})"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timed out: no data for {_seconds(opts.read_timeout)} (read timeout)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {clip(str(exc) or type(exc).__name__, 200)}"
    if isinstance(exc, httpx.DecodingError):
        return f"the answer's compression is broken: {clip(str(exc), 200)}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server broke the connection: {clip(str(exc), 200)}"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {clip(str(exc), 200)}"
    return f"unexpected {type(exc).__name__}: {clip(str(exc), 200)}"


def _html_hint(data: bytes, base: str) -> str:
    match = _ALTERNATE.search(data[:200_000].decode("utf-8", "replace"))
    if match:
        return f"; the page names its feed: {urljoin(base, match.group(1).strip())} (add that)"
    return ""


# --- storing entries -------------------------------------------------------------------------


def entry_id(feed_url: str, ident: str) -> str:
    """Stable id of an entry: its source's URL and its GUID (else its link)."""
    digest = hashlib.sha1(f"{feed_url}\n{ident}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def _stamp(moment: datetime) -> str:
    """Times in the database: UTC, fixed width, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def global_guid(guid: str | None) -> bool:
    """A GUID that names one story whichever feed carries it (a URL, tag: or urn: URI of some
    length), as opposed to a feed-local counter ("1", "post-42") two feeds may both use."""
    if not guid or len(guid) < 12:
        return False
    lowered = guid.lower()
    return lowered.startswith(("http://", "https://", "tag:", "urn:"))


@dataclass(slots=True)
class Stored:
    entries: int = 0
    new: int = 0
    repeated: int = 0  # the same GUID/link twice in one feed
    undated: int = 0
    future: int = 0
    titled_from_text: int = 0
    synthetic: int = 0
    shared_guids: list[tuple[str, str]] = field(default_factory=list)  # (guid, other feed)


def store_entries(db: sqlite3.Connection, source: FeedSource, entries: Sequence[ParsedEntry],
                  *, now: datetime) -> Stored:
    """Keep a feed's usable entries: new ones inserted, known ones updated (their first-seen
    time, and a date given by first sight, never move); nothing is deleted."""
    result = Stored()
    rows: dict[str, tuple[ParsedEntry, str]] = {}
    for entry in entries:
        try:
            url = canonical_url(entry.link)
        except ValueError:
            continue  # parse only keeps web links; a defensive skip
        key = entry_id(source.url, entry.guid or entry.link)
        if key in rows:
            result.repeated += 1
            continue
        rows[key] = (entry, url)
    known: dict[str, tuple[str, str]] = {}
    ids = list(rows)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for key, first_seen, published in db.execute(
                f"SELECT id, first_seen_at, published_at FROM entries WHERE id IN ({marks})",
                chunk):
            known[key] = (first_seen, published)
    seen_at = _stamp(now)
    values = []
    for key, (entry, url) in rows.items():
        first_seen, stored_published = known.get(key, (seen_at, seen_at))
        if entry.published_at is not None:
            published = _stamp(entry.published_at)
        else:
            published = stored_published if key in known else first_seen
            result.undated += 1
        result.future += entry.future_date
        result.titled_from_text += entry.titled_from_text
        result.synthetic += entry.synthetic_link
        values.append((key, source.url, entry.guid, url, entry.title, entry.author, published,
                       first_seen, entry.summary, entry.content_html,
                       json.dumps(list(entry.categories), ensure_ascii=False)))
    db.executemany(
        """INSERT INTO entries (id, feed_url, guid, url, title, author, published_at,
                                first_seen_at, summary, content_html, topics)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET url = excluded.url, title = excluded.title,
               author = excluded.author, published_at = excluded.published_at,
               summary = excluded.summary, content_html = excluded.content_html,
               topics = excluded.topics
           WHERE (entries.url, entries.title, entries.author, entries.published_at,
                  entries.summary, entries.content_html, entries.topics)
                 IS NOT (excluded.url, excluded.title, excluded.author, excluded.published_at,
                         excluded.summary, excluded.content_html, excluded.topics)""",
        values)
    result.entries = len(rows)
    result.new = len(rows) - len(known)
    local = {e.guid: url for e, url in rows.values() if e.guid and not global_guid(e.guid)}
    guids = list(local)
    for start in range(0, len(guids), 500):
        chunk = guids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for guid, other, other_url in db.execute(
                f"SELECT guid, feed_url, url FROM entries WHERE guid IN ({marks}) "
                "AND feed_url != ?", [*chunk, source.url]):
            if other_url != local[guid]:
                result.shared_guids.append((guid, other))
    return result


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _notes(feed: ParsedFeed, stored: Stored) -> list[str]:
    notes = []
    if feed.warning:
        notes.append(feed.warning)
    if feed.skipped:
        notes.append(f"{_plural(feed.skipped, 'entry', 'entries')} without an id or link, or "
                     "without a title or text, skipped")
    if stored.repeated:
        notes.append(f"{_plural(stored.repeated, 'entry', 'entries')} repeated in the feed "
                     "(same GUID or link), kept once")
    if stored.shared_guids:
        guid, other = stored.shared_guids[0]
        notes.append(f"{_plural(len(stored.shared_guids), 'GUID')} also used by another feed "
                     f"for a different story (e.g. {clip(guid, 40)!r} in {other}): kept apart")
    if stored.undated:
        notes.append(f"{_plural(stored.undated, 'entry', 'entries')} without a date: dated when "
                     "first seen")
    if stored.future:
        notes.append(f"{_plural(stored.future, 'entry', 'entries')} dated in the future: dated "
                     "when first seen")
    if stored.titled_from_text:
        notes.append(f"{_plural(stored.titled_from_text, 'entry', 'entries')} without a title: "
                     "titled from their text")
    if stored.synthetic:
        notes.append(f"{_plural(stored.synthetic, 'entry', 'entries')} without a web link: "
                     "keyed by their id")
    return notes


# --- one feed, all feeds ---------------------------------------------------------------------


async def _fetch_one(client: httpx.AsyncClient, db: sqlite3.Connection, source: FeedSource,
                     opts: FetchOptions, now: datetime) -> FeedReport:
    started = time.perf_counter()
    report = FeedReport(source.url, Outcome.FAILED, "")
    body: _Body | None = None
    try:
        async with asyncio.timeout(opts.total_timeout):
            body = await _get(client, source, opts)
    except _Failed as exc:
        report.message, report.status, report.moved_to = exc.message, exc.status, exc.moved_to
    except TimeoutError:
        report.message = f"timed out: not done after {_seconds(opts.total_timeout)} in all"
    except Exception as exc:  # noqa: BLE001 - one feed's failure never stops the others
        report.message = _http_failure(exc, opts)
    else:
        report.status, report.fetched_url, report.moved_to = body.status, body.url, body.moved_to
        report.bytes = len(body.data)
        try:
            parsed: ParsedFeed | NotAFeed | None = None
            if body.status != 304:
                # On the event loop, between downloads: parsing in worker threads measured
                # slower (200 feeds on 2 cores: 3.2-4.0 s against 2.9 s; the GIL is contended).
                parsed = _parse(body, now)
            _take(db, source, body, parsed, report, now)
        except Exception as exc:  # noqa: BLE001 - a bug on one feed's data stays on its line
            report.outcome = Outcome.FAILED
            report.message = f"unexpected {type(exc).__name__} reading the feed: " \
                             f"{clip(str(exc), 200)}"
    report.seconds = time.perf_counter() - started
    if report.moved_to and report.moved_to != source.url:
        report.message += f"; moved permanently to {report.moved_to} (fetched there from now on)"
    _record(db, source, report, None if report.outcome is Outcome.FAILED else body, now)
    return report


def _parse(body: _Body, now: datetime) -> ParsedFeed | NotAFeed:
    try:
        return parse_feed(body.data, url=body.url, content_type=body.content_type, now=now)
    except NotAFeed as exc:
        return exc


def _take(db: sqlite3.Connection, source: FeedSource, body: _Body,
          feed: ParsedFeed | NotAFeed | None, report: FeedReport, now: datetime) -> None:
    if body.status == 304 or feed is None:
        report.outcome, report.message = Outcome.UNCHANGED, "not modified (304): nothing new"
        return
    if isinstance(feed, NotAFeed):
        exc = feed
        report.outcome = Outcome.FAILED
        hint = _html_hint(body.data, body.url) if "HTML" in str(exc) else ""
        kind = f" ({body.content_type.split(';')[0].strip()})" if body.content_type else ""
        report.message = f"HTTP {body.status}{kind}: {exc}{hint}"
        return
    report.parser, report.fell_back = feed.parser, feed.fell_back
    report.parse_seconds, report.name = feed.parse_seconds, feed.title
    stored = store_entries(db, source, feed.entries, now=now)
    report.entries, report.new_entries = stored.entries, stored.new
    notes = _notes(feed, stored)
    parsed_by = f"; parsed by {feed.parser} ({feed.fallback_reason})" if feed.fell_back else ""
    if not stored.entries:
        report.outcome = Outcome.WARNING
        report.message = f"HTTP {body.status}: the feed has no entries" + \
            (f" ({'; '.join(notes)})" if notes else "") + parsed_by
        return
    report.outcome = Outcome.WARNING if notes else Outcome.OK
    report.message = (f"HTTP {body.status}: {_plural(stored.entries, 'entry', 'entries')}, "
                      f"{stored.new} new" + "".join(f"; {n}" for n in notes) + parsed_by)


def _record(db: sqlite3.Connection, source: FeedSource, report: FeedReport, body: _Body | None,
            now: datetime) -> None:
    """The fetch's row in `fetches`, and the source's state for next time."""
    at = now.astimezone(UTC).isoformat(timespec="seconds")
    db.execute("INSERT INTO fetches (feed_url, at, outcome, status, entries, new_entries, "
               "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (source.url, at, report.outcome.value, report.status, report.entries,
                report.new_entries, report.message))
    moved_to = source.moved_to
    if report.moved_to:
        moved_to = None if _same(report.moved_to, source.url) else report.moved_to
    etag, last_modified = source.etag, source.last_modified
    if body is not None and body.status == 200:  # a good fetch: the validators it came with
        etag, last_modified = body.etag, body.last_modified
    elif report.moved_to and not _same(report.moved_to, source.moved_to or source.url):
        etag = last_modified = None  # validators belong to the old address
    db.execute("UPDATE sources SET etag = ?, last_modified = ?, moved_to = ?, "
               "last_fetched_at = ?, last_status = ?, name = coalesce(name, ?) WHERE url = ?",
               (etag, last_modified, moved_to, at, f"{report.outcome.value}: {report.message}",
                report.name, source.url))


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return a == b
    try:
        return canonical_url(a) == canonical_url(b)
    except ValueError:
        return a == b


async def fetch_sources(db: sqlite3.Connection, sources: Iterable[FeedSource], *,
                        options: FetchOptions | None = None, now: datetime | None = None,
                        transport: httpx.AsyncBaseTransport | None = None) -> FetchReport:
    """Fetch these sources concurrently; one `FeedReport` each, in the order given."""
    opts = options or FetchOptions()
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    sources = list(sources)
    limit = asyncio.Semaphore(opts.concurrency)
    hosts: dict[str, asyncio.Semaphore] = {}
    timeout = httpx.Timeout(connect=opts.connect_timeout, read=opts.read_timeout,
                            write=opts.read_timeout, pool=None)
    limits = httpx.Limits(max_connections=opts.concurrency,
                          max_keepalive_connections=opts.concurrency)

    async def one(client: httpx.AsyncClient, source: FeedSource) -> FeedReport:
        host = urlsplit(source.moved_to or source.url).netloc.lower()
        per_host = hosts.setdefault(host, asyncio.Semaphore(opts.per_host))
        async with limit, per_host:
            return await _fetch_one(client, db, source, opts, now)

    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False,
                                 headers={"User-Agent": opts.user_agent, "Accept": ACCEPT},
                                 transport=transport) as client:
        reports = await asyncio.gather(*(one(client, s) for s in sources))
    return FetchReport(list(reports), time.perf_counter() - started)


def fetch_all(db: sqlite3.Connection, *, urls: Iterable[str] | None = None,
              options: FetchOptions | None = None, now: datetime | None = None,
              transport: httpx.AsyncBaseTransport | None = None) -> FetchReport:
    """`relgraph roundup fetch`: every source (or those whose URL is in `urls`), from sync code.
    Entries, fetch rows and source state are written to `db` (committed by its caller)."""
    sources = list_sources(db)
    if urls is not None:
        wanted = {canonical_url(u) for u in urls}
        sources = [s for s in sources if canonical_url(s.url) in wanted]
    return asyncio.run(fetch_sources(db, sources, options=options, now=now,
                                     transport=transport))


def entries_of(db: sqlite3.Connection, where: str = "", params: Sequence[object] = ()
               ) -> list[Entry]:
    """Stored entries as `Entry` values (`where`: an SQL condition on the entries table)."""
    rows = db.execute(
        "SELECT id, feed_url, guid, url, title, author, published_at, first_seen_at, summary, "
        f"content_html, topics FROM entries {'WHERE ' + where if where else ''}", params)
    return [Entry(id=r[0], feed_url=r[1], guid=r[2], url=r[3], title=r[4], author=r[5],
                  published_at=datetime.fromisoformat(r[6]),
                  first_seen_at=datetime.fromisoformat(r[7]), summary=r[8], content_html=r[9],
                  topics=tuple(json.loads(r[10] or "[]"))) for r in rows]


__all__ = ["ACCEPT", "FeedReport", "FetchOptions", "FetchReport", "Outcome", "Stored",
           "entries_of", "entry_id", "fetch_all", "fetch_sources", "global_guid",
           "store_entries", "user_agent"]