"""Our own team: people at a company flagged `own`, the starting point of every team question.

    >>> from graph.memory_store import MemoryStore
    >>> store = MemoryStore(None)
    >>> add_member(store, "Maya@RelGraph.io", name="Maya Chen")
    Member(person='maya@relgraph.io', company='relgraph.io')
    >>> store.team()
    ['maya@relgraph.io']
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.errors import ConnectorError
from graph import keys
from graph.store import GraphStore


class TeamError(ConnectorError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Member:
    person: str
    company: str


def add_member(store: GraphStore, email: str, *, name: str | None = None,
               title: str | None = None) -> Member:
    """Add a team member by work e-mail; the e-mail's company is flagged own."""
    try:
        person = keys.normalise_email(email)
    except ValueError as exc:
        raise TeamError(str(exc)) from None
    company = keys.registrable_domain(person)
    if company is None:
        raise TeamError(f"{email!r} is not a work e-mail (free-mail domains are no company): "
                        "add team members by their work address")
    aliases = store.aliases("Person")
    person = aliases.get(person, person)
    company = store.aliases("Company").get(company, company)
    store.upsert_nodes("Company", [{"id": company, "own": True}], source="team")
    row = {"id": person, "email": email.strip()}
    if name:
        row["name"] = name
    store.upsert_nodes("Person", [row], source="team")
    store.upsert_relationships("WORKS_AT", [{"from": person, "to": company, "title": title}],
                               source="team")
    store.checkpoint()
    return Member(person, company)
