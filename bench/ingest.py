"""Ingest benchmark: 100k Person, 20k Company, 10k Content, 100k WORKS_AT, 300k KNOWS, 500k READ.

Measures, in one run on one machine:
- the embedded MemoryStore: end-to-end rows/s (validation, key normalisation, every batch's
  SQLite commit and the closing checkpoint included, as `relgraph load` does), peak RSS, the
  memory the loaded graph holds, the size of its graph file and the time to open it again;
- the Neo4jStore into a local Neo4j: end-to-end rows/s, client peak RSS, server RSS;
- a naive Neo4j baseline on a sample (one MERGE per row, one transaction per row);
- a floor on a sample: our exact UNWIND … MERGE Cypher with parameters validated and built
  before the clock starts, so the ratio shows what validation and packing cost.
Medians over --repeat runs. `python bench/ingest.py all --uri … --write-docs` runs each store in
its own child process (so peak RSS is its own) and rewrites the figures in docs/benchmarks.md.

The Neo4j legs delete everything in the database they are given; they refuse a non-empty database
unless --wipe is passed. `make bench` starts a dedicated local Neo4j for them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

from rss import hwm_mib, peak_rss_mib  # noqa: E402,F401 - peak_rss_mib: for the other benches

from graph.store import GraphStore  # noqa: E402

BASE = datetime(2025, 1, 1, tzinfo=UTC)
SIZES = {"Person": 100_000, "Company": 20_000, "Content": 10_000,
         "WORKS_AT": 100_000, "KNOWS": 300_000, "READ": 500_000}
KINDS = ["article", "white_paper", "webinar", "video"]


def _iso(days: float) -> str:
    return (BASE + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def people(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    companies = n["Company"]
    for i in range(n["Person"]):
        yield {"id": f"Person.{i}@C{i % companies}.com", "name": f"Person {i}",
               "title": "Manager" if i % 3 else "Director"}


def companies(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    for j in range(n["Company"]):
        yield {"id": f"c{j}.com", "name": f"Company {j}", "customer": j % 4 == 0}


def contents(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    for k in range(n["Content"]):
        yield {"id": f"https://news.example.org/a/{k}?utm_source=feed", "title": f"Article {k}",
               "kind": KINDS[k % len(KINDS)]}


def works_at(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    companies = n["Company"]
    for i in range(n["WORKS_AT"]):
        yield {"from": f"person.{i}@c{i % companies}.com", "to": f"c{i % companies}.com",
               "title": "Manager", "since": _iso(i % 700)}


def knows(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    persons, companies = n["Person"], n["Company"]
    for e in range(n["KNOWS"]):
        a = e % persons
        b = (a + 1 + (e * 2654435761) % (persons - 1)) % persons
        yield {"from": f"person.{a}@c{a % companies}.com",
               "to": f"person.{b}@c{b % companies}.com",
               "source": "linkedin", "strength": round((e % 100) / 100, 2)}


def reads(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    persons, items, companies = n["Person"], n["Content"], n["Company"]
    for e in range(n["READ"]):
        p = e % persons
        c = (p * 7 + (e // persons) * 1999) % items
        yield {"from": f"person.{p}@c{p % companies}.com",
               "to": f"https://news.example.org/a/{c}", "first_at": _iso(e % 300),
               "last_at": _iso(e % 300 + 5), "count": 1 + e % 4, "channel": "web"}


def sizes(scale: float) -> dict[str, int]:
    return {k: max(10, int(v * scale)) for k, v in SIZES.items()}


STEPS: list[tuple[str, str, Callable[[dict[str, int]], Iterator[dict[str, Any]]]]] = [
    ("node", "Company", companies), ("node", "Person", people), ("node", "Content", contents),
    ("rel", "WORKS_AT", works_at), ("rel", "KNOWS", knows), ("rel", "READ", reads),
]


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cold() -> None:
    """Forget what the key normalisers remember, as a new `relgraph load` process starts: a
    repeat must not find every key of the run before it already normalised."""
    from graph import keys, rows

    for name in dir(keys):
        clear = getattr(getattr(keys, name), "cache_clear", None)
        if clear is not None and name != "_psl":  # the public suffix list is loaded once
            clear()
    for cached in getattr(rows, "_CACHED", {}).values():
        cached.cache_clear()


def ingest(store: GraphStore, scale: float) -> dict[str, Any]:
    per_step: dict[str, float] = {}
    rows = rejected = 0
    cold()
    start = time.perf_counter()
    n = sizes(scale)
    for kind, name, make in STEPS:
        count = n[name]
        t0 = time.perf_counter()
        if kind == "node":
            result = store.upsert_nodes(name, make(n), source="bench")
        else:
            result = store.upsert_relationships(name, make(n), source="bench")
        per_step[name] = count / (time.perf_counter() - t0)
        rows += count
        rejected += len(result.rejects)
    elapsed = time.perf_counter() - start
    if rejected:
        raise SystemExit(f"benchmark data was rejected ({rejected} rows): fix the generator")
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed,
            "per_step_rows_per_s": per_step}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    import neo4j

    try:
        from importlib.metadata import version

        rust_ext = version("neo4j-rust-ext")
    except Exception:
        rust_ext = "not installed"
    import networkx

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "neo4j_driver": neo4j.__version__,
            "neo4j_rust_ext": rust_ext, "networkx": networkx.__version__,
            "os": platform.platform()}


# --- the memory store ---------------------------------------------------------------------------

def run_memory(args: argparse.Namespace) -> dict[str, Any]:
    import gc
    import tempfile

    from graph.memory_store import MemoryStore

    runs, end_to_end, held, checkpoints, opens = [], [], [], [], []
    size = 0
    for _ in range(args.repeat):
        gc.collect()
        before = rss_mib()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "graph.sqlite"
            store = MemoryStore(path, batch_size=args.batch_size)
            run = ingest(store, args.scale)  # each batch is committed to SQLite as it is written
            runs.append(run)
            # `relgraph load` ends with a checkpoint; its time belongs to the load's.
            t0 = time.perf_counter()
            store.checkpoint()
            checkpoints.append(time.perf_counter() - t0)
            end_to_end.append(run["rows"] / (run["seconds"] + checkpoints[-1]))
            gc.collect()
            held.append(rss_mib() - before)
            store.close()
            size = sum(f.stat().st_size for f in Path(tmp).glob("graph.sqlite*"))  # + its WAL
            del store
            gc.collect()
            t0 = time.perf_counter()
            again = MemoryStore(path)  # reads the whole graph back into memory
            opens.append(time.perf_counter() - t0)
            counts = again.counts()
            again.close()
            del again
            gc.collect()
    return {
        "rows_per_s": statistics.median(end_to_end),
        "runs_rows_per_s": [round(r) for r in end_to_end],
        "writes_rows_per_s": statistics.median(r["rows_per_s"] for r in runs),
        "per_step_rows_per_s": runs[-1]["per_step_rows_per_s"],
        "rows": runs[-1]["rows"],
        "graph_rss_mib": statistics.median(held),
        "peak_rss_mib": peak_rss_mib(),
        "checkpoint_s": statistics.median(checkpoints),
        "open_s": statistics.median(opens),
        "file_mib": size / 2**20,
        "relationships": sum(counts.relationships.values()),
    }


# --- Neo4j ----------------------------------------------------------------------------------------

def _server_rss_mib(pidfile: str | None) -> float | None:
    if not pidfile or not Path(pidfile).exists():
        return None
    return hwm_mib(Path(pidfile).read_text().strip())


def naive(driver: Any, sample: int) -> float:
    """One MERGE per row, one transaction per row: the way a first draft loads a graph."""
    n = {**SIZES, "Person": sample, "KNOWS": sample}
    rows, edges = list(people(n)), list(knows(n))
    t0 = time.perf_counter()
    with driver.session() as session:
        for row in rows:
            session.execute_write(lambda tx, r=row: tx.run(
                "MERGE (n:NaivePerson {id: $id}) SET n.name = $name, n.title = $title",
                id=r["id"].lower(), name=r["name"], title=r["title"]).consume())
        for row in edges:
            session.execute_write(lambda tx, r=row: tx.run(
                "MATCH (a:NaivePerson {id: $a}) MATCH (b:NaivePerson {id: $b}) "
                "MERGE (a)-[k:NAIVE_KNOWS]->(b) SET k.source = $source, k.strength = $strength",
                a=r["from"], b=r["to"], source=r["source"], strength=r["strength"]).consume())
    return (len(rows) + len(edges)) / (time.perf_counter() - t0)


FLOOR_STEPS = ("Person", "KNOWS", "READ")


def floor(store: Any, scale: float) -> float:
    """Our exact Cypher and batches, with parameters built and validated before the clock
    starts: the server-bound floor our end-to-end path can approach (Person, KNOWS, READ)."""
    from graph.model import now_utc
    from graph.neo4j_store import node_upsert_cypher, rel_upsert_cypher, row_params
    from graph.rows import node_row, rel_row
    from graph.schema import node_type, rel_type

    n = sizes(scale)
    prepared: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for kind, name, make in STEPS:
        if kind == "node":
            rows = [node_row(node_type(name), i, r) for i, r in enumerate(make(n))]
            params = [dict(zip(("props", "dt"), row_params(r.props), strict=True), key=r.key)
                      for r in rows]
            prepared[name] = (node_upsert_cypher(name), params)
        else:
            rtype = rel_type(name)
            start, end = rtype.ends[0]
            rels = [rel_row(rtype, node_type(start), node_type(end), i, r)
                    for i, r in enumerate(make(n))]
            params = [dict(zip(("props", "dt"), row_params(r.props), strict=True), i=r.index,
                           start=r.start, end=r.end) for r in rels]
            prepared[name] = (rel_upsert_cypher(name, start, end), params)
    timed = rows_timed = 0.0
    with store._driver.session() as session:
        for _, name, _ in STEPS:
            cypher, params = prepared[name]
            t0 = time.perf_counter()
            for i in range(0, len(params), store.batch_size):
                session.execute_write(lambda tx, p=params[i:i + store.batch_size], c=cypher: tx.run(
                    c, rows=p, source="bench", loaded_at=now_utc()).consume())
            if name in FLOOR_STEPS:
                timed += time.perf_counter() - t0
                rows_timed += len(params)
    return rows_timed / timed


def _wipe(driver: Any) -> None:
    with driver.session() as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


def run_neo4j(args: argparse.Namespace) -> dict[str, Any]:
    from neo4j import GraphDatabase

    from graph.neo4j_store import Neo4jStore

    driver = GraphDatabase.driver(args.uri, auth=(args.user, args.password))
    with driver.session() as session:
        existing = session.run("MATCH (n) RETURN count(n) AS c").single()["c"]
        if existing and not args.wipe:
            raise SystemExit(f"{args.uri} holds {existing} nodes; pass --wipe to delete them")
        for label in ("NaivePerson", "FloorPerson"):
            session.run(f"CREATE CONSTRAINT bench_{label.lower()} IF NOT EXISTS "
                        f"FOR (n:{label}) REQUIRE n.id IS UNIQUE").consume()
    store = Neo4jStore(args.uri, user=args.user, password=args.password,
                       batch_size=args.batch_size)
    runs, naive_runs, floor_runs = [], [], []
    floor_scale = args.floor_sample / SIZES["Person"]
    for _ in range(args.repeat):
        _wipe(driver)
        floor_runs.append(floor(store, floor_scale))
        _wipe(driver)
        runs.append(ingest(store, args.scale))
        naive_runs.append(naive(driver, args.sample))
    ours = statistics.median(r["rows_per_s"] for r in runs)
    # Our path on the same steps as the floor, for a like-for-like ratio.
    n = sizes(args.scale)
    like = statistics.median(
        sum(n[k] for k in FLOOR_STEPS)
        / sum(n[k] / r["per_step_rows_per_s"][k] for k in FLOOR_STEPS)
        for r in runs)
    n_naive = sizes(args.scale)
    naive_like = statistics.median(
        (n_naive["Person"] + n_naive["KNOWS"])
        / (n_naive["Person"] / r["per_step_rows_per_s"]["Person"]
           + n_naive["KNOWS"] / r["per_step_rows_per_s"]["KNOWS"])
        for r in runs)
    _wipe(driver)
    store.close()
    driver.close()
    result = {
        "rows_per_s": ours,
        "runs_rows_per_s": [round(r["rows_per_s"]) for r in runs],
        "per_step_rows_per_s": runs[-1]["per_step_rows_per_s"],
        "rows": runs[-1]["rows"],
        "person_knows_rows_per_s": naive_like,
        "floor_steps_rows_per_s": like,
        "naive_rows_per_s": statistics.median(naive_runs),
        "naive_sample_rows": 2 * args.sample,
        "floor_rows_per_s": statistics.median(floor_runs),
        "floor_sample_rows": sum(sizes(floor_scale)[k] for k in FLOOR_STEPS),
        "client_peak_rss_mib": peak_rss_mib(),
        "server_peak_rss_mib": _server_rss_mib(args.server_pidfile),
        "batch_size": args.batch_size,
    }
    result["vs_naive"] = naive_like / result["naive_rows_per_s"]
    result["vs_floor"] = like / result["floor_rows_per_s"]
    return result


# --- report ---------------------------------------------------------------------------------------

def markdown(report: dict[str, Any]) -> str:
    m, mem, neo = report["machine"], report.get("memory"), report.get("neo4j")
    n = sizes(report["scale"])
    like_rows = n["Person"] + n["KNOWS"]
    floor_rows = sum(n[k] for k in FLOOR_STEPS)
    lines = [
        f"Measured {report['date']} with `python bench/ingest.py all` "
        f"(scale {report['scale']}, median of {report['repeat']} runs, batch "
        f"{report['batch_size']:,}).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; "
        f"Python {m['python']}, neo4j driver {m['neo4j_driver']} (rust ext "
        f"{m['neo4j_rust_ext']}), networkx {m['networkx']}, Neo4j Community "
        f"{report.get('neo4j_server', '?')} embedded via scripts/neo4j-local.",
        "",
        "| path | rows | rows/s (median) | runs | peak RSS |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    if mem:
        lines.append(
            f"| MemoryStore, end to end (every batch committed, closing checkpoint) | "
            f"{mem['rows']:,} | {mem['rows_per_s']:,.0f} | "
            f"{', '.join(f'{r:,}' for r in mem['runs_rows_per_s'])} | "
            f"{mem['peak_rss_mib']:,.0f} MiB |")
    if neo:
        server = (f", server {neo['server_peak_rss_mib']:,.0f} MiB"
                  if neo["server_peak_rss_mib"] else "")
        lines += [
            f"| Neo4jStore, end to end | {neo['rows']:,} | {neo['rows_per_s']:,.0f} | "
            f"{', '.join(f'{r:,}' for r in neo['runs_rows_per_s'])} | client "
            f"{neo['client_peak_rss_mib']:,.0f} MiB{server} |",
            f"| Neo4jStore, Person + KNOWS steps | {like_rows:,} | "
            f"{neo['person_knows_rows_per_s']:,.0f} | | |",
            f"| naive: one MERGE + one transaction per row (Person + KNOWS sample) | "
            f"{neo['naive_sample_rows']:,} | {neo['naive_rows_per_s']:,.0f} | | |",
            f"| Neo4jStore, Person + KNOWS + READ steps | {floor_rows:,} | "
            f"{neo['floor_steps_rows_per_s']:,.0f} | | |",
            f"| floor: our Cypher, parameters pre-built (Person + KNOWS + READ sample) | "
            f"{neo['floor_sample_rows']:,} | {neo['floor_rows_per_s']:,.0f} | | |",
        ]
    lines.append("")
    if neo:
        lines += [
            f"- Neo4jStore vs naive, same shape of rows: **{neo['vs_naive']:.0f}x** "
            "(goal: at least 20x).",
            f"- Neo4jStore vs the floor (same Cypher, parameters pre-built): "
            f"**{neo['vs_floor']:.2f}x**; validation, key normalisation and packing cost the rest.",
            f"- Neo4jStore end to end: **{neo['rows_per_s']:,.0f} rows/s** (goal: 30,000).",
        ]
    if mem:
        lines += [
            f"- MemoryStore end to end, every batch committed to its SQLite file as it is written "
            f"and the closing checkpoint ({mem['checkpoint_s']:.2f} s) included: "
            f"**{mem['rows_per_s']:,.0f} rows/s**"
            + (f", {mem['rows_per_s'] / neo['rows_per_s']:.1f}x the Neo4jStore" if neo else "")
            + ".",
            f"- MemoryStore holding {mem['relationships']:,} relationships: "
            f"**{mem['graph_rss_mib']:,.0f} MiB** of RSS; graph file {mem['file_mib']:,.0f} MiB "
            f"(graph.sqlite and its WAL), opened again (read back into memory) in "
            f"{mem['open_s']:.1f} s.",
        ]
    if mem or neo:
        lines.append("")
        lines.append("Per step (rows/s, last run):")
        lines.append("")
        lines.append("| step | MemoryStore | Neo4jStore |")
        lines.append("| --- | ---: | ---: |")
        for step in SIZES:
            a = mem["per_step_rows_per_s"].get(step) if mem else None
            b = neo["per_step_rows_per_s"].get(step) if neo else None
            lines.append(f"| {step} | {a or 0:,.0f} | {b or 0:,.0f} |")
    return "\n".join(lines) + "\n"


def write_docs(section: str) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    begin, end = "<!-- ingest:begin -->", "<!-- ingest:end -->"
    text = docs.read_text(encoding="utf-8")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    docs.write_text(f"{head}{begin}\n{section}{end}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", choices=["memory", "neo4j", "all"])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000, help="naive rows per kind")
    parser.add_argument("--floor-sample", type=int, default=20_000,
                        help="people in the floor sample (other kinds in proportion)")
    parser.add_argument("--uri", default=os.environ.get("RELGRAPH_BENCH_NEO4J_URI"))
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default=os.environ.get("RELGRAPH_BENCH_NEO4J_PASSWORD"))
    parser.add_argument("--server-pidfile")
    parser.add_argument("--wipe", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    if args.which == "memory":
        print(json.dumps(run_memory(args)))
        return
    if args.which == "neo4j":
        if not args.uri or not args.password:
            raise SystemExit("the Neo4j leg needs --uri and --password")
        print(json.dumps(run_neo4j(args)))
        return

    report: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d"),
                              "scale": args.scale, "repeat": args.repeat,
                              "batch_size": args.batch_size, "machine": machine()}
    common = [f"--scale={args.scale}", f"--repeat={args.repeat}",
              f"--batch-size={args.batch_size}"]
    for which in ("memory", "neo4j"):
        extra = []
        if which == "neo4j":
            if not args.uri:
                print("no --uri: skipping the Neo4j leg", file=sys.stderr)
                continue
            extra = [f"--uri={args.uri}", f"--user={args.user}", f"--password={args.password}",
                     f"--sample={args.sample}", f"--floor-sample={args.floor_sample}"]
            if args.server_pidfile:
                extra.append(f"--server-pidfile={args.server_pidfile}")
            if args.wipe:
                extra.append("--wipe")
            from neo4j import GraphDatabase

            with GraphDatabase.driver(args.uri, auth=(args.user, args.password)) as d:
                report["neo4j_server"] = d.get_server_info().agent.split("/")[-1]
        print(f"running the {which} leg ...", file=sys.stderr)
        out = subprocess.run([sys.executable, __file__, which, *common, *extra],
                             check=True, capture_output=True, text=True).stdout
        report[which] = json.loads(out.strip().splitlines()[-1])
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"ingest-{report['date']}.json").write_text(json.dumps(report, indent=2))
    section = markdown(report)
    print(section)
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    main()
