"""Which feed items a `customerFeed(filter)` subscriber receives, and at which company.

An item's company is the one it names (a trigger's company, an event's B2B account), else the
company where its person works now (their role: graph/questions/contacts.py). A trigger reaches
the customer feed only at a company flagged customer; with `customersOnly` every item must be
at one (or be for a customer account).
"""

from __future__ import annotations

from dataclasses import dataclass

from api import validate as v
from api.errors import BadUserInput
from api.loaders import Loaders
from api.types.interaction import FeedFilter, type_of
from graph import keys
from graph.feed import FeedItem
from graph.model import now_utc
from graph.questions.contacts import role


@dataclass(frozen=True, slots=True)
class FeedSelection:
    types: frozenset[str] | None
    people: frozenset[str] | None
    companies: frozenset[str] | None
    customers_only: bool

    @classmethod
    def of(cls, f: FeedFilter | None) -> FeedSelection:
        if f is None:
            return cls(None, None, None, False)
        people = companies = None
        if f.people is not None:
            people = frozenset(v.person_key(str(p), f"filter.people[{i}]")
                               for i, p in enumerate(f.people))
        if f.companies is not None:
            companies = frozenset(_company_key(str(c), f"filter.companies[{i}]")
                                  for i, c in enumerate(f.companies))
        types = frozenset(t.value for t in f.types) if f.types is not None else None
        return cls(types, people, companies, f.customers_only)

    async def company_of(self, item: FeedItem, loaders: Loaders) -> str | None:
        if item.company is not None:
            return item.company
        if item.person is None:
            return None
        card = await loaders.people.load((item.person, None))
        job = role(card.current, now_utc()) if card is not None else None
        return job.company_id if job is not None else None

    async def accepts(self, item: FeedItem, company: str | None, loaders: Loaders) -> bool:
        if self.types is not None and type_of(item) not in self.types:
            return False
        if self.people is not None and item.person not in self.people:
            return False
        if self.companies is not None and company not in self.companies:
            return False
        if self.customers_only or item.kind == "trigger":
            if item.account is not None and item.kind == "event":
                return True  # an event for a paying account
            if company is None:
                return False
            card = await loaders.companies.load((company, None))
            return card is not None and "customer" in card.flags
        return True


def _company_key(text: str, field: str) -> str:
    text = v.required(text, field)
    try:
        return keys.company_key(text)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None


__all__ = ["FeedSelection"]
