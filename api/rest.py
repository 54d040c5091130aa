"""REST for tools that do not speak GraphQL: a sales tool's look-up and a marketer's CSV export.

    GET /v1/lookup?email=ada@acme.com            (or ?domain=acme.com; &asOf=…&triggersWithin=90d)
    GET /v1/export/connections.csv?readTopic=crm&concernTopic=churn[&of=…&contentKind=…
        &readWithin=90d&concernWithin=30d&asOf=…]     (the filters of the `connections` query)

Both need an API key (any scope): a bearer token, or a browser's sign-in cookie (api/web). Errors
have the GraphQL errors' shape and codes: `{"errors": [{"message": …, "extensions": {"code": …}}]}`.

The look-up's answer is typed (`PersonLookup`, `CompanyLookup`), so /openapi.json describes each
field; api/lookup.py builds the JSON, and these models only declare and check it (same keys, same
order). Moments are ISO 8601 strings in UTC with a `Z`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api import validate as v
from api.auth import Principal
from api.context import NO_KEY, authenticate
from api.errors import BadUserInput, Unauthenticated
from api.loaders import Loaders
from api.lookup import company_lookup, person_lookup
from api.services import ServicesDep
from api.topics import asked_topic, check_topics
from api.types.scalars import parse_duration, parse_zoned
from connectors.csvio import csv_safe
from graph.model import MAX_LIMIT, ReaderMatch, ReaderQuery, now_utc
from graph.questions.readers import READERS, Page
from graph.schema import CONTENT_KINDS

router = APIRouter(prefix="/v1")

EXPORT_COLUMNS = ["person_id", "name", "email", "title", "companies", "known_by",
                  "read", "concerns", "last_concern_at"]


async def require_key(request: Request) -> Principal:
    principal = await authenticate(request)
    if principal is None:
        raise Unauthenticated(NO_KEY, headers={"WWW-Authenticate": 'Bearer realm="relgraph"'})
    return principal


KeyDep = Annotated[Principal, Depends(require_key)]


MOMENT: JsonDict = {"format": "date-time", "examples": ["2026-10-15T00:00:00Z"]}


class _Answer(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class LookupPerson(_Answer):
    id: str = Field(description="the person's key: a normalised e-mail, else source:external_id")
    name: str | None
    email: str | None
    title: str | None = Field(description="the current job's title")


class LookupCompany(_Answer):
    id: str = Field(description="the company's key: its registrable domain, else a slug")
    name: str | None
    domain: str | None
    flags: list[str] = Field(description="customer, prospect, competitor, vendor, own")


class Contact(_Answer):
    """One of our team who knows them."""

    id: str
    name: str | None
    title: str | None
    strength: float | None = Field(description="how well, 0..1 (the strongest KNOWS)")


class Concern(_Answer):
    """An open (unresolved) concern."""

    id: str
    text: str | None
    channel: str | None = Field(description="ticket, call, survey, social …")
    at: str | None = Field(json_schema_extra=MOMENT)
    topics: list[str]


class CompanyConcern(_Answer):
    """An open concern raised by someone at the company."""

    person: str = Field(description="the key of the person who raised it")
    id: str
    text: str | None
    channel: str | None
    at: str | None = Field(json_schema_extra=MOMENT)
    topics: list[str]


class Trigger(_Answer):
    """A buying trigger at the company within `triggersWithin` of `asOf`."""

    id: str
    type: str | None = Field(description="funding_round, leadership_change, acquisition …")
    at: str | None = Field(json_schema_extra=MOMENT)
    headline: str | None


class KnownPerson(_Answer):
    """Someone at the company whom our team knows."""

    id: str
    name: str | None
    title: str | None
    known_by: list[Contact] = Field(alias="knownBy")


class PersonLookup(_Answer):
    """`?email=`: the person, their company now, who knows them, concerns, triggers."""

    person: LookupPerson
    company: LookupCompany | None = Field(description="where they work at `asOf`")
    known_by: list[Contact] = Field(alias="knownBy", description="strongest first")
    open_concerns: list[Concern] = Field(alias="openConcerns")
    recent_triggers: list[Trigger] = Field(alias="recentTriggers")


class CompanyLookup(_Answer):
    """`?domain=`: the company, the people there we know, their concerns, triggers."""

    company: LookupCompany
    known: list[KnownPerson] = Field(description="by their strongest tie to us")
    open_concerns: list[CompanyConcern] = Field(alias="openConcerns", description="newest first")
    recent_triggers: list[Trigger] = Field(alias="recentTriggers")


def _moment(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_zoned(text)
    except BadUserInput as exc:
        raise BadUserInput(f"{field}: {exc.message}") from None


def _window(text: str, field: str) -> timedelta:
    try:
        return parse_duration(text)
    except BadUserInput as exc:
        raise BadUserInput(f"{field}: {exc.message}") from None


@router.get("/lookup", response_model=PersonLookup | CompanyLookup)
async def lookup(
    services: ServicesDep, _: KeyDep, email: str | None = None, domain: str | None = None,
    as_of: Annotated[str | None, Query(alias="asOf")] = None,
    triggers_within: Annotated[str, Query(alias="triggersWithin")] = "90d",
) -> dict[str, Any]:
    """A person (by e-mail) or a company (by domain): who on our team knows them and how well,
    open concerns, recent triggers at the company."""
    if (email is None) == (domain is None):
        raise BadUserInput("give email or domain (one of them)")
    moment = _moment(as_of, "asOf")
    window = _window(triggers_within, "triggersWithin")
    loaders = Loaders(services.store)
    if email is not None:
        return await person_lookup(loaders, v.email(email, "email"), as_of=moment,
                                   triggers_within=window)
    assert domain is not None
    return await company_lookup(loaders, v.domain(domain, "domain"), as_of=moment,
                                triggers_within=window)


def _csv(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([[csv_safe(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def _day(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _rows(loaders: Loaders, matches: Sequence[ReaderMatch]) -> list[list[Any]]:
    cards = await loaders.people.load_many([(m.person_id, None) for m in matches])
    return [[
        m.person_id, m.name or "", (card.email or "") if card else "",
        (card.title or "") if card else "",
        "; ".join(f"{c.name or c.company_id} ({c.company_id})" for c in m.companies),
        "; ".join(m.via),
        "; ".join(f"{r.title or r.content_id} <{r.content_id}>" for r in m.reads),
        " | ".join(f"{_day(c.at)} [{c.channel or '-'}] {c.text}" for c in m.concerns),
        _day(max(c.at for c in m.concerns)) if m.concerns else "",
    ] for m, card in zip(matches, cards, strict=True)]


@router.get("/export/connections.csv")
async def export_connections(
    services: ServicesDep, _: KeyDep,
    read_topic: Annotated[str, Query(alias="readTopic")],
    concern_topic: Annotated[str, Query(alias="concernTopic")],
    of: str | None = None,
    content_kind: Annotated[str | None, Query(alias="contentKind")] = None,
    read_within: Annotated[str, Query(alias="readWithin")] = "90d",
    concern_within: Annotated[str, Query(alias="concernWithin")] = "30d",
    as_of: Annotated[str | None, Query(alias="asOf")] = None,
) -> StreamingResponse:
    """Everyone the `connections` query finds, as CSV for e-mail tools: streamed page by page;
    cells a spreadsheet would run as formulas are neutralised."""
    if content_kind is not None:
        content_kind = content_kind.lower()
        if content_kind not in CONTENT_KINDS:
            raise BadUserInput(f"contentKind: one of {', '.join(sorted(CONTENT_KINDS))}")
    taxonomy = services.writer.taxonomy
    query = ReaderQuery(
        read_topic=asked_topic(v.required(read_topic, "readTopic", limit=200), taxonomy),
        concern_topic=asked_topic(v.required(concern_topic, "concernTopic", limit=200),
                                  taxonomy),
        read_window=_window(read_within, "readWithin"),
        concern_window=_window(concern_within, "concernWithin"),
        person=v.person_key(of, "of") if of is not None else None, content_kind=content_kind,
        as_of=_moment(as_of, "asOf") or now_utc(), limit=MAX_LIMIT)
    store = services.store
    first: Page = await store.ask_async(READERS, query)  # errors answer before the stream starts
    if not first.total:  # an unknown topic: 400 with the nearest ones, as GraphQL says it
        await check_topics(store, taxonomy, ((read_topic, "readTopic"),
                                             (concern_topic, "concernTopic")))
    loaders = Loaders(store)
    head = _csv([EXPORT_COLUMNS]) + _csv(await _rows(loaders, first.items))

    async def body() -> AsyncIterator[str]:
        yield head
        offset = len(first.items)
        while offset < first.total:
            page = await store.ask_async(READERS, replace(query, offset=offset))
            if not page.items:
                break
            yield _csv(await _rows(Loaders(store), page.items))
            offset += len(page.items)

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="connections.csv"'})


__all__ = ["EXPORT_COLUMNS", "CompanyLookup", "KeyDep", "PersonLookup", "router"]
