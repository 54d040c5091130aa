"""Who knows whom among the world's people, beyond our own team: communities, not noise.

Our team's own ties come from their LinkedIn connections, calendars and mailboxes
(demoworld/world.py). This is the rest of the network, the kind a relationship-intelligence
enrichment delivers: `network/contacts-graph.jsonl`, in relgraph's own graph JSON Lines
(`relgraph load graph`), one person or relationship per line. Its KNOWS have communities,
drawn with networkx's generators:

- colleagues: the people working at one company now are a small world
  (`connected_watts_strogatz_graph`: each knows a few neighbours, some ties rewired across the
  company), known since the later of the two joined;
- former colleagues: someone who worked at another company knows one or two of the people
  still there who overlapped with them: the ties that make warm introduction paths
  (our team -> a customer's champion -> their old colleague at a prospect);
- peers: each company's most senior person knows peers in the same region, more than across
  regions (`stochastic_block_model`, one block per region);
- competitors: a few people at customers have long known someone at a competitor (the
  baseline), and at the drifting accounts (world.json's planted "drift") several people
  connected with competitors' people in the last weeks: competitor drift.

The people a line names are written first (name, and for competitors' people, who they work
for: no CRM of ours holds them), so the file loads on its own and in any order with the rest.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import orjson

if TYPE_CHECKING:
    from demoworld.world import Person, World

PATH = "network/contacts-graph.jsonl"
DRIFT_SHARE = 0.5  # of the accounts already showing export bursts or pricing visits
PEERS = 3.0  # a senior person's expected peers in their own region (a quarter of that outside)


class _Edges:
    """KNOWS pairs, each once (the earliest `since` of the ways two people know each other)."""

    def __init__(self) -> None:
        self.since: dict[tuple[int, int], datetime] = {}

    def add(self, a: int, b: int, since: datetime) -> None:
        if a == b:
            return
        pair = (a, b) if a < b else (b, a)
        known = self.since.get(pair)
        if known is None or since < known:
            self.since[pair] = since


def build_network(world: World, rng: random.Random) -> tuple[_Edges, list[str]]:
    """The KNOWS among the world's people, and the domains of the drifting accounts."""
    as_of = world.as_of
    edges = _Edges()
    now: dict[int, list[int]] = {}  # company -> people working there at as_of
    for p in world.people:
        now.setdefault(p.job_at(as_of).company, []).append(p.index)
    for staff in now.values():
        _colleagues(world, staff, edges, rng)
    for p in world.people:
        _former(world, p, now, edges, rng)
    _peers(world, now, edges, rng)
    drifting = _competitors(world, now, edges, rng)
    return edges, drifting


def _joined(world: World, person: int, company: int) -> datetime:
    for job in world.people[person].jobs:
        if job.company == company:
            return job.since
    return world.as_of


def _colleagues(world: World, staff: list[int], edges: _Edges, rng: random.Random) -> None:
    n = len(staff)
    if n < 2:
        return
    company = world.people[staff[0]].job_at(world.as_of).company
    if n <= 4:
        graph = nx.complete_graph(n)
    else:
        graph = nx.connected_watts_strogatz_graph(n, 4, 0.25, tries=50,
                                                  seed=rng.randrange(1 << 30))
    for u, v in sorted(graph.edges()):
        a, b = staff[u], staff[v]
        start = max(_joined(world, a, company), _joined(world, b, company))
        edges.add(a, b, min(world.as_of, start + timedelta(days=rng.uniform(3, 90))))


def _former(world: World, p: Person, now: dict[int, list[int]], edges: _Edges,
            rng: random.Random) -> None:
    """Someone who left a company knows people still there who overlapped with them."""
    for job, following in zip(p.jobs, p.jobs[1:], strict=False):
        left = following.since
        overlapped = [i for i in now.get(job.company, ())
                      if i != p.index and _joined(world, i, job.company) < left]
        for other in rng.sample(overlapped, min(len(overlapped), rng.choice((1, 1, 2)))):
            start = max(job.since, _joined(world, other, job.company))
            edges.add(p.index, other, start + (left - start) * rng.uniform(0.1, 0.6))


def _peers(world: World, now: dict[int, list[int]], edges: _Edges,
           rng: random.Random) -> None:
    """Each company's most senior person now, among peers: a block per region."""
    regions = sorted({c.region for c in world.companies})
    blocks: list[list[int]] = [[] for _ in regions]
    for c in world.companies:
        staff = now.get(c.index)
        if staff and c.kind != "competitor":
            blocks[regions.index(c.region)].append(min(staff))
    sizes = [len(b) for b in blocks]
    if sum(sizes) < 2:
        return
    total = sum(sizes)  # PEERS expected inside one's region, a quarter of that outside it
    probs = [[min(1.0, PEERS / max(1, sizes[i]) if i == j else PEERS / 4 / total)
              for j in range(len(sizes))] for i in range(len(sizes))]
    graph = nx.stochastic_block_model(sizes, probs, seed=rng.randrange(1 << 30), sparse=True)
    members = [person for block in blocks for person in block]
    for u, v in sorted(graph.edges()):
        edges.add(members[u], members[v],
                  world.as_of - timedelta(days=rng.uniform(60, 1500)))


def _competitors(world: World, now: dict[int, list[int]], edges: _Edges,
                 rng: random.Random) -> list[str]:
    """Old ties to competitors' people everywhere; a burst of new ones at drifting accounts."""
    rivals = [i for c in world.companies if c.kind == "competitor" for i in now.get(c.index, ())]
    if not rivals:
        return []
    drifting: list[str] = []
    for c in world.companies:
        if c.kind != "customer":
            continue
        staff = now.get(c.index, [])
        for i in staff:
            if rng.random() < 0.06:  # the baseline: someone they have known for years
                edges.add(i, rng.choice(rivals), world.as_of - timedelta(days=rng.uniform(
                    420, 1800)))
        if staff and c.pattern in ("export_burst", "pricing") and (
                rng.random() < DRIFT_SHARE or not drifting):  # the first always: one to find
            drifting.append(c.domain)
            made = 0
            while made < 4:
                for i in staff[:3]:
                    edges.add(i, rng.choice(rivals),
                              world.as_of - timedelta(days=rng.uniform(0.5, 25)))
                    made += 1
    return sorted(drifting)


def _lines(world: World, edges: _Edges) -> Iterator[dict[str, Any]]:
    from demoworld.world import _iso  # world.py imports this module: not at the top

    as_of = world.as_of
    named = sorted({i for pair in edges.since for i in pair})
    for i in named:
        p = world.people[i]
        job = p.job_at(as_of)
        yield {"node": "Person", "id": job.email, "name": p.name}
        c = world.companies[job.company]
        if c.kind == "competitor":  # no CRM of ours holds a competitor's people
            yield {"rel": "WORKS_AT", "from": job.email, "to": c.domain, "title": job.title}
    for (a, b), since in sorted(edges.since.items()):
        yield {"rel": "KNOWS", "from": world.people[a].job_at(as_of).email,
               "to": world.people[b].job_at(as_of).email, "since": _iso(since),
               "source": "network"}


def write_network(world: World, out: Path, rng: random.Random) -> list[str]:
    """Write the file; returns the drifting accounts' domains (world.json's planted drift)."""
    edges, drifting = build_network(world, rng)
    path = out / PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    n = works = 0
    with path.open("wb") as f:
        for line in _lines(world, edges):
            f.write(orjson.dumps(line) + b"\n")
            n += 1
            works += line.get("rel") == "WORKS_AT"
    world.counts[PATH] = n
    world.add_rels("KNOWS", len(edges.since))
    world.add_rels("WORKS_AT", works)
    return drifting
