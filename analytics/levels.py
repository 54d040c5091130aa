"""The relationship level of each customer — seed 002's five: trusted adviser, partner, credible
source, transactional, commodity — by transparent rules, the first that holds deciding (and
returned with the level, in words).

What the rules read, over the account's people (graph/questions/accounts.py):
- *engaged* contacts: active in the recent weeks, or who raised a concern in the last 90 days,
  or read something in the last `reads_days` days; *senior* ones have a title matching
  [levels] senior_titles; *known* ones someone on our team knows;
- *strategic* conversations: concerns (90 days) and reads about [levels] strategic_topics
  (outcomes, strategy); *broken*: open concerns about broken_topics (things that do not work);
- *reads*: content they read in the window.

1. trusted adviser — a senior engaged contact we know, 3+ engaged people, 2+ strategic
   conversations, nothing broken open;
2. partner — 2+ engaged people and strategic conversations outnumbering broken ones;
3. credible source — 3+ reads of content in the window;
4. transactional — someone engaged (they use it, or tell us what is broken);
5. commodity — none of that: little interaction once the problem was solved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from analytics.activity import PersonActivity, people_activity
from analytics.health import CONCERN_DAYS
from analytics.world import World
from graph.questions.accounts import Account
from graph.questions.entities import is_open

LEVELS = ("trusted adviser", "partner", "credible source", "transactional", "commodity")


@dataclass(frozen=True, slots=True)
class Level:
    customer_id: str
    level: str
    rule: str  # the rule that decided it, in words, with the numbers
    engaged: int
    senior: int
    known: int
    strategic: int
    broken: int
    reads: int


def _senior(patterns: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(p) for p in sorted(patterns, key=len, reverse=True))
    return re.compile(rf"\b(?:{words})\b", re.IGNORECASE)


def level_of(world: World, account: Account, active: dict[str, PersonActivity]) -> Level:
    cfg = world.config.levels
    senior_title = _senior(cfg.senior_titles)
    strategic_topics, broken_topics = set(cfg.strategic_topics), set(cfg.broken_topics)
    since = world.as_of - timedelta(days=CONCERN_DAYS)
    engaged = senior = known = strategic = broken = reads = 0
    for person in account.people:
        recent_concerns = [c for c in person.concerns if since <= c.at <= world.as_of]
        is_engaged = person.person_id in active or bool(recent_concerns) or bool(person.reads)
        reads += len(person.reads)
        strategic += sum(1 for c in recent_concerns if strategic_topics & set(c.topics))
        strategic += sum(1 for topics in person.reads if strategic_topics & set(topics))
        broken += sum(1 for c in person.concerns if broken_topics & set(c.topics)
                      and is_open(c.status, c.solved_at, world.as_of))
        if is_engaged:
            engaged += 1
            if person.title and senior_title.search(person.title):
                senior += 1
                if person.known_by:
                    known += 1
    counts = (f"{engaged} engaged, {senior} senior ({known} known to us), {strategic} strategic "
              f"conversations, {broken} broken things open, {reads} reads")
    if known >= 1 and engaged >= 3 and strategic >= 2 and broken == 0:
        level, rule = LEVELS[0], ("a senior contact we know and 3+ engaged people talk about "
                                  "outcomes and strategy, nothing broken open")
    elif engaged >= 2 and strategic > broken:
        level, rule = LEVELS[1], ("2+ engaged people, and more talk of outcomes than of "
                                  "things that are broken")
    elif reads >= 3:
        level, rule = LEVELS[2], "they read what we publish (3+ reads in the window)"
    elif engaged >= 1:
        level, rule = LEVELS[3], ("someone uses it or tells us what is broken, little "
                                  "beyond that")
    else:
        level, rule = LEVELS[4], "little interaction: nobody engaged in the window"
    return Level(account.customer_id, level, f"{rule} ({counts})", engaged, senior, known,
                 strategic, broken, reads)


def levels(world: World, active: dict[str, PersonActivity] | None = None) -> list[Level]:
    active = active if active is not None else people_activity(world)
    found = [level_of(world, a, active) for a in world.accounts]
    return sorted(found, key=lambda x: (LEVELS.index(x.level), x.customer_id))


__all__ = ["LEVELS", "Level", "level_of", "levels"]
