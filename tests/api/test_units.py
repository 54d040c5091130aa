"""Pieces of the API that need no store: the feed's broker, scalars, cursors, error codes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from graphql import GraphQLError

from api.errors import BadUserInput, Code, classify, tidy
from api.feed import LocalBroker
from api.types.pagination import decode_cursor, encode_cursor, window
from api.types.scalars import format_duration, parse_duration, parse_zoned
from graph.errors import NodeNotFound, QueryTimeout, StoreError, StoreUnavailable
from graph.feed import FeedItem

AT = datetime(2026, 11, 20, tzinfo=UTC)


def item(key: str) -> FeedItem:
    return FeedItem(key, "event", "first_login", AT)


@pytest.mark.anyio
async def test_the_broker_fans_out_and_a_slow_subscriber_loses_its_oldest() -> None:
    broker = LocalBroker(queue_size=2)
    async with broker.subscription() as fast, broker.subscription() as slow:
        assert broker.subscribers == 2
        broker.publish([item("a")])
        assert (await anext(fast)).id == "a"
        broker.publish([item("b"), item("c")])
        assert [(await anext(fast)).id, (await anext(fast)).id] == ["b", "c"]
        assert [(await anext(slow)).id, (await anext(slow)).id] == ["b", "c"]
        assert broker.dropped == 1
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(slow), 0.05)
    assert broker.subscribers == 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(("text", "window_"), [
    ("90d", timedelta(days=90)), ("36h", timedelta(hours=36)), ("12w", timedelta(weeks=12)),
    (" 7D ", timedelta(days=7)),
])
def test_durations(text: str, window_: timedelta) -> None:
    assert parse_duration(text) == window_
    assert parse_duration(format_duration(window_)) == window_


@pytest.mark.parametrize("text", ["0d", "90", "3 months", "-1d", "99999w", "1.5d", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(BadUserInput):
        parse_duration(text)


def test_date_times_need_a_zone() -> None:
    assert parse_zoned("2026-11-01T02:00:00+02:00") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(BadUserInput, match="zone"):
        parse_zoned("2026-11-01T00:00:00")


def test_cursors_round_trip_and_refuse_forgeries() -> None:
    assert decode_cursor(encode_cursor(41)) == 41
    assert window(10, encode_cursor(41), default=5).offset == 42
    for forged in ("", "bm9wZQ==", encode_cursor(1)[:-2], "cmVsZ3JhcGg6LTE="):
        with pytest.raises(BadUserInput):
            decode_cursor(forged)


@pytest.mark.parametrize(("error", "code"), [
    (NodeNotFound("Person", "x@y.z"), Code.NOT_FOUND),
    (QueryTimeout("readers", 30), Code.TIMEOUT),
    (StoreUnavailable("Neo4j at bolt://secret:7687 became unavailable"), Code.STORE_UNAVAILABLE),
    (StoreError("readers", "Neo.ClientError: MATCH (n)"), Code.INTERNAL_SERVER_ERROR),
    (KeyError("x"), Code.INTERNAL_SERVER_ERROR),
])
def test_classification_hides_what_the_caller_must_not_see(error: Exception, code: Code) -> None:
    found, message = classify(error)
    assert found is code
    assert "bolt://" not in message and "MATCH" not in message and "Neo." not in message


def test_tidy_is_idempotent_and_keeps_graphql_core_messages() -> None:
    parse = tidy(GraphQLError("Syntax Error: Expected Name, found <EOF>."))
    assert parse.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    assert tidy(parse) is parse and parse.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    field = tidy(GraphQLError("boom", path=["person"], original_error=NodeNotFound("Person", "a")))
    assert field.message == "no Person with key 'a'" and field.extensions == {"code": "NOT_FOUND"}


def test_the_shared_listening_socket_has_no_nagle_delay() -> None:
    """--workers N: connections accepted from the shared socket inherit TCP_NODELAY."""
    import socket

    from api.cli.serve import NoDelayConfig

    sock = NoDelayConfig("api.app:create_app", factory=True, host="127.0.0.1",
                         port=0).bind_socket()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()
