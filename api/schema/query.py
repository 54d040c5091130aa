"""The questions, as top-level queries. Each resolver turns its arguments into a question's input
(graph/questions/), asks the store and wraps the answer; every window is explicit and ends at
`asOf` (default: now), so answers are reproducible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import date as date_
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from api import validate as v
from api.context import Info
from api.cost import LIST, PAGE_SIZE, Cap
from api.errors import BadUserInput
from api.topics import asked_topic, check_topics
from api.types.company import Company, Customer, customer_of
from api.types.enums import ContentKind, TriggerType
from api.types.insights import CohortRow, CohortTable, CustomerCount
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
from api.types.signals import (
    CompetitorDrift,
    OutreachItem,
    TopicSurge,
    drift,
    outreach_item,
    surge,
)
from api.types.trigger import Trigger, trigger
from connectors.tagging import Taxonomy
from graph.model import ReaderQuery, now_utc
from graph.questions.readers import COMPANIES, READERS
from graph.questions.search import MAX_HITS, SEARCH, SearchQuery
from graph.questions.triggers import TRIGGERS, TriggerQuery
from graph.questions.warm_paths import MAX_PATHS, WARM_PATHS, WarmPathQuery

READ_WITHIN = Duration(timedelta(days=90))
CONCERN_WITHIN = Duration(timedelta(days=30))
if TYPE_CHECKING:
    from analytics.drift import Drift
    from analytics.outreach import Reach
    from analytics.run import Analysis

PAGED = Cap(default=PAGE_SIZE, maximum=MAX_PAGE)  # the default page: RELGRAPH_API_PAGE_SIZE
PATHS = Cap(default=10, maximum=MAX_PATHS)
HITS = Cap(default=20, maximum=MAX_HITS)
OUTREACH = Cap(default=20, maximum=500)
LIST_PAGE = LIST
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


def _day_end(day: date_ | None) -> datetime | None:
    """The moment a day's list is for: the end of a past day, now (the hour) for today."""
    if day is None:
        return None
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return None if end > now_utc() else end


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

    # --- customer success (analytics/) -------------------------------------------------------

    @strawberry.field(description="A customer account by id, with what the analytics say of "
                                  "it at asOf (default: the start of the current hour); null "
                                  "when there is none.")
    async def customer(self, info: Info, id: strawberry.ID,
                       as_of: datetime | None = None) -> Customer | None:
        key = v.required(str(id), "id")
        fields = await info.context.services.analytics.ask(
            as_of, lambda a: a.customers().get(key))
        return customer_of(key, fields, as_of) if fields is not None else None

    @strawberry.field(description="Customers at risk (health under [health] at_risk), lowest "
                                  "health first.", metadata=PAGED.metadata())
    async def at_risk_customers(self, info: Info, first: int | None = None,
                                after: str | None = None,
                                as_of: datetime | None = None) -> Connection[Customer]:
        page = window(first, after, default=info.context.services.settings.api_page_size)

        def ask(a: Analysis) -> tuple[list[str], dict[str, dict[str, Any]]]:
            return [h.customer_id for h in a.at_risk()], a.customers()
        ids, fields = await info.context.services.analytics.ask(as_of, ask)
        return connection([customer_of(i, fields[i], as_of)
                           for i in ids[page.offset:page.end]], len(ids), page)

    @strawberry.field(description="Today's outreach list: the people to write to on `date` "
                                  "(default today), each with its reason in a sentence.",
                      metadata=OUTREACH.metadata())
    async def outreach_list(self, info: Info, date: date_ | None = None,
                            first: int | None = None) -> list[OutreachItem]:
        size = OUTREACH.size(first)
        moment = _day_end(date)

        def ask(a: Analysis) -> tuple[list[Reach], dict[str, dict[str, Any]]]:
            return a.outreach(size), a.customers()
        found, fields = await info.context.services.analytics.ask(moment, ask)
        return [outreach_item(r, fields, moment) for r in found[:size]]

    @strawberry.field(description="Sign-up week or month × periods since: the share of each "
                                  "cohort active (any activity, or one event type).")
    async def cohorts(self, info: Info, period: str = "month", active: str = "any",
                      periods: int | None = None,
                      as_of: datetime | None = None) -> CohortTable:
        if period not in ("week", "month"):
            raise BadUserInput(f"period: week or month, got {period!r}")
        if periods is not None and not 1 <= periods <= 60:
            raise BadUserInput(f"periods: between 1 and 60, got {periods}")
        kind = v.event_type(active, "active") if active != "any" else "any"
        table = await info.context.services.analytics.ask(
            as_of, lambda a: a.cohorts(period, kind, periods))
        return CohortTable(period=table.period, active=table.active, rows=[
            CohortRow(cohort=r.cohort, size=r.size, active=list(r.active), share=list(r.share))
            for r in table.rows])

    @strawberry.field(description="How many customers we have: active in the window "
                                  "(default: a billing cycle for subscriptions, [customers] "
                                  "purchase_months for purchases), each counted once.")
    async def customer_count(self, info: Info, window: Duration | None = None,
                             as_of: datetime | None = None) -> CustomerCount:
        days = None if window is None else max(1, int(window.total_seconds() // 86_400))
        c = await info.context.services.analytics.ask(as_of, lambda a: a.count(days))
        return CustomerCount(as_of=c.as_of, total=c.total, subscription=c.subscription,
                             purchase=c.purchase, customer_records=c.customer_records,
                             merged=c.merged, inactive=c.inactive, by_source=JSON(c.by_source))

    @strawberry.field(description="Customers whose people suddenly connect to many people at "
                                  "competitors since `since` (default: [drift] recent_days "
                                  "before asOf), against their own baseline; most first.",
                      metadata=LIST_PAGE.metadata())
    async def competitor_drift(self, info: Info, since: datetime | None = None,
                               as_of: datetime | None = None,
                               first: int | None = None) -> list[CompetitorDrift]:
        size = LIST_PAGE.size(first)

        def ask(a: Analysis) -> tuple[list[Drift], dict[str, dict[str, Any]]]:
            return a.drift(since), a.customers()
        found, fields = await info.context.services.analytics.ask(as_of, ask)
        return [drift(d, fields, as_of) for d in found[:size]]

    @strawberry.field(description="Topic surge (intent 0–100, 50 is the company's normal): "
                                  "surging companies and topics, strongest first; with "
                                  "`company`, that company's topics read recently.",
                      metadata=LIST_PAGE.metadata())
    async def topic_surge(self, info: Info, company: strawberry.ID | None = None,
                          as_of: datetime | None = None,
                          first: int | None = None) -> list[TopicSurge]:
        size = LIST_PAGE.size(first)
        key = v.company_id(str(company), "company") if company is not None else None
        found = await info.context.services.analytics.ask(
            as_of, lambda a: a.surge(key, everyone=key is not None))
        return [surge(s, as_of) for s in found[:size]]


__all__ = ["Query"]
