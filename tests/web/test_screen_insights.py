"""Beside the feed: health at a glance, the accounts at risk and today's outreach, on a
generated world loaded through the connectors (both stores), and the screen's filters on them:
an account filter keeps one account's, an owner filter the accounts and people that member of
our team knows."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.web.signin import COOKIE
from connectors.manifest import read_manifest
from connectors.pipeline import Loader
from connectors.source import source
from connectors.team import add_member
from demoworld.world import generate
from graph.model import MAX_LIMIT
from graph.questions.entities import CONNECTIONS, PEOPLE, ConnectionsQuery, PeopleQuery
from graph.store import GraphStore
from tests.api.conftest import api_settings, make_tokens

BASE = "http://relgraph.test"
OWNER = "maya@lumenmetrics.com"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(store: GraphStore, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    world = tmp_path / "world"
    generate(world, companies=40, seed=3,
             as_of=datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0))
    data = tmp_path / "data"
    with (world / "team.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            add_member(store, row["email"], name=row["name"], title=row["title"])
    for spec in read_manifest(world / "manifest.toml"):
        summary = Loader(store, data_dir=data).run(source(spec.source), spec.paths,
                                                   spec.context())
        assert summary.rejected == 0, summary.examples
    settings = api_settings(data, analytics_config=world / "analytics.toml")
    app = create_app(settings, store=store)
    token = make_tokens(settings)["read"]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE,
            headers={"Cookie": f"{COOKIE}={token}", "Origin": BASE}) as http:
        yield http


async def _insights(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get("/screens/data/insights", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.mark.anyio
async def test_the_panels_hold_the_worlds_customers(client: httpx.AsyncClient) -> None:
    data = await _insights(client)
    assert data["customers"] > 10
    health = data["health"]
    assert sum(health["by_status"].values()) == health["scored"] > 0
    # the glance counts the customers we still have: churned ones apart
    assert health["churned"] > 0 and health["scored"] + health["churned"] <= data["customers"]
    assert data["outreach"] and all(r["reason"] and r["person"]["href"].startswith("/people/")
                                    for r in data["outreach"])
    assert all(a["href"] and a["summary"] for a in data["at_risk"])


@pytest.mark.anyio
async def test_the_owner_filter_keeps_whom_they_know(client: httpx.AsyncClient,
                                                     store: GraphStore) -> None:
    everyone = await _insights(client)
    mine = await _insights(client, owner=OWNER)
    known = {c.person_id for c in store.ask(
        CONNECTIONS, ConnectionsQuery((OWNER,), limit=MAX_LIMIT))[OWNER]}
    cards = store.ask(PEOPLE, PeopleQuery(tuple(known), brief=True))
    accounts = {f"company:{j.company_id}" for c in cards.values() for j in c.current}
    accounts |= {f"person:{p}" for p in known}
    assert mine["outreach"] and {r["person"]["id"] for r in mine["outreach"]} <= known
    assert {a["id"] for a in mine["at_risk"]} <= accounts
    assert 0 < mine["customers"] < everyone["customers"]
    # someone on everyone's list she does not know is not on hers
    others = [r for r in everyone["outreach"] if r["person"]["id"] not in known]
    assert others and not {r["person"]["id"] for r in others} & {
        r["person"]["id"] for r in mine["outreach"]}
    # with the account filter too: that account's, if she knows someone there
    account = mine["at_risk"][0]["id"].removeprefix("company:") if mine["at_risk"] else None
    if account is not None:
        both = await _insights(client, owner=OWNER, account=account)
        assert {a["id"] for a in both["at_risk"]} == {f"company:{account}"}
