"""Reader for Segment messages as JSON Lines: one Segment-spec message per line.

This is what Segment's S3/warehouse exports, a replay of the tracking API or a log of the
webhook destination look like (`.jsonl`, or `.jsonl.gz` as the S3 destination writes it):

    {"type": "identify", "userId": "u42", "anonymousId": "a-1", "messageId": "m-1",
     "timestamp": "2026-03-02T10:00:00.000Z",
     "traits": {"email": "ada@acme.com", "name": "Ada Lovelace", "title": "CTO",
                "company": {"name": "Acme", "website": "https://acme.com"}}}
    {"type": "track", "event": "Report Viewed", "userId": "u42", "messageId": "m-2",
     "timestamp": "2026-03-02T10:05:00Z", "properties": {"report": "churn"}}
    {"type": "page", "anonymousId": "a-9", "timestamp": "2026-03-02T10:06:00Z",
     "properties": {"url": "https://acme.com/pricing", "path": "/pricing"}}
    {"type": "group", "userId": "u42", "groupId": "g-7", "timestamp": "2026-03-02T10:07:00Z",
     "traits": {"name": "Acme", "website": "acme.com", "plan": "enterprise"}}
    {"type": "alias", "previousId": "old-7", "userId": "u42", "timestamp": "2026-03-02T10:08:00Z"}

A line holding an API batch (`{"batch": [...]}`) is read message by message.

What it yields:
- `identify` -> `Node(Person)` from the traits (name, e-mail, title, phone; the person is named
  by `traits.email` when given and always by `"segment:" + userId`); with a `company` trait (an
  object with name/website/domain/industry/employees, or just a name) also `Node(Company)` and
  `WORKS_AT` with the title. These carry `observed_at` = the message's timestamp: traits describe
  the user at that moment, so a later identify wins whatever order files are loaded in, and a new
  company trait is a job change. `Identify("segment:" + anonymousId -> person)` when both are
  known. And a `ProductEvent` of type `identify` (traits in its properties).
- `alias` -> `Identify("segment:" + previousId -> the person "segment:" + userId)`.
- `group` -> `Node(Company)` and `Node(Customer)` of that company (B2B account: name, plan, mrr,
  status from the traits, the groupId in `attributes`), and the user's `WORKS_AT` the company
  (no `observed_at`: joining a second workspace must not end the first).
- `track`, `page`, `screen`, `identify` -> one `ProductEvent` each: `id` = messageId (else a hash
  of the line), `type` from the event name ("Signed Up" -> `sign_up`, "Logged In" -> `login`,
  "Setup Completed" -> `setup_completed`, "Data Exported" -> `data_exported`, "Order Completed" ->
  `purchase`, "Order Refunded" -> `refund`, anything else -> lower_snake of the name, e.g.
  `report_viewed`, the name as sent kept in `properties["event"]`), pages -> `page_viewed` or
  `pricing_viewed` (a URL path with a `pricing` segment: `/pricing`, `/en/pricing/`; not
  `/blog/pricing-tips`) with their `url`, screens ->
  `screen_viewed`. The person is `"segment:" + userId` (and `context.traits.email`); the
  anonymousId rides along as `"segment:" + anonymousId`, as the `Identify` aliases name it; the
  account is the event's `context.groupId` or the one group the user belongs to (a streaming
  pre-pass reads the group calls first, so their place in the file does not matter). Event
  ids get the pipeline's "segment:" prefix; a hashed id has it already.

Times: `timestamp`, else `originalTimestamp`, `receivedAt`, `sentAt`. A line that is not JSON (a
truncated last line), not an object, of an unknown type, or without a time is a `BadLine`.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> _ = p.write_text(
    ...     '{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1",'
    ...     '"timestamp":"2026-03-02T10:00:00Z"}\\n'
    ...     '{"type":"page","anonymousId":"a1","timestamp":"2026-03-02T10:01:00Z",'
    ...     '"properties":{"url":"https://acme.com/pricing?plan=pro"}}\\n'
    ...     '{"type":"track","event":"Report Viewed","userId":"u1","timest\\n')
    >>> items = list(read(p, ReadContext("segment")))
    >>> [(e.id, e.type, e.person.source_key) for e in items[:1]]
    [('m1', 'sign_up', 'segment:u1')]
    >>> items[1].type, items[1].anonymous_id, items[1].url
    ('pricing_viewed', 'segment:a1', 'https://acme.com/pricing?plan=pro')
    >>> items[2].line, items[2].reason[:14]
    (3, 'not valid JSON')
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

from connectors.csvio import detect_encoding
from connectors.errors import BadLine, UnreadableFile
from connectors.records import (
    CompanyRef,
    CustomerRef,
    Identify,
    Link,
    Node,
    PersonRef,
    ProductEvent,
    ReadItem,
)
from connectors.sniff import Header
from connectors.source import ReadContext, Source

try:  # orjson: the whole read is about 25% faster than with the standard library
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
    _JSONError: type[ValueError] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised only without orjson installed
    def _loads(raw: bytes) -> Any:
        return json.loads(raw.decode("utf-8"))

    _JSONError = ValueError  # JSONDecodeError and UnicodeDecodeError are both ValueErrors

PREFIX = "segment:"
_HEAD = 1 << 16  # bytes sampled for the encoding
_PEOPLE = 1 << 16  # user refs remembered by a read (then forgotten, not grown)
MAX_LINE = 1 << 22  # Segment caps a message at 32 KB; a 4 MiB line is not a message
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
_TIME_FIELDS = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")
_EVENT_TYPES = {
    "signed up": "sign_up", "sign up": "sign_up", "signup": "sign_up",
    "user signed up": "sign_up", "account created": "sign_up",
    "logged in": "login", "login": "login", "log in": "login", "signed in": "login",
    "sign in": "login", "user logged in": "login",
    "setup completed": "setup_completed", "onboarding completed": "setup_completed",
    "data exported": "data_exported", "export completed": "data_exported",
    "order completed": "purchase", "order refunded": "refund",
}
_SLUG = re.compile(r"[\W_]+")
# A pricing page: a path segment "pricing" ("/pricing", "/en/pricing/", "/pricing.html"), not a
# word that starts with it (a blog post at "/blog/pricing-page-teardown" is content).
_PRICING = re.compile(r"(?:^|/)pricing(?:[/.?#;]|$)", re.IGNORECASE)
_CUSTOMER_STATUS = frozenset({"trial", "active", "paused", "churned"})
_AMBIGUOUS = CustomerRef(of=CompanyRef())  # a user in several groups: no single account


def event_type(name: str) -> str:
    """The canonical lower_snake type of a track event name ("" when it has no letters).

    >>> event_type("Signed Up"), event_type("Export Completed"), event_type("Report Viewed")
    ('sign_up', 'data_exported', 'report_viewed')
    """
    folded = " ".join(name.replace("_", " ").replace("-", " ").split()).casefold()
    return _EVENT_TYPES.get(folded) or _SLUG.sub("_", folded).strip("_")


def _open(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (Segment's S3 destination writes .gz)."""
    try:
        with path.open("rb") as probe:
            magic = probe.read(2)
        if magic == b"\x1f\x8b":
            return cast(IO[bytes], gzip.open(path, "rb"))
        return path.open("rb")
    except OSError as exc:
        raise UnreadableFile(path, exc.strerror or str(exc)) from None


@contextlib.contextmanager
def _lines(path: Path) -> Iterator[Iterator[bytes]]:
    """The file's lines as UTF-8 bytes. UTF-8 (the norm) streams untouched; a UTF-8 BOM is
    dropped; a UTF-16 file (a BOM, or NUL bytes) is re-encoded line by line."""
    with _open(path) as f:
        try:
            head = f.read(_HEAD)
        except (OSError, EOFError):
            head = b""
    encoding = detect_encoding(head)
    with _open(path) as f:
        if encoding in ("utf-8", "utf-8-sig", "cp1252"):  # JSON is UTF-8: a line that is not
            # is a bad line, not a reason to read the whole file in another encoding
            yield _strip_bom(f) if encoding == "utf-8-sig" else iter(f)
        else:
            text = io.TextIOWrapper(f, encoding=encoding, errors="replace", newline="\n")
            yield (line.encode("utf-8", "replace") for line in text)


def _strip_bom(f: IO[bytes]) -> Iterator[bytes]:
    for number, raw in enumerate(f):
        yield raw[3:] if number == 0 and raw.startswith(codecs.BOM_UTF8) else raw


def _text(value: Any) -> str | None:
    """An id or trait as text: strings trimmed, numbers as written, anything else None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _props(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _name(traits: Mapping[str, Any]) -> str | None:
    name = _text(traits.get("name"))
    if name:
        return name
    first = _text(traits.get("firstName") or traits.get("first_name")) or ""
    last = _text(traits.get("lastName") or traits.get("last_name")) or ""
    return f"{first} {last}".strip() or None


def _company(value: Any) -> tuple[CompanyRef, dict[str, Any]] | None:
    """A company trait (an object, or just a name) as a ref and Company properties."""
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        return None
    name = _text(value.get("name"))
    website = _text(value.get("website") or value.get("domain") or value.get("url"))
    if not name and not website:
        return None
    size = value.get("employees", value.get("employee_count"))
    return CompanyRef(domain=website, name=name), _props(
        name=name, website=website, industry=_text(value.get("industry")),
        size=size if isinstance(size, int | str) and not isinstance(size, bool) else None)


class _Reader:
    """The state of one read: the context, the file and the accounts the pre-pass found."""

    def __init__(self, path: Path, ctx: ReadContext) -> None:
        self.path = path
        self.ctx = ctx
        self.clock = ctx.clock
        self.groups: dict[str, CustomerRef] = {}  # groupId -> the account
        self.user_group: dict[str, CustomerRef] = {}  # userId -> its one account (or _AMBIGUOUS)
        self.types: dict[str, str] = {}  # event name -> type, cached (names repeat)
        self.people: dict[tuple[str | None, str], PersonRef] = {}  # see person()

    # -- the pre-pass: accounts from group calls, so every event finds its account ---------
    def learn_groups(self) -> None:
        with _lines(self.path) as f:
            try:
                for raw in f:
                    if b'"group"' not in raw or len(raw) > MAX_LINE:
                        continue
                    try:
                        obj = _loads(raw)
                    except _JSONError:
                        continue
                    for msg in self._messages(obj):
                        if msg.get("type") == "group":
                            self._learn_group(msg)
            except (OSError, EOFError):
                return  # the main pass reports where the file breaks

    def _learn_group(self, msg: dict[str, Any]) -> None:
        found = self._account(msg)
        if found is None:
            return
        gid, _, customer, _ = found
        if gid:
            self.groups[gid] = customer
        uid = _text(msg.get("userId"))
        if uid:
            known = self.user_group.get(uid)
            self.user_group[uid] = customer if known in (None, customer) else _AMBIGUOUS

    @staticmethod
    def _account(msg: dict[str, Any]) -> tuple[str | None, CompanyRef, CustomerRef,
                                               dict[str, Any]] | None:
        """A group call's groupId, company, account and Company properties."""
        company = _company(_obj(msg.get("traits")))
        if company is None:
            return None
        return _text(msg.get("groupId")), company[0], CustomerRef(of=company[0]), company[1]

    @staticmethod
    def _messages(obj: Any) -> list[dict[str, Any]]:
        if not isinstance(obj, dict):
            return []
        if "type" not in obj and isinstance(obj.get("batch"), list):
            return [m for m in obj["batch"] if isinstance(m, dict)]
        return [obj]

    # -- the main pass -------------------------------------------------------------------
    def items(self) -> Iterator[ReadItem]:
        path = self.path
        with _lines(path) as f:
            number = 0
            try:
                for number, raw in enumerate(f, start=1):  # noqa: B007 - used after the loop
                    if len(raw) > MAX_LINE:
                        yield BadLine(path, number, None, f"{len(raw):,} bytes on one line: not a "
                                      "Segment message (they are at most 32 KB)")
                        continue
                    try:
                        obj = _loads(raw)
                    except _JSONError as exc:
                        if not raw.strip():
                            continue
                        yield BadLine(path, number, None, f"not valid JSON ({exc})")
                        continue
                    if not isinstance(obj, dict):
                        yield BadLine(path, number, None, "each line must be a JSON object (a "
                                      "Segment message)")
                        continue
                    if "type" in obj or not isinstance(obj.get("batch"), list):
                        yield from self.message(obj, raw, number)
                        continue
                    for i, msg in enumerate(obj["batch"]):
                        if not isinstance(msg, dict):
                            yield BadLine(path, number, "batch", f"message {i} is not an object")
                            continue
                        for key in ("sentAt", "context"):
                            if key in obj and key not in msg:
                                msg[key] = obj[key]
                        yield from self.message(msg, raw + b"#%d" % i, number)
            except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
                yield BadLine(path, number + 1, None, f"the file cannot be read from here on "
                              f"({exc})")

    def message(self, msg: dict[str, Any], raw: bytes, line: int) -> list[ReadItem]:
        kind = msg.get("type")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            what = f"unknown message type {kind!r}" if kind is not None else 'no "type"'
            return [BadLine(self.path, line, "type", f"{what}: expected one of "
                            f"{', '.join(_HANDLERS)}")]
        at: datetime | None = None
        for field in _TIME_FIELDS:
            value = msg.get(field)
            if value is None or value == "":
                continue
            try:
                at = self.time(value)
            except ValueError as exc:
                return [BadLine(self.path, line, field, str(exc))]
            break
        if at is None:
            return [BadLine(self.path, line, "timestamp", "no timestamp (nor originalTimestamp, "
                            "receivedAt, sentAt)")]
        return handler(self, msg, raw, line, at)

    def time(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return self.clock.parse(value)
            if parsed.tzinfo is None:
                return self.clock.parse(value)  # read in --timezone, and counted
            if parsed.tzinfo is not UTC:  # "…Z" is read as UTC already
                parsed = parsed.astimezone(UTC)
            if parsed < _EARLIEST:
                raise ValueError(f"{value!r} is before 1970: not a plausible date here")
            return parsed
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.clock.parse(str(value))  # epoch seconds or milliseconds
        raise ValueError(f"not a date: {value!r}")

    def event_id(self, msg: dict[str, Any], raw: bytes) -> str:
        mid = _text(msg.get("messageId"))
        return mid if mid else PREFIX + hashlib.blake2b(raw.strip(), digest_size=16).hexdigest()

    def who(self, msg: dict[str, Any], line: int) -> tuple[PersonRef | None, str | None,
                                                           CustomerRef | None] | BadLine:
        uid = _text(msg.get("userId"))
        aid = _text(msg.get("anonymousId"))
        if uid is None and aid is None:
            return BadLine(self.path, line, "userId", "neither userId nor anonymousId: whose "
                           "event is this?")
        context = _obj(msg.get("context"))
        person = None
        account = None
        if uid is not None:
            email = _text(_obj(context.get("traits")).get("email"))
            person = self.person(email, uid)
            account = self.user_group.get(uid)
        gid = _text(context.get("groupId"))
        if gid is not None and gid in self.groups:
            account = self.groups[gid]
        if account is _AMBIGUOUS:
            account = None
        return person, PREFIX + aid if aid is not None else None, account

    def person(self, email: str | None, uid: str) -> PersonRef:
        """The user of an event (the same few thousand users send every event: their refs are
        made once; refs are immutable)."""
        ref = self.people.get((email, uid))
        if ref is None:
            if len(self.people) >= _PEOPLE:
                self.people.clear()
            ref = self.people[(email, uid)] = PersonRef(email=email, source_key=PREFIX + uid)
        return ref

    def track(self, msg: dict[str, Any], raw: bytes, line: int, at: datetime) -> list[ReadItem]:
        name = _text(msg.get("event"))
        if name is None:
            return [BadLine(self.path, line, "event", "a track message needs an event name")]
        kind = self.types.get(name)
        if kind is None:
            kind = event_type(name)
            if not kind:
                return [BadLine(self.path, line, "event", f"event name {name!r} has no letters "
                                "or digits")]
            if len(self.types) < 100_000:
                self.types[name] = kind
        who = self.who(msg, line)
        if isinstance(who, BadLine):
            return [who]
        props = dict(_obj(msg.get("properties")))
        props["event"] = name
        self._campaign(msg, props)
        return [ProductEvent(self.event_id(msg, raw), kind, at, person=who[0],
                             anonymous_id=who[1], account=who[2], properties=props, line=line)]

    def page(self, msg: dict[str, Any], raw: bytes, line: int, at: datetime) -> list[ReadItem]:
        who = self.who(msg, line)
        if isinstance(who, BadLine):
            return [who]
        props = dict(_obj(msg.get("properties")))
        page = _obj(_obj(msg.get("context")).get("page"))
        url = _text(props.get("url")) or _text(page.get("url"))
        path = _text(props.get("path")) or _text(page.get("path"))
        if path is None and url is not None:
            try:
                path = urlsplit(url).path
            except ValueError:
                path = url
        for key in ("name", "category"):
            value = _text(msg.get(key))
            if value is not None:
                props.setdefault(key, value)
        self._campaign(msg, props)
        if msg.get("type") == "screen":
            kind = "screen_viewed"
        else:
            kind = "pricing_viewed" if path and _PRICING.search(path) else "page_viewed"
        return [ProductEvent(self.event_id(msg, raw), kind, at, person=who[0],
                             anonymous_id=who[1], account=who[2], url=url, properties=props,
                             line=line)]

    @staticmethod
    def _campaign(msg: dict[str, Any], props: dict[str, Any]) -> None:
        campaign = _obj(msg.get("context")).get("campaign")
        if isinstance(campaign, dict) and campaign and "campaign" not in props:
            props["campaign"] = campaign

    def identify(self, msg: dict[str, Any], raw: bytes, line: int,
                 at: datetime) -> list[ReadItem]:
        uid = _text(msg.get("userId"))
        aid = _text(msg.get("anonymousId"))
        traits = _obj(msg.get("traits"))
        email = _text(traits.get("email"))
        if uid is None and aid is None and email is None:
            return [BadLine(self.path, line, "userId", "an identify call needs a userId, an "
                            "anonymousId or traits.email")]
        out: list[ReadItem] = []
        person = None
        if uid is not None or email is not None:
            company = _company(traits.get("company"))
            title = _text(traits.get("title"))
            name = _name(traits)
            person = PersonRef(email=email, source_key=PREFIX + uid if uid else None, name=name,
                               company=company[0] if company else None)
            if company is not None:
                out.append(Node(company[0], company[1], line, observed_at=at))
            phone = _text(traits.get("phone"))
            out.append(Node(person, _props(name=name, email=email, title=title, phone=phone),
                            line, observed_at=at))
            if company is not None:
                out.append(Link("WORKS_AT", person, company[0], _props(title=title), line,
                                observed_at=at))
            if aid is not None:
                out.append(Identify(PREFIX + aid, person, line))
        account = self.user_group.get(uid) if uid else None
        out.append(ProductEvent(self.event_id(msg, raw), "identify", at, person=person,
                                anonymous_id=PREFIX + aid if aid else None,
                                account=None if account is _AMBIGUOUS else account,
                                properties=dict(traits), line=line))
        return out

    def group(self, msg: dict[str, Any], raw: bytes, line: int, at: datetime) -> list[ReadItem]:
        found = self._account(msg)
        if found is None:
            return [BadLine(self.path, line, "traits", "a group call needs the account's name or "
                            "website in its traits to name the company")]
        gid, company, customer, company_props = found
        traits = _obj(msg.get("traits"))
        status = _text(traits.get("status"))
        status = status.casefold() if status else None
        attributes = _props(segment_group_id=gid,
                            status=status if status not in _CUSTOMER_STATUS else None)
        mrr = traits.get("mrr")
        customer_props = _props(name=company_props.get("name"), plan=_text(traits.get("plan")),
                                mrr=mrr if isinstance(mrr, int | float | str)
                                and not isinstance(mrr, bool) else None,
                                status=status if status in _CUSTOMER_STATUS else None,
                                started=_text(traits.get("createdAt") or traits.get("created_at")),
                                attributes=attributes or None)
        out: list[ReadItem] = [Node(company, company_props, line, observed_at=at),
                               Node(customer, customer_props, line, observed_at=at)]
        uid = _text(msg.get("userId"))
        if uid is not None:
            email = _text(_obj(_obj(msg.get("context")).get("traits")).get("email"))
            person = PersonRef(email=email, source_key=PREFIX + uid, company=company)
            out.append(Node(person, _props(email=email), line))
            out.append(Link("WORKS_AT", person, company, {}, line))
        return out

    def alias(self, msg: dict[str, Any], raw: bytes, line: int, at: datetime) -> list[ReadItem]:
        previous = _text(msg.get("previousId"))
        uid = _text(msg.get("userId"))
        if previous is None or uid is None:
            field = "previousId" if previous is None else "userId"
            return [BadLine(self.path, line, field, "an alias call needs previousId and userId")]
        return [Identify(PREFIX + previous, PersonRef(source_key=PREFIX + uid), line)]


_Handler = Callable[[_Reader, dict[str, Any], bytes, int, datetime], list[ReadItem]]
_HANDLERS: dict[str, _Handler] = {
    "identify": _Reader.identify, "track": _Reader.track, "page": _Reader.page,
    "screen": _Reader.page, "group": _Reader.group, "alias": _Reader.alias,
}


def read(path: Path | str, ctx: ReadContext) -> Iterator[ReadItem]:
    """Records lazily, line by line (after a quick pre-pass for group calls)."""
    path = Path(path)
    with _open(path) as f:
        try:
            head = f.read(_HEAD)
        except (OSError, EOFError) as exc:  # a .gz that is not one, or cut short
            raise UnreadableFile(path, f"it cannot be decompressed ({exc})") from None
    if len(head) < _HEAD and not head.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise UnreadableFile(path, "it is empty: there is nothing to load")
    return _read(path, ctx)


def _read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    reader = _Reader(path, ctx)
    reader.learn_groups()
    ctx.note("segment: identify traits (name, title, company) apply as of each message's "
             "timestamp, so the latest identify wins whatever the load order")
    yield from reader.items()


SOURCE = Source("segment", read, "Segment messages (identify, track, page, group, alias) as "
                "JSON Lines: people, companies, accounts and product events", format="jsonl",
                gzip=True, what="a file of Segment messages", headers=(
                    Header("Segment messages", "type", ("userId", "anonymousId", "messageId",
                                                        "timestamp", "event", "traits")),
                    Header("Segment API batches", "batch")))
