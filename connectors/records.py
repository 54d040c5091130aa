"""What readers yield: typed records that name people and companies the way the file does.

A reader never computes graph keys for people or companies itself: it says what the file says
(an e-mail, a profile URL, a company name, a website) in a `PersonRef` or `CompanyRef`, and the
resolver (`connectors/resolve.py`) turns that into one key per real person and company, across
every source and every load. Other nodes (Content, Topic, Concern, Trigger, Customer, Event) have
natural keys a reader knows, named with a `KeyRef` and normalised by the schema.

Every record carries the 1-based `line` of the file it came from (for reject reports). Property
values may be raw text from the file: the store validates and coerces them against the schema
(`graph/schema.py`), so a bad value becomes a reject naming the line and field.

    >>> ada = PersonRef(email="Ada@Acme.com", name="Ada Lovelace")
    >>> acme = CompanyRef(domain="https://www.acme.com", name="Acme Corp, Inc.")
    >>> recs = [Node(ada, {"name": "Ada Lovelace"}, line=2), Node(acme, {}, line=2),
    ...         Link("WORKS_AT", ada, acme, {"title": "VP"}, line=2)]
    >>> [type(r).__name__ for r in recs]
    ['Node', 'Node', 'Link']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.errors import BadLine


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person as a file names them. The resolver keys them by normalised e-mail if there is a
    valid one, else by `source_key` ("linkedin:https://www.linkedin.com/in/ada-l"), else rejects
    the row. `name` and `company` (where they work, as the file says) feed merge proposals."""

    email: str | None = None
    source_key: str | None = None
    name: str | None = None
    company: CompanyRef | None = None


@dataclass(frozen=True, slots=True)
class CompanyRef:
    """A company as a file names it: a domain, website URL or work e-mail in `domain`, and/or a
    display `name`. A name seen beside a domain teaches the resolver that name -> domain."""

    domain: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class KeyRef:
    """Any other node by its natural key (normalised by the schema's normaliser for `label`)."""

    label: str
    key: str


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """A paying account, named by whose account it is: a company (B2B) or a person (B2C). The
    resolver keys it "company:<company key>" or "person:<person key>", so every source that
    describes one account meets on one Customer node, and adds its ACCOUNT_OF relationship."""

    of: PersonRef | CompanyRef


Ref = PersonRef | CompanyRef | KeyRef | CustomerRef


@dataclass(frozen=True, slots=True)
class Node:
    """Upsert one node. `observed_at`: the moment a snapshot export describes (see `Link`).

    `inferred`: the values are a guess (curation's "article") or come from a source that only
    adds what is missing (our own feed): they fill properties no other source set and never
    overwrite one, so a catalogue's white paper stays one whichever file loads first
    (`graph.rows.fill_gaps`). Explicit values (the default) overwrite as always."""

    ref: Ref
    props: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0
    observed_at: datetime | None = None
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """Upsert one relationship of `type` between two refs.

    `observed_at` is set by snapshot exports (LinkedIn, CRM): the moment the file describes, not
    the clock of the load. With it, properties are only applied when no newer observation has
    been stored, so loading September's export after November's gives the same graph; for
    WORKS_AT it also drives job changes (a newer employer closes the older job)."""

    type: str
    start: Ref
    end: Ref
    props: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0
    observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    """Tag a Content, Concern or Trigger node with topics found in `text` by the taxonomy
    (`connectors/tagging.py`), plus any `topics` the file names explicitly (a catalogue's topic
    column, a ticket's tags); each becomes an ABOUT relationship that keeps what matched.

    `inferred`: the topics are a guess (a feed's categories, curation's taxonomy matches): they
    are written only to a node no explicit source gave topics, and an explicit topic written
    later replaces them (`graph.schema.RelType.inferable`)."""

    ref: KeyRef
    text: str = ""
    topics: tuple[str, ...] = ()
    line: int = 0
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class ProductEvent:
    """One raw product event for the event log (never a graph node by itself).

    `id` de-duplicates (Segment's messageId, an order name …): give a stable id derived from the
    row (never a random one), so a re-load adds nothing. `person` is who did it when known,
    `anonymous_id` a pre-identification visitor id, `account` the customer account if known.
    Numbers that matter to analytics (an order's amount and currency) go in `properties`."""

    id: str
    type: str  # login, page_viewed, feature_used, purchase, setup_completed …
    at: datetime
    person: PersonRef | None = None
    anonymous_id: str | None = None
    account: CustomerRef | None = None
    url: str | None = None  # a page view's URL (raw; canonicalised by the pipeline)
    properties: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, slots=True)
class Identify:
    """Identity stitching (Segment identify/alias): `alias` (an anonymousId or an earlier user
    id, written as "segment:<id>") is the same person as `person`."""

    alias: str
    person: PersonRef
    line: int = 0


Record = Node | Link | Tag | ProductEvent | Identify
ReadItem = Record | BadLine  # a reader yields BadLine for a row it cannot read, never raises


def person_ref(email: str | None, name: str | None, *, source_key: str | None = None,
                        company: CompanyRef | None = None) -> PersonRef:
    """A PersonRef, leaving out empty strings (files write "" for unknown)."""
    return PersonRef(email=(email or "").strip() or None,
                     source_key=(source_key or "").strip() or None,
                     name=(name or "").strip() or None, company=company)


def records_of(items: Iterator[ReadItem]) -> list[Record]:
    """Only the records of a reader's output (tests)."""
    return [item for item in items if not isinstance(item, BadLine)]
