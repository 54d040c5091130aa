"""DataLoaders: the second look-ups of a request (a person's companies, a company's people, a
person's connections …), batched by key into one store question per kind, whatever the number
of nodes in the answer. One `Loaders` per request (and per subscription event): answers are
cached for that request only, so nothing stale outlives it.

Keys carry the `as_of` the answer was asked at (None: now), so people shown inside
`connections(asOf: …)` are described as of that moment; one question is asked per distinct
moment. Analytics fields (health, churn risk …) add a loader here over their own batch question
and a resolver on the type; nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import datetime
from typing import TypeVar

from strawberry.dataloader import DataLoader

from graph import keys
from graph.errors import NodeNotFound
from graph.model import PersonProfile
from graph.questions.contacts import KnownContact
from graph.questions.entities import (
    COMPANY_CARDS,
    CONNECTIONS,
    PEOPLE,
    CompaniesQuery,
    CompanyCard,
    ConnectionsQuery,
    PeopleQuery,
    PersonCard,
)
from graph.questions.profile import PROFILE, ProfileQuery
from graph.store import GraphStore

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
PersonKey = tuple[str, datetime | None]
ConnectionsKey = tuple[str, int, datetime | None]


def _normal(normalise: Callable[[str], str], key: str) -> str | None:
    try:
        return normalise(key)
    except ValueError:
        return None


async def _grouped(wanted: Sequence[K], group: Callable[[K], Hashable],
                   ask: Callable[[list[K]], Awaitable[dict[K, V]]]) -> list[V | None]:
    """Answer `wanted` keys with one `ask` per group (keys of one as_of), concurrently."""
    groups: dict[Hashable, list[K]] = defaultdict(list)
    for key in wanted:
        groups[group(key)].append(key)
    found: dict[K, V] = {}
    for answer in await asyncio.gather(*(ask(ks) for ks in groups.values())):
        found.update(answer)
    return [found.get(key) for key in wanted]


class Loaders:
    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.people: DataLoader[PersonKey, PersonCard | None] = DataLoader(self._people)
        # Names, e-mails, titles, jobs: the node and its jobs only (PeopleQuery.brief); a
        # person's full card walks all their KNOWS, thousands for a team member shown as `via`.
        self.people_brief: DataLoader[PersonKey, PersonCard | None] = DataLoader(
            self._people_brief)
        self.companies: DataLoader[PersonKey, CompanyCard | None] = DataLoader(self._companies)
        self.connections: DataLoader[ConnectionsKey, tuple[KnownContact, ...] | None] = \
            DataLoader(self._connections)
        self.profiles: DataLoader[PersonKey, PersonProfile | None] = DataLoader(self._profiles)

    async def _people(self, wanted: list[PersonKey], brief: bool = False
                      ) -> list[PersonCard | None]:
        async def ask(ks: list[PersonKey]) -> dict[PersonKey, PersonCard]:
            normal = {k: _normal(keys.person_key, k[0]) for k in ks}
            cards = await self.store.ask_async(PEOPLE, PeopleQuery(
                tuple(n for n in normal.values() if n), ks[0][1], brief))
            return {k: cards[n] for k, n in normal.items() if n in cards}

        return await _grouped(wanted, lambda k: k[1], ask)

    async def _people_brief(self, wanted: list[PersonKey]) -> list[PersonCard | None]:
        return await self._people(wanted, brief=True)

    async def person_brief(self, key: PersonKey) -> PersonCard | None:
        """A card that is enough for a person's name, e-mail, title, properties and jobs: the
        full card when this request already asked for it (no second look-up), else a brief
        one."""
        full = self.people.cache_map.get(key)
        if full is not None:
            return await full
        return await self.people_brief.load(key)

    async def _companies(self, wanted: list[PersonKey]) -> list[CompanyCard | None]:
        async def ask(ks: list[PersonKey]) -> dict[PersonKey, CompanyCard]:
            normal = {k: _normal(keys.company_key, k[0]) for k in ks}
            cards = await self.store.ask_async(COMPANY_CARDS, CompaniesQuery(
                tuple(n for n in normal.values() if n), ks[0][1]))
            return {k: cards[n] for k, n in normal.items() if n in cards}

        return await _grouped(wanted, lambda k: k[1], ask)

    async def _connections(self, wanted: list[ConnectionsKey]
                           ) -> list[tuple[KnownContact, ...] | None]:
        async def ask(ks: list[ConnectionsKey]
                      ) -> dict[ConnectionsKey, tuple[KnownContact, ...]]:
            normal = {k: _normal(keys.person_key, k[0]) for k in ks}
            found = await self.store.ask_async(CONNECTIONS, ConnectionsQuery(
                tuple(n for n in normal.values() if n), ks[0][1], ks[0][2]))
            return {k: found[n] for k, n in normal.items() if n in found}

        return await _grouped(wanted, lambda k: (k[1], k[2]), ask)

    async def _profiles(self, wanted: list[PersonKey]) -> list[PersonProfile | None]:
        """Profiles (topics read, every concern) have no batch question: one per person,
        concurrently. Ask for them on one person at a time, not inside long lists."""
        async def one(key: PersonKey) -> PersonProfile | None:
            try:
                return await self.store.ask_async(PROFILE, ProfileQuery(key[0], key[1]))
            except NodeNotFound:
                return None

        return list(await asyncio.gather(*(one(k) for k in wanted)))


__all__ = ["Loaders"]
