"""The mutations' write path: inputs -> checked values -> reader records -> `Loader.apply`.

Mutations write exactly as a load does (connectors/pipeline.py): the same resolver, key
normalisation, tagging, event log, rejects and feed outbox; their provenance is
`api:<key id>`. One write runs at a time in this process (the pipeline and the embedded store
want one writer), in a worker thread so the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api import validate as v
from api.errors import BadUserInput
from api.types.inputs import (
    CompanyInput,
    ConcernInput,
    ConnectInput,
    EventInput,
    PersonInput,
    ReadChannel,
    ReadInput,
    TagContentInput,
)
from connectors.pipeline import Loader, LoadSummary
from connectors.records import (
    CompanyRef,
    CustomerRef,
    KeyRef,
    Link,
    Node,
    PersonRef,
    ProductEvent,
    Record,
    Tag,
)
from connectors.tagging import Taxonomy, TopicMatch
from graph import keys
from graph.feed import Outbox
from graph.store import GraphStore

MAX_EVENTS = 10_000
_WHERE = re.compile(r"^<api>:(\d+)(?:: )?")
READ_EVENT = {ReadChannel.WEB: "page_viewed", ReadChannel.NEWSLETTER: "newsletter_click"}


class Writer:
    def __init__(self, store: GraphStore, *, data_dir: Path, batch_size: int,
                 taxonomy: Taxonomy, outbox: Outbox | None = None,
                 key_features: Collection[str] | None = None) -> None:
        self.taxonomy = taxonomy
        self._loader = Loader(store, data_dir=data_dir, batch_size=batch_size,
                              taxonomy=taxonomy, outbox=outbox, key_features=key_features)
        self._lock = asyncio.Lock()

    async def write(self, records: list[Record], *, provenance: str) -> LoadSummary:
        async with self._lock:
            return await asyncio.to_thread(self._loader.apply, list(records), source="api",
                                           provenance=provenance)

    def topics_of(self, text: str, explicit: Sequence[str] = ()) -> list[TopicMatch]:
        return self.taxonomy.topics_of(text, tuple(explicit))


def rejects(summary: LoadSummary) -> list[tuple[int, str]]:
    """(record line, message) of what the pipeline refused (its first few examples)."""
    found = []
    for example in summary.examples:
        match = _WHERE.match(example)
        line = int(match.group(1)) if match else 0
        found.append((line, example[match.end():] if match else example))
    return found


def refuse_rejects(summary: LoadSummary, what: str) -> None:
    if summary.rejected:
        reasons = "; ".join(message for _, message in rejects(summary))
        raise BadUserInput(f"{what}: refused: {reasons}")


def _stable_id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]
    return f"{prefix}-{digest}"


def _now() -> datetime:
    return datetime.now(UTC)


# --- records of each mutation -------------------------------------------------------------

def person_records(p: PersonInput) -> tuple[str, list[Record]]:
    """(the person's key, records) of upsertPerson."""
    if not (p.email and p.email.strip()) and not (p.id and str(p.id).strip()):
        raise BadUserInput("input: give the person's email, or an id such as crm:123")
    email = v.email(p.email, "input.email") if p.email and p.email.strip() else None
    source_key = v.person_key(str(p.id), "input.id") if p.id and str(p.id).strip() else None
    if source_key is not None and "@" in source_key and ":" not in source_key.split("@")[0]:
        if email is not None and email != source_key:
            raise BadUserInput("input.id: an e-mail there must be the same as input.email")
        email, source_key = source_key, None
    company = (v.company_ref(p.company.domain, p.company.name, "input.company")
               if p.company is not None else None)
    name = v.text(p.name, "input.name")
    ref = PersonRef(email=email, source_key=source_key, name=name, company=company)
    props: dict[str, Any] = {k: val for k, val in (
        ("name", name), ("location", v.text(p.location, "input.location")),
        ("linkedin_url", v.text(p.linkedin_url, "input.linkedinUrl", limit=2000)),
        ("phone", v.text(p.phone, "input.phone"))) if val is not None}
    title = v.text(p.title, "input.title")
    if title is not None and company is None:
        props["title"] = title
    observed = p.observed_at or _now()
    records: list[Record] = [Node(ref, props, line=1, observed_at=observed)]
    if company is not None:
        records += [Node(company, {}, line=1),
                    Link("WORKS_AT", ref, company, {"title": title} if title else {}, line=1,
                         observed_at=observed)]
    return email or source_key or "", records


def company_records(c: CompanyInput) -> tuple[str, list[Record]]:
    ref = v.company_ref(c.domain, c.name, "input")
    props: dict[str, Any] = {flag.value: True for flag in c.flags or ()}
    for name, value in (("industry", v.text(c.industry, "input.industry")),
                        ("website", v.text(c.website, "input.website", limit=2000)),
                        ("country", v.text(c.country, "input.country"))):
        if value is not None:
            props[name] = value
    if c.size is not None:
        if c.size < 0:
            raise BadUserInput(f"input.size: must not be negative, got {c.size}")
        props["size"] = c.size
    return v.company_key(ref), [Node(ref, props, line=1)]


def connect_records(c: ConnectInput) -> tuple[str, str, list[Record]]:
    a, b = v.person_ref(str(c.a), "input.a"), v.person_ref(str(c.b), "input.b")
    key_a, key_b = v.person_key(str(c.a), "input.a"), v.person_key(str(c.b), "input.b")
    if key_a == key_b:
        raise BadUserInput("input.b: a person does not KNOW themselves")
    props: dict[str, Any] = {"source": v.required(c.source, "input.source", limit=100)}
    if v.strength(c.strength, "input.strength") is not None:
        props["strength"] = c.strength
    if c.since is not None:
        props["since"] = c.since
    return key_a, key_b, [Node(a, {}, line=1), Node(b, {}, line=1),
                          Link("KNOWS", a, b, props, line=1)]


def _account(value: str, field: str) -> CustomerRef:
    value = v.required(value, field)
    if value.lower().startswith("person:"):
        return CustomerRef(v.person_ref(value[len("person:"):], field))
    company = value[len("company:"):] if value.lower().startswith("company:") else value
    if keys.looks_like_domain(company):
        return CustomerRef(CompanyRef(domain=v.domain(company, field)))
    return CustomerRef(v.company_ref(None, company, field))


def event_record(e: EventInput, index: int) -> ProductEvent:
    at = f"events[{index}]"
    if e.person is None and not (e.anonymous_id and e.anonymous_id.strip()):
        raise BadUserInput(f"{at}: give the person (e-mail or source key) or an anonymousId")
    return ProductEvent(
        id=v.required(str(e.id), f"{at}.id", limit=200),
        type=v.event_type(e.type, f"{at}.type"), at=e.at,
        person=v.person_ref(str(e.person), f"{at}.person") if e.person is not None else None,
        anonymous_id=v.text(e.anonymous_id, f"{at}.anonymousId", limit=200),
        account=_account(e.account, f"{at}.account") if e.account is not None else None,
        url=v.url(e.url, f"{at}.url") if e.url is not None else None,
        properties=v.properties(e.properties, f"{at}.properties"), line=index + 1)


@dataclass(frozen=True, slots=True)
class EventBatch:
    records: list[Record]
    refused: list[tuple[int, str]]  # (index, why) of events refused before writing


def event_records(events: Sequence[EventInput]) -> EventBatch:
    if len(events) > MAX_EVENTS:
        raise BadUserInput(f"events: at most {MAX_EVENTS} per call, got {len(events)}")
    records: list[Record] = []
    refused = []
    for index, event in enumerate(events):
        try:
            records.append(event_record(event, index))
        except BadUserInput as exc:
            refused.append((index, exc.message))
    return EventBatch(records, refused)


def concern_records(c: ConcernInput) -> tuple[str, str, list[Record]]:
    """(concern id, person key, records) of recordConcern."""
    person = v.person_ref(str(c.person), "input.person")
    key = v.person_key(str(c.person), "input.person")
    text = v.required(c.text, "input.text", limit=v.MAX_TEXT)
    subject = v.text(c.subject, "input.subject")
    concern_id = (v.required(str(c.id), "input.id", limit=200) if c.id is not None
                  else _stable_id("api-concern", key, c.at.isoformat(), text))
    props: dict[str, Any] = {"text": text, "at": c.at}
    if c.channel is not None:
        props["channel"] = c.channel.value
    if subject is not None:
        props["subject"] = subject
    if c.url is not None:
        props["url"] = v.url(c.url, "input.url")
    topics = tuple(v.topic(t, f"input.topics[{i}]") for i, t in enumerate(c.topics or ()))
    ref = KeyRef("Concern", concern_id)
    return concern_id, key, [
        Node(person, {}, line=1), Node(ref, props, line=1), Link("RAISED", person, ref, line=1),
        Tag(ref, " ".join(t for t in (subject, text) if t), topics, line=1)]


def read_records(r: ReadInput) -> tuple[str, str, list[Record]]:
    """(person key, content URL, records) of recordRead: a page view or newsletter click in
    the event log, from which the pipeline computes the READ (first, last, count)."""
    person = v.person_ref(str(r.person), "input.person")
    key = v.person_key(str(r.person), "input.person")
    url = v.url(r.url, "input.url")
    event_id = (v.required(str(r.id), "input.id", limit=200) if r.id is not None
                else _stable_id("api-read", key, url, r.at.isoformat(), r.channel.value))
    props: dict[str, Any] = {}
    if (title := v.text(r.title, "input.title")) is not None:
        props["title"] = title
    if r.kind is not None:
        props["kind"] = r.kind.value
    return key, url, [
        Node(person, {}, line=1), Node(KeyRef("Content", url), props, line=1),
        ProductEvent(event_id, READ_EVENT[r.channel], r.at, person=person, url=url, line=1)]


def tag_records(t: TagContentInput) -> tuple[str, str, tuple[str, ...], list[Record]]:
    """(content URL, text tagged, explicit topics, records) of tagContent."""
    url = v.url(t.url, "input.url")
    title = v.text(t.title, "input.title")
    text = v.text(t.text, "input.text", limit=v.MAX_TEXT) or title or ""
    topics = tuple(v.topic(x, f"input.topics[{i}]") for i, x in enumerate(t.topics or ()))
    if not text and not topics:
        raise BadUserInput("input: give topics, or a text (or title) to find them in")
    props: dict[str, Any] = {}
    for name, value in (("title", title), ("author", v.text(t.author, "input.author")),
                        ("summary", v.text(t.summary, "input.summary", limit=v.MAX_TEXT))):
        if value is not None:
            props[name] = value
    if t.kind is not None:
        props["kind"] = t.kind.value
    if t.published_at is not None:
        props["published_at"] = t.published_at
    ref = KeyRef("Content", url)
    return url, text, topics, [Node(ref, props, line=1), Tag(ref, text, topics, line=1)]


__all__ = ["EventBatch", "MAX_EVENTS", "Writer", "company_records", "concern_records",
           "connect_records", "event_records", "person_records", "read_records",
           "refuse_rejects", "rejects", "tag_records"]
