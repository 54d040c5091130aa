"""The schema's SDL, downloadable: `relgraph schema print` (a real process) and
GET /graphql/schema.graphql for a key holder. Both give the same text, a schema graphql-core
builds, with the queries users script against."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema

from tests.api.conftest import Api
from tests.worlds.cli import relgraph

NAMED = ("connections", "person", "customer", "atRiskCustomers", "cohorts", "topicSurge")


def _check(sdl: str) -> None:
    schema = build_schema(sdl)
    query = schema.query_type
    assert query is not None
    for field in NAMED:
        assert field in query.fields, field
    assert schema.mutation_type is not None and schema.subscription_type is not None


def test_relgraph_schema_print(tmp_path: Path) -> None:
    printed = relgraph("schema", "print", data=tmp_path / "data").stdout
    _check(printed)
    target = tmp_path / "schema.graphql"
    done = relgraph("schema", "print", "--output", str(target), data=tmp_path / "data")
    assert target.read_text() == printed
    assert "wrote" in done.stderr and done.stdout == ""


@pytest.mark.anyio
async def test_the_sdl_is_served_to_a_key_holder(api: Api, tmp_path: Path) -> None:
    refused = await api.client.get("/graphql/schema.graphql")
    assert refused.status_code == 401
    assert "type Query" not in refused.text
    served = await api.client.get("/graphql/schema.graphql", headers=api.auth("read"))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/graphql")
    _check(served.text)
    assert served.text == relgraph("schema", "print", data=tmp_path / "cli").stdout
