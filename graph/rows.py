"""Validation of input rows against the schema, shared by both stores.

A row is a mapping. Node rows carry the natural key under "id"; relationship rows carry the two
endpoint keys under "from" and "to". Every other entry must be a declared property. Values are
coerced to the declared type (ISO-8601 strings to aware UTC datetimes, numeric strings to numbers,
whole numbers exactly, never through float); None means "unknown" and is dropped, so it never
overwrites a stored value.

Two reserved entries say how a row applies (both stores follow the rules written here):
`observed_at` (`newer_wins`) and `inferred` (`fill_gaps`): an inferred row — a guess, or a
source that only adds what is missing — never overwrites what another source set.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from typing import Any

from graph import keys
from graph.errors import BadRow
from graph.schema import (
    INFERRED,
    KEY,
    OBSERVED,
    SET_BY,
    STORE_SET,
    NodeType,
    Prop,
    PropType,
    RelType,
)

# ASCII digits only ("\d" would take other scripts' digits, which int() also reads).
_WHOLE_TEXT = re.compile(r"([+-]?[0-9]+)(?:\.0+)?")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BOOL_TEXT = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True, slots=True)
class NodeRow:
    index: int  # position of the row in the caller's input, for reject reports
    key: str
    props: dict[str, Any]
    seen: datetime | None = None  # the row's `observed_at`: see `newer_wins`
    inferred: bool = False  # see `fill_gaps`


@dataclass(frozen=True, slots=True)
class RelRow:
    index: int
    start: str
    end: str
    props: dict[str, Any]
    seen: datetime | None = None
    inferred: bool = False  # see `RelType.inferable`


def parse_datetime(value: object) -> datetime:
    """An aware datetime in UTC. Naive times are refused: guessing a zone corrupts "recently"."""
    if isinstance(value, datetime):
        if value.tzinfo is UTC:  # already what is stored (most rows a pipeline builds)
            return value
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 date-time: {value!r}") from None
    else:
        raise ValueError(f"expected an ISO-8601 date-time, got {type(value).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"date-time {value!s} has no timezone (add 'Z' or an offset)")
    return dt.astimezone(UTC)


def _whole_number(value: object) -> int:
    """An exact int: never through float, which rounds above 2**53 ("9007199254740993").

    Accepted: ints, integral floats and Decimals (12.0), and text that is a decimal integer with
    an optional all-zero fraction ("12", "-3", "+7", "12.0"). Refused: booleans, fractions
    ("1.5"), exponents ("1e3"), hex, "_" separators, inf and nan, and values outside the signed
    64-bit range both stores can hold.
    """
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        try:
            number = int(value)
        except (OverflowError, ValueError):  # inf, nan
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if number != value:
            raise ValueError(f"expected a whole number, got {value!r}")
    elif isinstance(value, str):
        match = _WHOLE_TEXT.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"expected a whole number (digits, optionally '.0'), got {value!r}")
        number = int(match[1])
    else:
        raise ValueError(f"expected a whole number, got {type(value).__name__}")
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueError(f"{number} does not fit in a signed 64-bit integer")
    return number


def coerce(prop: Prop, value: object) -> Any:
    t = prop.type
    if t is PropType.STR:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"expected text, got {type(value).__name__}")
        result: Any = str(value).strip()
    elif t is PropType.INT:
        result = _whole_number(value)
    elif t is PropType.FLOAT:
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        try:
            result = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
        if not math.isfinite(result):
            raise ValueError(f"expected a finite number, got {value!r}")
    elif t is PropType.BOOL:
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
            result = _BOOL_TEXT[value.strip().lower()]
        else:
            raise ValueError(f"expected true or false, got {value!r}")
    elif t is PropType.DATETIME:
        result = parse_datetime(value)
    elif t is PropType.STR_LIST:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValueError(f"expected a list of text, got {type(value).__name__}")
        result = [str(v).strip() for v in value]
    else:  # JSON
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise ValueError("expected a JSON object") from None
            result = value
        elif isinstance(value, Mapping):
            result = json.dumps(value, sort_keys=True, default=str)
        else:
            raise ValueError(f"expected a mapping, got {type(value).__name__}")
    if prop.min is not None and result < prop.min:
        raise ValueError(f"{result} is below the minimum {prop.min}")
    if prop.max is not None and result > prop.max:
        raise ValueError(f"{result} is above the maximum {prop.max}")
    if prop.choices is not None and result not in prop.choices:
        raise ValueError(f"{result!r} is not one of {', '.join(sorted(prop.choices))}")
    return result


def _props(index: int, row: Mapping[str, Any], declared: dict[str, Prop],
           reserved: tuple[str, ...]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, value in row.items():
        if name in reserved:
            continue
        prop = declared.get(name)
        if prop is None:
            why = "is set by the store" if name in STORE_SET else "is not a declared property"
            raise BadRow(index, name, why)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            props[name] = coerce(prop, value)
        except ValueError as exc:
            raise BadRow(index, name, str(exc)) from None
    for name in _required(declared):
        if name not in props:
            raise BadRow(index, name, "is required")
    return props


# A type's `prop_map` -> its required properties (the map is held, so its id stays its own).
_REQUIRED: dict[int, tuple[dict[str, Prop], tuple[str, ...]]] = {}


def _required(declared: dict[str, Prop]) -> tuple[str, ...]:
    found = _REQUIRED.get(id(declared))
    if found is None or found[0] is not declared:
        found = _REQUIRED[id(declared)] = (
            declared, tuple(p.name for p in declared.values() if p.required))
    return found[1]


# Normalisers the key module does not cache, cached here: loads name the same company on row
# after row (every WORKS_AT, every account), and its registrable domain costs ~8 µs to find.
_CACHED: dict[Any, Any] = {keys.company_key: lru_cache(maxsize=1 << 17)(keys.company_key)}


def _key(index: int, field: str, value: object, normalise: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRow(index, field, "is required")
    try:
        return _CACHED.get(normalise, normalise)(value)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise BadRow(index, field, str(exc)) from None


def _seen(index: int, row: Mapping[str, Any]) -> datetime | None:
    value = row.get(OBSERVED)
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise BadRow(index, OBSERVED, str(exc)) from None


def _inferred(index: int, row: Mapping[str, Any], seen: datetime | None) -> bool:
    value = row.get(INFERRED)
    if value is None or value is False:
        return False
    if value is not True:
        raise BadRow(index, INFERRED, f"expected true or false, got {value!r}")
    if seen is not None:  # an observation is a snapshot's statement of fact, not a guess
        raise BadRow(index, INFERRED, f"an inferred row cannot carry {OBSERVED}")
    return True


def node_row(ntype: NodeType, index: int, row: Mapping[str, Any]) -> NodeRow:
    key = _key(index, KEY, row.get(KEY), ntype.normalise_key)
    props = _props(index, row, ntype.prop_map, (KEY, OBSERVED, INFERRED))
    seen = _seen(index, row)
    return NodeRow(index, key, props, seen, _inferred(index, row, seen))


def rel_row(rtype: RelType, start: NodeType, end: NodeType, index: int,
            row: Mapping[str, Any]) -> RelRow:
    a = _key(index, "from", row.get("from"), start.normalise_key)
    b = _key(index, "to", row.get("to"), end.normalise_key)
    if rtype.undirected:
        if a == b:
            raise BadRow(index, "to", f"a {rtype.type} relationship needs two different people")
        a, b = min(a, b), max(a, b)
    props = _props(index, row, rtype.prop_map, ("from", "to", OBSERVED, INFERRED))
    seen = _seen(index, row)
    inferred = _inferred(index, row, seen)
    if inferred and not rtype.inferable:
        raise BadRow(index, INFERRED, f"{rtype.type} relationships are never inferred")
    return RelRow(index, a, b, props, seen, inferred)


def newer_wins(stored: dict[str, Any], props: Mapping[str, Any],
               seen: datetime | None) -> Iterable[str]:
    """Apply a row to stored properties, observation-aware (the memory store's twin of the
    Neo4j store's `_set_props`): without `seen` the row's values win; with it, they win only
    if no later observation is stored, else they only fill what is missing. first_seen and
    last_seen keep the earliest and latest observation, so any load order gives one result.
    Returns the names of the properties the row set."""
    if seen is None:
        stored.update(props)
        return props.keys()
    last = stored.get("last_seen")
    written: Iterable[str]
    if last is None or seen >= last:
        stored.update(props)
        stored["last_seen"] = seen
        written = props.keys()
    else:
        written = [name for name in props if name not in stored]
        for name in written:
            stored[name] = props[name]
    first = stored.get("first_seen")
    if first is None or seen < first:
        stored["first_seen"] = seen
    return written


def fill_gaps(stored: dict[str, Any], props: Mapping[str, Any], source: str, *,
              set_by: bool) -> list[str]:
    """Apply an inferred row (the memory store's twin of the Neo4j store's fill mode): a value
    is written where the property is missing, or, on a label that keeps `set_by`, where this
    same source set it before (a feed may correct its own title, never a catalogue's). So an
    explicit value wins in every load order, and a guess only ever adds. Returns the names of
    the properties the row set."""
    mine = frozenset(stored.get(SET_BY) or ()) if set_by else frozenset()
    written = [name for name in props
               if name not in stored or (mine and f"{name}={source}" in mine)]
    for name in written:
        stored[name] = props[name]
    return written


def record_setters(stored: dict[str, Any], names: Iterable[str], source: str,
                   order: Sequence[str]) -> None:
    """Note `source` as the setter of `names` in `stored[SET_BY]` ("property=source" entries,
    in the label's property `order`, as the Neo4j store writes them). The entry is replaced
    only when it changes, so a stored list read back from the file compares equal."""
    entries = {entry.partition("=")[0]: entry for entry in stored.get(SET_BY) or ()}
    for name in names:
        entries[name] = f"{name}={source}"
    now = tuple(entries[name] for name in order if name in entries)
    if now and tuple(stored.get(SET_BY) or ()) != now:
        stored[SET_BY] = now


def batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[tuple[int, Mapping]]]:
    """Numbered rows in lists of at most `size`, lazily: a load never holds its whole input."""
    numbered = enumerate(rows)
    while chunk := list(islice(numbered, size)):
        yield chunk

