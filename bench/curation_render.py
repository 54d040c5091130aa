"""Curation benchmark, issues half: ranking, drafting and rendering a 200-candidate issue.

The goal of issue 8: "render under 1 s" for an issue of 200 candidates. This builds one, as
`relgraph roundup build` does (rank with the graph signal asked of the embedded store holding
the demo graph, draft a blurb and verdict for each, store the issue), then picks all 200 — the
worst case; a real issue shows a dozen — and renders it in every format, each from a fresh
`Renderer` (templates loaded and compiled, the masthead read: what one `relgraph roundup preview`
process does) and again warm:

- Markdown, plain text, the HTML e-mail (CSS inlined by css-inline), the multipart .eml (text
  and HTML together);
- publishing's files: the archive page, the index, the Atom feed and the .eml (`write_site`).

The candidates are generated deterministically: titles and two- to six-sentence summaries drawn
from the taxonomy's vocabulary (so relevance has work to do), 40 outlets of the three kinds,
dates over the week. Figures are medians of --runs runs.

    python bench/curation_render.py [--runs 7] [--write-docs]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # ingest.py; never ahead of the packages

from docsection import write_section  # noqa: E402
from ingest import machine as ingest_machine  # noqa: E402

from connectors.pipeline import load_graph_file  # noqa: E402
from curation import issues  # noqa: E402
from curation.db import connect  # noqa: E402
from curation.draft import build  # noqa: E402
from curation.model import Candidate, SourceKind  # noqa: E402
from curation.render import Format, Renderer, write_site  # noqa: E402
from graph.memory_store import MemoryStore  # noqa: E402

CANDIDATES = 200
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- curation-render:begin -->", "<!-- curation-render:end -->"
NOW = datetime(2026, 11, 6, 7, 0, tzinfo=UTC)
DEMO = ROOT / "api" / "demo" / "graph.jsonl"

_WORDS = ("customer", "team", "account", "renewal", "churn", "onboarding", "pricing", "health",
          "score", "support", "ticket", "product", "usage", "adoption", "feedback", "survey",
          "executive", "sponsor", "quarter", "pipeline", "forecast", "expansion", "contract",
          "playbook", "workflow", "signal", "dashboard", "segment", "cohort", "retention")
_PHRASES = ("net promoter score", "time to value", "customer health score", "renewal date",
            "churn rate", "price increase", "kickoff call", "support ticket", "CRM data",
            "quarterly business review", "executive sponsor", "per-seat pricing")


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 20))]
    if rng.random() < 0.6:
        words.insert(rng.randrange(len(words)), rng.choice(_PHRASES))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", "!"))


def candidates(seed: int = 8) -> list[Candidate]:
    rng = random.Random(seed)
    kinds = [SourceKind.COMPANY] * 20 + [SourceKind.VENDOR] * 16 + [SourceKind.OURS] * 4
    outlets = [(f"Outlet {n}", kinds[n]) for n in range(40)]
    made = []
    for n in range(CANDIDATES):
        outlet, kind = rng.choice(outlets)
        slug = f"story-{n:03d}"
        url = f"https://outlet{outlets.index((outlet, kind))}.example/{slug}"
        title = " ".join(w.capitalize() for w in rng.sample(_WORDS, rng.randint(3, 8)))
        summary = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
        made.append(Candidate(
            url, title, url, f"Author {rng.randint(1, 300)}", outlet, kind,
            NOW - timedelta(hours=rng.uniform(1, 7 * 24)), summary, (),
            (f"https://{outlet.replace(' ', '').lower()}.example/feed",), (f"e{n}",),
            rng.choice((0.5, 1.0, 1.0, 1.0, 1.5, 2.0))))
    return made


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def one_run(tmp: Path, store: MemoryStore, stories: list[Candidate]) -> dict[str, float]:
    figures: dict[str, float] = {}
    with connect(tmp / "curation.sqlite") as db:
        db.executescript("DELETE FROM edits; DELETE FROM item_details; DELETE FROM items; "
                         "DELETE FROM issues;")
        figures["build"], made = timed(lambda: build(
            db, store, day=NOW.date(), candidates=stories, who="bench", now=NOW,
            name="What's new in Customer Success", intro="Welcome."))
        issue = made.issue
        # Every candidate picked: the worst case for rendering.
        for n, item in enumerate(issues.items(db, issue.id), 1):
            db.execute("UPDATE items SET picked = 1, position = ? WHERE issue_id = ? AND "
                       "content_id = ?", (n, issue.id, item.content_id))
        by_section = issues.sections(db, issue.id)
        assert sum(len(v) for v in by_section.values()) == CANDIDATES
        for fmt in Format:
            figures[f"{fmt.value} cold"], _ = timed(
                lambda fmt=fmt: Renderer().render(fmt, issue, by_section))  # type: ignore[misc]
        warm = Renderer()
        for fmt in Format:
            figures[f"{fmt.value} warm"], _ = timed(
                lambda fmt=fmt: warm.render(fmt, issue, by_section))  # type: ignore[misc]
        db.execute("UPDATE issues SET status = 'published', published_at = ? WHERE id = ?",
                   (NOW.isoformat(), issue.id))
        published = issues.get(db, issue.id)
        figures["site"], _ = timed(lambda: write_site(db, tmp, issue=published))
        figures["all formats"] = sum(figures[f"{f.value} cold"] for f in Format)
    return figures


def machine() -> str:
    import os

    m = ingest_machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{m['cpu']}, {m['cores']} CPUs, Python {m['python']} (load average {load:.1f} "
            "when it ran)")


def report(runs: list[dict[str, float]], sizes: dict[str, int]) -> str:
    def med(key: str) -> str:
        return f"{statistics.median(r[key] for r in runs) * 1000:,.0f} ms"

    worst = max(statistics.median(r[f"{f.value} cold"] for r in runs) for f in Format)
    lines = [
        f"A {CANDIDATES}-candidate issue, every candidate picked (the worst case; a real issue "
        f"shows a dozen); medians of {len(runs)} runs on {machine()}.",
        "",
        "| step | cold (new Renderer) | warm | output |",
        "|---|---:|---:|---:|",
        f"| build: rank (graph signal from the embedded store) + draft + store | "
        f"{med('build')} | | |",
    ]
    names = {"md": "Markdown", "text": "plain text", "html": "HTML e-mail (css-inline)",
             "eml": ".eml (text + HTML, multipart)"}
    for fmt in Format:
        lines.append(f"| {names[fmt.value]} | {med(f'{fmt.value} cold')} | "
                     f"{med(f'{fmt.value} warm')} | {sizes[fmt.value] / 1024:,.0f} KB |")
    lines += [
        f"| publishing's files: archive page, index, Atom feed, .eml | {med('site')} | | |",
        f"| all four formats, each from a fresh Renderer | {med('all formats')} | | |",
        "",
        f"Goal: render under 1 s. The slowest single format takes {worst * 1000:,.0f} ms "
        f"{'(met)' if worst < 1 else '(NOT met)'}; all four together "
        f"{statistics.median(r['all formats'] for r in runs) * 1000:,.0f} ms.",
    ]
    return "\n".join(lines)


SECTION = """## Curation: ranking, drafting and rendering an issue (`bench/curation_render.py`)

`python bench/curation_render.py --write-docs` builds a 200-candidate roundup issue (ranked with
the audience signal asked of the embedded store holding the demo graph), picks every candidate
and renders it in every format: Markdown, plain text, the HTML e-mail with its CSS inlined, the
multipart .eml, and publishing's archive page, index and Atom feed.

{begin}
{figures}
{end}
"""


def write_docs(figures: str) -> None:
    write_section(DOCS, begin=BEGIN, end=END, figures=figures, section=SECTION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    stories = candidates()
    with tempfile.TemporaryDirectory(prefix="relgraph-render-") as name:
        tmp = Path(name)
        store = MemoryStore(tmp / "graph.sqlite")
        summary = load_graph_file(store, DEMO, rejects_dir=tmp / "rejects", source="demo")
        assert summary.rejected == 0
        runs = []
        for number in range(args.runs):
            runs.append(one_run(tmp, store, stories))
            print(f"run {number + 1}: " + ", ".join(
                f"{k} {v * 1000:.0f} ms" for k, v in runs[-1].items()), file=sys.stderr)
        with connect(tmp / "curation.sqlite") as db:
            issue = issues.list_issues(db)[0]
            by_section = issues.sections(db, issue.id)
            renderer = Renderer()
            sizes = {}
            for fmt in Format:
                out = renderer.render(fmt, issue, by_section)
                sizes[fmt.value] = len(out if isinstance(out, bytes) else out.encode())
        store.close()
    figures = report(runs, sizes)
    print(figures)
    if args.write_docs:
        write_docs(figures)


if __name__ == "__main__":
    main()
