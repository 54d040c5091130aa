"""The customer feed screen's data: which interactions a wall screen asks for (its filters, from
the query string) and the ones already in the data dir's outbox, newest first, as JSON.

The outbox (graph/feed.py) is what the live feed is made of: every Event, Concern and Trigger a
load or a mutation created, one line each, kept `KEEP_DAYS` days. The screen opens on the most
recent interactions of its last `SCANNED` lines (`recent_items` there), and then follows
`customerFeed` over the websocket; an item is the same JSON shape whichever way it came
(`shown`), so the page words both alike.

Filters, each optional and combinable (a wall screen's URL carries them):

    ?account=acme.com,globex.com   at these companies (the item's company, else where its
                                   person works now; `company:acme.com` names the same account)
    ?kind=sign_up,concern_raised   these interaction types (`trigger`: any buying trigger)
    ?owner=maya@relgraph.io        people this member of our team knows (a trigger: a company
                                   where they know someone now)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api import validate as v
from api.errors import BadUserInput
from api.live import FeedSelection
from api.loaders import Loaders
from api.types.enums import INTERACTION_TYPES
from api.types.interaction import type_of
from graph import keys
from graph.feed import FeedItem, recent_items
from graph.questions.entities import PersonCard
from graph.store import GraphStore

MAX_ITEMS = 200  # what the screen holds at once
SCANNED = 20_000  # outbox lines looked at for one screen's opening items (filters may skip most)
CHUNK = 100  # items whose look-ups are batched together
_KINDS = frozenset(INTERACTION_TYPES)


@dataclass(frozen=True, slots=True)
class ScreenFilters:
    """The feed's filters as the query string gave them, checked and normalised."""

    accounts: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    owner: str | None = None

    @classmethod
    def parse(cls, account: str | None, kind: str | None, owner: str | None) -> ScreenFilters:
        """Comma-separated lists; a bad value is `BadUserInput` naming it (never ignored: a
        wall screen with a typo in its URL must say so, not show everything)."""
        accounts = tuple(dict.fromkeys(_account(a) for a in _split(account)))
        kinds = []
        for k in _split(kind):
            k = k.lower().replace("-", "_")
            if k not in _KINDS:
                raise BadUserInput(f"kind: {k!r} is not an interaction type; known: "
                                   f"{', '.join(INTERACTION_TYPES)}")
            kinds.append(k)
        who = v.person_key(owner, "owner") if owner is not None and owner.strip() else None
        return cls(accounts, tuple(dict.fromkeys(kinds)), who)

    @property
    def selection(self) -> FeedSelection:
        """The subscription's own filter (api/live.py) for the accounts and kinds."""
        return FeedSelection(frozenset(self.kinds) or None, None,
                             frozenset(self.accounts) or None, False)

    def as_json(self) -> dict[str, Any]:
        return {"account": list(self.accounts), "kind": list(self.kinds), "owner": self.owner}


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _account(text: str) -> str:
    text = v.required(text, "account")
    try:
        return keys.company_key(text.removeprefix("company:"))
    except ValueError as exc:
        raise BadUserInput(f"account: {exc}") from None


class Aliases:
    """Person keys folded into another since an item was written (a Segment user id stitched to
    an e-mail): read once per request, only when a key names nobody."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._found: dict[str, str] | None = None
        self._lock = asyncio.Lock()

    async def of(self, key: str) -> str | None:
        async with self._lock:
            if self._found is None:
                self._found = await asyncio.to_thread(self.store.aliases, "Person")
        return self._found.get(key)


async def person_card(key: str, loaders: Loaders, aliases: Aliases) -> PersonCard | None:
    """The person a key names now: itself, else the person it was folded into."""
    card = await loaders.people.load((key, None))
    if card is None:
        folded = await aliases.of(key)
        if folded is not None:
            card = await loaders.people.load((folded, None))
    return card


async def shown(item: FeedItem, company_id: str | None, loaders: Loaders,
                aliases: Aliases) -> dict[str, Any]:
    """One interaction in the shape `customerFeed` gives over the websocket (`FEED_FIELDS` in
    api/web/static/screens/feed.js asks for the same fields), so the page shows both alike."""
    person: dict[str, Any] | None = None
    if item.person is not None:
        card = await person_card(item.person, loaders, aliases)
        person = {"id": card.person_id if card else item.person,
                  "name": card.name if card else None,
                  "title": card.title if card else None,
                  "properties": card.properties if card else {},
                  "knownBy": [{"person": {"id": k.person_id, "name": k.name},
                               "strength": k.strength}
                              for k in (card.known_by if card else ())]}
    company: dict[str, Any] | None = None
    if company_id is not None:
        found = await loaders.companies.load((company_id, None))
        company = {"id": company_id, "name": found.name if found else None,
                   "flags": [f.upper() for f in found.flags] if found else [],
                   "properties": found.properties if found else {}}
    props = dict(item.properties)
    if item.kind == "trigger":
        props["trigger_type"] = item.type
    return {"id": item.id, "type": type_of(item).upper(),
            "at": item.at.isoformat().replace("+00:00", "Z"), "account": item.account,
            "text": item.text, "properties": props, "person": person, "company": company}


async def accepted(item: FeedItem, filters: ScreenFilters, loaders: Loaders
                   ) -> tuple[bool, str | None]:
    """Whether the screen's filters keep this item, and its company."""
    selection = filters.selection
    company = await selection.company_of(item, loaders)
    if type_of(item) not in _KINDS or not await selection.accepts(item, company, loaders):
        return False, company
    if filters.owner is None:
        return True, company
    people: Iterable[str] = (item.person,) if item.person is not None else ()
    if item.person is None and company is not None:
        card = await loaders.companies.load((company, None))
        people = card.people_now if card is not None else ()
    cards = await loaders.people.load_many([(p, None) for p in people])
    knows = any(c is not None and any(k.person_id == filters.owner for k in c.known_by)
                for c in cards)
    return knows, company


async def opening_items(directory: Path, filters: ScreenFilters, loaders: Loaders,
                        aliases: Aliases, limit: int = 50) -> list[dict[str, Any]]:
    """The `limit` most recent outbox items the filters keep, newest first, as `shown`."""
    items = await asyncio.to_thread(recent_items, directory, SCANNED)
    found: list[dict[str, Any]] = []
    # a chunk at a time, concurrently: the request's DataLoaders batch each chunk's look-ups
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        verdicts = await asyncio.gather(*(accepted(i, filters, loaders) for i in chunk))
        kept = [(i, company) for i, (keep, company) in zip(chunk, verdicts, strict=True)
                if keep][:limit - len(found)]
        found += await asyncio.gather(*(shown(i, c, loaders, aliases) for i, c in kept))
        if len(found) >= limit:
            break
    return found


__all__ = ["MAX_ITEMS", "Aliases", "ScreenFilters", "accepted", "opening_items", "person_card",
           "shown"]
