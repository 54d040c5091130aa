"""Inputs of the mutations. Every value is checked by api/validate.py before anything is written,
and keys are normalised there as every load normalises them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from api.types.enums import CompanyFlag, ConcernChannel, ContentKind


@strawberry.enum(description="How a read reached us: a page view on the web, a newsletter click.")
class ReadChannel(Enum):
    WEB = "web"
    NEWSLETTER = "newsletter"


@strawberry.input(description="A company as a tool names it: a domain (or website, or work "
                              "e-mail) and/or a name.")
class CompanyRefInput:
    domain: str | None = None
    name: str | None = None


@strawberry.input(description="A person: by e-mail, else by a source key (`crm:123`); both make "
                              "the source key an alias of the e-mail, as loads do.")
class PersonInput:
    email: str | None = None
    id: strawberry.ID | None = strawberry.field(
        default=None, description="A source key `source:external_id` (e.g. `crm:0031`).")
    name: str | None = None
    title: str | None = None
    location: str | None = None
    linkedin_url: str | None = None
    phone: str | None = None
    company: CompanyRefInput | None = strawberry.field(
        default=None, description="Where they work now (a newer employer ends the older job).")
    observed_at: datetime | None = strawberry.field(
        default=None, description="When this was true (default now): older news never "
                                  "overwrites newer.")


@strawberry.input
class CompanyInput:
    domain: str | None = None
    name: str | None = None
    flags: list[CompanyFlag] | None = strawberry.field(
        default=None, description="Flags to set (customer, prospect …); others are kept.")
    industry: str | None = None
    size: int | None = None
    website: str | None = None
    country: str | None = None


@strawberry.input(description="Two people who know each other (KNOWS is undirected).")
class ConnectInput:
    a: strawberry.ID
    b: strawberry.ID
    strength: float | None = strawberry.field(default=None, description="0 to 1.")
    source: str = "api"
    since: datetime | None = None


@strawberry.input(description="One product event. Meaningful ones (first login, setup "
                              "completed, pricing visit, data export …) also reach the graph "
                              "and the live feed; every one goes to the event log.")
class EventInput:
    id: strawberry.ID = strawberry.field(
        description="A stable id from your side: sending the same event again adds nothing.")
    type: str = strawberry.field(description="setup_completed, page_viewed, data_exported …")
    at: datetime
    person: strawberry.ID | None = strawberry.field(
        default=None, description="Who: an e-mail or source key.")
    anonymous_id: str | None = None
    account: str | None = strawberry.field(
        default=None, description="The customer account: its company's domain, or "
                                  "`person:<e-mail>` for a consumer account.")
    url: str | None = None
    properties: JSON | None = None


@strawberry.input
class ConcernInput:
    person: strawberry.ID = strawberry.field(description="Who raised it: e-mail or source key.")
    text: str
    at: datetime
    channel: ConcernChannel | None = None
    id: strawberry.ID | None = strawberry.field(
        default=None, description="A stable id (a ticket number); default: derived from "
                                  "person, time and text, so a retry adds nothing.")
    subject: str | None = None
    url: str | None = None
    topics: list[str] | None = strawberry.field(
        default=None, description="Explicit topics, beside those the taxonomy finds in the text.")


@strawberry.input
class ReadInput:
    person: strawberry.ID
    url: str
    at: datetime
    channel: ReadChannel = ReadChannel.WEB
    title: str | None = None
    kind: ContentKind | None = None
    id: strawberry.ID | None = strawberry.field(
        default=None, description="A stable id of this read; default: derived from the rest.")


@strawberry.input
class TagContentInput:
    url: str
    topics: list[str] | None = None
    text: str | None = strawberry.field(
        default=None, description="Text the taxonomy tags (default: the title).")
    title: str | None = None
    kind: ContentKind | None = None
    published_at: datetime | None = None
    author: str | None = None
    summary: str | None = None


__all__ = ["CompanyInput", "CompanyRefInput", "ConcernInput", "ConnectInput", "EventInput",
           "PersonInput", "ReadChannel", "ReadInput", "TagContentInput"]
