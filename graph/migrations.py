"""Neo4j schema migrations derived from `graph.schema`: idempotent, run by `relgraph init` and on
start of the Neo4j store. Uniqueness constraints come first so a load's MERGE is an index seek."""

from __future__ import annotations

from dataclasses import dataclass

from graph.schema import KEY, NODE_TYPES, cypher_name


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    cypher: str


def migrations() -> list[Migration]:
    steps: list[Migration] = []
    for label, ntype in NODE_TYPES.items():
        name = f"relgraph_{label.lower()}_{KEY}"
        steps.append(Migration(
            name,
            f"CREATE CONSTRAINT {name} IF NOT EXISTS "
            f"FOR (n:{cypher_name(label)}) REQUIRE n.{KEY} IS UNIQUE",
        ))
        for prop in ntype.indexed:
            name = f"relgraph_{label.lower()}_{prop}"
            steps.append(Migration(
                name,
                f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{cypher_name(label)}) ON (n.{prop})",
            ))
    return steps
