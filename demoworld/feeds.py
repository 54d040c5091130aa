"""The demo's roundup: sample feeds in the shapes of the wild, served on 127.0.0.1 while
`relgraph demo world OUT --load` fetches them and drafts an issue through the real curation path.

The feeds (package data, `demoworld/feeds/`) are written for the demo — customer success, CRM,
SaaS metrics, churn, onboarding, relationship intelligence — in the layouts real publishers
serve: a WordPress RSS 2.0 feed (HTML descriptions and `content:encoded` in CDATA, the "The post
… appeared first on …" trailer, relative links in the content), an Atom feed with `xml:base` and
html, xhtml and text constructs, an RSS 1.0 (RDF) newsletter in ISO-8859-1 with `dc:date`, a
podcast (`itunes:` and `media:`, enclosures), a news site's RSS with `media:group` and
tracking-tagged links (one of them the same story as a vendor's post), a vendor's CDATA feed with a
protocol-relative item link, a Hugo Atom feed with `updated` only, and a JSON Feed 1.1.
`feeds.opml` lists them in folders, as a feed reader exports them.

The files are templates: `{{base}}` is the server's address (self links, the OPML's `xmlUrl`)
and `{{as_of-2d3h|rfc822 PST}}` is the world's present less 2 days 3 hours, written as a date
of that format (`rfc822` with a zone: `GMT`, a US zone name, an offset like `-0500`, or none
for `+0000`, and `short` for a day without its zero and no seconds; `rfc3339` with an offset,
`Z` by default, and `ms` for milliseconds; `date`). So the entries always fall in the week before
the world's present, whenever it is.

    >>> from datetime import UTC, datetime
    >>> render(b"<pubDate>{{as_of-1d2h|rfc822 PST}}</pubDate> {{base}}/a.xml",
    ...        as_of=datetime(2026, 12, 7, 17, 30, tzinfo=UTC), base="http://127.0.0.1:8/f")
    b'<pubDate>Sun, 06 Dec 2026 07:30:00 PST</pubDate> http://127.0.0.1:8/f/a.xml'
"""

from __future__ import annotations

import hashlib
import http.server
import re
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from connectors.tagging import Taxonomy, default_taxonomy, load_taxonomy
from curation import issues
from curation.draft import build
from curation.fetch import FetchOptions, FetchReport, fetch_all
from curation.issues import Issue, Item
from curation.model import SourceKind
from curation.opml import import_opml
from curation.render import Masthead, load_masthead, templates_dir
from curation.sources import add_source, remove_source
from graph.settings import Settings, get_settings
from graph.store import GraphStore

FEEDS = resources.files("demoworld").joinpath("feeds")
OPML = "feeds.opml"
PREFIX = "/relgraph-demo-feeds"  # where the server answers: http://127.0.0.1:PORT/relgraph-demo-feeds/…
LOOPBACK = "127.0.0.1"
# The port the demo serves on when it is free (else any free one): the feeds keep their URLs,
# and so their Source nodes, from one day's demo to the next.
PORT = 47_613
OWN_FEED = "ours/blog.xml"  # the world's own blog (site/blog.xml of the world), when given
DEMO_EDITOR = "relgraph demo"  # who the demo's build is by, in the issue's history


@dataclass(frozen=True, slots=True)
class Sample:
    file: str
    shape: str  # what real-world layout it stands for (the tests check each is there)
    content_type: str  # as such servers send it


SAMPLES = (
    Sample("customer-success-pulse.xml", "rss2-wordpress-content-encoded",
           "application/rss+xml; charset=UTF-8"),
    Sample("renewal-desk.atom", "atom-xml-base", "application/atom+xml"),
    Sample("saas-metrics-weekly.rdf", "rss1-rdf", "application/rdf+xml"),
    Sample("retention-hour-podcast.xml", "podcast-itunes-media", "application/xml"),
    Sample("onboarding-notes.json", "json-feed", "application/feed+json"),
    Sample("saas-wire.xml", "rss2-media-rss", "text/xml; charset=utf-8"),
    Sample("gridline-blog.xml", "rss2-cdata-relative-links", "application/rss+xml"),
    Sample("healthbeam-blog.atom", "atom-updated-only", "application/atom+xml; charset=utf-8"),
)

_BASE = re.compile(rb"\{\{\s*base\s*\}\}")
_DATE = re.compile(rb"\{\{\s*as_of\s*-\s*([^|}]+?)\s*\|\s*([^}]*?)\s*\}\}")
_TOKEN = re.compile(rb"\{\{[^}]*\}\}")
_AGO = re.compile(r"(\d+)([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_ZONES = {"GMT": 0, "UT": 0, "UTC": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
          "MDT": -6, "PST": -8, "PDT": -7}
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")


def _ago(text: str) -> timedelta:
    parts = _AGO.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not an age like 2d3h")
    return sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta())


def _zone(word: str) -> tuple[timezone, str | None]:
    """A zone and, for a named one, the name to write."""
    if word.upper() in _ZONES:
        return timezone(timedelta(hours=_ZONES[word.upper()])), word.upper()
    m = _OFFSET.fullmatch(word)
    if m is None:
        raise ValueError(f"{word!r} is neither a zone name nor an offset like -0500")
    sign = -1 if m.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))), None


def format_date(moment: datetime, spec: str) -> str:
    """`moment` written as `spec` says (see the module docstring)."""
    style, *words = spec.split()
    flags = {w for w in words if w in ("short", "ms")}
    zones = [w for w in words if w not in flags]
    if style == "date":
        return moment.astimezone(UTC).date().isoformat()
    if style == "rfc822":
        zone, name = _zone(zones[0]) if zones else (UTC, None)
        local = moment.astimezone(zone)
        if "short" in flags:
            offset = name or local.strftime("%z")
            return f"{local:%a}, {local.day} {local:%b %Y %H:%M} {offset}"
        if name == "GMT":
            return format_datetime(local.astimezone(UTC), usegmt=True)
        text = format_datetime(local)
        return text[:-5] + name if name else text
    if style == "rfc3339":
        zone = _zone(zones[0])[0] if zones and zones[0] != "Z" else UTC
        local = moment.astimezone(zone)
        text = local.isoformat(timespec="milliseconds" if "ms" in flags else "seconds")
        return text.replace("+00:00", "Z") if not zones or zones[0] == "Z" else text
    raise ValueError(f"date format {spec!r}: use rfc822, rfc3339 or date")


def render(template: bytes, *, as_of: datetime, base: str) -> bytes:
    """A sample's bytes with its dates and base URL filled in (the template's own encoding is
    kept: only ASCII tokens are replaced)."""
    def date_of(m: re.Match[bytes]) -> bytes:
        moment = as_of - _ago(m.group(1).decode("ascii"))
        return format_date(moment, m.group(2).decode("ascii")).encode("ascii")

    filled = _DATE.sub(date_of, _BASE.sub(base.encode("ascii"), template))
    left = _TOKEN.search(filled)
    if left is not None:
        raise ValueError(f"{left.group().decode('ascii', 'replace')}: use {{{{base}}}} or "
                         "{{as_of-AGE|FORMAT}}")
    return filled


def template(name: str) -> bytes:
    """A bundled file's bytes, as shipped (its tokens unfilled)."""
    return FEEDS.joinpath(name).read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet: the demo prints its own
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - the standard library's name
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            data, kind, etag = b"not found\n", "text/plain", None
            self.send_response(404)
        else:
            data, kind, etag = route
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, tuple[bytes, str, str]]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client closing its kept-alive connection is how fetching ends
        super().handle_error(request, client_address)


class FeedServer:
    """The sample feeds (and `extra` files: path under the prefix -> bytes, content type) over
    HTTP on 127.0.0.1, on `port` if it is free (else any free port), in a thread; dates filled
    in for `as_of`. A context manager: stopped (port closed, thread joined) when the block
    ends.

        >>> import urllib.request
        >>> with FeedServer(datetime(2026, 12, 7, tzinfo=UTC)) as server:
        ...     urllib.request.urlopen(server.url("saas-wire.xml")).status
        200
    """

    def __init__(self, as_of: datetime,
                 extra: Mapping[str, tuple[bytes, str]] | None = None, *,
                 port: int = PORT) -> None:
        try:
            self._server = _Server((LOOPBACK, port), _Handler)
        except OSError:  # taken (another demo, a test): any free port
            self._server = _Server((LOOPBACK, 0), _Handler)
        self.port = int(self._server.server_address[1])
        files = {s.file: (render(template(s.file), as_of=as_of, base=self.base),
                          s.content_type) for s in SAMPLES}
        files.update(extra or {})
        self._server.routes = {
            f"{PREFIX}/{name}": (data, kind, f'"{hashlib.sha1(data).hexdigest()[:16]}"')
            for name, (data, kind) in files.items()}
        self.opml = render(template(OPML), as_of=as_of, base=self.base)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="demo-feed-server")

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{PREFIX}"

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    @property
    def paths(self) -> list[str]:
        return sorted(self._server.routes)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# --- the demo's draft ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoRoundup:
    issue: Issue
    items: tuple[Item, ...]  # every candidate, in ranking order
    fetched: FetchReport | None  # None: the demo had built this draft already; nothing fetched

    @property
    def reused(self) -> bool:
        return self.fetched is None


def fetch_options(settings: Settings) -> FetchOptions:
    """`roundup fetch`'s options from the settings, but allowing 127.0.0.1 (the demo's own
    server), and nothing else, past the SSRF guard: for the demo's fetch only, the user's
    RELGRAPH_FEEDS_ALLOW_HOSTS and settings untouched."""
    return FetchOptions.from_settings(settings, allow_hosts=(LOOPBACK,))


def demo_issue(db: sqlite3.Connection, day: date) -> Issue | None:
    """The issue of `day` the demo built (its history starts with a build by `DEMO_EDITOR`)."""
    for issue in issues.list_issues(db):
        if issue.date == day:
            first = issues.history(db, issue.id)[:1]
            if first and first[0].action == "build" and first[0].who == DEMO_EDITOR:
                return issue
    return None


def draft_roundup(db: sqlite3.Connection, store: GraphStore, *, as_of: datetime,
                  data_dir: Path, own_feed: Path | None = None,
                  settings: Settings | None = None, taxonomy: Taxonomy | None = None,
                  masthead: Masthead | None = None) -> DemoRoundup:
    """The roundup draft of the world's present, as an editor makes it: the sample feeds (and
    `own_feed`, the world's own blog, as "ours") served on 127.0.0.1, added as `relgraph roundup
    sources import` and `sources add` add them, fetched as `roundup fetch` fetches (the SSRF guard
    allowing 127.0.0.1 for this fetch only, whatever RELGRAPH_FEEDS_ALLOW_HOSTS says), drafted as
    `roundup build` drafts, dated `as_of`.

    A second run for the same day builds nothing: it returns the draft the demo made (or the
    issue it became, once scheduled or published). The demo's sources are removed once the
    draft is built — their server is gone, so a later `relgraph roundup fetch` would only
    report them refused; what they brought stays (entries, the draft, their Source nodes)."""
    day = as_of.astimezone(UTC).date()
    existing = demo_issue(db, day)
    if existing is not None:
        return DemoRoundup(existing, tuple(issues.items(db, existing.id)), None)
    settings = settings or get_settings()
    if taxonomy is None:
        taxonomy = load_taxonomy(settings.taxonomy) if settings.taxonomy else default_taxonomy()
    masthead = masthead or load_masthead(templates_dir(None))
    options = fetch_options(settings)
    extra = {OWN_FEED: (own_feed.read_bytes(), "application/rss+xml")} if own_feed else {}
    with FeedServer(as_of, extra) as server, tempfile.TemporaryDirectory() as tmp:
        opml = Path(tmp) / OPML
        opml.write_bytes(server.opml)
        imported = import_opml(db, store, opml, data_dir=data_dir)
        urls = [s.url for s in (*imported.added, *imported.updated)]
        if own_feed is not None:
            urls.append(add_source(db, store, server.url(OWN_FEED), kind=SourceKind.OURS,
                                   data_dir=data_dir).source.url)
        try:
            report = fetch_all(db, urls=urls, options=options, now=as_of)
            made = build(db, store, day=day, now=as_of, who=DEMO_EDITOR, name=masthead.name,
                         intro=masthead.intro, taxonomy=taxonomy, data_dir=data_dir)
        finally:
            for url in urls:
                remove_source(db, url)
    return DemoRoundup(made.issue, made.items, report)


__all__ = ["DEMO_EDITOR", "FEEDS", "LOOPBACK", "OPML", "OWN_FEED", "PORT", "PREFIX", "SAMPLES",
           "DemoRoundup", "FeedServer", "Sample", "demo_issue", "draft_roundup", "fetch_options",
           "format_date", "render", "template"]
