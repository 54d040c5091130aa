"""GraphQL API benchmark: the questions over HTTP on one uvicorn worker, against their floors.

On the foundation benchmark's data (bench/ingest.py's generators at --scale: 100k people, 20k
companies, 10k content, 100k WORKS_AT, 300k KNOWS, 500k READ at scale 1) plus what the questions
need that it lacks, generated here and loaded through the stores' upserts: topics with ABOUT
edges from content; concerns raised in the six weeks before `asOf` by a few hundred people (most
of them readers of the read topic), about topics; triggers at 1 company in 13; and our team: a
company flagged own whose 8 people each KNOW 1 person in 16 (half of everyone in all).

Both stores are loaded (the embedded store into a temporary data dir; Neo4j at --uri, which
must be empty or --wipe'd), then for each store `relgraph serve` runs with ONE uvicorn worker
in a subprocess, with a read API key made with the API's key store, and a load generator in a
separate process sends the questions over HTTP: wrk (Debian's package; a small Lua script sends
the POST bodies and the bearer header), or where wrk is missing a multi-connection httpx/asyncio
client of this file (the report says which). Measured, in rounds so that noise hits every
figure alike:

- p50/p95 at one connection (one request at a time) of `connections` (question a, first: 50),
  `warmPaths` (20 pairs of people 2 and 3 hops apart), `triggers` (90-day window,
  whereWeKnowSomeone) and `person(email)` (200 people, e-mails as typed);
- the floor of each: the question module's own Cypher with its own parameters (what
  `Question.prepare` and `Question.cypher` give), through the neo4j driver from one process,
  timed the same way (one at a time). On the embedded store the floor is the question's
  embedded implementation called in-process (`store.ask`);
- requests/s at --connections connections, with the server's CPU per request;
- a plain FastAPI route (one worker, same uvicorn, a small JSON answer) under the person load.

Medians over --repeat rounds; `--write-docs` rewrites the figures between the api markers of
docs/benchmarks.md. Never a timed test. `make bench` runs it after the ingest and connectors
benchmarks on its own local Neo4j.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import BASE, knows, machine, reads, sizes  # noqa: E402
from rss import hwm_mib  # noqa: E402

AS_OF = BASE + timedelta(days=300)  # the reads of the ingest data span days 0..305
READ_WINDOW, CONCERN_WINDOW, TRIGGER_WINDOW = (timedelta(days=90), timedelta(days=30),
                                               timedelta(days=90))
TOPICS = ("security", "pricing", "data-privacy", "integrations", "onboarding", "reporting",
          "performance", "compliance", "migration", "analytics", "automation", "billing",
          "identity", "observability", "scalability", "support", "ai-assistants", "mobile",
          "api-design", "data-quality", "governance", "localization", "accessibility",
          "workflows", "search", "notifications", "backups", "uptime", "sso", "exports")
READ_TOPIC, CONCERN_TOPIC = "security", "pricing"
OWN = "relgraph-team.com"
TEAM = 8  # team member t KNOWS every person p with p % (2 * TEAM) == t: half of everyone
CHANNELS = ("ticket", "call", "survey", "email", "chat", "meeting")
TRIGGER_TYPES = ("acquisition", "expansion", "funding_round", "hiring_surge", "ipo", "layoffs",
                 "leadership_change", "partnership", "product_launch")
QUESTIONS = ("connections", "warmPaths", "triggers", "person")
PAIRS = 20  # warm-path pairs, half 2 hops apart, half 3
EMAILS = 200


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def person_key(p: int, n: dict[str, int]) -> str:
    return f"person.{p}@c{p % n['Company']}.com"


def team_key(t: int) -> str:
    return f"team.{t}@{OWN}"


# --- what the questions need beyond the ingest data (deterministic) ---------------------------

def content_topics(k: int) -> tuple[str, ...]:
    a, b = TOPICS[k % len(TOPICS)], TOPICS[(k * 7 + 3) % len(TOPICS)]
    return (a,) if a == b else (a, b)


def topic_rows() -> Iterator[dict[str, Any]]:
    for slug in TOPICS:
        yield {"id": slug, "name": slug.replace("-", " ").title()}


def content_about(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    for k in range(n["Content"]):
        for i, topic in enumerate(content_topics(k)):
            yield {"from": f"https://news.example.org/a/{k}", "to": topic,
                   "weight": 0.9 if i == 0 else 0.6}


def team_rows() -> Iterator[dict[str, Any]]:
    for t in range(TEAM):
        yield {"id": team_key(t), "name": f"Team Member {t}", "title": "Account Executive"}


def team_jobs() -> Iterator[dict[str, Any]]:
    for t in range(TEAM):
        yield {"from": team_key(t), "to": OWN, "title": "Account Executive",
               "since": iso(BASE - timedelta(days=365))}


def team_knows(n: dict[str, int]) -> Iterator[dict[str, Any]]:
    for p in range(n["Person"]):
        t = p % (2 * TEAM)
        if t < TEAM:
            yield {"from": team_key(t), "to": person_key(p, n), "source": "crm",
                   "strength": round(0.3 + (p % 70) / 100, 2)}


def raisers(n: dict[str, int]) -> list[str]:
    """A few hundred people (400 at scale 1): three quarters of them read something about the
    read topic inside its window (found by walking the ingest READ generator), the rest anyone."""
    since, until = iso(AS_OF - READ_WINDOW), iso(AS_OF)
    candidates: dict[str, None] = {}
    for r in reads(n):
        k = int(r["to"].rsplit("/", 1)[1])
        if (r["from"] not in candidates and READ_TOPIC in content_topics(k)
                and r["first_at"] <= until and r["last_at"] >= since):
            candidates[r["from"]] = None
    want = max(20, n["Person"] // 250)
    readers_ = list(candidates)
    chosen = [readers_[i * len(readers_) // (want * 3 // 4)] for i in range(want * 3 // 4)]
    taken = set(chosen)
    step = max(1, n["Person"] // (want - len(chosen)))
    for p in range(7, n["Person"], step):
        if len(chosen) >= want:
            break
        if person_key(p, n) not in taken:
            chosen.append(person_key(p, n))
    return chosen


def concern_rows(people: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                              list[dict[str, Any]]]:
    """1-3 concerns each over the 42 days before asOf; half about the concern topic."""
    nodes, raised, about = [], [], []
    for j, person in enumerate(people):
        for m in range(1 + j % 3):
            cid = f"concern-{j}-{m}"
            at = AS_OF - timedelta(days=(j * 13 + m * 5) % 42, hours=j % 24)
            topics = [CONCERN_TOPIC if (j + m) % 2 == 0 else TOPICS[(j + 3 * m) % len(TOPICS)]]
            if j % 5 == 0 and READ_TOPIC not in topics:
                topics.append(READ_TOPIC)
            nodes.append({"id": cid, "text": f"Concern {j}.{m}: worried about {topics[0]}",
                          "channel": CHANNELS[(j + m) % len(CHANNELS)], "at": iso(at)})
            raised.append({"from": person, "to": cid})
            about += [{"from": cid, "to": t} for t in topics]
    return nodes, raised, about


def trigger_rows(n: dict[str, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                             list[dict[str, Any]]]:
    """1,500 triggers at scale 1, each at its own company, over the 180 days before asOf."""
    nodes, had, about = [], [], []
    for i in range(max(20, n["Company"] * 3 // 40)):
        j = (i * 7919) % n["Company"]
        kind = TRIGGER_TYPES[i % len(TRIGGER_TYPES)]
        tid = f"trigger-{i}"
        node: dict[str, Any] = {
            "id": tid, "type": kind, "at": iso(AS_OF - timedelta(days=(i * 37) % 180,
                                                                  hours=i % 24)),
            "headline": f"Company {j}: {kind.replace('_', ' ')}",
            "source_url": f"https://news.example.org/t/{i}"}
        if kind == "funding_round":
            node.update(amount=float(1_000_000 * (1 + i % 50)), currency="USD",
                        round=f"Series {'ABC'[i % 3]}")
        nodes.append(node)
        had.append({"from": f"c{j}.com", "to": tid})
        about.append({"from": tid, "to": TOPICS[i % len(TOPICS)]})
    return nodes, had, about


def load(store: Any, scale: float) -> dict[str, Any]:
    """The ingest benchmark's rows (its own `ingest`), then the rows above."""
    from ingest import ingest

    t0 = time.perf_counter()
    base = ingest(store, scale)
    n = sizes(scale)
    concerns, raised, concern_about = concern_rows(raisers(n))
    triggers, had, trigger_about = trigger_rows(n)
    steps: list[tuple[str, str, Any, dict[str, str]]] = [
        ("node", "Company", [{"id": OWN, "name": "Our Team", "own": True}], {}),
        ("node", "Person", team_rows(), {}),
        ("node", "Topic", topic_rows(), {}),
        ("node", "Concern", concerns, {}),
        ("node", "Trigger", triggers, {}),
        ("rel", "WORKS_AT", team_jobs(), {}),
        ("rel", "KNOWS", team_knows(n), {}),
        ("rel", "ABOUT", content_about(n), {"from_label": "Content", "to_label": "Topic"}),
        ("rel", "RAISED", raised, {}),
        ("rel", "ABOUT", concern_about, {"from_label": "Concern", "to_label": "Topic"}),
        ("rel", "HAD_TRIGGER", had, {}),
        ("rel", "ABOUT", trigger_about, {"from_label": "Trigger", "to_label": "Topic"}),
    ]
    for kind, name, rows, labels in steps:
        if kind == "node":
            result = store.upsert_nodes(name, rows, source="bench")
        else:
            result = store.upsert_relationships(name, rows, source="bench", **labels)
        if result.rejects:
            raise SystemExit(f"{name} rows were rejected ({len(result.rejects)}; first: "
                             f"{result.rejects[0]}): fix the generator")
    store.checkpoint()
    counts = store.counts()
    return {"rows": base["rows"], "seconds": time.perf_counter() - t0,
            "nodes": dict(counts.nodes), "relationships": dict(counts.relationships),
            "raisers": len({r["from"] for r in raised}), "concerns": len(concerns),
            "triggers": len(triggers), "team_knows": sum(1 for _ in team_knows(n))}


# --- the questions: GraphQL documents, and the same inputs for the floors ---------------------

CONNECTIONS_GQL = """query Connections($asOf: DateTime!, $readTopic: String!,
                         $concernTopic: String!) {
  connections(readTopic: $readTopic, concernTopic: $concernTopic, asOf: $asOf, first: 50) {
    totalCount
    edges { node {
      person { id name email currentCompanies { id name } }
      via { id name }
      reads { content { id title kind } firstAt lastAt count }
      concerns { id text channel at topics { id } }
    } }
  }
}"""

WARM_PATHS_GQL = """query WarmPaths($from: ID!, $to: ID!, $asOf: DateTime) {
  warmPaths(from: $from, to: $to, maxHops: 3, first: 10, asOf: $asOf) {
    edges { node { hops strength people { person { id name } title company { id name } } } }
  }
}"""

TRIGGERS_GQL = """query Triggers($since: DateTime!, $asOf: DateTime) {
  triggers(since: $since, asOf: $asOf, whereWeKnowSomeone: true, first: 50) {
    totalCount
    edges { node {
      id type at headline company { id name }
      known { person { id name title } via { id name } strength }
    } }
  }
}"""

PERSON_GQL = """query Person($email: String!, $asOf: DateTime) {
  person(email: $email, asOf: $asOf) {
    id name email title
    currentCompanies { id name }
    knownBy { person { id name } strength }
    openConcerns { id text at }
  }
}"""


def known_by_team(p: int) -> bool:
    return p % (2 * TEAM) < TEAM


def warm_pairs(n: dict[str, int]) -> list[tuple[str, str, int]]:
    """PAIRS pairs of people not on the team but known by it, half exactly 2 KNOWS apart, half
    3, found on the generated KNOWS (the ingest's and the team's). Both ends known by the team:
    their paths may run through its members, who know 1 in 16 people each, so every pair costs
    about the same (a pair with an end the team does not know is ~40x cheaper on the embedded
    store, and a mix would make the median flip between the two)."""
    adj: dict[str, set[str]] = defaultdict(set)
    for gen in (knows(n), team_knows(n)):
        for r in gen:
            a, b = r["from"].lower(), r["to"].lower()
            adj[a].add(b)
            adj[b].add(a)
    team = {team_key(t) for t in range(TEAM)}
    pairs: list[tuple[str, str, int]] = []
    persons = n["Person"]
    known = {person_key(p, n) for p in range(persons) if known_by_team(p)}
    for i in range(PAIRS):
        start = (12_345 + i * (persons // PAIRS + 1) * 7) % persons
        while not known_by_team(start):
            start = (start + 1) % persons
        a = person_key(start, n)
        one = adj[a]
        two = set().union(*(adj[x] for x in one)) - one - {a}
        if i % 2 == 0:
            far = sorted((two - team) & known)
            hops = 2
        else:
            far = sorted((set().union(*(adj[x] for x in two)) - two - one - {a} - team) & known)
            hops = 3
        if far:
            pairs.append((a, far[(i * 7_919) % len(far)], hops))
    return pairs


def emails(n: dict[str, int]) -> list[str]:
    """E-mails as people type them (the ingest's mixed case)."""
    out = []
    for k in range(EMAILS):
        p = (k * 499 + 3) % n["Person"]
        out.append(f"Person.{p}@C{p % n['Company']}.com")
    return out


def build_plan(scale: float) -> dict[str, Any]:
    n = sizes(scale)
    as_of = iso(AS_OF)
    pairs = warm_pairs(n)
    mails = emails(n)
    variables: dict[str, list[dict[str, Any]]] = {
        "connections": [{"asOf": as_of, "readTopic": READ_TOPIC, "concernTopic": CONCERN_TOPIC}],
        "warmPaths": [{"from": a, "to": b, "asOf": as_of} for a, b, _ in pairs],
        "triggers": [{"since": iso(AS_OF - TRIGGER_WINDOW), "asOf": as_of}],
        "person": [{"email": e, "asOf": as_of} for e in mails],
    }
    documents = {"connections": CONNECTIONS_GQL, "warmPaths": WARM_PATHS_GQL,
                 "triggers": TRIGGERS_GQL, "person": PERSON_GQL}
    bodies = {q: [json.dumps({"query": documents[q], "variables": v}, separators=(",", ":"))
                  for v in variables[q]] for q in QUESTIONS}
    return {"scale": scale, "as_of": as_of, "pairs": pairs, "emails": mails, "bodies": bodies}


def floor_queries(plan: dict[str, Any]) -> dict[str, tuple[Any, list[Any]]]:
    """Each question's module and its inputs, as the API's resolvers build them."""
    from graph.model import ReaderQuery
    from graph.questions.entities import PEOPLE, PeopleQuery
    from graph.questions.readers import READERS
    from graph.questions.triggers import TRIGGERS, TriggerQuery
    from graph.questions.warm_paths import WARM_PATHS, WarmPathQuery

    as_of = AS_OF
    return {
        "connections": (READERS, [ReaderQuery(
            read_topic=READ_TOPIC, concern_topic=CONCERN_TOPIC, read_window=READ_WINDOW,
            concern_window=CONCERN_WINDOW, as_of=as_of, limit=50, offset=0)]),
        "warmPaths": (WARM_PATHS, [WarmPathQuery(a, b, 3, 10, as_of)
                                   for a, b, _ in plan["pairs"]]),
        "triggers": (TRIGGERS, [TriggerQuery(since=as_of - TRIGGER_WINDOW, types=None,
                                             where_we_know_someone=True, as_of=as_of,
                                             limit=50)]),
        "person": (PEOPLE, [PeopleQuery((e,), as_of) for e in plan["emails"]]),
    }


def answer_size(name: str, answer: Any) -> dict[str, int]:
    if name in ("connections", "triggers"):
        return {"total": answer.total, "items": len(answer.items)}
    if name == "warmPaths":
        return {"items": len(answer)}
    return {"items": len(answer)}


# --- the floor: the question's own Cypher through the driver (or the embedded walk) -----------

def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": at(0.95) * 1000,
            "mean_ms": statistics.fmean(ordered) * 1000, "n": len(ordered)}


def run_floor(args: argparse.Namespace) -> None:
    """A worker: reads commands (JSON lines) on stdin, answers each with a JSON line."""
    plan = json.loads(Path(args.plan).read_text())
    queries = floor_queries(plan)
    if args.store == "neo4j":
        from neo4j import AsyncGraphDatabase, GraphDatabase, NotificationMinimumSeverity

        driver = GraphDatabase.driver(
            args.uri, auth=(args.user, args.password),
            notifications_min_severity=NotificationMinimumSeverity.OFF)
        prepared = {name: (q, [q.cypher(q.prepare(i)) for i in inputs], [q.prepare(i)
                                                                          for i in inputs])
                    for name, (q, inputs) in queries.items()}

        def once(name: str, i: int) -> Any:
            question, cyphers, inputs = prepared[name]
            c = cyphers[i % len(cyphers)]
            with driver.session(database=args.database) as session:
                return session.execute_read(lambda tx: list(tx.run(c.text, c.params)))

        def shaped(name: str) -> Any:
            from graph.neo4j_store import native

            question, _, inputs = prepared[name]
            records = [native(r.data()) for r in once(name, 0)]
            return question.from_records(inputs[0], records)

        async def concurrent(name: str, seconds: float, conns: int) -> dict[str, Any]:
            question, cyphers, _ = prepared[name]
            adriver = AsyncGraphDatabase.driver(
                args.uri, auth=(args.user, args.password),
                notifications_min_severity=NotificationMinimumSeverity.OFF)
            done = 0
            deadline = time.perf_counter() + seconds

            async def work(w: int) -> None:
                nonlocal done
                i = w
                while time.perf_counter() < deadline:
                    c = cyphers[i % len(cyphers)]
                    i += conns

                    async def tx_work(tx: Any, c: Any = c) -> list[Any]:
                        return [r async for r in await tx.run(c.text, c.params)]

                    async with adriver.session(database=args.database) as session:
                        await session.execute_read(tx_work)
                    done += 1

            for _ in range(conns):  # open the pool's connections before the clock starts
                async with adriver.session(database=args.database) as session:
                    await session.execute_read(lambda tx: tx.run("RETURN 1"))
            start = time.perf_counter()
            await asyncio.gather(*(work(w) for w in range(conns)))
            elapsed = time.perf_counter() - start
            await adriver.close()
            return {"rps": done / elapsed, "requests": done}
    else:
        from graph.memory_store import MemoryStore

        store = MemoryStore(Path(args.data_dir) / "graph.sqlite")

        def once(name: str, i: int) -> Any:
            question, inputs = queries[name]
            return store.ask(question, inputs[i % len(inputs)])

        def shaped(name: str) -> Any:
            return once(name, 0)

        async def concurrent(name: str, seconds: float, conns: int) -> dict[str, Any]:
            raise NotImplementedError

    sizes_ = {name: answer_size(name, shaped(name)) for name in queries}
    print("READY " + json.dumps(sizes_), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        name, seconds = command["question"], command["seconds"]
        if command.get("connections"):
            result = asyncio.run(concurrent(name, seconds, command["connections"]))
        else:
            samples: list[float] = []
            i = 0
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or len(samples) < command.get("min", 5):
                t0 = time.perf_counter()
                once(name, i)
                samples.append(time.perf_counter() - t0)
                i += 1
            result = percentiles(samples)
        print(json.dumps(result), flush=True)
    print(json.dumps({"peak_rss_mib": hwm_mib()}), flush=True)


class Floor:
    """The floor worker, a child process: ask it to time a question for some seconds."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"the floor worker did not start: {line!r}")
        self.sizes = json.loads(line[len("READY "):])

    def time(self, question: str, seconds: float, connections: int = 0) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"question": question, "seconds": seconds,
                                          "connections": connections}) + "\n")
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        last = self.proc.stdout.read().strip().splitlines()
        self.proc.wait(timeout=60)
        return float(json.loads(last[-1])["peak_rss_mib"])


# --- load generators -----------------------------------------------------------------------------

LUA = """-- generated by bench/api.py: POST one of the bodies in turn, with the bearer token
local bodies = {%(bodies)s}
local counter = 0
bad = 0
sample = nil
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"

function setup(thread)
  table.insert(threads, thread)
end

function request()
  counter = counter %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[counter])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
    if sample == nil then sample = string.sub(body, 1, 400) end
  end
end

function done(summary, latency, requests)
  local b = 0
  local s = nil
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    s = s or t:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,' ..
    '"mean_us":%%.1f,"socket_errors":%%d,"status_errors":%%d,"bad":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, e.connect + e.read + e.write + e.timeout,
    e.status, b))
  if s then io.write("WRKSAMPLE " .. s .. "\\n") end
end
"""


def lua_script(bodies: list[str], token: str) -> str:
    for b in bodies:
        assert "]==]" not in b
    return LUA % {"bodies": ", ".join(f"[==[{b}]==]" for b in bodies), "token": token}


def wait_peak(proc: subprocess.Popen[str]) -> float:
    """Wait for a child, watching its peak RSS (MiB) until it ends."""
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, hwm_mib(proc.pid) or 0.0)
        time.sleep(0.05)
    return peak


class LoadGenerator:
    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.peak_rss_mib = 0.0
        self.version = ""
        if kind == "wrk":
            out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
            self.version = (out.stdout + out.stderr).split("[")[0].replace("wrk ", "").strip()

    def run(self, url: str, bodies: list[str], token: str, connections: int,
            seconds: float) -> dict[str, Any]:
        for _ in range(3):
            result = self._run(url, bodies, token, connections, seconds)
            if result["p50_ms"] > 0:  # wrk once gave a p50 of 0 for a run of 2,800 requests
                break
        return result

    def _run(self, url: str, bodies: list[str], token: str, connections: int,
             seconds: float) -> dict[str, Any]:
        if self.kind == "wrk":
            script = self.workdir / "bench.lua"
            script.write_text(lua_script(bodies, token))
            argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                    "--timeout", "60s", "-s", str(script), url]
        else:
            bodies_file = self.workdir / "bodies.json"
            bodies_file.write_text(json.dumps(bodies))
            argv = [sys.executable, __file__, "client", "--url", url, "--bodies",
                    str(bodies_file), "--token", token, f"--connections={connections}",
                    f"--seconds={seconds}"]
        with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
            proc = subprocess.Popen(argv, stdout=out_f, stderr=err_f, text=True)
            self.peak_rss_mib = max(self.peak_rss_mib, wait_peak(proc))
            out_f.seek(0)
            err_f.seek(0)
            out, err = out_f.read(), err_f.read()
        found = [line for line in out.splitlines() if line.startswith("WRKJSON ")]
        if proc.returncode or not found:
            raise SystemExit(f"the load generator failed ({proc.returncode}): {out}{err}")
        r = json.loads(found[-1][len("WRKJSON "):])
        if r["bad"] or r["status_errors"] or r["socket_errors"]:
            sample = [line for line in out.splitlines() if line.startswith("WRKSAMPLE ")]
            raise SystemExit(f"{url}: {r['bad']} bad answers, {r['socket_errors']} socket "
                             f"errors: {sample[:1]}")
        return {"rps": r["requests"] / (r["duration_us"] / 1e6), "requests": r["requests"],
                "p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000,
                "mean_ms": r["mean_us"] / 1000}


def run_client(args: argparse.Namespace) -> None:
    """The fallback load generator (no wrk): `connections` keep-alive connections, each sending
    one request after another for `seconds`; prints what the Lua script prints."""
    import httpx

    bodies = [b.encode() for b in json.loads(Path(args.bodies).read_text())]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {args.token}"}
    latencies: list[float] = []
    bad = 0

    async def main() -> float:
        nonlocal bad
        limits = httpx.Limits(max_connections=args.connections,
                              max_keepalive_connections=args.connections)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            deadline = time.perf_counter() + args.seconds

            async def worker(w: int) -> None:
                nonlocal bad
                i = w
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    r = await client.post(args.url, content=bodies[i % len(bodies)],
                                          headers=headers)
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code != 200 or b'"errors"' in r.content:
                        bad += 1
                    i += 1

            start = time.perf_counter()
            await asyncio.gather(*(worker(w) for w in range(args.connections)))
            return time.perf_counter() - start

    elapsed = asyncio.run(main())
    p = percentiles(latencies)
    print("WRKJSON " + json.dumps({
        "requests": len(latencies), "duration_us": elapsed * 1e6, "p50_us": p["p50_ms"] * 1000,
        "p95_us": p["p95_ms"] * 1000, "p99_us": 0, "mean_us": p["mean_ms"] * 1000,
        "socket_errors": 0, "status_errors": 0, "bad": bad}))


# --- servers -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_of(pidfile: str | None) -> int | None:
    if not pidfile or not Path(pidfile).exists():
        return None
    text = Path(pidfile).read_text().strip()
    return int(text) if text.isdigit() else None


class Server:
    """A server subprocess on 127.0.0.1: `relgraph serve --workers 1`, or the plain route."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, port: int,
                 ready_path: str, log: Path) -> None:
        self.port = port
        self.log = log
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log.open("wb"),
                                     stderr=subprocess.STDOUT)
        import httpx

        deadline = time.monotonic() + 600
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited ({self.proc.returncode}):\n"
                                 f"{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=5).status_code \
                        == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server did not get ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> float | None:
        """Stop it (as Ctrl-C does) and give its peak RSS (MiB)."""
        peak = hwm_mib(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return peak


def relgraph_argv() -> list[str]:
    script = Path(sys.executable).parent / "relgraph"
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def clean_env() -> dict[str, str]:
    """The environment without anyone's relgraph or Neo4j settings (a .env is not read either:
    the servers run in a temporary directory)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("RELGRAPH_", "NEO4J_"))}


def serve_relgraph(store: str, data_dir: Path, args: argparse.Namespace, log: Path) -> Server:
    # no per-key rate limit: wrk sends thousands of requests a second with one key
    env = clean_env() | {"RELGRAPH_STORE": store, "RELGRAPH_DATA_DIR": str(data_dir),
                         "RELGRAPH_LOG_LEVEL": "warning", "RELGRAPH_API_RATE": "0",
                         "PYTHONPATH": str(ROOT)}
    if store == "neo4j":
        env |= {"NEO4J_URI": args.uri, "NEO4J_USER": args.user, "NEO4J_PASSWORD": args.password,
                "NEO4J_DATABASE": args.database}
    port = free_port()
    return Server([*relgraph_argv(), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", "1"], env, data_dir, port, "/readyz", log)


def run_plain_server(args: argparse.Namespace) -> None:
    """A plain FastAPI route under the same uvicorn (one worker, defaults as `relgraph serve`
    uses them): reads the JSON body and answers a small JSON object."""
    import uvicorn
    from fastapi import FastAPI, Header

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/plain")
    async def plain(body: dict[str, Any],
                    authorization: str | None = Header(default=None)) -> dict[str, Any]:
        if not (authorization or "").startswith("Bearer "):
            return {"errors": [{"message": "no key"}]}
        email = body.get("variables", {}).get("email", "")
        return {"data": {"person": {"id": email.lower(), "name": "Person",
                                    "title": "Manager"}}}

    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, access_log=False,
                log_level="warning", server_header=False, lifespan="on")


# --- the run ------------------------------------------------------------------------------------

def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def child(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *argv], stdout=subprocess.PIPE,
                            text=True)


def child_json(proc: subprocess.Popen[str], what: str) -> dict[str, Any]:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{what} failed ({proc.returncode})")
    return dict(json.loads(out.strip().splitlines()[-1]))


def run_load(args: argparse.Namespace) -> None:
    if args.store == "memory":
        from graph.memory_store import MemoryStore

        store: Any = MemoryStore(Path(args.data_dir) / "graph.sqlite")
    else:
        from ingest import _wipe
        from neo4j import GraphDatabase

        from graph.neo4j_store import Neo4jStore

        with GraphDatabase.driver(args.uri, auth=(args.user, args.password)) as driver:
            with driver.session(database=args.database) as session:
                existing = session.run("MATCH (n) RETURN count(n) AS c").single()["c"]
            if existing and not args.wipe:
                raise SystemExit(f"{args.uri} holds {existing} nodes; pass --wipe to delete them")
            if existing:
                _wipe(driver)
        store = Neo4jStore(args.uri, user=args.user, password=args.password,
                           database=args.database)
    result = load(store, args.scale)
    if args.store == "neo4j":
        with store._driver.session(database=args.database) as session:
            session.run("CALL db.awaitIndexes(300)").consume()
    store.close()
    result["peak_rss_mib"] = hwm_mib()
    print(json.dumps(result))


def check_answers(url: str, token: str, plan: dict[str, Any]) -> dict[str, Any]:
    """One request per question before the clock: no errors, and what the answers hold."""
    import httpx

    found: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for q in QUESTIONS:
        r = httpx.post(url, content=plan["bodies"][q][0], headers=headers, timeout=120)
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise SystemExit(f"{q}: {r.status_code} {str(body)[:1000]}")
        data = body["data"]
        if q == "person":
            if data["person"] is None:
                raise SystemExit(f"person: nobody found for {plan['bodies'][q][0]}")
            found[q] = {"items": 1}
        else:
            edges = data[q]["edges"]
            if not edges:
                raise SystemExit(f"{q}: an empty answer; the benchmark data must give one")
            found[q] = {"items": len(edges), **({"total": data[q]["totalCount"]}
                                                if "totalCount" in data[q] else {})}
    return found


def measure_store(store: str, data_dir: Path, plan: dict[str, Any], token: str,
                  gen: LoadGenerator, plain: Server, args: argparse.Namespace,
                  neo4j_pid: int | None) -> dict[str, Any]:
    say(f"[{store}] starting relgraph serve (one worker) ...")
    server = serve_relgraph(store, data_dir, args, data_dir / "serve.log")
    url = f"http://127.0.0.1:{server.port}/graphql"
    plain_url = f"http://127.0.0.1:{plain.port}/plain"
    floor_argv = [sys.executable, __file__, "floor", "--store", store, "--plan",
                  str(data_dir.parent / "plan.json")]
    if store == "neo4j":
        floor_argv += ["--uri", args.uri, "--user", args.user, "--password", args.password,
                       "--database", args.database]
    else:
        floor_argv += ["--data-dir", str(data_dir)]
    floor = Floor(floor_argv)
    try:
        answers = check_answers(url, token, plan)
        for q in QUESTIONS:  # the two sides must answer alike
            if answers[q].get("total") != floor.sizes[q].get("total"):
                raise SystemExit(f"{q}: the API says {answers[q]}, the floor {floor.sizes[q]}")
        say(f"[{store}] answers: {answers}")
        for q in QUESTIONS:  # warm up: plans cached, pages read, connections open
            gen.run(url, plan["bodies"][q], token, args.connections, args.warmup)
            floor.time(q, args.warmup / 2)
        gen.run(plain_url, plan["bodies"]["person"], token, args.connections, args.warmup)
        rounds: list[dict[str, Any]] = []
        for r in range(args.repeat):
            one: dict[str, Any] = {}
            for q in QUESTIONS:
                latency = gen.run(url, plan["bodies"][q], token, 1, args.seconds)
                base = floor.time(q, args.seconds)
                # A slow question gets fewer connections: 16 requests of 100 ms CPU each,
                # queued on one worker, would not all finish inside a short run.
                conns = args.connections if latency["p50_ms"] < 20 else max(
                    2, args.connections // 4)
                cpu0, neo0 = proc_cpu_s(server.pid), proc_cpu_s(neo4j_pid)
                load_ = gen.run(url, plan["bodies"][q], token, conns, args.seconds)
                cpu1, neo1 = proc_cpu_s(server.pid), proc_cpu_s(neo4j_pid)
                done = max(1, load_["requests"])
                load_["connections"] = conns
                load_["server_cpu_ms"] = (cpu1 - cpu0) * 1000 / done
                load_["neo4j_cpu_ms"] = ((neo1 - neo0) * 1000 / done
                                         if store == "neo4j" and neo4j_pid else None)
                one[q] = {"latency": latency, "floor": base, "load": load_}
                if q == "person":
                    cpu0 = proc_cpu_s(plain.pid)
                    p = gen.run(plain_url, plan["bodies"]["person"], token, args.connections,
                                args.seconds)
                    p["server_cpu_ms"] = (proc_cpu_s(plain.pid) - cpu0) * 1000 / p["requests"]
                    one["plain"] = p
                    if store == "neo4j":
                        one["floor_load"] = floor.time("person", args.seconds,
                                                       args.connections)
                say(f"[{store}] round {r + 1} {q}: API p50 {latency['p50_ms']:.1f} ms, floor "
                    f"p50 {base['p50_ms']:.1f} ms, {load_['rps']:.0f} req/s at {conns} "
                    "connections")
            rounds.append(one)
    finally:
        server_rss = server.stop()
        floor_rss = floor.close()
    return {"rounds": rounds, "answers": answers, "server_peak_rss_mib": server_rss,
            "floor_peak_rss_mib": floor_rss}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Medians over the rounds, and the ratios per round (their median)."""
    rounds = result["rounds"]
    out: dict[str, Any] = {}
    for q in QUESTIONS:
        def med(part: str, key: str, q: str = q) -> float:
            return statistics.median(r[q][part][key] for r in rounds)

        api, base = med("latency", "p50_ms"), med("floor", "p50_ms")
        out[q] = {
            "api_p50_ms": api, "api_p95_ms": med("latency", "p95_ms"),
            "floor_p50_ms": base, "floor_p95_ms": med("floor", "p95_ms"),
            "ratio": statistics.median(r[q]["latency"]["p50_ms"] / r[q]["floor"]["p50_ms"]
                                       for r in rounds),
            "ratios": [r[q]["latency"]["p50_ms"] / r[q]["floor"]["p50_ms"] for r in rounds],
            "goal_ms": 1.5 * base + 3, "met": api <= 1.5 * base + 3,
            "rps": med("load", "rps"), "runs_rps": [r[q]["load"]["rps"] for r in rounds],
            "connections": rounds[-1][q]["load"]["connections"],
            "load_p50_ms": med("load", "p50_ms"), "server_cpu_ms": med("load", "server_cpu_ms"),
            "neo4j_cpu_ms": (statistics.median(r[q]["load"]["neo4j_cpu_ms"] for r in rounds)
                             if rounds[0][q]["load"]["neo4j_cpu_ms"] is not None else None),
        }
    out["plain"] = {"rps": statistics.median(r["plain"]["rps"] for r in rounds),
                    "runs_rps": [r["plain"]["rps"] for r in rounds],
                    "server_cpu_ms": statistics.median(r["plain"]["server_cpu_ms"]
                                                       for r in rounds),
                    "person_share": statistics.median(r["person"]["load"]["rps"]
                                                      / r["plain"]["rps"] for r in rounds)}
    if "floor_load" in rounds[0]:
        out["floor_load_rps"] = statistics.median(r["floor_load"]["rps"] for r in rounds)
    return out


def run_all(args: argparse.Namespace) -> None:
    from api.auth import KeyStore, Scope

    stores = [s for s in args.stores.split(",") if s]
    if "neo4j" in stores and not (args.uri and args.password):
        print("no --uri/--password: skipping the Neo4j store", file=sys.stderr)
        stores.remove("neo4j")
    kind = args.client
    if kind == "auto":
        kind = "wrk" if shutil.which("wrk") else "python"
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="relgraph-apibench-"))
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "scale": args.scale,
        "repeat": args.repeat, "seconds": args.seconds, "connections": args.connections,
        "machine": machine(), "client": kind, "sizes": sizes(args.scale), "stores": {}}
    try:
        say("planning (warm-path pairs, e-mails) ...")
        plan = build_plan(args.scale)
        (tmp / "plan.json").write_text(json.dumps(plan))
        report["pairs_hops"] = [h for _, _, h in plan["pairs"]]
        common = ["--scale", str(args.scale), "--database", args.database]
        loads = {}
        for store in stores:  # the loads are not timed: both at once
            data_dir = tmp / store
            data_dir.mkdir()
            argv = ["load", "--store", store, "--data-dir", str(data_dir), *common]
            if store == "neo4j":
                argv += ["--uri", args.uri, "--user", args.user, "--password", args.password]
                if args.wipe:
                    argv.append("--wipe")
            say(f"loading the {store} store ...")
            loads[store] = child(argv)
        for store, proc in loads.items():
            report["stores"][store] = {"load": child_json(proc, f"loading {store}")}
        if "neo4j" in stores:
            from neo4j import GraphDatabase

            with GraphDatabase.driver(args.uri, auth=(args.user, args.password)) as d:
                report["neo4j_server"] = d.get_server_info().agent.split("/")[-1]
        gen = LoadGenerator(kind, tmp)
        report["client_version"] = gen.version
        port = free_port()
        plain = Server([sys.executable, __file__, "plain-server", "--port", str(port)],
                       clean_env(), tmp, port, "/healthz", tmp / "plain.log")
        try:
            for store in stores:
                data_dir = tmp / store
                _, token = KeyStore(data_dir / "apikeys.sqlite").create(Scope.READ, "bench")
                neo4j_pid = pid_of(args.server_pidfile) if store == "neo4j" else None
                result = measure_store(store, data_dir, plan, token, gen, plain, args,
                                       neo4j_pid)
                result["summary"] = summarise(result)
                report["stores"][store].update(result)
        finally:
            report["plain_peak_rss_mib"] = plain.stop()
        report["client_peak_rss_mib"] = gen.peak_rss_mib
        report["neo4j_server_peak_rss_mib"] = hwm_mib(pid_of(args.server_pidfile))
        report["neo4j_server_rss_mib"] = hwm_mib(pid_of(args.server_pidfile), "VmRSS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["minutes"] = (time.perf_counter() - started) / 60
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"api-{report['date']}.json").write_text(json.dumps(report, indent=2))
    section = markdown(report)
    print(section)
    if args.write_docs:
        write_docs(section)


# --- report ---------------------------------------------------------------------------------------

LABELS = {"connections": "`connections` (first: 50)", "warmPaths": "`warmPaths` (maxHops 3)",
          "triggers": "`triggers` (90 days)", "person": "`person(email)`"}
STORE_NAMES = {"memory": "embedded", "neo4j": "Neo4j"}


def markdown(report: dict[str, Any]) -> str:
    m, n = report["machine"], report["sizes"]
    stores = report["stores"]
    client = (f"wrk {report.get('client_version', '')} (Debian's package; a Lua script POSTs "
              "the bodies with the bearer header), one thread" if report["client"] == "wrk"
              else "this file's httpx/asyncio client (wrk was not installed), one process")
    any_load = next(iter(stores.values()))["load"]
    hops = report.get("pairs_hops", [])
    lines = [
        f"Measured {report['date']} with `python bench/api.py all` (scale {report['scale']}, "
        f"median of {report['repeat']} rounds of {report['seconds']:g} s runs; "
        f"{report['minutes']:.0f} minutes in all).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, "
        f"neo4j driver {m['neo4j_driver']}"
        + (f", Neo4j Community {report['neo4j_server']} via scripts/neo4j-local"
           if "neo4j_server" in report else "")
        + f". Load generator: {client}, in its own process.",
        "",
        f"Data: the ingest benchmark's {n['Person']:,} people, {n['Company']:,} companies, "
        f"{n['Content']:,} content, {n['WORKS_AT']:,} WORKS_AT, {n['KNOWS']:,} KNOWS and "
        f"{n['READ']:,} READ; plus {len(TOPICS)} topics (content about 1-2 each), "
        f"{any_load['concerns']:,} concerns raised by {any_load['raisers']:,} people in the six "
        f"weeks before asOf, {any_load['triggers']:,} triggers over 180 days, and a team of "
        f"{TEAM} at a company flagged own who KNOW {any_load['team_knows']:,} people (half of "
        f"everyone). Every question is asked as of {iso(AS_OF)}; warm paths "
        f"between {len(hops)} pairs ({hops.count(2)} two hops apart, {hops.count(3)} three), "
        f"person(email) for {EMAILS} people in turn.",
        "",
    ]
    answers = next(iter(stores.values())).get("answers", {})
    if answers:
        lines += [
            f"Answers: `connections` {answers['connections'].get('total', '?')} people "
            f"({answers['connections']['items']} returned, with their e-mail, companies, who "
            f"knows them, reads and concerns); `triggers` "
            f"{answers['triggers'].get('total', '?')} trigger-company pairs where we know "
            f"someone ({answers['triggers']['items']} returned); both stores give the same "
            "totals.",
            "",
        ]
    lines += [
        "Latency, one request at a time (HTTP through the API vs the floor: the question's own "
        "Cypher and parameters through the driver from one process; on the embedded store, "
        "its walk called in-process):",
        "",
        "| question | store | API p50 | API p95 | floor p50 | floor p95 | API / floor (p50) "
        "| goal: 1.5 x floor + 3 ms | met |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for q in QUESTIONS:
        for store, data in stores.items():
            s = data["summary"][q]
            lines.append(
                f"| {LABELS[q]} | {STORE_NAMES[store]} | {s['api_p50_ms']:.1f} ms | "
                f"{s['api_p95_ms']:.1f} ms | {s['floor_p50_ms']:.1f} ms | "
                f"{s['floor_p95_ms']:.1f} ms | {s['ratio']:.2f}x | {s['goal_ms']:.1f} ms | "
                f"{'yes' if s['met'] else '**no**'} |")
    lines += [
        "",
        f"Throughput at {report['connections']} connections ({max(2, report['connections'] // 4)}"
        " for a question whose p50 is 20 ms or more); requests/s, median; the servers' CPU per "
        "request measured over the same run:",
        "",
        "| question | store | connections | requests/s | runs | p50 under load "
        "| API process CPU / request | Neo4j CPU / request |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for q in QUESTIONS:
        for store, data in stores.items():
            s = data["summary"][q]
            neo = f"{s['neo4j_cpu_ms']:.1f} ms" if s["neo4j_cpu_ms"] is not None else ""
            lines.append(
                f"| {LABELS[q]} | {STORE_NAMES[store]} | {s['connections']} | {s['rps']:,.0f} | "
                f"{', '.join(f'{x:,.0f}' for x in s['runs_rps'])} | {s['load_p50_ms']:.1f} ms | "
                f"{s['server_cpu_ms']:.2f} ms | {neo} |")
    plains = [d["summary"]["plain"] for d in stores.values()]
    plain_rps = statistics.median(x for p in plains for x in p["runs_rps"])
    plain_cpu = statistics.median(p["server_cpu_ms"] for p in plains)
    lines.append(f"| plain FastAPI route (POST, small JSON) | | {report['connections']} | "
                 f"{plain_rps:,.0f} | "
                 f"{', '.join(f'{x:,.0f}' for p in plains for x in p['runs_rps'])} | | "
                 f"{plain_cpu:.2f} ms | |")
    lines.append("")
    for store, data in stores.items():
        s = data["summary"]
        person_rps = s["person"]["rps"]
        floor_load = (f"; the floor, the same Cypher from one process at "
                      f"{report['connections']} concurrent sessions (async driver): "
                      f"{s['floor_load_rps']:,.0f}/s" if "floor_load_rps" in s else "")
        lines.append(
            f"- `person(email)` on one worker, {STORE_NAMES[store]} store: "
            f"**{person_rps:,.0f} requests/s** (goal: 600; "
            f"{'met' if person_rps >= 600 else 'not met'}), "
            f"{s['plain']['person_share']:.2f}x the plain FastAPI route measured beside it"
            f"{floor_load}.")
    met = [(q, st) for st, d in stores.items() for q in QUESTIONS if d["summary"][q]["met"]]
    total = len(QUESTIONS) * len(stores)
    lines.append(f"- Latency goal (p50 within 1.5x the floor + 3 ms) met for {len(met)} of "
                 f"{total} question-store pairs.")
    rss = [f"API server {STORE_NAMES[st]} store {d['server_peak_rss_mib']:,.0f} MiB"
           for st, d in stores.items() if d.get("server_peak_rss_mib")]
    rss.append(f"plain route {report['plain_peak_rss_mib']:,.0f} MiB"
               if report.get("plain_peak_rss_mib") else "")
    rss.append(f"load generator {report['client_peak_rss_mib']:,.0f} MiB")
    rss += [f"floor client {STORE_NAMES[st]} {d['floor_peak_rss_mib']:,.0f} MiB"
            for st, d in stores.items()]
    if report.get("neo4j_server_rss_mib"):
        peak = report["neo4j_server_peak_rss_mib"]
        rss.append(f"Neo4j server {report['neo4j_server_rss_mib']:,.0f} MiB at the end (its "
                   f"peak since it started, loads included, {peak:,.0f} MiB)")
    lines.append("- Peak RSS: " + ", ".join(r for r in rss if r) + ".")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- api:begin -->", "<!-- api:end -->"
SECTION = """
## GraphQL API (`bench/api.py`, `make bench`)

The API's goals: over HTTP on one uvicorn worker, each question's p50 within 1.5x its floor plus
3 ms, the floor being the question module's own Cypher with its own parameters run directly
through the driver; and `person(email)` at 600 requests/s or more on one worker, beside a plain
FastAPI route on the same machine.

`python bench/api.py all --uri … --password … --write-docs` loads the ingest benchmark's data
(its generators, imported) plus what the questions need that it lacks, generated in the file
and written through the stores' upserts: 30 topics with ABOUT edges from every content item,
concerns raised in the six weeks before `asOf` by 400 people (three quarters of them readers
of the read topic), 1,500 triggers at as many companies over 180 days, and a team of 8 at a
company flagged own, each knowing 1 person in 16. It loads both stores, starts `relgraph serve
--workers 1` on each with a read key made by the API's key store, and sends the questions from
a separate process: wrk with a Lua script for the POST bodies and the bearer header (Debian's
package; without it, an httpx/asyncio client in bench/api.py). Latency is measured one request
at a time, throughput at 16 connections; the floors are timed the same way, one at a time from
one process. Each round measures every question on one store back to back (API latency, floor,
API throughput), so noise hits the pair alike; figures are medians of 3 rounds.

"""


def write_docs(section: str) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    text = docs.read_text(encoding="utf-8")
    if BEGIN not in text:
        text = text.rstrip("\n") + "\n" + SECTION + f"{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    docs.write_text(f"{head}{BEGIN}\n{section}{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", nargs="?", default="all",
                        choices=["all", "load", "floor", "client", "plain-server", "plan"])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16,
                        help="connections of the throughput runs")
    parser.add_argument("--stores", default="memory,neo4j")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--uri", default=os.environ.get("RELGRAPH_BENCH_NEO4J_URI"))
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default=os.environ.get("RELGRAPH_BENCH_NEO4J_PASSWORD"))
    parser.add_argument("--database", default="neo4j")
    parser.add_argument("--server-pidfile")
    parser.add_argument("--wipe", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    # the children's own arguments
    parser.add_argument("--store", choices=["memory", "neo4j"])
    parser.add_argument("--data-dir")
    parser.add_argument("--plan")
    parser.add_argument("--url")
    parser.add_argument("--bodies")
    parser.add_argument("--token")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.which == "load":
        run_load(args)
    elif args.which == "floor":
        run_floor(args)
    elif args.which == "client":
        run_client(args)
    elif args.which == "plain-server":
        run_plain_server(args)
    elif args.which == "plan":
        print(json.dumps(build_plan(args.scale), indent=2))
    else:
        run_all(args)


if __name__ == "__main__":
    main()
