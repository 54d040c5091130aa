"""The first time a person uses a key feature: an interaction of its own for the live feed.

Which features are key is the analytics' setting, so the health score's adoption and the feed
never disagree: `key_features` under `[activity]` in analytics/default.toml, or in the file
`RELGRAPH_ANALYTICS_CONFIG` names over it (`relgraph load` and the API pass that one to the
pipeline; a `Loader` made without it uses the shipped list). An event shows a key feature as
analytics/activity.py counts one: its type is a key feature (`report_created`), or it is a
`feature_used` whose properties name one (`{"feature": "dashboard_shared"}`).

Like a first login, a first use is derived from the event log rather than from one file: at the
end of a load, for every person the load touched with a key-feature event (or folded into
another), the earliest use of each key feature in the whole log, counting events logged under
keys that name them now. It is an `Event` node keyed "first_feature:<feature>:<person>" of type
`feature_used` with `{"feature": …}` in its properties, which the person PERFORMED; its
provenance is the files that logged their uses. A later load that brings an earlier use moves
the node's time and adds nothing to the feed: whichever order files are loaded in, a person's
first use of a feature is one node and one feed item.

    >>> feature_of("report_created", {}, frozenset({"report_created"}))
    'report_created'
    >>> feature_of("feature_used", {"feature": "invite_sent"}, frozenset({"invite_sent"}))
    'invite_sent'
    >>> feature_of("feature_used", {"feature": "filters"}, frozenset({"invite_sent"})) is None
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.eventlog import EventLog

FIRST_USE = "feature_used"  # the type of a first use's Event node (and of a generic feature event)
PREFIX = "first_feature:"
# analytics/world.py reads the feature a feature_used names with this pattern: the same here
_FEATURE = r'"feature"\s*:\s*"([^"]*)"'


def configured_key_features(path: Path | None = None) -> frozenset[str]:
    """The key features of the analytics configuration: the shipped analytics/default.toml,
    with `path`'s keys over it (a bad file is the analytics' ConfigError, naming it)."""
    from analytics.config import load_config  # a TOML reader with no engine behind it

    return frozenset(load_config(path).activity.key_features)


def feature_of(type_: str, properties: Mapping[str, Any], features: frozenset[str]
               ) -> str | None:
    """The key feature an event shows, else None."""
    if type_ in features:
        return type_
    if type_ == FIRST_USE:
        named = properties.get("feature")
        if isinstance(named, str) and named in features:
            return named
    return None


def event_id(feature: str, person: str) -> str:
    return f"{PREFIX}{feature}:{person}"


def first_uses(log: EventLog, features: Iterable[str], persons: Iterable[str],
               identities: Mapping[str, str] | None = None
               ) -> dict[tuple[str, str], tuple[datetime, tuple[str, ...]]]:
    """(person, feature) -> the earliest use in the log and the files that logged its uses
    (sorted), for these people. An event counts for `identities[person]`, else its person, else
    `identities[anonymous_id]`, as `EventLog.read_spans` counts reads."""
    wanted, people = sorted(set(features)), sorted(set(persons))
    if not wanted or not people:
        return {}
    aliases = dict(identities or {})
    rows = log.sql(f"""
        WITH identities AS (SELECT unnest($aliases::VARCHAR[]) AS alias,
                                   unnest($now::VARCHAR[]) AS person),
        uses AS (
            SELECT coalesce(ip.person, e.person, ia.person) AS who,
                   CASE WHEN list_contains($features::VARCHAR[], e.type) THEN e.type
                        ELSE nullif(regexp_extract(e.properties, '{_FEATURE}', 1), '')
                   END AS feature,
                   e."at", e.source
            FROM events e
            LEFT JOIN identities ip ON ip.alias = e.person
            LEFT JOIN identities ia ON e.person IS NULL AND ia.alias = e.anonymous_id
            WHERE list_contains($features::VARCHAR[], e.type) OR e.type = '{FIRST_USE}')
        SELECT who, feature, min("at"), list(DISTINCT source ORDER BY source) FROM uses
        WHERE list_contains($features::VARCHAR[], feature)
          AND who IN (SELECT unnest($people::VARCHAR[]))
        GROUP BY who, feature""", {"aliases": list(aliases), "now": list(aliases.values()),
                                   "features": wanted, "people": people})
    return {(who, feature): (_utc(at), tuple(s for s in sources if s))
            for who, feature, at, sources in rows}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


__all__ = ["FIRST_USE", "configured_key_features", "event_id", "feature_of", "first_uses"]
