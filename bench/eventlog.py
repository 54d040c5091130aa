"""Event-log benchmark: does a log made by thousands of small loads answer as fast as one big
load once compacted (`relgraph maintenance compact`, graph/eventlog.py)?

    python bench/eventlog.py [--loads 2000] [--per 100] [--runs 5] [--write-docs]

The same events three ways, in one run: one part (a single big load), `--loads` small parts
(as many small loads leave them; automatic compaction held off), and those parts compacted.
Each answers two questions the product asks of the log — the read spans of 200 people (READ
relationships) and everyone's first login — `--runs` times; medians and their ratios to the
single big load, the compaction's own time, and peak RSS beside. The machine is shared and
noisy: quote the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.docsection import write_section  # noqa: E402
from graph import eventlog  # noqa: E402
from graph.eventlog import EventLog, LoggedEvent  # noqa: E402

BEGIN, END = "<!-- eventlog:begin -->", "<!-- eventlog:end -->"
SECTION = """## The event log after thousands of small loads (`bench/eventlog.py`)

{begin}
{figures}
{end}
"""
START = datetime(2026, 1, 1, tzinfo=UTC)


def events(load: int, per: int) -> list[LoggedEvent]:
    out = []
    for k in range(per):
        n = load * per + k
        kind = "logged_in" if n % 10 == 0 else "page_viewed"
        out.append(LoggedEvent(f"e{n:09d}", kind, START + timedelta(seconds=37 * n),
                               f"p{n % 5000}@example.com",
                               url=f"https://example.com/c/{n % 300}" if kind != "logged_in"
                               else None, source=f"load-{load}.jsonl"))
    return out


def cpu() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def timed(fn: Callable[[], object], runs: int) -> float:
    seconds = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds)


def questions(log: EventLog, runs: int) -> tuple[float, float]:
    people = [f"p{k}@example.com" for k in range(200)]
    spans = timed(lambda: log.read_spans(persons=people), runs)
    firsts = timed(lambda: log.first_of("logged_in", [f"p{k}@example.com" for k in range(5000)]),
                   runs)
    return spans, firsts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=2000)
    parser.add_argument("--per", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    eventlog.AUTO_COMPACT_PARTS = 10**9  # the small parts as small loads leave them
    root = Path(tempfile.mkdtemp(prefix="relgraph-eventlog-"))
    try:
        big = EventLog(root / "big")
        big.append([e for i in range(args.loads) for e in events(i, args.per)])
        small = EventLog(root / "small")
        t = time.perf_counter()
        for i in range(args.loads):
            small.append(events(i, args.per))
        appending = time.perf_counter() - t
        assert small.count() == big.count() == args.loads * args.per
        one = questions(big, args.runs)
        many = questions(small, args.runs)
        done = small.compact()
        assert small.count() == args.loads * args.per
        compacted = questions(small, args.runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    met = max(compacted[0] / one[0], compacted[1] / one[1]) <= 1.2
    total = args.loads * args.per
    rows = [("one big load (1 part)", one), (f"{args.loads:,} small loads ({args.loads:,} parts)",
                                              many),
            (f"… compacted ({done.parts_after} part)", compacted)]
    lines = [f"Machine: {cpu()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}. `python bench/eventlog.py --loads "
             f"{args.loads} --per {args.per} --runs {args.runs}`: {total:,} events, medians of "
             f"{args.runs} runs.", "",
             "| the log | read spans of 200 people (s) | × one load | first logins of 5,000 "
             "people (s) | × one load |", "|---|---|---|---|---|"]
    for name, (spans, firsts) in rows:
        lines.append(f"| {name} | {spans:.3f} | {spans / one[0]:.2f} | {firsts:.3f} | "
                     f"{firsts / one[1]:.2f} |")
    lines += ["", f"The {args.loads:,} appends took {appending:.1f} s; the compaction "
              f"{done.seconds:.2f} s ({done.merged:,} parts, {done.events:,} events, into one). "
              f"Peak RSS {rss:.0f} MiB.",
              "Goal: a compacted log answers as fast as one big load (within 1.2x): "
              + ("met." if met else "not met.")]
    figures = "\n".join(lines)
    print(figures)
    if args.write_docs:
        write_section(Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md",
                      begin=BEGIN, end=END, figures=figures, section=SECTION)


if __name__ == "__main__":
    main()
