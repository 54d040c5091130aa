"""The Segment reader: what each message of the fixture becomes, bad lines, encodings, streaming."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import segment
from connectors.dates import TimeReader
from connectors.errors import BadLine, ConnectorError, UnreadableFile
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
from connectors.source import ReadContext
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures" / "segment"
GLOBEX = CustomerRef(of=CompanyRef(domain="globex.com", name="Globex Corporation"))
RAJ = "segment:usr_8f14e45f"
ADA = "segment:usr_c9f0f895"
ANON = "segment:5c9f1e2a-7d11-4b8e-9a51-0f3c2d4e5a61"


def _read(path: Path, ctx: ReadContext | None = None) -> list[ReadItem]:
    return list(segment.read(path, ctx or ReadContext("segment")))


def _summary(item: ReadItem) -> tuple[Any, ...]:
    """One comparable line per item (the table below)."""
    if isinstance(item, ProductEvent):
        who = item.person.source_key if item.person else None
        account = item.account.of.name if item.account else None
        return ("event", item.line, item.type, who, item.anonymous_id, account, item.url)
    if isinstance(item, Node):
        ref = item.ref
        label = type(ref).__name__
        name = ref.of.name if isinstance(ref, CustomerRef) else getattr(ref, "name", None)
        key = ref.source_key if isinstance(ref, PersonRef) else name
        return ("node", item.line, label, key, item.observed_at is not None)
    if isinstance(item, Link):
        start = item.start.source_key if isinstance(item.start, PersonRef) else None
        return ("link", item.line, item.type, start, getattr(item.end, "name", None),
                dict(item.props), item.observed_at is not None)
    if isinstance(item, Identify):
        return ("identify", item.line, item.alias, item.person.source_key)
    assert isinstance(item, BadLine)
    return ("bad", item.line, item.field)


EXPECTED = [
    ("event", 1, "page_viewed", None, ANON, None, "https://www.acme-analytics.com/"),
    ("event", 2, "pricing_viewed", None, ANON, None,
     "https://www.acme-analytics.com/pricing?utm_source=newsletter&utm_campaign=march"),
    ("event", 3, "sign_up", RAJ, ANON, "Globex Corporation", None),
    ("node", 4, "CompanyRef", "Globex Corporation", True),
    ("node", 4, "PersonRef", RAJ, True),
    ("link", 4, "WORKS_AT", RAJ, "Globex Corporation", {"title": "Head of Operations"}, True),
    ("identify", 4, ANON, RAJ),
    ("event", 4, "identify", RAJ, ANON, "Globex Corporation", None),
    ("node", 5, "CompanyRef", "Globex Corporation", True),
    ("node", 5, "CustomerRef", "Globex Corporation", True),
    ("node", 5, "PersonRef", RAJ, False),
    ("link", 5, "WORKS_AT", RAJ, "Globex Corporation", {}, False),
    ("event", 6, "setup_completed", RAJ, ANON, "Globex Corporation", None),
    ("event", 7, "report_viewed", RAJ, None, "Globex Corporation", None),
    ("event", 8, "data_exported", RAJ, None, "Globex Corporation", None),
    ("event", 9, "login", ADA, None, None, None),
    ("identify", 10, "segment:legacy-4412", ADA),
    ("event", 11, "purchase", RAJ, None, "Globex Corporation", None),
    ("event", 12, "screen_viewed", ADA, "segment:a7b8c9d0-ios", None, None),
    ("event", 13, "dashboard_shared", RAJ, None, "Globex Corporation", None),
    ("node", 13, "CompanyRef", "Initech", True),
    ("node", 13, "PersonRef", ADA, True),
    ("link", 13, "WORKS_AT", ADA, "Initech", {}, True),
    ("event", 13, "identify", ADA, None, None, None),
    ("bad", 14, None),  # the truncated last line
]


def test_the_fixture_reads_as_the_table_says() -> None:
    items = _read(FIXTURES / "events.jsonl")
    assert [_summary(i) for i in items] == EXPECTED


def test_fixture_details() -> None:
    items = _read(FIXTURES / "events.jsonl")
    events = {i.line: i for i in items if isinstance(i, ProductEvent)}
    assert events[3].id == "ajs-next-3b2c4d5e6f7a8b9c0d1e2f3a4b5c6d7e"
    assert events[3].at == datetime(2026, 3, 2, 10, 1, 5, tzinfo=UTC)
    assert events[3].properties == {"plan": "trial", "source": "pricing_page",
                                    "event": "Signed Up"}
    assert events[8].properties["event"] == "Export Completed"
    # no messageId: a stable hash of the line; originalTimestamp with its offset
    assert events[9].id.startswith("segment:") and len(events[9].id) == 40
    assert events[9].at == datetime(2026, 3, 4, 6, 59, 58, tzinfo=UTC)
    assert events[9].person == PersonRef(email="ada@initech.io", source_key=ADA)
    assert events[2].properties["campaign"] == {"source": "newsletter", "name": "march"}
    person = next(i for i in items if isinstance(i, Node) and i.line == 4
                  and isinstance(i.ref, PersonRef))
    assert person.props == {"name": "Raj Patel", "email": "Raj.Patel@globex.com",
                            "title": "Head of Operations"}
    assert isinstance(person.ref, PersonRef)
    assert person.ref.company == CompanyRef(domain="https://globex.com",
                                            name="Globex Corporation")
    assert person.observed_at == datetime(2026, 3, 2, 10, 1, 6, tzinfo=UTC)
    company = next(i for i in items if isinstance(i, Node) and i.line == 4)
    assert company.props == {"name": "Globex Corporation", "website": "https://globex.com",
                             "industry": "Logistics", "size": 240}
    customer = next(i for i in items if isinstance(i, Node) and isinstance(i.ref, CustomerRef))
    assert customer.ref == GLOBEX
    assert customer.props == {"name": "Globex Corporation", "plan": "trial", "mrr": 0,
                              "status": "trial", "attributes": {"segment_group_id": "org_77"}}
    identify_13 = [i for i in items if isinstance(i, ProductEvent) and i.line == 13]
    assert [e.id for e in identify_13] == ["batch-1", "batch-2"]
    assert identify_13[1].at == datetime(2026, 3, 6, 9, 0, 1, tzinfo=UTC)  # the batch's sentAt


def test_rereading_gives_the_same_ids() -> None:
    first = [i.id for i in _read(FIXTURES / "events.jsonl") if isinstance(i, ProductEvent)]
    again = [i.id for i in _read(FIXTURES / "events.jsonl") if isinstance(i, ProductEvent)]
    assert first == again and len(set(first)) == len(first)


BAD = [  # line 1 is good, the others are not
    (2, "type", "unknown message type 'screem'"),
    (3, "timestamp", "no timestamp"),
    (4, "timestamp", "not a date: 'last tuesday-ish'"),
    (5, "event", "needs an event name"),
    (6, "userId", "neither userId nor anonymousId"),
    (7, None, "must be a JSON object"),
    (9, "previousId", "needs previousId and userId"),
    (10, "traits", "name or website"),
    (11, None, "not valid JSON"),
]


def test_bad_lines_name_their_line_and_field() -> None:
    items = _read(FIXTURES / "bad.jsonl")
    assert isinstance(items[0], ProductEvent) and items[0].id == "ok-1"
    bad = [(i.line, i.field, i.reason) for i in items[1:] if isinstance(i, BadLine)]
    assert len(bad) == len(items) - 1 == len(BAD)
    for (line, field, reason), (want_line, want_field, want_reason) in zip(bad, BAD,
                                                                          strict=True):
        assert (line, field) == (want_line, want_field)
        assert want_reason in reason


@pytest.mark.parametrize(("name", "kind"), [
    ("Signed Up", "sign_up"), ("signed_up", "sign_up"), ("Logged In", "login"),
    ("Login", "login"), ("Setup Completed", "setup_completed"),
    ("Onboarding Completed", "setup_completed"), ("Data Exported", "data_exported"),
    ("Export Completed", "data_exported"), ("Order Completed", "purchase"),
    ("Order Refunded", "refund"), ("Report Viewed", "report_viewed"),
    ("  Feature   Used ", "feature_used"), ("Café Ordered!", "café_ordered"),
    ("=cmd|' /C calc'!A0", "cmd_c_calc_a0"), ("!!!", ""),
])
def test_event_names_map_to_types(name: str, kind: str) -> None:
    assert segment.event_type(name) == kind


def _write(tmp_path: Path, *messages: dict[str, Any] | str, name: str = "e.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((m if isinstance(m, str) else json.dumps(m)) + "\n"
                            for m in messages), encoding="utf-8")
    return path


T = "2026-03-02T10:00:00Z"


@pytest.mark.parametrize(("message", "kind", "url"), [
    ({"type": "page", "userId": "u", "timestamp": T,
      "context": {"page": {"url": "https://a.io/Pricing/team"}}}, "pricing_viewed",
     "https://a.io/Pricing/team"),
    ({"type": "page", "userId": "u", "timestamp": T,
      "context": {"page": {"url": "https://a.io/docs", "path": "/docs"}}}, "page_viewed",
     "https://a.io/docs"),
    ({"type": "page", "userId": "u", "timestamp": T, "properties": {"path": "/pricing"}},
     "pricing_viewed", None),
    ({"type": "page", "userId": "u", "timestamp": T, "properties": {"url": "not a url ["}},
     "page_viewed", "not a url ["),
    # content about pricing is content: only a whole "pricing" path segment is the pricing page
    ({"type": "page", "userId": "u", "timestamp": T,
      "properties": {"url": "https://a.io/papers/pricing-page-teardown"}}, "page_viewed",
     "https://a.io/papers/pricing-page-teardown"),
    ({"type": "page", "userId": "u", "timestamp": T,
      "properties": {"url": "https://a.io/en/pricing.html?plan=team"}}, "pricing_viewed",
     "https://a.io/en/pricing.html?plan=team"),
])
def test_page_views(tmp_path: Path, message: dict[str, Any], kind: str,
                    url: str | None) -> None:
    (event,) = _read(_write(tmp_path, message))
    assert isinstance(event, ProductEvent)
    assert (event.type, event.url) == (kind, url)


def test_an_event_finds_its_account_whatever_the_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"type": "track", "event": "Report Viewed", "userId": "u1", "timestamp": T},
        {"type": "track", "event": "Report Viewed", "userId": "u2", "timestamp": T},
        {"type": "track", "event": "Report Viewed", "userId": "u2", "timestamp": T,
         "context": {"groupId": "g2"}},
        {"type": "group", "userId": "u1", "groupId": "g1", "timestamp": T,
         "traits": {"name": "One", "website": "one.io"}},
        {"type": "group", "userId": "u2", "groupId": "g1", "timestamp": T,
         "traits": {"name": "One", "website": "one.io"}},
        {"type": "group", "userId": "u2", "groupId": "g2", "timestamp": T,
         "traits": {"name": "Two"}},
    )
    events = [i for i in _read(path) if isinstance(i, ProductEvent)]
    one = CustomerRef(of=CompanyRef(domain="one.io", name="One"))
    two = CustomerRef(of=CompanyRef(name="Two"))
    # u1 is in one group; u2 in two (no single account) unless the event names its group
    assert [e.account for e in events] == [one, None, two]


def test_identify_without_user_id(tmp_path: Path) -> None:
    path = _write(tmp_path,
                  {"type": "identify", "anonymousId": "a1", "timestamp": T,
                   "traits": {"email": "not-an-email", "first_name": "Bo", "last_name": "Li"}},
                  {"type": "identify", "anonymousId": "a2", "timestamp": T, "traits": {}})
    items = _read(path)
    person = PersonRef(email="not-an-email", name="Bo Li")  # a bad e-mail is kept, raw
    assert items[0] == Node(person, {"name": "Bo Li", "email": "not-an-email"}, 1,
                            observed_at=datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert items[1] == Identify("segment:a1", person, 1)
    assert isinstance(items[2], ProductEvent) and items[2].person == person
    assert isinstance(items[3], ProductEvent) and items[3].person is None
    assert items[3].anonymous_id == "segment:a2"


def test_ids_and_numbers_as_json_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, {"type": "track", "event": "Login", "userId": 42,
                             "timestamp": 1772445600, "messageId": 7})
    (event,) = _read(path)
    assert isinstance(event, ProductEvent)
    assert (event.id, event.person, event.at) == (
        "7", PersonRef(source_key="segment:42"), datetime(2026, 3, 2, 10, tzinfo=UTC))


def test_naive_times_are_read_in_the_load_time_zone(tmp_path: Path) -> None:
    path = _write(tmp_path, {"type": "track", "event": "Login", "userId": "u",
                             "timestamp": "2026-03-02T10:00:00"})
    ctx = ReadContext("segment", clock=TimeReader(ZoneInfo("Europe/Paris")))
    (event,) = _read(path, ctx)
    assert isinstance(event, ProductEvent)
    assert event.at == datetime(2026, 3, 2, 9, tzinfo=UTC) and ctx.clock.naive == 1


@pytest.mark.parametrize("timestamp", ["1969-12-31T00:00:00Z", "2026-13-01T00:00:00Z", True,
                                       {"at": 1}, "0001-01-01T00:00:00+00:00"])
def test_implausible_times_are_bad_lines(tmp_path: Path, timestamp: Any) -> None:
    path = _write(tmp_path, {"type": "track", "event": "Login", "userId": "u",
                             "timestamp": timestamp})
    (bad,) = _read(path)
    assert isinstance(bad, BadLine) and bad.field == "timestamp"


def test_formula_strings_stay_inert_text(tmp_path: Path) -> None:
    formula = "=cmd|' /C calc'!A0"
    path = _write(tmp_path, {"type": "track", "event": formula, "userId": formula,
                             "timestamp": T, "properties": {"note": formula}})
    (event,) = _read(path)
    assert isinstance(event, ProductEvent)
    assert event.properties == {"note": formula, "event": formula}
    assert event.person == PersonRef(source_key="segment:" + formula)


def test_gzip_files_read_like_plain_ones(tmp_path: Path) -> None:
    plain = (FIXTURES / "events.jsonl").read_bytes()
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(plain))
    assert [_summary(i) for i in _read(path)] == EXPECTED


def test_a_truncated_gzip_file_fails_cleanly(tmp_path: Path) -> None:
    big = b"".join(json.dumps({"type": "track", "event": "E", "userId": "u", "timestamp": T,
                               "messageId": f"m{i}"}).encode() + b"\n" for i in range(20000))
    data = gzip.compress(big)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    items = _read(path)
    assert isinstance(items[-1], BadLine) and "cannot be read" in items[-1].reason
    assert len(items) > 100
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(UnreadableFile):
        _read(broken)


@pytest.mark.parametrize(("encoding", "prefix"), [
    ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("utf-16-le", b""), ("utf-16-be", b""),
])
def test_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = (json.dumps({"type": "identify", "userId": "u", "timestamp": T,
                        "traits": {"name": "Zoë Ågren", "email": "zoe@x.io"}},
                       ensure_ascii=False) + "\n")
    path = tmp_path / "e.jsonl"
    path.write_bytes(prefix + (text * 3).encode(encoding))
    items = _read(path)
    names = [i.props["name"] for i in items if isinstance(i, Node)]
    assert names == ["Zoë Ågren"] * 3


@pytest.mark.parametrize("bad", [b'"\xff\xfe"', b'"caf\xe9"', b'"\xc3"'])
def test_a_line_that_is_not_utf8_is_a_bad_line(tmp_path: Path, bad: bytes) -> None:
    """JSON is UTF-8: a Latin-1 or broken line is a bad line; the file's other lines load."""
    good = json.dumps({"type": "track", "event": "É", "userId": "u", "timestamp": T},
                      ensure_ascii=False).encode()
    path = tmp_path / "e.jsonl"
    path.write_bytes(good + b"\n" + good.replace('"É"'.encode(), bad) + b"\n" + good + b"\n")
    items = _read(path)
    assert [(type(i).__name__, i.line) for i in items] == [
        ("ProductEvent", 1), ("BadLine", 2), ("ProductEvent", 3)]
    assert isinstance(items[2], ProductEvent) and items[2].properties["event"] == "É"


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf\n"])
def test_an_empty_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match="empty"):
        _read(path)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        segment.read(tmp_path / "nope.jsonl", ReadContext("segment"))


def test_a_huge_line_is_a_bad_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segment, "MAX_LINE", 1000)
    big = {"type": "track", "event": "E", "userId": "u", "timestamp": T,
           "properties": {"blob": "x" * 5000}}
    path = _write(tmp_path, big, {"type": "track", "event": "E", "userId": "u",
                                  "timestamp": T})
    items = _read(path)
    assert isinstance(items[0], BadLine) and "bytes on one line" in items[0].reason
    assert isinstance(items[1], ProductEvent)


def test_it_streams(tmp_path: Path) -> None:
    """A large file is never held in memory: the peak stays far below the file's size."""
    path = tmp_path / "big.jsonl"
    line = json.dumps({"type": "track", "event": "Report Viewed", "userId": "u1",
                       "timestamp": T, "properties": {"pad": "p" * 400}}) + "\n"
    with path.open("w") as f:
        for _ in range(30_000):
            f.write(line)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for _ in segment.read(path, ReadContext("segment")))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 30_000
    assert peak < size / 10, (peak, size)


def test_the_reader_is_lazy(tmp_path: Path) -> None:
    path = _write(tmp_path, *[{"type": "track", "event": "E", "userId": "u", "timestamp": T}
                              for _ in range(10)])
    items: Iterator[ReadItem] = segment.read(path, ReadContext("segment"))
    first = next(items)
    assert isinstance(first, ProductEvent) and first.line == 1


# -- hypothesis: nothing a file holds crashes the reader ----------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)
_message = st.fixed_dictionaries(
    {"type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias", "x"])},
    optional={
        "event": st.text(max_size=20) | st.integers(), "userId": _json, "anonymousId": _json,
        "messageId": _json, "previousId": _json, "groupId": _json,
        "timestamp": st.sampled_from([T, "2026-03-02 10:00", "", "nope", "1772445600"]) | _json,
        "sentAt": _json, "traits": _json | st.fixed_dictionaries(
            {}, optional={"email": _json, "name": _json, "company": _json, "title": _json,
                          "website": _json, "employees": _json, "status": _json}),
        "properties": _json, "context": _json,
    },
)


def _safe_read(path: Path) -> list[ReadItem]:
    try:
        return _read(path)
    except ConnectorError:
        return []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(data)
    for item in _safe_read(path):
        assert isinstance(item, ProductEvent | Node | Link | Identify | BadLine)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(_message, min_size=1, max_size=6))
def test_random_messages_never_crash(tmp_path: Path, messages: list[dict[str, Any]]) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(m) for m in messages) + "\n")
    for item in _safe_read(path):
        assert isinstance(item, ProductEvent | Node | Link | Identify | BadLine)
        if isinstance(item, ProductEvent):
            assert item.id and item.type and item.at.tzinfo is not None
