"""The questions, as top-level queries. Each resolver turns its arguments into a question's input
(graph/questions/), asks the store and wraps the answer; every window is explicit and ends at
`asOf` (default: now), so answers are reproducible."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from api import validate as v
from api.context import Info
from api.cost import PAGE_SIZE, Cap
from api.errors import BadUserInput
from api.topics import asked_topic, check_topics
from api.types.company import Company
from api.types.enums import ContentKind, TriggerType
from api.types.matches import (
    CompanyConnections,
    ConnectionMatch,
    company_connections,
    connection_match,
)
from api.types.pagination import MAX_PAGE, Connection, connection, window
from api.types.paths import WarmPath, warm_path
from api.types.person import Person
from api.types.scalars import Duration
from api.types.search import SearchHit, search_hit
from api.types.trigger import Trigger, trigger
from connectors.tagging import Taxonomy
from graph.model import ReaderQuery, now_utc
from graph.questions.readers import COMPANIES, READERS
from graph.questions.search import MAX_HITS, SEARCH, SearchQuery
from graph.questions.triggers import TRIGGERS, TriggerQuery
from graph.questions.warm_paths import MAX_PATHS, WARM_PATHS, WarmPathQuery

READ_WITHIN = Duration(timedelta(days=90))
CONCERN_WITHIN = Duration(timedelta(days=30))
PAGED = Cap(default=PAGE_SIZE, maximum=MAX_PAGE)  # the default page: RELGRAPH_API_PAGE_SIZE
PATHS = Cap(default=10, maximum=MAX_PATHS)
HITS = Cap(default=20, maximum=MAX_HITS)
OF = "Whose connections: an e-mail or source key; omitted, anyone on our team (people "\
     "currently at a company flagged own)."


def _reader_query(of: strawberry.ID | None, read_topic: str, content_kind: ContentKind | None,
                  read_within: timedelta, concern_topic: str, concern_within: timedelta,
                  as_of: datetime, first: int, offset: int, taxonomy: Taxonomy) -> ReaderQuery:
    """A synonym asks about its topic (`api.topics`): "customer churn" is churn."""
    return ReaderQuery(
        read_topic=asked_topic(v.required(read_topic, "readTopic", limit=200), taxonomy),
        concern_topic=asked_topic(v.required(concern_topic, "concernTopic", limit=200),
                                  taxonomy),
        read_window=read_within, concern_window=concern_within,
        person=v.person_key(str(of), "of") if of is not None else None,
        content_kind=content_kind.value if content_kind is not None else None,
        as_of=as_of, limit=first, offset=offset)


def _asks_total(info: Info) -> bool:
    """Does the query ask for totalCount (or pageInfo.hasNextPage) of this connection?"""
    def walk(selections: list[SelectedField | FragmentSpread | InlineFragment]) -> bool:
        for s in selections:
            if isinstance(s, SelectedField):
                if s.name in ("totalCount", "pageInfo"):
                    return True
            elif walk(s.selections):
                return True
        return False
    return any(walk(f.selections) for f in info.selected_fields)


@strawberry.type
class Query:
    @strawberry.field(description="Connections (of one person, or of our team) who read about "
                                  "readTopic within readWithin and raised a concern about "
                                  "concernTopic within concernWithin, both windows ending at "
                                  "asOf; with the evidence. Most recent concern first.",
                      metadata=PAGED.metadata())
    async def connections(
        self, info: Info, *,
        of: Annotated[strawberry.ID | None, strawberry.argument(description=OF)] = None,
        read_topic: str,
        content_kind: ContentKind | None = None,
        read_within: Duration | None = READ_WITHIN,
        concern_topic: str,
        concern_within: Duration | None = CONCERN_WITHIN,
        as_of: datetime | None = None, first: int | None = None, after: str | None = None,
    ) -> Connection[ConnectionMatch]:
        page = window(first, after, default=info.context.services.settings.api_page_size)
        moment = as_of or now_utc()
        services = info.context.services
        answer = await services.store.ask_async(READERS, _reader_query(
            of, read_topic, content_kind, read_within or READ_WITHIN, concern_topic,
            concern_within or CONCERN_WITHIN, moment, page.first, page.offset,
            services.writer.taxonomy))
        if not answer.total:  # an unknown topic is an error, never a silent empty answer
            await check_topics(services.store, services.writer.taxonomy,
                               ((read_topic, "readTopic"), (concern_topic, "concernTopic")))
        return connection([connection_match(m, moment) for m in answer.items], answer.total,
                          page)

    @strawberry.field(description="The companies where such connections work at asOf, ranked "
                                  "by how many, with the people.",
                      metadata=PAGED.metadata())
    async def companies_by_connections(
        self, info: Info, *,
        of: Annotated[strawberry.ID | None, strawberry.argument(description=OF)] = None,
        read_topic: str,
        content_kind: ContentKind | None = None,
        read_within: Duration | None = READ_WITHIN,
        concern_topic: str,
        concern_within: Duration | None = CONCERN_WITHIN,
        as_of: datetime | None = None, first: int | None = None, after: str | None = None,
    ) -> Connection[CompanyConnections]:
        page = window(first, after, default=info.context.services.settings.api_page_size)
        moment = as_of or now_utc()
        services = info.context.services
        answer = await services.store.ask_async(COMPANIES, _reader_query(
            of, read_topic, content_kind, read_within or READ_WITHIN, concern_topic,
            concern_within or CONCERN_WITHIN, moment, page.first, page.offset,
            services.writer.taxonomy))
        if not answer.total:
            await check_topics(services.store, services.writer.taxonomy,
                               ((read_topic, "readTopic"), (concern_topic, "concernTopic")))
        return connection([company_connections(m, moment) for m in answer.items],
                          answer.total, page)

    @strawberry.field(description="Introduction paths through people who know each other, from "
                                  "one person to another: shortest first, then strongest. At "
                                  f"most {MAX_PATHS} paths (totalCount counts up to that).",
                      metadata=PATHS.metadata())
    async def warm_paths(
        self, info: Info,
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        max_hops: int | None = 3, first: int | None = None, after: str | None = None,
        as_of: datetime | None = None,
    ) -> Connection[WarmPath]:
        page = window(first, after, default=PATHS.default, maximum=PATHS.maximum)
        if page.end > MAX_PATHS:
            raise BadUserInput(f"after and first reach past the {MAX_PATHS} paths a query finds")
        limit = MAX_PATHS if _asks_total(info) else page.end
        moment = as_of or now_utc()
        paths = await info.context.services.store.ask_async(WARM_PATHS, WarmPathQuery(
            v.person_key(str(from_), "from"), v.person_key(str(to), "to"),
            3 if max_hops is None else max_hops, limit,
            moment))
        return connection([warm_path(p, moment) for p in paths[page.offset:page.end]],
                          len(paths), page)

    @strawberry.field(description="Buying triggers since a moment (up to asOf), newest first, "
                                  "with who we know at each company and how well.",
                      metadata=PAGED.metadata())
    async def triggers(
        self, info: Info, since: datetime,
        types: list[TriggerType] | None = None,
        where_we_know_someone: bool | None = True, as_of: datetime | None = None,
        of: Annotated[strawberry.ID | None, strawberry.argument(description=OF)] = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[Trigger]:
        page = window(first, after, default=info.context.services.settings.api_page_size)
        moment = as_of or now_utc()
        answer = await info.context.services.store.ask_async(TRIGGERS, TriggerQuery(
            since=since, types=tuple(t.value for t in types) if types is not None else None,
            where_we_know_someone=where_we_know_someone is not False, as_of=moment,
            person=v.person_key(str(of), "of") if of is not None else None,
            limit=page.first, offset=page.offset))
        return connection([trigger(t, moment) for t in answer.items], answer.total, page)

    @strawberry.field(description="A person by id (e-mail or source key) or e-mail; null when "
                                  "there is none.")
    async def person(self, info: Info, id: strawberry.ID | None = None,
                     email: str | None = None, as_of: datetime | None = None) -> Person | None:
        if (id is None) == (email is None):
            raise BadUserInput("person: give id or email (one of them)")
        key = v.email(email, "email") if email is not None else v.person_key(str(id), "id")
        card = await info.context.loaders.people.load((key, as_of))
        return Person(id=strawberry.ID(card.person_id), as_of=as_of) if card else None

    @strawberry.field(description="A company by id (its key: a domain, else a name key) or by "
                                  "domain (any URL or e-mail of it); null when there is none.")
    async def company(self, info: Info, id: strawberry.ID | None = None,
                      domain: str | None = None,
                      as_of: datetime | None = None) -> Company | None:
        if (id is None) == (domain is None):
            raise BadUserInput("company: give id or domain (one of them)")
        key = v.domain(domain, "domain") if domain is not None else v.company_id(str(id), "id")
        card = await info.context.loaders.companies.load((key, as_of))
        return Company(id=strawberry.ID(card.company_id), as_of=as_of) if card else None

    @strawberry.field(description="People, companies, content and topics whose names hold the "
                                  "words typed (the last one may be a prefix); best first. At "
                                  f"most {MAX_HITS}.", metadata=HITS.metadata())
    async def search(self, info: Info, text: str, first: int | None = None,
                     after: str | None = None) -> Connection[SearchHit]:
        page = window(first, after, default=HITS.default, maximum=HITS.maximum)
        hits = await info.context.services.store.ask_async(
            SEARCH, SearchQuery(v.required(text, "text", limit=500), MAX_HITS))
        return connection([search_hit(h) for h in hits[page.offset:page.end]], len(hits), page)


__all__ = ["Query"]
