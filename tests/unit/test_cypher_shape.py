"""Query shapes, checked without a database: user values never reach the Cypher text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from graph.errors import SchemaError
from graph.migrations import migrations
from graph.model import ReaderQuery
from graph.neo4j_store import (
    missing_ends_cypher,
    node_upsert_cypher,
    rel_upsert_cypher,
    row_params,
)
from graph.questions.profile import PROFILE_CYPHER
from graph.questions.readers import companies_cypher, readers_cypher
from graph.schema import NODE_TYPES, REL_TYPES, PropType, cypher_name

NASTY = "x'}) MATCH (n) DETACH DELETE n //"


@pytest.mark.parametrize("make", [readers_cypher, companies_cypher], ids=["readers", "companies"])
@pytest.mark.parametrize("person", [None, "a@b.com"], ids=["team", "person"])
def test_reader_question_takes_every_value_as_a_parameter(make, person: str | None) -> None:
    """Two questions that differ in every user value must send the same Cypher text: then no
    value can be in it. And every $name the text uses must be among the parameters sent."""
    nasty = ReaderQuery(read_topic=NASTY, concern_topic=NASTY + " churn",
                        person=None if person is None else "crm:Bobby'}) DETACH DELETE n //",
                        content_kind="webinar", limit=7, offset=3).resolved()
    plain = ReaderQuery(read_topic="crm", concern_topic="churn", person=person).resolved()
    cypher = make(nasty)
    assert cypher.text == make(plain).text
    for value in (nasty.read_topic, nasty.concern_topic, nasty.person):
        if value is not None:
            assert value.lower() not in cypher.text.lower()
    used = set(re.findall(r"\$(\w+)", cypher.text))
    assert used and used <= set(cypher.params), used - set(cypher.params)
    assert (cypher.params["read_topic"], cypher.params["offset"], cypher.params["limit"]) == (
        "x-match-n-detach-delete-n", 3, 7)


def test_team_and_person_questions_differ_only_in_who_is_on_our_side() -> None:
    by_person = readers_cypher(ReaderQuery("crm", "churn", person="a@b.com").resolved()).text
    by_team = readers_cypher(ReaderQuery("crm", "churn").resolved()).text
    assert "{id: $person}" in by_person and "own: true" in by_team
    assert "own: true" not in by_person


def test_the_reader_question_is_anchored_on_concerns_in_the_window() -> None:
    cypher = readers_cypher(ReaderQuery("crm", "churn").resolved()).text
    assert cypher.split("\n")[:2] == ["MATCH (:Topic {id: $concern_topic})<-[:ABOUT]-(k:Concern)",
                                      "WHERE $concern_since <= k.at <= $as_of"]


@pytest.mark.parametrize("label", sorted(NODE_TYPES))
def test_node_upserts_merge_on_the_key_in_one_unwind(label: str) -> None:
    cypher = node_upsert_cypher(label)
    assert cypher.startswith("UNWIND $rows AS row")
    assert f"MERGE (n:`{label}` {{id: row.key}})" in cypher


@pytest.mark.parametrize("rel", sorted(REL_TYPES))
def test_relationship_upserts_merge_between_matched_ends(rel: str) -> None:
    start, end = REL_TYPES[rel].ends[0]
    cypher = rel_upsert_cypher(rel, start, end)
    assert f"MATCH (a:`{start}` {{id: row.start}})" in cypher
    assert f"MERGE (a)-[r:`{rel}`]->(b)" in cypher
    assert "\nRETURN count(*) AS written," in cypher  # and the created and changed rows
    assert "WHERE a IS NULL OR b IS NULL" in missing_ends_cypher(start, end)


DATETIME_PROPS = sorted(
    [("node", label, p.name) for label, t in NODE_TYPES.items() for p in t.props
     if p.type is PropType.DATETIME]
    + [("rel", rel, p.name) for rel, t in REL_TYPES.items() for p in t.props
       if p.type is PropType.DATETIME]
)


def test_the_schema_has_the_date_times_the_questions_filter_on() -> None:
    assert {("rel", "READ", "first_at"), ("rel", "WORKS_AT", "until"),
            ("node", "Concern", "at")} <= set(DATETIME_PROPS)


@pytest.mark.parametrize(("kind", "owner", "name"), DATETIME_PROPS)
def test_date_times_travel_as_text_and_are_converted_in_cypher(kind: str, owner: str,
                                                               name: str) -> None:
    if kind == "node":
        cypher, v = node_upsert_cypher(owner), "n"
    else:
        cypher, v = rel_upsert_cypher(owner, *REL_TYPES[owner].ends[0]), "r"
    assert f"SET {v}.{name} = coalesce(datetime(row.dt.{name}), {v}.{name})" in cypher
    moment = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    plain, times = row_params({name: moment, "title": "CTO"})
    assert (plain, times) == ({"title": "CTO"}, {name: "2026-05-01T12:30:00+00:00"})


@pytest.mark.parametrize("name", ["Person`) DETACH DELETE n //", "person", "Nope", "", "`"])
def test_cypher_name_refuses_anything_outside_the_schema(name: str) -> None:
    with pytest.raises(SchemaError):
        cypher_name(name)


def test_profile_is_one_round_trip_on_the_key() -> None:
    assert PROFILE_CYPHER.count("MATCH (p:Person {id: $id})") == 1


def test_every_label_gets_a_uniqueness_constraint() -> None:
    names = {m.name for m in migrations()}
    for label in NODE_TYPES:
        assert f"relgraph_{label.lower()}_id" in names
    assert all("IF NOT EXISTS" in m.cypher for m in migrations())
