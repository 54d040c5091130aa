"""Demo-world benchmark: how long `relgraph demo world` takes to write a world, and how big.

The goal (the demo-world issue): a 1M-relationship world written in under a minute. Measured in
a child process per run (so its peak RSS is its own), medians of --runs:
- the seconds to write every file of a world of --companies companies, the bytes and rows
  written, and peak RSS;
- the relationships the loads will make, as the generator counts them (world.json's
  relationships_estimate_total); with --check-companies N, a smaller world of N companies is
  also loaded into the embedded store and its real relationship count set beside its estimate,
  so the estimate's error is measured, not assumed;
- the floor: the seconds to write the same number of lines of a fixed JSON record with orjson,
  the cheapest way to write that many rows.

    python bench/demo_world.py [--companies 12000] [--runs 3] [--check-companies 200]
                               [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

from docsection import write_section  # noqa: E402
from ingest import machine  # noqa: E402
from rss import peak_rss_mib  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- demo-world:begin -->", "<!-- demo-world:end -->"
GOAL_RELATIONSHIPS, GOAL_SECONDS = 1_000_000, 60.0
AS_OF = datetime(2026, 12, 1, 12, tzinfo=UTC)


def generate_once(companies: int) -> dict[str, Any]:
    from demoworld.world import generate

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        described = generate(Path(tmp), companies=companies, seed=7, as_of=AS_OF)
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {"seconds": seconds, "bytes": size, "rows": sum(described["files"].values()),
            "relationships": described["relationships_estimate_total"],
            "people": described["people"], "rss_mib": peak_rss_mib(),
            # the Segment parts' writers (forked, waited for): the largest one's peak
            "child_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def floor_once(rows: int) -> dict[str, Any]:
    import orjson

    record = {"type": "track", "event": "Report Viewed", "userId": "usr_0000001",
              "timestamp": "2026-12-01T12:00:00.000Z", "messageId": "7-000000001"}
    with tempfile.TemporaryDirectory() as tmp, (Path(tmp) / "f.jsonl").open("wb") as f:
        start = time.perf_counter()
        for _ in range(rows):
            f.write(orjson.dumps(record) + b"\n")
        return {"seconds": time.perf_counter() - start}


def check_once(companies: int) -> dict[str, Any]:
    """A small world loaded for real: its relationships against the generator's estimate."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RELGRAPH_STORE": "memory", "RELGRAPH_DATA_DIR": f"{tmp}/data",
               "COLUMNS": "200"}
        subprocess.run([sys.executable, "-m", "api.cli", "demo", "world", f"{tmp}/world",
                        "--companies", str(companies), "--as-of", AS_OF.isoformat(), "--load"],
                       env=env, check=True, capture_output=True, cwd=ROOT)
        described = json.loads((Path(tmp) / "world" / "world.json").read_text())
        sys.path.insert(0, str(ROOT))
        from graph.memory_store import MemoryStore

        store = MemoryStore(Path(tmp) / "data" / "graph.sqlite")
        try:
            counts = store.counts()
        finally:
            store.close()
    return {"estimate": described["relationships_estimate_total"],
            "loaded": sum(counts.relationships.values()), "companies": companies}


def child(kind: str, n: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(n)], check=True,
                         capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(args: argparse.Namespace, runs: list[dict[str, Any]], floors: list[float],
           check: dict[str, Any] | None) -> str:
    seconds = statistics.median(r["seconds"] for r in runs)
    r = runs[0]
    per_minute = r["relationships"] / seconds * 60
    floor = statistics.median(floors)
    m = machine()
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python "
             f"{m['python']}. `python bench/demo_world.py --companies {args.companies} "
             f"--runs {args.runs}`, each run in its own process.", "",
             "| world | seconds (median) | runs | relationships | per minute | rows | files "
             "| peak RSS (main / a part's writer) |", "|---|---|---|---|---|---|---|---|",
             f"| {args.companies:,} companies, {r['people']:,} people | {seconds:.1f} | "
             + ", ".join(f"{x['seconds']:.1f}" for x in runs)
             + f" | {r['relationships']:,} | {per_minute:,.0f} | {r['rows']:,} | "
             f"{r['bytes'] / 2**20:,.0f} MiB | {max(x['rss_mib'] for x in runs):,.0f} / "
             f"{max(x.get('child_rss_mib', 0) for x in runs):,.0f} MiB |", "",
             f"The floor, writing the same {r['rows']:,} rows as one fixed JSON record each with "
             f"orjson: {floor:.1f} s; the generator takes {seconds / floor:.1f}x it."]
    goal_met = r["relationships"] >= GOAL_RELATIONSHIPS and seconds < GOAL_SECONDS
    rate_goal = GOAL_RELATIONSHIPS / GOAL_SECONDS * 60
    lines.append(f"Goal: {GOAL_RELATIONSHIPS:,} relationships in under {GOAL_SECONDS:.0f} s "
                 f"({rate_goal:,.0f} a minute): "
                 + ("met." if goal_met else
                    f"not met: {per_minute:,.0f} a minute is {per_minute / rate_goal:.2f}x of "
                    "it. Most of the time is the Segment dump: the product events are most of "
                    "the rows but make few relationships (only the meaningful ones become Event "
                    "nodes)."))
    lines.append("The Segment dump, most of the rows, is written in parts by forked processes "
                 "(one a core, two parts) while the main process writes the other files; its "
                 "track lines come from templates with integer-microsecond times.")
    if check:
        ratio = check["loaded"] / check["estimate"]
        lines.append(f"Estimate checked: a {check['companies']}-company world loaded into the "
                     f"embedded store has {check['loaded']:,} relationships against the "
                     f"generator's {check['estimate']:,} ({ratio:.2f}x).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=12_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check-companies", type=int, default=200)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n = args.child[0], int(args.child[1])
        result = generate_once(n) if kind == "generate" else floor_once(n) \
            if kind == "floor" else check_once(n)
        print(json.dumps(result))
        return
    runs = [child("generate", args.companies) for _ in range(args.runs)]
    floors = [child("floor", runs[0]["rows"])["seconds"] for _ in range(args.runs)]
    check = child("check", args.check_companies) if args.check_companies else None
    text = report(args, runs, floors, check)
    print(text)
    if args.write_docs:
        write_section(DOCS, begin=BEGIN, end=END, figures=text, section=(
            "\n## The demo world (`relgraph demo world`)\n\n{begin}\n{figures}\n{end}\n"))


if __name__ == "__main__":
    main()
