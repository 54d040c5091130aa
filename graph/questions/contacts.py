"""What the newer questions share: a known contact, a person's role at a moment, "our side".

The rules, in words (both stores apply them through the functions below):
- A person's *role* at `as_of` is their current job (graph/model.py `is_current`); with several,
  the one that started last (an unknown start counts as earliest), then the smaller company id.
- A person's *title* at `as_of` is their role's title; when the role has none, or they have no
  current job, the title stored on the person (None when neither is known).
- *Our side* is one person, or "our team": everyone working at a company flagged own at `as_of`.
- A known contact's `strength` is the strongest KNOWS between them and our side (None when none
  of those relationships carries a strength); `via` lists who on our side knows them, by id.
- Lists of contacts come strongest first (unknown strength last), then by person id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.model import Employment, is_current


@dataclass(frozen=True, slots=True)
class KnownContact:
    person_id: str
    name: str | None
    title: str | None
    via: tuple[str, ...]  # who on our side knows them (ids); () where they are our side
    strength: float | None  # the strongest KNOWS to our side


def current(var: str) -> str:
    """Cypher: the WORKS_AT relationship `var` is current at $as_of (graph/model.py)."""
    return (f"({var}.since IS NULL OR {var}.since <= $as_of) AND "
            f"({var}.until IS NULL OR {var}.until > $as_of)")


def jobs_cypher(person: str, rel: str, company: str) -> str:
    """Cypher: a pattern comprehension of `person`'s jobs current at $as_of, as `employment`
    reads them. Variable names are given so it nests inside other comprehensions."""
    return (f"[({person})-[{rel}:WORKS_AT]->({company}:Company) WHERE {current(rel)} | "
            f"{{company_id: {company}.id, name: {company}.name, title: {rel}.title, "
            f"since: {rel}.since, until: {rel}.until}}]")


def employment(d: Mapping[str, Any]) -> Employment:
    return Employment(d["company_id"], d["name"], d["title"], d["since"], d["until"])


def role(jobs: Iterable[Employment], as_of: datetime) -> Employment | None:
    """The current job that started last (unknown start: earliest), then the smaller company id."""
    now = [j for j in jobs if is_current(j.since, j.until, as_of)]
    if not now:
        return None
    return min(now, key=lambda j: (j.since is None,
                                   -j.since.timestamp() if j.since is not None else 0.0,
                                   j.company_id))


def title_of(job: Employment | None, stored_title: str | None) -> str | None:
    """The role's title, else the title stored on the person."""
    if job is not None and job.title is not None:
        return job.title
    return stored_title


def strongest(strengths: Iterable[float | None]) -> float | None:
    known = [s for s in strengths if s is not None]
    return max(known) if known else None


def contact_order(c: KnownContact) -> tuple[bool, float, str]:
    return (c.strength is None, -(c.strength or 0.0), c.person_id)


def sort_contacts(contacts: Iterable[KnownContact]) -> tuple[KnownContact, ...]:
    return tuple(sorted(contacts, key=contact_order))


def contact(person_id: str, name: str | None, title: str | None, links: Sequence[
        tuple[str, float | None]]) -> KnownContact:
    """A contact known through `links`: (id on our side, that KNOWS's strength) pairs."""
    return KnownContact(person_id, name, title, tuple(sorted({s for s, _ in links})),
                        strongest(k for _, k in links))
