"""Rules both stores share for folding one node into another and for dating observed jobs.

Folding (`merge_nodes`): the kept node's values win, the folded node fills what the kept one
lacks; provenance is united; the earliest first_seen and latest last_seen are kept; the folded
key (and any keys folded into it before) become `aliases` of the kept node, so a later load that
names the folded key lands on the kept node. A key names one node: a fold that would record as
an alias of the kept node a key another node already holds is refused (`check_folds`).

Observed jobs: a snapshot export says where someone works at one moment. Each WORKS_AT that came
from such exports has first_seen and last_seen (earliest and latest observation). From those
alone — so any load order gives the same dates:
- a job ends (`until`) at the first observation of another employer after its last observation;
- a job starts (`since`) at its first observation if an earlier job of the person is known,
  else its start is unknown (None: current since forever, as far as the evidence goes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.errors import AliasTaken


def merged_props(kept: Mapping[str, Any], folded: Mapping[str, Any],
                 folded_key: str | None = None) -> dict[str, Any]:
    """The properties of the kept node or relationship after folding `folded` into it."""
    result = {**folded, **kept}
    sources = list(kept.get("sources") or ())
    sources += [s for s in folded.get("sources") or () if s not in sources]
    if sources:
        result["sources"] = tuple(sources) if isinstance(kept.get("sources"), tuple) else sources
    for name, pick in (("first_seen", min), ("last_seen", max)):
        values = [v for v in (kept.get(name), folded.get(name)) if v is not None]
        if values:
            result[name] = pick(values)
    if folded_key is not None:
        aliases = list(kept.get("aliases") or ())
        for alias in (folded_key, *(folded.get("aliases") or ())):
            if alias not in aliases:
                aliases.append(alias)
        result["aliases"] = aliases
    return result


def check_folds(label: str, folds: Sequence[tuple[str, str]],
                holders: Mapping[str, str]) -> None:
    """Raise AliasTaken at the first of these (folded, keep) folds, taken in order, that would
    record as an alias of its kept node a key another node holds.

    `holders`: alias -> the key of the node holding it, for at least every folded key and every
    alias a folded node holds. A fold moves the folded key and the folded node's aliases to the
    kept node, so later folds of the same batch are checked against the aliases as they will
    be; folding a key into the node that already holds it is no conflict."""
    holder = dict(holders)
    held: dict[str, set[str]] = {}
    for alias, node in holder.items():
        held.setdefault(node, set()).add(alias)
    for folded, keep in folds:
        if folded == keep:
            continue
        moving = {folded} | held.pop(folded, set())
        for alias in sorted(moving):
            other = holder.get(alias)
            if other is not None and other not in (keep, folded):
                raise AliasTaken(label, alias, other, keep)
        for alias in moving:
            holder[alias] = keep
        held.setdefault(keep, set()).update(moving)


@dataclass(frozen=True, slots=True)
class ObservedJob:
    company: str
    first_seen: datetime
    last_seen: datetime


def job_dates(jobs: Iterable[ObservedJob]) -> dict[str, tuple[datetime | None, datetime | None]]:
    """(since, until) per company for one person's observed jobs (rules in the module doc)."""
    jobs = list(jobs)
    dates: dict[str, tuple[datetime | None, datetime | None]] = {}
    for job in jobs:
        later = []
        earlier = False
        for other in jobs:
            if other.company == job.company:
                continue
            if other.first_seen > job.last_seen:
                later.append(other.first_seen)
            elif other.last_seen > job.last_seen:
                later.append(other.last_seen)
            if other.first_seen < job.first_seen:
                earlier = True
        dates[job.company] = (job.first_seen if earlier else None, min(later, default=None))
    return dates
