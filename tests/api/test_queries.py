"""Every question over HTTP, on both stores: the same answers, field by field."""

from __future__ import annotations

import pytest

from tests.api.conftest import AS_OF, Api
from tests.conformance.test_questions import PLAYBOOK, WEBINAR

pytestmark = pytest.mark.anyio

CONNECTIONS = """
query ($of: ID, $first: Int, $after: String, $kind: ContentKind) {
  connections(of: $of, readTopic: "crm", concernTopic: "churn", contentKind: $kind,
              readWithin: "90d", concernWithin: "30d", asOf: "%s", first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      person { id name email currentCompanies { id name } }
      via { id name }
      reads { content { id title kind } firstAt lastAt count }
      concerns { id text channel at topics { id } } } }
  }
}""".replace("%s", AS_OF)


async def test_connections_answer_with_the_whole_evidence(demo_api: Api) -> None:
    data = (await demo_api.gql(CONNECTIONS))["connections"]
    assert data["totalCount"] == 3
    nodes = [e["node"] for e in data["edges"]]
    assert [(n["person"]["id"], [v["id"] for v in n["via"]]) for n in nodes] == [
        ("zoë@acme.com", ["tom@relgraph.io"]), ("ada@acme.com", ["maya@relgraph.io"]),
        ("raj@globex.com", ["maya@relgraph.io"])]
    ada = nodes[1]
    assert ada["person"] == {"id": "ada@acme.com", "name": "Ada Lovelace",
                             "email": "ada@acme.com",
                             "currentCompanies": [{"id": "acme.com", "name": "Acme Corp"}]}
    assert ada["via"] == [{"id": "maya@relgraph.io", "name": "Maya Chen"}]
    assert ada["reads"] == [{
        "content": {"id": PLAYBOOK, "title": "The CRM Playbook for Customer Success",
                    "kind": "WHITE_PAPER"},
        "firstAt": "2026-10-10T14:03:00Z", "lastAt": "2026-10-12T08:30:00Z", "count": 2}]
    (concern,) = ada["concerns"]
    assert concern["id"] == "acme-call-2026-10-20" and concern["channel"] == "call"
    assert concern["at"] == "2026-10-20T15:00:00Z" and concern["topics"] == [{"id": "churn"}]
    assert concern["text"].startswith("Renewal at risk")
    assert nodes[0]["reads"][0]["content"]["id"] == WEBINAR


async def test_connections_page_by_cursor(demo_api: Api) -> None:
    first = (await demo_api.gql(CONNECTIONS, {"first": 2}))["connections"]
    assert [e["node"]["person"]["id"] for e in first["edges"]] == ["zoë@acme.com",
                                                                   "ada@acme.com"]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    rest = (await demo_api.gql(CONNECTIONS, {"first": 2,
                                             "after": first["pageInfo"]["endCursor"]}))
    page = rest["connections"]
    assert [e["node"]["person"]["id"] for e in page["edges"]] == ["raj@globex.com"]
    assert page["totalCount"] == 3 and not page["pageInfo"]["hasNextPage"]
    assert page["pageInfo"]["hasPreviousPage"]


async def test_connections_of_one_person_and_of_a_kind(demo_api: Api) -> None:
    data = (await demo_api.gql(CONNECTIONS, {"of": " MAYA@RelGraph.IO "}))["connections"]
    assert [e["node"]["person"]["id"] for e in data["edges"]] == ["ada@acme.com",
                                                                  "raj@globex.com"]
    webinars = (await demo_api.gql(CONNECTIONS, {"kind": "WEBINAR"}))["connections"]
    assert [e["node"]["person"]["id"] for e in webinars["edges"]] == ["zoë@acme.com"]


async def test_connections_of_nobody_is_not_found(demo_api: Api) -> None:
    error = await demo_api.error(CONNECTIONS, {"of": "nobody@nowhere.com"})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "nobody@nowhere.com" in error["message"]


async def test_companies_by_connections_are_ranked_with_their_people(demo_api: Api) -> None:
    data = (await demo_api.gql("""{ companiesByConnections(readTopic: "crm",
        concernTopic: "churn", asOf: "%s") { totalCount edges { node {
        company { id name } count people { id name } } } } }""".replace("%s", AS_OF)))
    found = data["companiesByConnections"]
    assert found["totalCount"] == 2
    assert [e["node"] for e in found["edges"]] == [
        {"company": {"id": "acme.com", "name": "Acme Corp"}, "count": 2,
         "people": [{"id": "ada@acme.com", "name": "Ada Lovelace"},
                    {"id": "zoë@acme.com", "name": "Zoë Brontë"}]},
        {"company": {"id": "globex.com", "name": "Globex"}, "count": 1,
         "people": [{"id": "raj@globex.com", "name": "Raj Patel"}]}]


async def test_warm_paths_shortest_then_strongest(demo_api: Api) -> None:
    data = await demo_api.gql("""{ warmPaths(from: "maya@relgraph.io", to: "ines@umbrella.com",
        maxHops: 3) { totalCount edges { node { hops strength people {
          person { id name } title company { id name } } } } } }""")
    paths = data["warmPaths"]
    assert paths["totalCount"] == 1
    (path,) = [e["node"] for e in paths["edges"]]
    assert path["hops"] == 2 and path["strength"] == pytest.approx(0.18)
    assert [s["person"]["id"] for s in path["people"]] == [
        "maya@relgraph.io", "ada@acme.com", "ines@umbrella.com"]
    assert path["people"][1]["company"] == {"id": "acme.com", "name": "Acme Corp"}
    assert path["people"][1]["title"] == "VP Customer Success"


async def test_warm_paths_errors_are_clean(demo_api: Api) -> None:
    unknown = await demo_api.error(
        '{ warmPaths(from: "maya@relgraph.io", to: "x@nowhere.com") { totalCount } }')
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    too_far = await demo_api.error(
        '{ warmPaths(from: "maya@relgraph.io", to: "ada@acme.com", maxHops: 9) '
        '{ totalCount } }')
    assert too_far["extensions"]["code"] == "BAD_USER_INPUT"
    assert "max_hops" in too_far["message"]


TRIGGERS = """query ($types: [TriggerType!], $known: Boolean) {
  triggers(since: "2026-09-01T00:00:00Z", types: $types, whereWeKnowSomeone: $known,
           asOf: "%s") {
    totalCount
    edges { node { id type at headline amount currency round company { id name }
                   topics { id } known { person { id name title } via { id } strength } } }
  }
}""".replace("%s", AS_OF)


async def test_triggers_with_who_we_know_there(demo_api: Api) -> None:
    data = (await demo_api.gql(TRIGGERS))["triggers"]
    nodes = [e["node"] for e in data["edges"]]
    assert [n["id"] for n in nodes] == ["initech-new-vp", "acme-series-c"]
    acme = nodes[1]
    assert acme["type"] == "FUNDING_ROUND" and acme["amount"] == 40_000_000.0
    assert acme["company"] == {"id": "acme.com", "name": "Acme Corp"}
    assert [(k["person"]["id"], [v["id"] for v in k["via"]], k["strength"])
            for k in acme["known"]] == [("ada@acme.com", ["maya@relgraph.io"], 0.9),
                                        ("zoë@acme.com", ["tom@relgraph.io"], 0.6)]
    only = (await demo_api.gql(TRIGGERS, {"types": ["LEADERSHIP_CHANGE"]}))["triggers"]
    assert [e["node"]["id"] for e in only["edges"]] == ["initech-new-vp"]


async def test_person_by_email_or_id_with_everything_a_person_has(demo_api: Api) -> None:
    query = """query ($email: String, $id: ID) { person(email: $email, id: $id,
        asOf: "%s") { id name email title currentJobs { title company { id name } }
        pastCompanies { id } currentCompanies { id name flags }
        connections(first: 1) { totalCount pageInfo { hasNextPage }
                                edges { node { person { id } strength } } }
        knownBy { person { id name } strength } openConcerns { id topics { id } }
        concerns { id } topicsRead { topic { id } contents reads lastAt } } }"""
    query = query.replace("%s", AS_OF)
    ada = (await demo_api.gql(query, {"email": "Ada@ACME.com"}))["person"]
    assert ada["id"] == "ada@acme.com" and ada["name"] == "Ada Lovelace"
    assert ada["title"] == "VP Customer Success"
    assert ada["currentJobs"] == [{"title": "VP Customer Success",
                                   "company": {"id": "acme.com", "name": "Acme Corp"}}]
    assert ada["currentCompanies"] == [{"id": "acme.com", "name": "Acme Corp",
                                        "flags": ["CUSTOMER"]}]
    assert ada["connections"]["totalCount"] == 2
    assert ada["connections"]["pageInfo"]["hasNextPage"]
    assert ada["connections"]["edges"] == [{"node": {"person": {"id": "maya@relgraph.io"},
                                                     "strength": 0.9}}]
    assert ada["knownBy"] == [{"person": {"id": "maya@relgraph.io", "name": "Maya Chen"},
                               "strength": 0.9}]
    assert ada["openConcerns"] == [{"id": "acme-call-2026-10-20", "topics": [{"id": "churn"}]}]
    assert ada["topicsRead"][0]["topic"] == {"id": "crm"}
    assert (await demo_api.gql(query, {"id": "ada@acme.com"}))["person"] == ada
    assert (await demo_api.gql(query, {"email": "nobody@acme.com"}))["person"] is None


async def test_company_by_domain_with_people_customers_triggers(demo_api: Api) -> None:
    data = await demo_api.gql("""{ company(domain: "https://www.ACME.com/pricing", asOf: "%s") {
        id name domain flags people { id name } pastPeople { id }
        customers { id } triggers { id type headline } properties } }""".replace("%s", AS_OF))
    acme = data["company"]
    assert (acme["id"], acme["name"], acme["domain"]) == ("acme.com", "Acme Corp", "acme.com")
    assert acme["flags"] == ["CUSTOMER"]
    assert [p["id"] for p in acme["people"]] == ["ada@acme.com", "zoë@acme.com"]
    assert acme["triggers"] == [{"id": "acme-series-c", "type": "FUNDING_ROUND",
                                 "headline": "Acme raises a Series C"}]
    assert acme["properties"]["industry"] == "Manufacturing"
    missing = await demo_api.gql('{ company(id: "nowhere.example") { id } }')
    assert missing["company"] is None


async def test_search_finds_people_and_companies(demo_api: Api) -> None:
    data = await demo_api.gql("""{ search(text: "zoe bron", first: 5) { totalCount
        edges { node { label id name score node { __typename ... on Person { email } } } } } }""")
    (hit,) = [e["node"] for e in data["search"]["edges"]]
    assert hit["label"] == "Person" and hit["id"] == "zoë@acme.com"
    assert hit["node"] == {"__typename": "Person", "email": "zoë@acme.com"}
    blank = await demo_api.error('{ search(text: "  ") { totalCount } }')
    assert blank["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("first", [0, 1001, -1])
async def test_page_size_is_capped(demo_api: Api, first: int) -> None:
    error = await demo_api.error(CONNECTIONS, {"first": first})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 1 and 1000" in error["message"]


async def test_bad_cursor_and_bad_duration_are_user_errors(demo_api: Api) -> None:
    cursor = await demo_api.error(CONNECTIONS, {"after": "not-a-cursor"})
    assert cursor["extensions"]["code"] == "BAD_USER_INPUT"
    duration = await demo_api.error('{ connections(readTopic: "crm", concernTopic: "churn", '
                                    'readWithin: "3 months") { totalCount } }')
    assert duration["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")
    assert "Duration" in duration["message"]
    naive = await demo_api.error('{ connections(readTopic: "crm", concernTopic: "churn", '
                                 'asOf: "2026-11-01T00:00:00") { totalCount } }')
    assert "timezone" in naive["message"] or "zone" in naive["message"]
