"""Curation benchmark, feeds half: 200 feeds of real size served locally, fetch -> candidates.

The issue's goal is "fetch to draft in under 5 s on this machine" for the whole path; this
measures the feeds half of it (fetch, parse, store, de-duplicate, candidates written to the
graph); the issues half measures ranking, drafting and rendering.

The feeds are generated deterministically, as large and varied as real ones (the issue measured
200 real captured feeds at 45 MB and ~6,600 entries):
- 200 feeds, 60% RSS 2.0 (with `content:encoded`), 35% Atom, 5% RSS 1.0; 10 to 60 entries each;
- a quarter carry summaries only (a few KB per feed), the rest full articles (HTML paragraphs,
  lists, links, images, quotes, code: 2 to 12 KB an entry, a few long-form feeds up to 40 KB);
- entries dated over the last 60 days (so about a third fall in a week's window), some without
  dates, some syndicated by another feed (the same story under another URL, or the same URL
  with tracking parameters), so de-duplication has work to do;
- 6 malformed feeds: an unescaped ampersand, a truncated document, a mis-declared encoding —
  the fast parser rejects or under-reads them and feedparser takes over.

The feeds are served by `tests/curation/feedserver.py` in a process of its own (ETags on), and
each run starts from an empty curation database and graph (the embedded store): one full fetch
(every feed new), then `candidates` for the week; then a second fetch where every feed answers
304. Figures are medians of --runs runs; the parser's share is the time spent in `parse_feed`
over the fetch's wall time; the fallback rate is the share of feeds feedparser parsed. Beside
it, once: the same bytes parsed by feedparser alone (the naive baseline) and by `parse_feed`.

    python bench/curation.py [--runs 5] [--write-docs]
"""

from __future__ import annotations

import argparse
import html
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # ingest.py; never ahead of the packages

import feedparser  # noqa: E402
from docsection import write_section  # noqa: E402
from ingest import machine as ingest_machine  # noqa: E402
from rss import peak_rss_mib  # noqa: E402

from curation.candidates import find  # noqa: E402
from curation.db import connect  # noqa: E402
from curation.fetch import FetchOptions, fetch_all  # noqa: E402
from curation.parse import parse_feed  # noqa: E402
from curation.sources import save_source  # noqa: E402
from graph.memory_store import MemoryStore  # noqa: E402

FEEDS = 200
BEGIN, END = "<!-- curation-fetch:begin -->", "<!-- curation-fetch:end -->"
DOCS = ROOT / "docs" / "benchmarks.md"
NOW = datetime.now(UTC).replace(microsecond=0)

_VOCABULARY = (
    "customer success churn onboarding renewal retention health score expansion revenue "
    "account team product value adoption usage metric cohort segment journey support ticket "
    "feedback survey promoter detractor playbook quarterly review executive sponsor champion "
    "risk signal dashboard pipeline forecast upsell cross-sell contract pricing discount "
    "integration data warehouse analytics machine learning model prediction experiment "
    "the a of to and in for on with that this is are was be by it as at from we you they "
    "our your their more most very early late first week month year time people company"
)
WORDS = _VOCABULARY.split()
TOPIC_WORDS = ["churn", "onboarding", "renewal", "CRM", "net promoter score", "health score",
               "customer success", "pricing", "upsell", "retention"]


def sentence(rng: random.Random, low: int = 8, high: int = 24) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words)), rng.choice(TOPIC_WORDS))
    return " ".join(words).capitalize() + "."


def article(rng: random.Random, size: int, site: str) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        roll = rng.random()
        if roll < 0.6:
            text = " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))
            if rng.random() < 0.5:
                text += f' <a href="{site}/p/{rng.randint(1, 9999)}">{rng.choice(WORDS)}</a>.'
            block = f"<p>{text}</p>"
        elif roll < 0.72:
            block = "<ul>" + "".join(f"<li>{sentence(rng, 4, 10)}</li>"
                                     for _ in range(rng.randint(3, 6))) + "</ul>"
        elif roll < 0.82:
            block = f"<h2>{sentence(rng, 3, 7)}</h2>"
        elif roll < 0.9:
            block = (f'<figure><img src="{site}/img/{rng.randint(1, 999)}.png" alt="chart" '
                     f'width="600"><figcaption>{sentence(rng, 4, 9)}</figcaption></figure>')
        elif roll < 0.96:
            block = f"<blockquote><p>{sentence(rng)}</p></blockquote>"
        else:
            block = "<pre><code>" + html.escape(
                "SELECT account, count(*) FROM events WHERE type = 'login' GROUP BY 1;") + \
                "</code></pre>"
        parts.append(block)
        length += len(block)
    return "".join(parts)


def rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def make_feeds(directory: Path, seed: int = 8) -> dict[str, Any]:
    """Write the feeds; returns what was made (for the report)."""
    rng = random.Random(seed)
    stories: list[tuple[str, str, str, datetime]] = []  # (title, url, text, date) to syndicate
    made = {"bytes": 0, "entries": 0, "malformed": 0}
    malformed = set(rng.sample(range(FEEDS), 6))
    for number in range(FEEDS):
        site = f"https://site{number}.example"
        roll = rng.random()
        kind = "rss" if roll < 0.6 else "atom" if roll < 0.95 else "rdf"
        full = rng.random() >= 0.25
        long_form = full and rng.random() < 0.08
        count = rng.randint(10, 60)
        items = []
        for index in range(count):
            date = NOW - timedelta(days=rng.uniform(0, 60))
            if stories and rng.random() < 0.05:  # syndicated from another feed
                title, url, text, date = rng.choice(stories)
                if rng.random() < 0.5:
                    url = f"{site}/syndicated/{abs(hash(url)) % 10**8}"
                else:
                    url += "?utm_source=rss&utm_medium=syndication"
                date += timedelta(hours=rng.uniform(1, 30))
            else:
                title = sentence(rng, 4, 10).rstrip(".")
                url = f"{site}/{date:%Y/%m}/{number}-{index}"
                size = rng.randint(2_000, 12_000) if full else 0
                if long_form:
                    size = rng.randint(15_000, 40_000)
                text = article(rng, size, site) if full else \
                    f"<p>{' '.join(sentence(rng) for _ in range(3))}</p>"
                if rng.random() < 0.3:
                    stories.append((title, url, text, date))
            undated = rng.random() < 0.03
            author = f"Author {rng.randint(1, 400)}"
            items.append((title, url, text, date, undated, author, full))
        if kind == "rss":
            body = "".join(
                f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link>"
                f"<guid isPermaLink=\"true\">{html.escape(u)}</guid>"
                + ("" if undated else f"<pubDate>{rfc822(d)}</pubDate>")
                + f"<dc:creator>{a}</dc:creator><category>{rng.choice(TOPIC_WORDS)}</category>"
                f"<description>{html.escape(x[:300])}</description>"
                + (f"<content:encoded><![CDATA[{x}]]></content:encoded>" if f else "")
                + "</item>" for t, u, x, d, undated, a, f in items)
            doc = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
                   'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                   'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                   f"<title>Site {number}</title><link>{site}/</link>"
                   f"<description>Feed {number}</description>{body}</channel></rss>")
        elif kind == "atom":
            body = "".join(
                f"<entry><title>{html.escape(t)}</title><link rel=\"alternate\" "
                f"href=\"{html.escape(u)}\"/><id>{html.escape(u)}</id>"
                + ("" if undated else f"<updated>{d.isoformat()}</updated>")
                + f"<author><name>{a}</name></author>"
                f"<summary type=\"html\">{html.escape(x[:300])}</summary>"
                + (f"<content type=\"html\">{html.escape(x)}</content>" if f else "")
                + "</entry>" for t, u, x, d, undated, a, f in items)
            doc = ('<?xml version="1.0" encoding="utf-8"?>\n<feed '
                   'xmlns="http://www.w3.org/2005/Atom">'
                   f"<title>Site {number}</title><link href=\"{site}/\"/>"
                   f"<id>{site}/</id><updated>{NOW.isoformat()}</updated>{body}</feed>")
        else:
            body = "".join(
                f"<item rdf:about=\"{html.escape(u)}\"><title>{html.escape(t)}</title>"
                f"<link>{html.escape(u)}</link>"
                + ("" if undated else f"<dc:date>{d.isoformat()}</dc:date>")
                + f"<description>{html.escape(x[:300])}</description></item>"
                for t, u, x, d, undated, a, f in items)
            doc = ('<?xml version="1.0"?>\n<rdf:RDF '
                   'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                   'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                   f"<channel rdf:about=\"{site}/\"><title>Site {number}</title>"
                   f"<link>{site}/</link><description>x</description></channel>{body}</rdf:RDF>")
        data = doc.encode("utf-8")
        if number in malformed:
            made["malformed"] += 1
            how = sorted(malformed).index(number) % 3
            if how == 0:  # an unescaped ampersand in a title
                data = data.replace(b"<title>", b"<title>Q&A: ", 3)
            elif how == 1:  # cut off mid-document
                data = data[: int(len(data) * 0.7)]
            else:  # Latin-1 bytes in a document that says UTF-8
                data = data.replace(b"<title>", "<title>Caf\u00e9 ".encode("latin-1"), 3)
        (directory / f"feed{number}.xml").write_bytes(data)
        made["bytes"] += len(data)
        made["entries"] += count
    return made


class Server:
    """The feed server in a process of its own (its CPU is not ours)."""

    def __init__(self, directory: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.curation.feedserver", str(directory)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def one_run(server: Server, options: FetchOptions) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="relgraph-curation-bench-") as tmp:
        data_dir = Path(tmp)
        store = MemoryStore(data_dir / "graph.sqlite")
        with connect(data_dir / "curation.sqlite") as db:
            for number in range(FEEDS):
                save_source(db, server.url(f"/feed{number}.xml"),
                            kind=("company", "vendor", "ours")[number % 3])
            db.commit()
            started = time.perf_counter()
            report = fetch_all(db, options=options)
            fetched = time.perf_counter()
            found = find(db, store, since=NOW - timedelta(days=7), until=NOW + timedelta(hours=1),
                         data_dir=data_dir)
            done = time.perf_counter()
            again = fetch_all(db, options=options)
            unchanged = sum(f.outcome.value == "unchanged" for f in again.feeds)
        store.close()
    return {
        "fetch": fetched - started, "candidates": done - fetched, "total": done - started,
        "parse": report.parse_seconds, "fallbacks": report.fallbacks, "parsed": report.parsed,
        "entries": sum(f.entries for f in report.feeds), "window": found.entries,
        "candidates_n": len(found.candidates),
        "refetch": again.seconds, "unchanged": unchanged,
        "failed": sum(f.outcome.value == "failed" for f in report.feeds),
        "bytes": sum(f.bytes for f in report.feeds),
    }


def parse_only(directory: Path) -> dict[str, float]:
    """The same bytes through feedparser alone and through parse_feed (one run each)."""
    blobs = [(p.name, p.read_bytes()) for p in sorted(directory.glob("*.xml"))]
    started = time.perf_counter()
    naive_entries = sum(len(feedparser.parse(io.BytesIO(b)).entries) for _, b in blobs)
    naive = time.perf_counter() - started
    started = time.perf_counter()
    ours_entries = sum(len(parse_feed(b, url=f"https://bench.example/{n}").entries)
                       for n, b in blobs)
    ours = time.perf_counter() - started
    return {"naive": naive, "naive_entries": naive_entries, "ours": ours,
            "ours_entries": ours_entries}


def machine() -> str:
    from importlib.metadata import version

    m = ingest_machine()
    return (f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, "
            f"fastfeedparser {version('fastfeedparser')}, feedparser {version('feedparser')}, "
            f"httpx {version('httpx')}, nh3 {version('nh3')}, datasketch {version('datasketch')}")


def render(made: dict[str, Any], runs: list[dict[str, float]], baseline: dict[str, float],
           rss: float) -> str:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def each(key: str) -> str:
        return ", ".join(f"{r[key]:.2f}" for r in runs)

    fallback_rate = med("fallbacks") / med("parsed") if med("parsed") else 0.0
    lines = [
        f"Measured {NOW:%Y-%m-%d} with `python bench/curation.py --runs {len(runs)}` "
        f"(median of {len(runs)} runs; each from an empty database and embedded graph).",
        "",
        f"Machine: {machine()}.",
        "",
        f"Input: {FEEDS} generated feeds, {made['bytes'] / (1 << 20):.1f} MB, "
        f"{made['entries']:,} entries ({made['malformed']} malformed), served by "
        "tests/curation/feedserver.py in its own process on 127.0.0.1.",
        "",
        "| step | seconds (median) | runs |",
        "| --- | ---: | --- |",
        f"| fetch: 200 feeds, 16 at a time (HTTP, parse, store entries) | {med('fetch'):.2f} "
        f"| {each('fetch')} |",
        f"| of which parsing (`parse_feed`) | {med('parse'):.2f} | {each('parse')} |",
        f"| candidates for the week (cluster, Content + topics + sources into the graph) "
        f"| {med('candidates'):.2f} | {each('candidates')} |",
        f"| **fetch to candidates** | **{med('total'):.2f}** | {each('total')} |",
        f"| second fetch, every feed 304 | {med('refetch'):.2f} | {each('refetch')} |",
        "",
        f"- Parser's share of the fetch: **{med('parse') / med('fetch'):.0%}**.",
        f"- Fallback rate: **{fallback_rate:.1%}** of feeds ({med('fallbacks'):.0f} of "
        f"{med('parsed'):.0f}) parsed by feedparser (the fast parser failed, found fewer "
        "entries than the feed has, or was given bytes that are not the declared UTF-8).",
        f"- Entries: {med('entries'):,.0f} stored; {med('window'):,.0f} in the week's window "
        f"became {med('candidates_n'):,.0f} candidates (syndicated copies joined); "
        f"{med('failed'):.0f} feeds failed; {med('unchanged'):.0f} answered 304 on the second "
        "fetch.",
        f"- Parsing the same bytes alone: feedparser {baseline['naive']:.2f} s "
        f"({baseline['naive_entries']:,} entries), `parse_feed` {baseline['ours']:.2f} s "
        f"({baseline['ours_entries']:,} usable entries): "
        f"**{baseline['naive'] / baseline['ours']:.0f}x** faster.",
        f"- Peak RSS of the benchmark process: {rss:,.0f} MiB.",
    ]
    return "\n".join(lines)


SECTION = """## Curation: feeds to candidates (`bench/curation.py`)

(describe the figures here)

{begin}
{figures}
{end}

"""
RENDER_SECTION = "## Curation: ranking"  # the issues half's section comes after this one


def write_docs(figures: str) -> None:
    """Replace the figures between the markers; the first time, add the section (before the
    rendering section, else at the end)."""
    write_section(DOCS, begin=BEGIN, end=END, figures=figures, section=SECTION,
                  before=RENDER_SECTION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relgraph-feeds-") as tmp:
        directory = Path(tmp)
        made = make_feeds(directory)
        print(f"{FEEDS} feeds, {made['bytes'] / (1 << 20):.1f} MB, {made['entries']:,} entries",
              file=sys.stderr)
        server = Server(directory)
        try:
            # the feeds are served on loopback, which the fetch refuses unless allowed
            options = FetchOptions(concurrency=16, per_host=16, allow_hosts=("127.0.0.1",))
            runs = []
            for number in range(args.runs):
                runs.append(one_run(server, options))
                print(f"run {number + 1}: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in runs[-1].items()), file=sys.stderr)
        finally:
            server.stop()
        baseline = parse_only(directory)
    rss = peak_rss_mib()
    figures = render(made, runs, baseline, rss)
    print(figures)
    if args.write_docs:
        write_docs(figures)


if __name__ == "__main__":
    main()
