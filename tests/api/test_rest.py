"""REST for sales tools and e-mail tools: the look-up and the CSV export, on both stores."""

from __future__ import annotations

import csv
import io

import pytest

from api import rest
from tests.api.conftest import AS_OF, Api

pytestmark = pytest.mark.anyio


async def test_lookup_by_email_shows_who_knows_them_concerns_and_triggers(demo_api: Api) -> None:
    response = await demo_api.client.get("/v1/lookup", headers=demo_api.auth(), params={
        "email": "ADA@acme.com", "asOf": AS_OF, "triggersWithin": "90d"})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["person"] == {"id": "ada@acme.com", "name": "Ada Lovelace",
                               "email": "ada@acme.com", "title": "VP Customer Success"}
    assert found["company"] == {"id": "acme.com", "name": "Acme Corp", "domain": "acme.com",
                                "flags": ["customer"]}
    assert found["knownBy"] == [{"id": "maya@relgraph.io", "name": "Maya Chen",
                                 "title": "Customer Success Lead", "strength": 0.9}]
    (concern,) = found["openConcerns"]
    assert concern["id"] == "acme-call-2026-10-20" and concern["topics"] == ["churn"]
    assert found["recentTriggers"] == [{"id": "acme-series-c", "type": "funding_round",
                                        "at": "2026-10-15T00:00:00Z",
                                        "headline": "Acme raises a Series C"}]


async def test_lookup_by_domain_lists_the_people_we_know_there(demo_api: Api) -> None:
    response = await demo_api.client.get("/v1/lookup", headers=demo_api.auth(), params={
        "domain": "https://www.acme.com/", "asOf": AS_OF})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["company"]["id"] == "acme.com"
    assert [(p["id"], [k["id"] for k in p["knownBy"]]) for p in found["known"]] == [
        ("ada@acme.com", ["maya@relgraph.io"]), ("zoë@acme.com", ["tom@relgraph.io"])]
    assert [c["person"] for c in found["openConcerns"]] == ["zoë@acme.com", "ada@acme.com"]
    assert [t["id"] for t in found["recentTriggers"]] == ["acme-series-c"]


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"email": "nobody@acme.com"}, 404, "NOT_FOUND"),
    ({"domain": "nowhere.example"}, 404, "NOT_FOUND"),
    ({"email": "a..b@acme.com"}, 400, "BAD_USER_INPUT"),
    ({"email": "ada@acme.com", "domain": "acme.com"}, 400, "BAD_USER_INPUT"),
    ({}, 400, "BAD_USER_INPUT"),
    ({"email": "ada@acme.com", "asOf": "2026-11-01T00:00:00"}, 400, "BAD_USER_INPUT"),
    ({"email": "ada@acme.com", "triggersWithin": "a while"}, 400, "BAD_USER_INPUT"),
])
async def test_lookup_errors(demo_api: Api, params: dict[str, str], status: int,
                             code: str) -> None:
    response = await demo_api.client.get("/v1/lookup", headers=demo_api.auth(), params=params)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def export(api: Api, **params: str) -> list[list[str]]:
    response = await api.client.get("/v1/export/connections.csv", headers=api.auth(), params={
        "readTopic": "crm", "concernTopic": "churn", "asOf": AS_OF, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.text)))


async def test_export_has_the_connections_with_their_evidence(demo_api: Api) -> None:
    rows = await export(demo_api)
    assert rows[0] == rest.EXPORT_COLUMNS
    assert [r[0] for r in rows[1:]] == ["zoë@acme.com", "ada@acme.com", "raj@globex.com"]
    ada = dict(zip(rows[0], rows[2], strict=True))
    assert ada["email"] == "ada@acme.com" and ada["title"] == "VP Customer Success"
    assert ada["companies"] == "Acme Corp (acme.com)" and ada["known_by"] == "maya@relgraph.io"
    assert "crm-playbook" in ada["read"] and "Renewal at risk" in ada["concerns"]
    assert [r[0] for r in (await export(demo_api, of="maya@relgraph.io"))[1:]] == [
        "ada@acme.com", "raj@globex.com"]


async def test_export_streams_every_page_and_neutralises_formulas(
        demo_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    await demo_api.gql('mutation { upsertPerson(input: {email: "ada@acme.com", '
                       'name: "=HYPERLINK(\\"http://evil\\")"}) { id } }', scope="write")
    monkeypatch.setattr(rest, "MAX_LIMIT", 1)  # one person per page: three pages
    rows = await export(demo_api)
    assert [r[0] for r in rows[1:]] == ["zoë@acme.com", "ada@acme.com", "raj@globex.com"]
    assert rows[2][1] == "'=HYPERLINK(\"http://evil\")"


@pytest.mark.parametrize(("params", "field"), [
    ({"readWithin": "soon"}, "readWithin"), ({"of": "not a person"}, "of"),
    ({"contentKind": "tweet"}, "contentKind"), ({"asOf": "yesterday"}, "asOf"),
])
async def test_export_refuses_bad_filters_before_streaming(demo_api: Api,
                                                           params: dict[str, str],
                                                           field: str) -> None:
    response = await demo_api.client.get("/v1/export/connections.csv", headers=demo_api.auth(),
                                         params={"readTopic": "crm", "concernTopic": "churn",
                                                 **params})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["message"].startswith(field)
