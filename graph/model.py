"""Typed inputs and answers of the store questions, and the rules both stores share.

The window rules live here so the two stores cannot drift apart:
- a job is current at `as_of` when it started at or before then and has not ended by then;
- a READ (first_at..last_at, count) falls in a window when that reading span overlaps it;
- a concern falls in a window when it was raised inside [as_of - window, as_of].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from difflib import get_close_matches
from typing import Any

from graph import keys
from graph.errors import BadRow, GraphError
from graph.schema import CONTENT_KINDS

MAX_LIMIT = 1000
SAMPLE_PEOPLE = 20  # person ids listed per company in question b


class QueryError(GraphError, ValueError):
    """A question asked with arguments that cannot be answered (bad window, unknown kind …)."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime:
    if moment is None:
        return now_utc()
    if moment.tzinfo is None:
        raise QueryError("as_of must carry a timezone")
    return moment.astimezone(UTC)


def person_key(text: str) -> str:
    """A person key for a question, normalised as stored keys are."""
    try:
        return keys.person_key(text)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def is_current(since: datetime | None, until: datetime | None, as_of: datetime) -> bool:
    return (since is None or since <= as_of) and (until is None or until > as_of)


def read_overlaps(first_at: datetime, last_at: datetime, start: datetime, as_of: datetime) -> bool:
    return first_at <= as_of and last_at >= start


@dataclass(frozen=True, slots=True)
class ReaderQuery:
    """Question a/b: connections of `person` (None: of anyone on our team) who read about
    `read_topic` within `read_window` and raised a concern about `concern_topic` within
    `concern_window`, both windows ending at `as_of`."""

    read_topic: str
    concern_topic: str
    read_window: timedelta = timedelta(days=90)
    concern_window: timedelta = timedelta(days=30)
    person: str | None = None
    content_kind: str | None = None
    as_of: datetime | None = None
    limit: int = 100
    offset: int = 0

    def resolved(self) -> ReaderQuery:
        """Keys normalised the way stored keys are, `as_of` fixed, every argument checked."""
        for name, window in (("read_window", self.read_window),
                             ("concern_window", self.concern_window)):
            if window <= timedelta(0):
                raise QueryError(f"{name} must be positive, got {window}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise QueryError(f"offset must not be negative, got {self.offset}")
        kind = self.content_kind
        if kind is not None:  # "White Paper", "white-paper" and white_paper are one kind
            kind = "_".join(kind.replace("-", " ").casefold().split())
            if kind not in CONTENT_KINDS:
                near = get_close_matches(kind, sorted(CONTENT_KINDS), n=2, cutoff=0.6)
                raise QueryError(
                    f"unknown content kind {self.content_kind!r}"
                    + (f": did you mean {' or '.join(near)}?" if near else "")
                    + f"; one of {', '.join(sorted(CONTENT_KINDS))}")
        try:
            person = person_key(self.person) if self.person is not None else None
            read_topic = keys.slugify(self.read_topic)
            concern_topic = keys.slugify(self.concern_topic)
        except ValueError as exc:
            raise QueryError(str(exc)) from None
        return ReaderQuery(
            read_topic=read_topic, concern_topic=concern_topic, read_window=self.read_window,
            concern_window=self.concern_window, person=person, content_kind=kind,
            as_of=as_utc(self.as_of), limit=self.limit, offset=self.offset,
        )

    @property
    def read_since(self) -> datetime:
        assert self.as_of is not None, "call resolved() first"
        return self.as_of - self.read_window

    @property
    def concern_since(self) -> datetime:
        assert self.as_of is not None, "call resolved() first"
        return self.as_of - self.concern_window


@dataclass(frozen=True, slots=True)
class ReadEvidence:
    content_id: str
    title: str | None
    kind: str | None
    first_at: datetime
    last_at: datetime
    count: int


@dataclass(frozen=True, slots=True)
class ConcernEvidence:
    concern_id: str
    text: str
    channel: str | None
    at: datetime
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Employment:
    company_id: str
    name: str | None
    title: str | None
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class ReaderMatch:
    person_id: str
    name: str | None
    via: tuple[str, ...]  # who on our side knows them
    companies: tuple[Employment, ...]  # current employers at as_of
    reads: tuple[ReadEvidence, ...]
    concerns: tuple[ConcernEvidence, ...]
    email: str | None = None  # as shown: see shown_email
    via_names: tuple[str | None, ...] = ()  # the names of `via`, in its order


@dataclass(frozen=True, slots=True)
class CompanyMatch:
    company_id: str
    name: str | None
    people: int
    person_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicRead:
    topic_id: str
    name: str | None
    contents: int  # distinct content items read about the topic
    reads: int  # READ counts added up
    last_at: datetime


@dataclass(frozen=True, slots=True)
class PersonProfile:
    person_id: str
    name: str | None
    properties: dict[str, Any]
    current: tuple[Employment, ...]
    past: tuple[Employment, ...]
    connections: int
    topics: tuple[TopicRead, ...]
    concerns: tuple[ConcernEvidence, ...]


@dataclass(frozen=True, slots=True)
class Reject:
    row: int  # position in the input given to the upsert
    field: str
    reason: str

    @classmethod
    def of(cls, error: BadRow) -> Reject:
        return cls(error.row, error.field, error.reason)

    def __str__(self) -> str:
        return f"row {self.row}: field {self.field!r}: {self.reason}"


@dataclass(slots=True)
class WriteResult:
    """What an upsert did. `written`: rows stored (whether or not they changed anything).
    `created` and `changed`: positions of rows (as in `rejects`) that made a new node or
    relationship, and that changed an existing one (any property other than loaded_at,
    `sources` included, differs after the row); a row that changed nothing is in neither. A
    summary counts distinct nodes and relationships from them, as `store info` would."""

    written: int = 0
    rejects: list[Reject] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoreCounts:
    nodes: dict[str, int]
    relationships: dict[str, int]


# --- shaping raw facts into answers (identical for both stores) ---------------------------------

def shown_email(stored: str | None, person_id: str) -> str | None:
    """A person's e-mail address as shown: the one stored on them (as typed), else their key
    when it is an address (people are keyed by their normalised e-mail)."""
    if stored is None and keys.looks_like_email(person_id):
        return person_id
    return stored


def sort_match(m: ReaderMatch) -> ReaderMatch:
    named = dict(zip(m.via, m.via_names, strict=True)) if m.via_names else {}
    via = tuple(sorted(set(m.via)))
    return ReaderMatch(
        person_id=m.person_id, name=m.name, email=m.email, via=via,
        via_names=tuple(named[v] for v in via) if named else (),
        companies=tuple(sorted(m.companies, key=lambda e: e.company_id)),
        reads=tuple(sorted(m.reads, key=lambda r: (-r.last_at.timestamp(), r.content_id))),
        concerns=tuple(sorted(m.concerns, key=lambda c: (-c.at.timestamp(), c.concern_id))),
    )


def match_order(m: ReaderMatch) -> tuple[float, str]:
    """Most recent concern first, then person id: the same order both stores page by."""
    return (-max(c.at for c in m.concerns).timestamp(), m.person_id)


def build_profile(person: dict[str, Any], jobs: list[Employment], connections: int,
                  reads: list[tuple[str, str | None, str, int, datetime, datetime]],
                  concerns: list[ConcernEvidence], as_of: datetime) -> PersonProfile:
    """`reads` holds (topic id, topic name, content id, count, first_at, last_at) per READ×topic."""
    current = [j for j in jobs if is_current(j.since, j.until, as_of)]
    past = [j for j in jobs if j.until is not None and j.until <= as_of]
    per_topic: dict[str, tuple[str | None, set[str], int, datetime]] = {}
    for topic_id, topic_name, content_id, count, first_at, last_at in reads:
        if first_at > as_of:
            continue
        name, contents, total, last = per_topic.get(topic_id, (topic_name, set(), 0, first_at))
        contents.add(content_id)
        per_topic[topic_id] = (name, contents, total + count, max(last, min(last_at, as_of)))
    topics = sorted(
        (TopicRead(t, n, len(c), total, last) for t, (n, c, total, last) in per_topic.items()),
        key=lambda t: (-t.reads, t.topic_id),
    )
    props = {k: list(v) if isinstance(v, tuple) else v
             for k, v in sorted(person.items()) if k != "id"}
    return PersonProfile(
        person_id=person["id"], name=person.get("name"), properties=props,
        current=tuple(sorted(current, key=lambda j: (j.company_id, j.since or as_of))),
        past=tuple(sorted(past, key=lambda j: (-j.until.timestamp(), j.company_id))),  # type: ignore[union-attr]
        connections=connections, topics=tuple(topics),
        concerns=tuple(sorted((c for c in concerns if c.at <= as_of),
                              key=lambda c: (-c.at.timestamp(), c.concern_id))),
    )
