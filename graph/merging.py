"""Rules both stores share for folding one node into another and for dating observed jobs.

Folding (`merge_nodes`): the kept node's values win (the folded node's, when both were
observed and it was observed later), the other fills what the winner lacks; provenance is
united; the earliest first_seen and latest last_seen are kept; the folded
key (and any keys folded into it before) become `aliases` of the kept node, so a later load that
names the folded key lands on the kept node. A key names one node: a fold that would record as
an alias of the kept node a key another node already holds is refused (`check_folds`).

Observed jobs: a snapshot export says where someone works at one moment. Each WORKS_AT that came
from such exports has first_seen and last_seen (earliest and latest observation). From those
alone — so any load order gives the same dates:
- a job ends (`until`) when a newer employer is first observed: the earliest first observation
  of another employer after its own first observation. Sightings of the older job after that
  are lag, not news: a CRM nobody updated keeps showing the old job after the person moved (sales
  never heard), but no export shows a job before it began. So two exports that disagree are read
  as the later employer being the truth, whichever export is the newer file;
- a job starts (`since`) at its first observation if an earlier job of the person is known,
  else its start is unknown (None: current since forever, as far as the evidence goes);
- jobs first observed at the same moment are concurrent: neither ends the other.
The price: someone who went back to an earlier employer (A, then B, then A again) is one A job
first seen before B, so they read as still at B.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.errors import AliasTaken
from graph.schema import STORE_SET


def merged_props(kept: Mapping[str, Any], folded: Mapping[str, Any],
                 folded_key: str | None = None) -> dict[str, Any]:
    """The properties of the kept node or relationship after folding `folded` into it: the
    kept values win, unless both were observed (snapshot exports) and the folded one later:
    then its values do (the newest observation, whichever side the fold keeps)."""
    newer = (folded.get("last_seen") is not None and kept.get("last_seen") is not None
             and folded["last_seen"] > kept["last_seen"])
    result = {**folded, **kept}
    if newer:  # the data properties only: what the stores keep themselves stays as it was
        result.update((k, v) for k, v in folded.items() if v is not None and k not in STORE_SET)
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
        newer = []
        earlier = False
        for other in jobs:
            if other.company == job.company:
                continue
            if other.first_seen > job.first_seen:
                newer.append(other.first_seen)
            elif other.first_seen < job.first_seen:
                earlier = True
        dates[job.company] = (job.first_seen if earlier else None, min(newer, default=None))
    return dates
