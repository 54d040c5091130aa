from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.errors import BadRow
from graph.rows import coerce, node_row, parse_datetime, rel_row
from graph.schema import Prop, PropType, node_type, rel_type


@pytest.mark.parametrize(
    ("prop", "value", "expected"),
    [
        (Prop("n", PropType.INT), "12", 12),
        (Prop("n", PropType.INT), 3.0, 3),
        (Prop("n", PropType.FLOAT), "0.25", 0.25),
        (Prop("b", PropType.BOOL), "yes", True),
        (Prop("b", PropType.BOOL), False, False),
        (Prop("s", PropType.STR), "  hi ", "hi"),
        (Prop("s", PropType.STR), 42, "42"),
        (Prop("l", PropType.STR_LIST), ["a", " b"], ["a", "b"]),
        (Prop("j", PropType.JSON), {"b": 1, "a": 2}, '{"a": 2, "b": 1}'),
        (Prop("t", PropType.DATETIME), "2026-10-01T12:00:00+02:00",
         datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        (Prop("t", PropType.DATETIME), "2026-10-01T12:00:00Z",
         datetime(2026, 10, 1, 12, tzinfo=UTC)),
    ],
)
def test_coerce(prop: Prop, value: object, expected: object) -> None:
    assert coerce(prop, value) == expected


@pytest.mark.parametrize(
    ("prop", "value", "message"),
    [
        (Prop("n", PropType.INT), "1.5", "whole number"),
        (Prop("n", PropType.INT), True, "boolean"),
        (Prop("f", PropType.FLOAT), "nan", "finite"),
        (Prop("f", PropType.FLOAT, min=0, max=1), 1.5, "above the maximum"),
        (Prop("b", PropType.BOOL), "maybe", "true or false"),
        (Prop("s", PropType.STR), {"a": 1}, "expected text"),
        (Prop("l", PropType.STR_LIST), "a,b", "list"),
        (Prop("j", PropType.JSON), "{not json", "JSON"),
        (Prop("t", PropType.DATETIME), "2026-10-01 12:00", "no timezone"),
        (Prop("t", PropType.DATETIME), 1700000000, "ISO-8601"),
    ],
)
def test_coerce_refuses(prop: Prop, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce(prop, value)


INT = Prop("n", PropType.INT)
EXACT = 9007199254740993  # 2**53 + 1: the first integer a float cannot hold


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(EXACT), EXACT),  # through float() this became ...992
        (EXACT, EXACT),
        (f" {EXACT} ", EXACT),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775807", 2**63 - 1),
        ("+7", 7),
        ("-3", -3),
        ("007", 7),
        ("12.0", 12),
        ("12.000", 12),
        (f"{EXACT}.0", EXACT),
        (12.0, 12),
        (-0.0, 0),
        (Decimal("12.00"), 12),
        (Decimal(EXACT), EXACT),
    ],
)
def test_coerce_int_is_exact(value: object, expected: int) -> None:
    result = coerce(INT, value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(
    "value",
    ["1.5", "12.", ".0", "1e3", "1E3", "0x10", "1_000", "1,000", "nan", "inf", "", "-", "١٢",
     "12.01", 12.5, float("nan"), float("inf"), Decimal("1.5"), Decimal("NaN"), [1], {"n": 1},
     False, 2**63, -(2**63) - 1, str(2**63)],
)
def test_coerce_int_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="whole number|64-bit"):
        coerce(INT, value)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_coerce_int_round_trips_every_int64(n: int) -> None:
    assert coerce(INT, n) == n
    assert coerce(INT, str(n)) == n
    assert coerce(INT, f"{n}.0") == n


def test_coerce_int_keeps_bounds_exact() -> None:
    bounded = Prop("n", PropType.INT, min=0, max=EXACT - 1)
    with pytest.raises(ValueError, match="above the maximum"):
        coerce(bounded, str(EXACT))


def test_parse_datetime_keeps_aware_datetimes() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime(moment) == moment


def test_node_row_normalises_the_key_and_drops_blanks() -> None:
    row = node_row(node_type("Company"), 4, {"id": "https://WWW.Acme.com/x", "name": " ",
                                             "own": "true"})
    assert (row.index, row.key, row.props) == (4, "acme.com", {"own": True})


def test_bad_row_names_row_and_field() -> None:
    with pytest.raises(BadRow) as info:
        node_row(node_type("Company"), 7, {"id": "acme.com", "size": -3})
    assert (info.value.row, info.value.field) == (7, "size")
    assert str(info.value).startswith("row 7: field 'size'")


def test_undirected_rows_are_stored_in_one_direction() -> None:
    person = node_type("Person")
    a = rel_row(rel_type("KNOWS"), person, person, 0, {"from": "b@x.com", "to": "A@x.com"})
    assert (a.start, a.end) == ("a@x.com", "b@x.com")
