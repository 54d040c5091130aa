"""Connectors benchmark: 1M Segment events and 100k HubSpot contacts through the load pipeline.

The issue's goal: rows/s per stage (parse, resolve, write) and end to end on both stores;
at least 100k events/s into the event log, at least 50k rows/s parsed and resolved, and graph
writes no slower than the foundation's rate (bench/ingest.py's figure on the same store).

The data is generated lazily (line by line) into a temporary directory, deterministically:
- a content catalogue CSV of 1,000 pages (loaded first: the known Content nodes);
- a Segment JSON Lines file of 1M messages as analytics.js and a server library write them
  (page, track, identify, a few group calls; context, timestamps, message ids), for ~50k users
  at ~10k companies plus ~20k never-identified visitors: a user's first visits are anonymous and
  their first identify stitches that anonymous id to them; page views go to ~2,000 URLs (half of
  them catalogue pages, some with utm parameters), skewed towards the popular ones;
- a HubSpot contacts export of 100k rows in the real column layout (fixtures/hubspot/), a
  quarter of whom are Segment users too.

Stages, each a median of --repeat runs:
- parse: the reader alone (`connectors.segment.read` / `connectors.hubspot.read`), iterated;
- resolve: the reader plus the resolver keying every ref (people, companies, accounts, URLs),
  nothing written;
- event log: `EventLog.append` alone, of the events the pipeline would log, in its batches;
- end to end: `Loader.run` (what `relgraph load` runs) into the MemoryStore (snapshot save
  included) and into Neo4j; beside it the graph-write rate: rows handed to the store's upserts
  per second spent inside them.

`python bench/connectors.py all --uri … --write-docs` runs each leg in its own child process (so
peak RSS is its own) and rewrites the figures in docs/benchmarks.md (<!-- connectors:… -->).
The Neo4j leg deletes everything in the database it is given (refused without --wipe when it is
not empty). `make bench` starts a dedicated local Neo4j for it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import cold as forget_normalised_keys  # noqa: E402
from ingest import machine, peak_rss_mib  # noqa: E402

from connectors.pipeline import EVENT_BATCH, Loader, properties_json  # noqa: E402
from connectors.records import Identify, Link, Node, ProductEvent, Tag  # noqa: E402
from connectors.resolve import BadRef, Resolver  # noqa: E402
from connectors.source import ReadContext  # noqa: E402
from connectors.source import source as get_source  # noqa: E402
from graph import keys  # noqa: E402
from graph.eventlog import EventLog, LoggedEvent  # noqa: E402
from graph.memory_store import MemoryStore  # noqa: E402

GOAL_EVENT_LOG = 100_000  # events/s appended to the event log
GOAL_RESOLVED = 50_000  # rows/s parsed and resolved
# The Neo4j loads run on a tenth of the data by default: a first load folds one or two aliases
# per person into their node, and Neo4jStore.merge_nodes is a ~10 ms transaction per alias, so
# the full data (~200k folds) would take well over half an hour per run on its own.
NEO4J_SCALE = 0.1
SIZES = {"events": 1_000_000, "users": 50_000, "visitors": 20_000, "companies": 10_000,
         "urls": 2_000, "contacts": 100_000, "crm_companies": 20_000}
BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=90)

FIRST = ["Ada", "Raj", "Grace", "Linus", "Mei", "Omar", "Sofia", "Ken", "Amara", "Lars",
         "Priya", "Diego", "Hana", "Yusuf", "Chloe", "Ivan", "Nia", "Tomas", "Aiko", "Felix",
         "Zara", "Pablo", "Elif", "Sven", "Leila", "Marco", "Ines", "Kofi", "Anya", "Noah"]
LAST = ["Lovelace", "Patel", "Hopper", "Berg", "Chen", "Haddad", "Rossi", "Tanaka", "Okafor",
        "Larsen", "Singh", "Garcia", "Kim", "Demir", "Martin", "Petrov", "Mensah", "Novak",
        "Sato", "Weber", "Ali", "Lopez", "Yilmaz", "Nilsson", "Karimi", "Bianchi", "Silva",
        "Owusu", "Ivanova", "Fischer"]
TITLES = ["Head of Operations", "VP Sales", "CTO", "Customer Success Manager", "Data Analyst",
          "Product Manager", "Marketing Lead", "Engineer", "Director of Finance", "CEO"]
INDUSTRIES = ["Logistics", "Software", "Retail", "Healthcare", "Finance", "Manufacturing"]
SECTIONS = ["blog", "resources", "webinars", "customers", "docs"]
TOPICS = ["churn; retention", "CRM|benchmarks", "onboarding", "security, sso", "pricing",
          "analytics; dashboards", "customer success", "integrations|api"]
KINDS = ["blog", "White Paper", "webinar", "Case Study", "article", "video"]
TRACKS = [("Report Viewed", 30), ("Feature Used", 28), ("Logged In", 22),
          ("Dashboard Created", 8), ("Data Exported", 5), ("Setup Completed", 3),
          ("Order Completed", 2), ("Invite Sent", 2)]
AGENTS = ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
          "Gecko) Chrome/120.0.0.0 Safari/537.36",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
          "like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"]
STAGES = ["Lead", "Subscriber", "Marketing Qualified Lead", "Sales Qualified Lead",
          "Opportunity", "Customer", "Evangelist", "Other"]
HUBSPOT_COLUMNS = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
                   "Contact owner", "Job Title", "Company Name", "Website URL", "City",
                   "Country/Region", "Lifecycle Stage", "Lead Status", "Became a Customer Date",
                   "Create Date", "Last Modified Date", "Associated Company",
                   "Associated Company IDs"]
CITIES = [("London", "United Kingdom"), ("Berlin", "Germany"), ("Austin", "United States"),
          ("Toronto", "Canada"), ("Lyon", "France"), ("", "")]


def sizes(scale: float) -> dict[str, int]:
    n = {k: max(10, int(v * scale)) for k, v in SIZES.items()}
    n["urls"] = SIZES["urls"]  # a site has its pages whatever the traffic
    return n


# --- the data -----------------------------------------------------------------------------------

def _name(i: int) -> tuple[str, str]:
    return FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]


def _email(i: int, company: int) -> str:
    first, last = _name(i)
    return f"{first.lower()}.{last.lower()}{i}@company{company}.com"


def _url(k: int) -> str:
    if k == 0:
        return "https://www.acme-analytics.com/pricing"
    return f"https://www.acme-analytics.com/{SECTIONS[k % len(SECTIONS)]}/page-{k}"


def write_catalog(path: Path, n: dict[str, int]) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["url", "title", "kind", "topics", "published_at", "author", "summary"])
        for k in range(2, n["urls"], 2):  # every other page of the site is in the catalogue
            first, last = _name(k)
            out.writerow([_url(k), f"Page {k}: notes on {TOPICS[k % len(TOPICS)]}",
                          KINDS[k % len(KINDS)], TOPICS[k % len(TOPICS)],
                          (BASE - timedelta(days=k % 400)).date().isoformat(),
                          f"{first} {last}", f"How teams handle {TOPICS[(k // 3) % len(TOPICS)]}."])
            rows += 1
    return rows


class _Segment:
    """The Segment file's generator: per-user state only (identified or not), lines streamed."""

    def __init__(self, n: dict[str, int]) -> None:
        self.n = n
        self.rng = random.Random(20261124)
        self.identified = bytearray(n["users"])
        self.tracks = [name for name, weight in TRACKS for _ in range(weight)]

    @staticmethod
    def anonymous_id(i: int) -> str:
        return f"{(i * 2654435761) & 0xFFFFFFFF:08x}-7d11-4b8e-9a51-{i:012x}"

    def company(self, user: int) -> int:
        return user % self.n["companies"]

    def context(self, user: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        ctx: dict[str, Any] = {"ip": f"203.0.{user % 250}.{user % 200 + 1}",
                               "library": {"name": "analytics.js", "version": "next-1.53.0"},
                               "locale": "en-US", "userAgent": AGENTS[user % len(AGENTS)]}
        if extra:
            ctx.update(extra)
        return ctx

    @staticmethod
    def stamp(i: int, total: int) -> str:
        moment = BASE + SPAN * (i / total)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def page(self, i: int, ts: str, user: int | None, aid: str) -> dict[str, Any]:
        k = min(int(self.n["urls"] * self.rng.random() ** 2.2), self.n["urls"] - 1)
        url = _url(k)
        if self.rng.random() < 0.2:
            url += "?utm_source=newsletter&utm_medium=email&utm_campaign=march"
        path = url.split("acme-analytics.com", 1)[1].split("?")[0]
        props = {"path": path, "referrer": "https://www.google.com/", "search": "",
                 "title": f"Acme Analytics: page {k}", "url": url}
        seed = user if user is not None else 7
        return {"anonymousId": aid, "context": self.context(seed, {"page": props}),
                "integrations": {}, "messageId": f"ajs-next-{i:032x}", "originalTimestamp": ts,
                "properties": props, "receivedAt": ts, "sentAt": ts, "timestamp": ts,
                "type": "page", "userId": f"usr_{user:06d}" if user is not None else None}

    def track(self, i: int, ts: str, user: int, name: str) -> dict[str, Any]:
        props: dict[str, Any] = {"plan": "trial" if user % 3 else "pro"}
        if name == "Report Viewed":
            props["report"] = ["churn", "pipeline", "cohorts", "revenue"][i % 4]
        elif name == "Order Completed":
            props.update(order_id=f"o-{i}", total=round(49 + (i % 50) * 10.5, 2),
                         currency="USD")
        elif name == "Feature Used":
            props["feature"] = ["alerts", "segments", "export", "api"][i % 4]
        msg: dict[str, Any] = {"anonymousId": self.anonymous_id(user), "event": name,
                               "messageId": f"ajs-next-{i:032x}", "properties": props,
                               "timestamp": ts, "type": "track", "userId": f"usr_{user:06d}"}
        if name in ("Order Completed", "Data Exported"):  # sent by the server library
            msg["context"] = {"library": {"name": "analytics-node", "version": "2.1.0"},
                              "traits": {"email": _email(user, self.company(user))}}
        else:
            msg["context"] = self.context(user)
        return msg

    def identify(self, i: int, ts: str, user: int) -> dict[str, Any]:
        first, last = _name(user)
        c = self.company(user)
        title = TITLES[(user + (1 if self.rng.random() < 0.1 else 0)) % len(TITLES)]
        return {"anonymousId": self.anonymous_id(user), "context": self.context(user),
                "messageId": f"ajs-next-{i:032x}", "timestamp": ts, "type": "identify",
                "traits": {"email": _email(user, c), "firstName": first, "lastName": last,
                           "title": title, "createdAt": ts,
                           "company": {"name": f"Company {c}", "website": f"https://company{c}.com",
                                       "industry": INDUSTRIES[c % len(INDUSTRIES)],
                                       "employee_count": 10 + c % 990}},
                "userId": f"usr_{user:06d}"}

    def group(self, i: int, ts: str, user: int) -> dict[str, Any]:
        c = self.company(user)
        return {"context": {"library": {"name": "analytics-node", "version": "2.1.0"},
                            "traits": {"email": _email(user, c)}},
                "groupId": f"org_{c}", "messageId": f"node-{i:032x}", "timestamp": ts,
                "traits": {"employees": 10 + c % 990, "industry": INDUSTRIES[c % len(INDUSTRIES)],
                           "mrr": (c % 20) * 100, "name": f"Company {c}",
                           "plan": ["trial", "team", "enterprise"][c % 3],
                           "status": "trial" if c % 3 == 0 else "active",
                           "website": f"company{c}.com"},
                "type": "group", "userId": f"usr_{user:06d}"}

    def messages(self) -> Iterator[dict[str, Any]]:
        n, rng, total = self.n, self.rng, self.n["events"]
        i = 0
        while i < total:
            ts = self.stamp(i, total)
            if rng.random() < 0.15:  # a visitor who never signs up
                v = int(n["visitors"] * rng.random())
                yield self.page(i, ts, None, self.anonymous_id(n["users"] + v))
                i += 1
                continue
            user = min(int(n["users"] * rng.random() ** 1.4), n["users"] - 1)
            if not self.identified[user]:
                if rng.random() < 0.6:  # still browsing anonymously
                    yield self.page(i, ts, None, self.anonymous_id(user))
                    i += 1
                    continue
                self.identified[user] = 1  # signs up: identify stitches the anonymous visits
                yield self.identify(i, ts, user)
                i += 1
                if i < total:
                    yield self.track(i, ts, user, "Signed Up")
                    i += 1
                continue
            r = rng.random()
            if r < 0.55:
                msg = self.page(i, ts, user, self.anonymous_id(user))
            elif r < 0.955:
                msg = self.track(i, ts, user, rng.choice(self.tracks))
            elif r < 0.995:
                msg = self.identify(i, ts, user)
            else:
                msg = self.group(i, ts, user)
            yield msg
            i += 1


def write_segment(path: Path, n: dict[str, int]) -> int:
    lines = 0
    with path.open("wb") as f:
        for msg in _Segment(n).messages():
            f.write(orjson.dumps(msg) + b"\n")
            lines += 1
    return lines


def write_hubspot(path: Path, n: dict[str, int]) -> int:
    rng = random.Random(7)
    shared = n["users"] // 2  # a quarter of the contacts (at full scale) are Segment users too
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, quoting=csv.QUOTE_ALL)
        out.writerow(HUBSPOT_COLUMNS)
        for r in range(n["contacts"]):
            if r < shared:
                first, last = _name(r)
                c = r % n["companies"]
                email = _email(r, c)
                if r % 5 == 0:
                    email = email.title()  # CRMs keep whatever case people typed
            else:
                first, last = _name(r * 7 + 3)
                c = r % n["crm_companies"]
                email = (f"{first.lower()}{r}@gmail.com" if r % 20 == 0
                         else f"{first[0].lower()}.{last.lower()}{r}@company{c}.com")
            stage = STAGES[rng.randrange(len(STAGES))]
            city, country = CITIES[r % len(CITIES)]
            created = BASE - timedelta(days=30 + r % 700, minutes=r % 997)
            modified = BASE - timedelta(days=r % 30, minutes=r % 613)
            customer = stage in ("Customer", "Evangelist")
            out.writerow([
                str(1000 + r), first, last, "" if r % 50 == 7 else email,
                f"+1 512 555 {r % 10000:04d}" if r % 3 == 0 else "", "Jane Owner",
                TITLES[r % len(TITLES)] if r % 4 else "", f"Company {c}",
                f"https://www.company{c}.com" if r % 6 else "", city, country, stage,
                "IN_PROGRESS" if stage == "Lead" else "",
                (created + timedelta(days=20)).strftime("%Y-%m-%d %H:%M") if customer else "",
                created.strftime("%Y-%m-%d %H:%M"), modified.strftime("%Y-%m-%d %H:%M"),
                f"Company {c}" if r % 8 else "", str(8000 + c) if r % 8 else ""])
    return n["contacts"]


def generate(directory: Path, scale: float) -> dict[str, Any]:
    n = sizes(scale)
    t0 = time.perf_counter()
    catalog = directory / "catalog.csv"
    segment = directory / "segment-events.jsonl"
    hubspot = directory / "hubspot-crm-exports-all-contacts.csv"
    info = {"catalog": str(catalog), "catalog_rows": write_catalog(catalog, n),
            "segment": str(segment), "segment_lines": write_segment(segment, n),
            "hubspot": str(hubspot), "hubspot_rows": write_hubspot(hubspot, n)}
    info["segment_mib"] = segment.stat().st_size / 2**20
    info["hubspot_mib"] = hubspot.stat().st_size / 2**20
    info["seconds"] = time.perf_counter() - t0
    (directory / "data.json").write_text(json.dumps(info))
    return info


# --- the stages -----------------------------------------------------------------------------------

def _ctx(name: str) -> ReadContext:
    return ReadContext(name)


def cold() -> None:
    """As a new `relgraph load` process starts: the key normalisers' caches emptied (bench/
    ingest.py's `cold`, so a repeat does not find every e-mail and URL already normalised),
    and the garbage of the run before collected."""
    forget_normalised_keys()
    gc.collect()


def parse(source: str, path: Path) -> tuple[int, float]:
    """Items yielded by the reader, and the seconds it took."""
    read = get_source(source).read
    cold()
    t0 = time.perf_counter()
    items = sum(1 for _ in read(path, _ctx(source)))
    return items, time.perf_counter() - t0


def _keys(resolver: Any, item: Any, prefix: str, log: bool = False) -> Any:
    """Everything the pipeline keys for one item (no writes); with `log`, a ProductEvent's
    LoggedEvent as the pipeline makes it."""
    try:
        if isinstance(item, Node | Tag):
            resolver.key(item.ref)
        elif isinstance(item, Link):
            resolver.key(item.start)
            resolver.key(item.end)
        elif isinstance(item, Identify):
            resolver.alias_person(item.alias, item.person)
        elif isinstance(item, ProductEvent):
            person = resolver.person(item.person) if item.person is not None else None
            if person is None and item.anonymous_id is not None:
                person = resolver.person_aliases.get(item.anonymous_id)
            account = resolver.customer(item.account)[0] if item.account else None
            url = None
            if item.url:
                with contextlib.suppress(ValueError):
                    url = keys.canonical_url(item.url)
            if log:
                return LoggedEvent(f"{prefix}{item.id}", item.type, item.at, person,
                                   item.anonymous_id, account, url,
                                   properties_json(item.properties), prefix)
    except BadRef:
        pass
    return None


def resolve(source: str, path: Path) -> tuple[int, float]:
    """The reader and the resolver keying every ref of every item; nothing is written."""
    read = get_source(source).read
    resolver = Resolver.for_store(MemoryStore(None))
    cold()
    t0 = time.perf_counter()
    items = 0
    for item in read(path, _ctx(source)):
        items += 1
        _keys(resolver, item, f"{source}:")
    return items, time.perf_counter() - t0


def event_log(path: Path) -> tuple[int, float]:
    """Seconds spent in EventLog.append for the Segment file's events, in the pipeline's
    batches (the events are read and keyed outside the clock)."""
    resolver = Resolver.for_store(MemoryStore(None))
    added, seconds = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog(Path(tmp) / "events")
        batch: list[Any] = []

        def flush() -> None:
            nonlocal added, seconds
            t0 = time.perf_counter()
            added += log.append(batch).added
            seconds += time.perf_counter() - t0
            batch.clear()

        for item in get_source("segment").read(path, _ctx("segment")):
            event = _keys(resolver, item, "segment:", log=True)
            if event is not None:
                batch.append(event)
                if len(batch) >= EVENT_BATCH:
                    flush()
        if batch:
            flush()
    return added, seconds


class TimedStore:
    """A store whose upserts and merges are timed and counted: the pipeline's graph-write
    stage, and the folds of the aliases a load learned (merges may run in threads)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.write_seconds = 0.0
        self.write_rows = 0
        self.merges = 0
        self._merge_span: list[float] = []  # first start, last end
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def upsert_nodes(self, label: str, rows: Any, **kw: Any) -> Any:
        rows = list(rows)
        t0 = time.perf_counter()
        try:
            return self._store.upsert_nodes(label, rows, **kw)
        finally:
            self.write_seconds += time.perf_counter() - t0
            self.write_rows += len(rows)

    def upsert_relationships(self, rel: str, rows: Any, **kw: Any) -> Any:
        rows = list(rows)
        t0 = time.perf_counter()
        try:
            return self._store.upsert_relationships(rel, rows, **kw)
        finally:
            self.write_seconds += time.perf_counter() - t0
            self.write_rows += len(rows)

    def merge_nodes(self, label: str, keep: str, drop: str) -> bool:
        t0 = time.perf_counter()
        try:
            return bool(self._store.merge_nodes(label, keep, drop))
        finally:
            self._folded(1, t0)

    def fold_aliases(self, label: str, folds: Any) -> int:
        folds = list(folds)
        t0 = time.perf_counter()
        try:
            return int(self._store.fold_aliases(label, folds))
        finally:
            self._folded(len(folds), t0)

    def _folded(self, count: int, t0: float) -> None:
        t1 = time.perf_counter()
        with self._lock:
            self.merges += count
            if not self._merge_span:
                self._merge_span = [t0, t1]
            self._merge_span[0] = min(self._merge_span[0], t0)
            self._merge_span[1] = max(self._merge_span[1], t1)

    @property
    def merge_seconds(self) -> float:
        """Wall time from the first fold to the last (they run in one phase at the end)."""
        return self._merge_span[1] - self._merge_span[0] if self._merge_span else 0.0


def load(store: Any, data: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The catalogue, then Segment, then HubSpot through `Loader.run`, timed per source."""
    out: dict[str, Any] = {}
    for name, key, rows in (("catalog", "catalog", data["catalog_rows"]),
                            ("segment", "segment", data["segment_lines"]),
                            ("hubspot", "hubspot", data["hubspot_rows"])):
        timed = TimedStore(store)
        ticks = [0]

        def progress(n: int, ticks: list[int] = ticks) -> None:
            ticks[0] += n

        loader = Loader(timed, data_dir=data_dir, batch_size=10_000,  # type: ignore[arg-type]
                        progress=progress)
        cold()
        t0 = time.perf_counter()
        summary = loader.run(get_source(name), [Path(data[key])], _ctx(name))
        seconds = time.perf_counter() - t0
        counts = store.counts()
        out[name] = {
            "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
            "write_rows": timed.write_rows, "write_seconds": timed.write_seconds,
            "write_rows_per_s": timed.write_rows / timed.write_seconds
            if timed.write_seconds else 0.0,
            "merges": timed.merges, "merge_seconds": timed.merge_seconds,
            "node_rows": sum(summary.nodes.values()),
            "relationship_rows": sum(summary.relationships.values()),
            "events": summary.events_added, "rejected": summary.rejected,
            "merged": summary.merged, "progress": ticks[0],
            "graph_nodes": sum(counts.nodes.values()),
            "graph_relationships": sum(counts.relationships.values()),
        }
    return out


# --- the legs (each in its own process) ---------------------------------------------------------

def _data(args: argparse.Namespace) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((Path(args.data) / "data.json").read_text())
    return info


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run_stages(args: argparse.Namespace) -> dict[str, Any]:
    data = _data(args)
    result: dict[str, Any] = {}
    for name, key, rows in (("segment", "segment", data["segment_lines"]),
                            ("hubspot", "hubspot", data["hubspot_rows"])):
        parsed = [parse(name, Path(data[key])) for _ in range(args.repeat)]
        resolved = [resolve(name, Path(data[key])) for _ in range(args.repeat)]
        result[name] = {
            "rows": rows, "items": parsed[-1][0],
            "parse_rows_per_s": _median([rows / s for _, s in parsed]),
            "parse_runs": [round(rows / s) for _, s in parsed],
            "resolve_rows_per_s": _median([rows / s for _, s in resolved]),
            "resolve_runs": [round(rows / s) for _, s in resolved],
        }
    logged = [event_log(Path(data["segment"])) for _ in range(args.repeat)]
    result["event_log"] = {"events": logged[-1][0],
                           "rows_per_s": _median([n / s for n, s in logged]),
                           "runs": [round(n / s) for n, s in logged]}
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in runs[0]:
        last = runs[-1][name]
        out[name] = {**last,
                     "rows_per_s": _median([r[name]["rows_per_s"] for r in runs]),
                     "runs": [round(r[name]["rows_per_s"]) for r in runs],
                     "write_rows_per_s": _median([r[name]["write_rows_per_s"] for r in runs])}
    return out


def run_memory(args: argparse.Namespace) -> dict[str, Any]:
    data = _data(args)
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            store = MemoryStore(Path(tmp) / "graph.sqlite")
            runs.append(load(store, data, Path(tmp)))
            del store
    return {"loads": _summarise(runs), "peak_rss_mib": peak_rss_mib()}


def run_neo4j(args: argparse.Namespace) -> dict[str, Any]:
    from ingest import _wipe
    from neo4j import GraphDatabase

    from graph.neo4j_store import Neo4jStore

    data = _data(args)
    driver = GraphDatabase.driver(args.uri, auth=(args.user, args.password))
    with driver.session() as session:
        existing = session.run("MATCH (n) RETURN count(n) AS c").single(strict=True)["c"]
    if existing and not args.wipe:
        raise SystemExit(f"{args.uri} holds {existing} nodes; pass --wipe to delete them")
    store = Neo4jStore(args.uri, user=args.user, password=args.password, batch_size=10_000)
    runs = []
    for _ in range(args.repeat):
        _wipe(driver)
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(load(store, data, Path(tmp)))
    _wipe(driver)
    store.close()
    driver.close()
    return {"loads": _summarise(runs), "peak_rss_mib": peak_rss_mib(),
            "server_rss_mib": _server_rss_mib(args.server_pidfile)}


def _server_rss_mib(pidfile: str | None) -> float | None:
    """The server's resident memory now (its peak would include the ingest benchmark run on
    the same server just before)."""
    if not pidfile or not Path(pidfile).exists():
        return None
    pid = Path(pidfile).read_text().strip()
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- report ---------------------------------------------------------------------------------------

def _foundation() -> dict[str, Any] | None:
    """The latest bench/ingest.py figures (`make bench` runs it just before this)."""
    found = sorted((ROOT / "bench" / "results").glob("ingest-*.json"))
    if not found:
        return None
    report: dict[str, Any] = json.loads(found[-1].read_text())
    return report


def markdown(report: dict[str, Any]) -> str:
    m, data, stages = report["machine"], report["data"], report["stages"]
    mem, neo = report.get("memory"), report.get("neo4j")
    found = report.get("foundation")
    seg, hub, log = stages["segment"], stages["hubspot"], stages["event_log"]
    lines = [
        f"Measured {report['date']} with `python bench/connectors.py all` (scale "
        f"{report['scale']:g}, median of {report['repeat']} runs"
        + (f"; the Neo4j loads at scale {report['neo4j_scale']:g}, median of "
           f"{report['neo4j_repeat']} runs" if neo else "") + ").",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; Python "
        f"{m['python']}, neo4j driver {m['neo4j_driver']}"
        + (f", Neo4j Community {report.get('neo4j_server', '?')} via scripts/neo4j-local"
           if neo else "") + ".",
        "",
        f"Data: {_data_line(data)}; a catalogue of {data['catalog_rows']:,} pages loaded first"
        + (f". Neo4j loads: {_data_line(report['neo4j_data'])}" if neo else "") + ".",
        "",
        "| stage | Segment (messages/s) | HubSpot (rows/s) | runs (Segment; HubSpot) |",
        "| --- | ---: | ---: | --- |",
        f"| parse: the reader alone | {seg['parse_rows_per_s']:,.0f} | "
        f"{hub['parse_rows_per_s']:,.0f} | {_runs(seg['parse_runs'])}; "
        f"{_runs(hub['parse_runs'])} |",
        f"| parse + resolve: every ref keyed, nothing written | "
        f"{seg['resolve_rows_per_s']:,.0f} | {hub['resolve_rows_per_s']:,.0f} | "
        f"{_runs(seg['resolve_runs'])}; {_runs(hub['resolve_runs'])} |",
    ]
    for label, leg in (("MemoryStore (every batch committed, closing checkpoint)", mem),
                       (f"Neo4jStore (scale {report.get('neo4j_scale', 0):g})", neo)):
        if not leg:
            continue
        s, h = leg["loads"]["segment"], leg["loads"]["hubspot"]
        lines.append(f"| end to end: `Loader.run` into the {label} | {s['rows_per_s']:,.0f} | "
                     f"{h['rows_per_s']:,.0f} | {_runs(s['runs'])}; {_runs(h['runs'])} |")
    lines += [
        "",
        f"Event log alone: **{log['rows_per_s']:,.0f} events/s** appended "
        f"({log['events']:,} events in batches of {EVENT_BATCH:,}; runs {_runs(log['runs'])}).",
        "",
        "Inside the end-to-end loads (last run):",
        "",
        "| load | store | seconds | graph writes: rows/s inside the upserts | rows sent to the "
        "store | graph after: nodes, relationships | aliases folded: count, seconds | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for label, leg in (("MemoryStore", mem), ("Neo4jStore", neo)):
        if not leg:
            continue
        rss = f"{leg['peak_rss_mib']:,.0f} MiB"
        if leg.get("server_rss_mib"):
            rss = f"client {rss}, server {leg['server_rss_mib']:,.0f} MiB at the end"
        for name in ("segment", "hubspot"):
            r = leg["loads"][name]
            lines.append(
                f"| {NAMES[name]} | {label} | {r['seconds']:,.1f} | {r['write_rows_per_s']:,.0f} | "
                f"{r['write_rows']:,} | {r['graph_nodes']:,}, {r['graph_relationships']:,} | "
                f"{r['merges']:,}, {r['merge_seconds']:.1f} s | {rss} |")
    lines += ["", f"Parse, resolve and event-log stages: peak RSS {stages['peak_rss_mib']:,.0f} "
              "MiB.", ""]
    lines += [
        f"- Event log: **{log['rows_per_s'] / GOAL_EVENT_LOG:.2f}x** the goal of "
        f"{GOAL_EVENT_LOG:,} events/s.",
        f"- Parsed and resolved: Segment **{seg['resolve_rows_per_s'] / GOAL_RESOLVED:.2f}x**, "
        f"HubSpot **{hub['resolve_rows_per_s'] / GOAL_RESOLVED:.2f}x** the goal of "
        f"{GOAL_RESOLVED:,} rows/s.",
    ]
    for label, leg, part, key in (("MemoryStore", mem, "memory", "writes_rows_per_s"),
                                  ("Neo4jStore", neo, "neo4j", "rows_per_s")):
        if not leg:
            continue
        s, h = leg["loads"]["segment"], leg["loads"]["hubspot"]
        ref = None
        if found and found.get(part):
            ref = found[part].get(key, found[part]["rows_per_s"])
        if found and ref:
            what = "writes only" if key == "writes_rows_per_s" else "end to end"
            lines.append(
                f"- {label} graph writes vs the foundation's {ref:,.0f} rows/s (bench/ingest.py "
                f"{found['date']}, {what}): Segment **{s['write_rows_per_s'] / ref:.2f}x**, "
                f"HubSpot **{h['write_rows_per_s'] / ref:.2f}x**.")
        else:
            lines.append(f"- {label} graph writes: no ingest figures to compare with (run "
                         "bench/ingest.py first).")
    return "\n".join(lines) + "\n"


NAMES = {"segment": "Segment", "hubspot": "HubSpot"}


def _data_line(data: dict[str, Any]) -> str:
    return (f"{data['segment_lines']:,} Segment messages ({data['segment_mib']:,.0f} MiB of JSON "
            f"Lines), {data['hubspot_rows']:,} HubSpot contacts ({data['hubspot_mib']:,.1f} MiB)")


def _runs(values: list[int]) -> str:
    return ", ".join(f"{v:,}" for v in values)


def _scale_dir(scale: float) -> str:
    return f"scale-{scale:g}"


def _generated(directory: Path, scale: float) -> dict[str, Any]:
    """The data of `scale` under `directory`, generated unless it is there already."""
    target = directory / _scale_dir(scale)
    if (target / "data.json").exists():
        found: dict[str, Any] = json.loads((target / "data.json").read_text())
        return found
    target.mkdir(parents=True, exist_ok=True)
    print(f"generating the data (scale {scale:g}) in {target} ...", file=sys.stderr)
    return generate(target, scale)


def write_docs(section: str) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    begin, end = "<!-- connectors:begin -->", "<!-- connectors:end -->"
    text = docs.read_text(encoding="utf-8")
    if begin not in text:
        raise SystemExit(f"{docs} has no {begin} … {end} section to fill")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    docs.write_text(f"{head}{begin}\n{section}{end}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", choices=["generate", "stages", "memory", "neo4j", "all",
                                          "report"])
    parser.add_argument("results", nargs="?", help="report: a bench/results/connectors-*.json "
                        "to write out again (after a change of wording, never of figures)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", help="a directory of generated data (default: a temp dir)")
    parser.add_argument("--uri", default=os.environ.get("RELGRAPH_BENCH_NEO4J_URI"))
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default=os.environ.get("RELGRAPH_BENCH_NEO4J_PASSWORD"))
    parser.add_argument("--server-pidfile")
    parser.add_argument("--wipe", action="store_true")
    parser.add_argument("--neo4j-scale", type=float, default=NEO4J_SCALE,
                        help="scale of the Neo4j loads (default %(default)s: see NEO4J_SCALE)")
    parser.add_argument("--neo4j-repeat", type=int, help="runs of the Neo4j loads "
                        "(default: --repeat)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["stages", "memory", "neo4j"], help="leave out a leg")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    if args.which == "report":
        if not args.results:
            raise SystemExit("report needs the results JSON to render")
        section = markdown(json.loads(Path(args.results).read_text()))
        print(section)
        if args.write_docs:
            write_docs(section)
        return
    if args.which == "generate":
        target = Path(args.data or tempfile.mkdtemp(prefix="relgraph-bench-"))
        target.mkdir(parents=True, exist_ok=True)
        print(json.dumps(generate(target, args.scale)))
        return
    if args.which in ("stages", "memory", "neo4j"):
        if not args.data:
            raise SystemExit("--data DIR (from `bench/connectors.py generate`) is needed")
        if args.which == "neo4j" and (not args.uri or not args.password):
            raise SystemExit("the Neo4j leg needs --uri and --password")
        run = {"stages": run_stages, "memory": run_memory, "neo4j": run_neo4j}[args.which]
        print(json.dumps(run(args)))
        return

    with contextlib.ExitStack() as stack:
        if args.data:
            directory = Path(args.data)
        else:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="relgraph-bench-")))
        data = _generated(directory, args.scale)
        neo4j_scale = args.neo4j_scale if args.neo4j_scale is not None else args.scale
        neo4j_repeat = args.neo4j_repeat if args.neo4j_repeat is not None else args.repeat
        report: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d"),
                                  "scale": args.scale, "repeat": args.repeat,
                                  "neo4j_scale": neo4j_scale, "neo4j_repeat": neo4j_repeat,
                                  "machine": machine(), "data": data,
                                  "foundation": _foundation()}
        for which in ("stages", "memory", "neo4j"):
            if which in args.skip:
                continue
            extra = [f"--data={directory / _scale_dir(args.scale)}", f"--repeat={args.repeat}"]
            if which == "neo4j":
                if not args.uri:
                    print("no --uri: skipping the Neo4j leg", file=sys.stderr)
                    continue
                report["neo4j_data"] = _generated(directory, neo4j_scale)
                extra = [f"--data={directory / _scale_dir(neo4j_scale)}",
                         f"--repeat={neo4j_repeat}", f"--uri={args.uri}",
                         f"--user={args.user}", f"--password={args.password}"]
                if args.server_pidfile:
                    extra.append(f"--server-pidfile={args.server_pidfile}")
                if args.wipe:
                    extra.append("--wipe")
                from neo4j import GraphDatabase

                with GraphDatabase.driver(args.uri, auth=(args.user, args.password)) as d:
                    report["neo4j_server"] = d.get_server_info().agent.split("/")[-1]
            print(f"running the {which} leg ...", file=sys.stderr)
            out = subprocess.run([sys.executable, __file__, which, *extra],
                                 check=True, capture_output=True, text=True).stdout
            report[which] = json.loads(out.strip().splitlines()[-1])
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"connectors-{report['date']}.json").write_text(json.dumps(report, indent=2))
    section = markdown(report)
    print(section)
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    main()
