"""Load-trust benchmark: what the trustworthy-loads issue changed costs, measured against floors.

1. Proposing merges (issue item 7: 1.2 ms per proposal on an empty book, 6.7 ms at 73k, so a
   20k-row LinkedIn export with colliding names took 5 min 46 s). N LinkedIn-keyed people at
   N/100 companies, first names and last names from small pools so that names collide, through
   `propose_people` into an empty merge book, then again (every pair already there). The floor:
   the same proposal rows inserted into a bare SQLite table with the same unique index, in one
   transaction (what storing them cannot beat). Run at N and 2N: the time ratio says whether the
   work grows linearly (about 2) or quadratically (about 4) in the pairs it proposes.
2. An unsorted Segment export (issue item 3: a page by a user before their identify was
   rejected; 4,359 rejects on 200k events). bench/connectors.py's generator writes the events
   in time order; the same lines shuffled are loaded into a fresh embedded store after the
   catalogue. Rejects must be 0 for both; the ratio is the unsorted load's time over the sorted
   one's (resolving identities over the whole load must not cost the unsorted file more).

Each measurement runs in its own child process, so its peak RSS is its own. Medians of --runs.

    python bench/trust.py [--people 20000] [--events 200000] [--runs 3] [--write-docs]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # ingest.py; never ahead of the packages

from docsection import write_section  # noqa: E402
from ingest import cold, machine, peak_rss_mib  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- trust:begin -->", "<!-- trust:end -->"
FIRST = ["Ada", "Ben", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo"]
LAST = ["Lee", "Okafor", "Patel", "Brandt", "Wei", "Moss"]


# --- 1. merge proposals -----------------------------------------------------------------------

def _people_world(n: int, directory: Path) -> Any:
    """An embedded store holding n LinkedIn-keyed people at n/100 companies."""
    from graph.memory_store import MemoryStore

    store = MemoryStore(None, batch_size=50_000)
    rng = random.Random(12)
    companies = [f"company-{c}" for c in range(max(1, n // 100))]
    store.upsert_nodes("Company", [{"id": c, "name": c} for c in companies], source="bench")
    people = [{"id": f"linkedin:https://www.linkedin.com/in/p-{i}",
               "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}"} for i in range(n)]
    store.upsert_nodes("Person", people, source="bench")
    store.upsert_relationships("WORKS_AT", [{"from": p["id"], "to": companies[i % len(companies)]}
                                            for i, p in enumerate(people)], source="bench")
    return store, companies


def proposals(n: int) -> dict[str, Any]:
    from connectors.merges import MergeBook, candidates, propose_people

    with tempfile.TemporaryDirectory(prefix="relgraph-trust-") as name:
        directory = Path(name)
        store, companies = _people_world(n, directory)
        book = MergeBook(directory / "merges.sqlite")
        cold()
        t0 = time.perf_counter()
        new = propose_people(store, book, companies)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = propose_people(store, book, companies)
        second = time.perf_counter() - t0
        rows = [(keep, drop, score, json.dumps(evidence, sort_keys=True))
                for keep, drop, score, evidence in candidates(store.people_at(companies))]
        floor_db = sqlite3.connect(directory / "floor.sqlite", isolation_level=None)
        floor_db.execute("CREATE TABLE m (label TEXT, a TEXT, b TEXT, kept TEXT, score REAL, "
                         "evidence TEXT, status TEXT, proposed_at TEXT)")
        floor_db.execute("CREATE UNIQUE INDEX m_pair ON m (label, a, b)")
        t0 = time.perf_counter()
        floor_db.execute("BEGIN")
        floor_db.executemany(
            "INSERT INTO m VALUES ('Person', ?, ?, 'a', ?, ?, 'proposed', '') "
            "ON CONFLICT DO NOTHING",
            [(min(k, d), max(k, d), s, e) for k, d, s, e in rows])
        floor_db.execute("COMMIT")
        floor = time.perf_counter() - t0
        floor_db.close()
    return {"people": n, "proposed": new, "again_new": again, "seconds": first,
            "again_seconds": second, "floor_seconds": floor, "peak_rss_mib": peak_rss_mib()}


# --- 2. an unsorted Segment export ------------------------------------------------------------

def _connectors_bench() -> Any:
    """bench/connectors.py's generators (imported by path: its name is the package's)."""
    import connectors.pipeline  # noqa: F401 - the package first, so the module cannot shadow it

    spec = importlib.util.spec_from_file_location("bench_connectors", ROOT / "bench" /
                                                  "connectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_segment(directory: Path, events: int) -> dict[str, Any]:
    bc = _connectors_bench()
    n = bc.sizes(events / bc.SIZES["events"])
    bc.write_catalog(directory / "catalog.csv", n)
    lines = bc.write_segment(directory / "sorted.jsonl", n)
    shuffled = (directory / "sorted.jsonl").read_bytes().splitlines(keepends=True)
    random.Random(3).shuffle(shuffled)
    (directory / "unsorted.jsonl").write_bytes(b"".join(shuffled))
    return {"lines": lines}


def segment(directory: Path, name: str) -> dict[str, Any]:
    from connectors.pipeline import Loader
    from connectors.source import ReadContext, source
    from graph.memory_store import MemoryStore

    with tempfile.TemporaryDirectory(prefix="relgraph-trust-") as tmp:
        data = Path(tmp)
        store = MemoryStore(data / "graph.sqlite")
        Loader(store, data_dir=data).run(source("catalog"), [directory / "catalog.csv"],
                                         ReadContext("catalog"))
        cold()
        t0 = time.perf_counter()
        summary = Loader(store, data_dir=data).run(source("segment"), [directory / name],
                                                   ReadContext("segment"))
        seconds = time.perf_counter() - t0
        reads = store.counts().relationships.get("READ", 0)
        store.close()
    return {"file": name, "rows": summary.rows, "rejected": summary.rejected,
            "seconds": seconds, "rows_per_s": summary.rows / seconds, "reads": reads,
            "peak_rss_mib": peak_rss_mib()}


# --- running and reporting --------------------------------------------------------------------

def child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "child", *args], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"Measured {results['date']} on {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
             f"Python {m.get('python', '?')}; medians of {results['runs']} runs, each in its own "
             "process.", "",
             "| merge proposals | people | proposed | propose_people | again (all known) | "
             "floor (bare SQLite insert) | ratio to floor | peak RSS |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for size in results["proposals"]:
        runs = size["runs"]
        s, f = _median(runs, "seconds"), _median(runs, "floor_seconds")
        lines.append(f"| | {runs[0]['people']:,} | {runs[0]['proposed']:,} | {s:.2f} s | "
                     f"{_median(runs, 'again_seconds'):.2f} s | {f:.3f} s | {s / f:.1f}x | "
                     f"{_median(runs, 'peak_rss_mib'):,.0f} MiB |")
    small, large = (_median(p["runs"], "seconds") for p in results["proposals"])
    lines += ["", f"Twice the people: {large / small:.2f}x the time (linear is about 2, "
              "quadratic about 4).", "",
              "| Segment export | rows | rejected | READ | seconds | rows/s | peak RSS |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ("sorted.jsonl", "unsorted.jsonl"):
        runs = results["segment"][name]
        lines.append(f"| {name} | {runs[0]['rows']:,} | {runs[0]['rejected']:,} | "
                     f"{runs[0]['reads']:,} | {_median(runs, 'seconds'):.1f} | "
                     f"{_median(runs, 'rows_per_s'):,.0f} | "
                     f"{_median(runs, 'peak_rss_mib'):,.0f} MiB |")
    ratio = (_median(results["segment"]["unsorted.jsonl"], "seconds")
             / _median(results["segment"]["sorted.jsonl"], "seconds"))
    lines += ["", f"Unsorted over sorted: {ratio:.2f}x the time."]
    return "\n".join(lines)


SECTION = """## Load trust (bench/trust.py)

What the trustworthy-loads issue changed costs. Proposing merges was quadratic (1.2 ms per
proposal on an empty book, 6.7 ms at 73k: a 20k-row LinkedIn export with colliding names took
5 min 46 s); it is now one transaction per load into a canonical, uniquely indexed pair table, so
its floor is a bare SQLite insert of the same rows. An unsorted Segment export lost reads (a page
before its user's identify was rejected); identities are now resolved over the whole load, and
the unsorted file must cost about what the sorted one does, with no rejects.

{begin}
{figures}
{end}
"""


def write_docs(figures: str) -> None:
    write_section(DOCS, begin=BEGIN, end=END, figures=figures, section=SECTION)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        kind, *rest = sys.argv[2:]
        result = (proposals(int(rest[0])) if kind == "proposals"
                  else segment(Path(rest[0]), rest[1]))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "runs": args.runs,
                               "date": time.strftime("%Y-%m-%d"), "proposals": [],
                               "segment": {}}
    for n in (args.people, 2 * args.people):
        runs = [child("proposals", str(n)) for _ in range(args.runs)]
        print(f"proposals {n:,}: " + ", ".join(f"{r['seconds']:.2f} s" for r in runs),
              file=sys.stderr)
        results["proposals"].append({"runs": runs})
    with tempfile.TemporaryDirectory(prefix="relgraph-trust-events-") as name:
        directory = Path(name)
        write_segment(directory, args.events)
        for file in ("sorted.jsonl", "unsorted.jsonl"):
            runs = [child("segment", str(directory), file) for _ in range(args.runs)]
            print(f"{file}: " + ", ".join(f"{r['seconds']:.1f} s" for r in runs),
                  file=sys.stderr)
            results["segment"][file] = runs
    figures = report(results)
    print(figures)
    if args.write_docs:
        write_docs(figures)


if __name__ == "__main__":
    main()
