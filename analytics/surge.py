"""Topic surge (intent) per company and topic: how much its people read about the topic in the
last `recent_weeks` weeks against the `baseline_weeks` before, as 0–100 where 50 is the
company's normal.

Reads are the event log's (page views, newsletter clicks: graph/eventlog.py READ_CHANNELS) of
content the graph knows the topics of, by people whose job at the company is current. With r
and b the reads a week of the topic in the recent and baseline weeks, intent = 100·x/(1+x) where
x = (r + ½)/(b + ½): reading as usual is 50, twice the usual 67, four times 82, none 0-ish. A
company *surges* on a topic when intent is at least `surging` and at least `min_people` of its
people read about it recently: one person's binge is not a company's intent.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.activity import WEEK
from analytics.engine import records
from analytics.world import World
from graph.eventlog import READ_CHANNELS
from graph.questions.reading import READING, ReadingQuery

_PRIOR = 0.5  # reads a week added to both sides: a first read is not infinite intent


@dataclass(frozen=True, slots=True)
class Surge:
    company_id: str
    company_name: str | None
    topic: str
    intent: float
    recent_reads: int
    baseline_reads: int
    recent_people: int
    surging: bool
    text: str


def topic_surge(world: World, *, company: str | None = None,
                everyone: bool = False) -> list[Surge]:
    """Surging (company, topic) pairs, strongest first; `everyone`: every pair read recently;
    `company`: that company's topics only."""
    if world.store is None:
        raise ValueError("topic surge reads the graph: build the world from a store")
    cfg = world.config.surge
    found = world.store.ask(READING, ReadingQuery(world.as_of))
    jobs = [j for j in found.jobs if company is None or j[1] == company]
    if not jobs or not found.topics:
        return []
    names = {c: n for _, c, n in jobs}
    people = world.engine.table({"r_person": [j[0] for j in jobs],
                                 "r_company": [j[1] for j in jobs]},
                                {"r_person": "string", "r_company": "string"})
    topics = world.engine.table({"t_url": [t[0] for t in found.topics],
                                 "t_topic": [t[1] for t in found.topics]},
                                {"t_url": "string", "t_topic": "string"})
    weeks = cfg.recent_weeks + cfg.baseline_weeks
    e = world.events
    e = e.filter(e.type.isin(list(READ_CHANNELS)) & e.url.notnull() & e.who.notnull()
                 & (e.ts > world.now - weeks * WEEK))
    e = e.mutate(recent=e.ts > world.now - cfg.recent_weeks * WEEK)
    j = e.join(people, e.who == people.r_person)
    j = j.select(who=j.who, url=j.url, recent=j.recent, company=j.r_company).view()
    j = j.join(topics, j.url == topics.t_url)
    j = j.select(who=j.who, recent=j.recent, company=j.company, topic=j.t_topic).view()
    expr = j.group_by(["company", "topic"]).aggregate(
        recent_reads=j.recent.cast("int64").sum(),
        baseline_reads=(~j.recent).cast("int64").sum(),
        recent_people=j.who.nunique(where=j.recent))
    # pairs nobody read recently never surge, nor (unless everyone is asked for) pairs with
    # fewer recent readers than the minimum: left in the engine, not boxed into Python
    expr = expr.filter(expr.recent_reads > 0)
    if not everyone:
        expr = expr.filter(expr.recent_people >= cfg.min_people)
    rows = records(world.engine.execute(expr))
    surges = []
    for r in rows:
        recent, baseline = int(r["recent_reads"]), int(r["baseline_reads"])
        if recent == 0:
            continue
        x = (recent / cfg.recent_weeks + _PRIOR) / (baseline / cfg.baseline_weeks + _PRIOR)
        intent = round(100 * x / (1 + x), 1)
        readers = int(r["recent_people"])
        surging = intent >= cfg.surging and readers >= cfg.min_people
        if not surging and not everyone:
            continue
        name = names.get(r["company"])
        text = (f"{readers} {'person' if readers == 1 else 'people'} at {name or r['company']} "
                f"read about {r['topic']} {recent} times in {cfg.recent_weeks} weeks against "
                f"{baseline} in the {cfg.baseline_weeks} before: intent {intent:.0f}")
        surges.append(Surge(r["company"], name, r["topic"], intent, recent, baseline, readers,
                            surging, text))
    return sorted(surges, key=lambda s: (not s.surging, -s.intent, s.company_id, s.topic))


__all__ = ["Surge", "topic_surge"]
