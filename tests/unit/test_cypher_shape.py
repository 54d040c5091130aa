"""Query shapes, checked without a database: user values never reach the Cypher text."""

from __future__ import annotations

import re

import pytest

from graph.errors import SchemaError
from graph.migrations import migrations
from graph.model import ReaderQuery
from graph.neo4j_store import (
    COMPANIES_TAIL,
    PROFILE,
    READERS_TAIL,
    missing_ends_cypher,
    node_upsert_cypher,
    reader_cypher,
    reader_params,
    rel_upsert_cypher,
)
from graph.schema import NODE_TYPES, REL_TYPES, cypher_name

NASTY = "x'}) MATCH (n) DETACH DELETE n //"


def test_reader_question_takes_every_value_as_a_parameter() -> None:
    q = ReaderQuery(read_topic=NASTY, concern_topic=NASTY, person="a@b.com",
                    content_kind="webinar").resolved()
    for tail in (READERS_TAIL, COMPANIES_TAIL):
        cypher = reader_cypher(q, tail)
        assert "DETACH" not in cypher and "a@b.com" not in cypher
        used = set(re.findall(r"\$(\w+)", cypher))
        assert used <= set(reader_params(q)), used - set(reader_params(q))
    assert reader_params(q)["read_topic"] == "x-match-n-detach-delete-n"


def test_team_and_person_questions_differ_only_in_the_seed_clause() -> None:
    by_person = reader_cypher(ReaderQuery("crm", "churn", person="a@b.com").resolved(),
                              READERS_TAIL)
    by_team = reader_cypher(ReaderQuery("crm", "churn").resolved(), READERS_TAIL)
    assert "$person" in by_person and "own: true" in by_team
    assert by_person.split("\n", 1)[1] == by_team.split("\n", 1)[1]


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
    assert cypher.endswith("RETURN count(*) AS written")
    assert "WHERE a IS NULL OR b IS NULL" in missing_ends_cypher(start, end)


@pytest.mark.parametrize("rel", sorted(REL_TYPES))
def test_date_times_are_converted_in_cypher(rel: str) -> None:
    start, end = REL_TYPES[rel].ends[0]
    cypher = rel_upsert_cypher(rel, start, end)
    for prop in REL_TYPES[rel].props:
        if prop.type == "datetime":
            name = prop.name
            assert f"r.{name} = coalesce(datetime(row.dt.{name}), r.{name})" in cypher


@pytest.mark.parametrize("name", ["Person`) DETACH DELETE n //", "person", "Nope", "", "`"])
def test_cypher_name_refuses_anything_outside_the_schema(name: str) -> None:
    with pytest.raises(SchemaError):
        cypher_name(name)


def test_profile_is_one_round_trip_on_the_key() -> None:
    assert PROFILE.count("MATCH (p:Person {id: $id})") == 1


def test_every_label_gets_a_uniqueness_constraint() -> None:
    names = {m.name for m in migrations()}
    for label in NODE_TYPES:
        assert f"relgraph_{label.lower()}_id" in names
    assert all("IF NOT EXISTS" in m.cypher for m in migrations())
