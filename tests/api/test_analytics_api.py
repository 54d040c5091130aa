"""The analytics over GraphQL, on both stores: a customer's card (health with components, churn
risk with factors, anomalies, onboarding, relationship level with its rule, timeline), the
at-risk list, today's outreach, cohorts, the customer count, competitor drift and topic surge —
the shapes the issue fixes, answered from a world whose answers are known."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analytics.worlds import AS_OF, Builder, at, daily
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio
WHEN = "2026-11-01T00:00:00Z"

CARD = """query($id: ID!) { customer(id: $id, asOf: "2026-11-01T00:00:00Z") {
  id name plan mrr status
  health { score status components summary }
  churnRisk { probability factors }
  anomalies onboarding
  relationshipLevel { level rule }
  timeline } }"""


def world(b: Builder) -> None:
    """An exporter about to leave, a steady account, a stalled sign-up, and 30 subscribers of
    a plain customer table (attributes, a churned flag) so the churn model has data."""
    b.customer("exporter.io", plan="pro", mrr=300.0, status="active")
    eve = b.person("eve@exporter.io", "exporter.io", title="VP Sales", known=0.6)
    daily(b, "login", eve, range(112))
    for k in range(1, 16):
        b.event("data_exported", at(7 * k + 3), eve)
    for n in range(20):
        b.event("data_exported", at(2, hours=9 + n * 0.1), eve)
    b.concern("t1", eve, at(5), topics=("churn",), status="open")
    b.customer("steady.io", plan="pro", mrr=500.0, status="active")
    ann = b.person("ann@steady.io", "steady.io", title="CTO")
    daily(b, "login", ann, range(112))
    b.customer("newbie.io", status="trial")
    new = b.person("new@newbie.io", "newbie.io")
    b.event("sign_up", at(20), new)
    b.event("login", at(19), new)
    for i in range(30):  # subscribers: month-to-month ones churn more
        monthly = i % 3 != 0
        b.person_customer(f"sub{i:02}", f"sub{i:02}@inbox.io", plan="basic", mrr=20.0 + i,
                          contract="Month-to-month" if monthly else "Two year",
                          churned=(i % 2 == 0) if monthly else (i % 9 == 0),
                          attributes={"region": "EU" if i % 4 else "US"})
    b.customer("rival.io", name="Rival")
    b.companies[-1]["competitor"] = True
    b.customers.pop()  # a competitor, not a customer
    b.accounts.pop()
    for n in range(4):
        rival = b.person(f"r{n}@rival.io", "rival.io")
        b.knows.append({"from": eve, "to": rival, "since": AS_OF - timedelta(days=3 + n)})


@pytest.fixture
async def world_api(api: Api) -> Api:
    b = Builder(api.store, api.settings.data_dir)
    world(b)
    b.build()
    return api


async def test_a_customers_card(world_api: Api) -> None:
    data = await world_api.gql(CARD, {"id": "exporter.io"})
    card = data["customer"]
    assert (card["id"], card["name"], card["plan"], card["mrr"]) == \
        ("exporter.io", "Exporter", "pro", 300.0)
    health = card["health"]
    assert 0 <= health["score"] <= 100 and health["status"] in ("at risk", "watch", "healthy")
    names = {c["name"]: c for c in health["components"]}
    assert set(names) == {"activity", "spend", "adoption", "concerns", "breadth"}
    assert names["concerns"]["value"] == pytest.approx(1 - 1 / 3, abs=1e-3)  # one open
    assert "1 open concern" in names["concerns"]["detail"]
    (burst, *_rest) = [a for a in card["anomalies"] if a["kind"] == "export_burst"]
    assert burst["numbers"]["exports"] == 20 and burst["numbers"]["ratio"] == 20.0
    assert card["relationshipLevel"]["level"] in ("trusted adviser", "partner",
                                                  "credible source", "transactional",
                                                  "commodity")
    assert card["relationshipLevel"]["rule"]
    kinds = [t["kind"] for t in card["timeline"]]
    assert "concern" in kinds and "data_exported" in kinds
    assert card["timeline"][0]["at"] >= card["timeline"][-1]["at"]  # newest first
    # a subscriber of the plain table has a churn probability with its factors in words
    sub = (await world_api.gql(CARD, {"id": "sub01"}))["customer"]
    risk = sub["churnRisk"]
    assert 0 < risk["probability"] < 1 and risk["factors"]
    assert all(f["text"] for f in risk["factors"])
    assert (await world_api.gql(CARD, {"id": "nobody"}))["customer"] is None


async def test_onboarding_on_the_card(world_api: Api) -> None:
    card = (await world_api.gql(CARD, {"id": "newbie.io"}))["customer"]
    assert card["onboarding"]["stalled"] is True
    assert card["onboarding"]["signup_from"] == "sign-up event"
    assert card["onboarding"]["logins_per_week"][0] == 1


async def test_lists(world_api: Api) -> None:
    data = await world_api.gql(f"""{{
      atRiskCustomers(first: 5, asOf: "{WHEN}") {{ totalCount edges {{ node {{ id
        health {{ score }} }} }} }}
      competitorDrift(asOf: "{WHEN}") {{ customer {{ id }} newConnections ratio competitors
        drifting people {{ id }} text }}
      customerCount(asOf: "{WHEN}") {{ total subscription customerRecords merged }}
      cohorts(period: "month", asOf: "{WHEN}") {{ period active rows {{ cohort size share }} }}
      topicSurge(asOf: "{WHEN}") {{ topic {{ id }} intent }}
    }}""")
    risky = [e["node"] for e in data["atRiskCustomers"]["edges"]]
    scores = [n["health"]["score"] for n in risky]
    assert scores == sorted(scores) and all(s < 40 for s in scores)
    (drifting,) = data["competitorDrift"]
    assert drifting["customer"]["id"] == "exporter.io" and drifting["newConnections"] == 4
    assert drifting["competitors"] == [{"competitor": "Rival", "connections": 4}]
    assert drifting["people"] == [{"id": "eve@exporter.io"}]
    count = data["customerCount"]
    assert count["total"] >= 2 and count["customerRecords"] == count["total"] + count["merged"]
    assert data["cohorts"]["period"] == "month" and data["cohorts"]["rows"]
    assert data["topicSurge"] == []


async def test_outreach_list(world_api: Api) -> None:
    data = await world_api.gql("""{ outreachList(date: "2026-10-31", first: 3) {
      person { id name } customer { id name } kind reason } }""")
    found = data["outreachList"]
    assert len(found) <= 3 and found
    first: dict[str, Any] = found[0]
    assert first["kind"] == "struggling" and first["person"]["id"] == "eve@exporter.io"
    assert "exports" in first["reason"]
    bad = await world_api.error('{ outreachList(first: 0) { kind } }')
    assert bad["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_card_comes_from_the_cache_and_a_load_refreshes_it(world_api: Api) -> None:
    first = (await world_api.gql(CARD, {"id": "steady.io"}))["customer"]["health"]["score"]
    again = (await world_api.gql(CARD, {"id": "steady.io"}))["customer"]["health"]["score"]
    assert first == again
    cache = Path(world_api.settings.data_dir) / "analytics-cache"
    assert list(cache.glob("*.pickle"))
    # a load (here: the pipeline's writer through a mutation) changes the data's version:
    # the next answer is recomputed with the new concern
    await world_api.gql("""mutation { recordConcern(input: {person: "ann@steady.io",
        text: "The export keeps failing", channel: TICKET, at: "2026-10-30T10:00:00Z"}) { id } }""",
                        scope="write")
    after = (await world_api.gql(CARD, {"id": "steady.io"}))["customer"]["health"]
    concerns = {c["name"]: c for c in after["components"]}["concerns"]
    assert "1 open concern" in concerns["detail"] and after["score"] < first
