"""Mutations write through the load pipeline (same keys, tagging, event log) and are visible to
the questions at once, on both stores; bad input is refused with a message naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from api.writes import rejects
from connectors.pipeline import LoadSummary
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio

PERSON = """mutation ($input: PersonInput!) { upsertPerson(input: $input) {
  id name email title currentCompanies { id name } pastCompanies { id } } }"""
COMPANY = """mutation ($input: CompanyInput!) { upsertCompany(input: $input) {
  id name domain flags } }"""


async def write(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return await api.gql(query, variables, scope="write")


async def test_upsert_person_normalises_keys_like_a_load(api: Api) -> None:
    data = await write(api, PERSON, {"input": {
        "email": " Ada.Lovelace+crm@GMAIL.com ", "name": "Ada Lovelace", "title": "CTO",
        "company": {"domain": "https://www.acme.com/about", "name": "Acme Corp"},
        "observedAt": "2026-10-01T00:00:00Z"}})
    ada = data["upsertPerson"]
    assert ada["id"] == "adalovelace@gmail.com"  # gmail: dots and +tags folded
    assert ada["currentCompanies"] == [{"id": "acme.com", "name": "Acme Corp"}]
    assert ada["title"] == "CTO" and ada["name"] == "Ada Lovelace"
    moved = await write(api, PERSON, {"input": {
        "email": "adalovelace@gmail.com", "title": "CEO",
        "company": {"domain": "globex.com", "name": "Globex"},
        "observedAt": "2026-11-01T00:00:00Z"}})
    assert moved["upsertPerson"]["currentCompanies"] == [{"id": "globex.com", "name": "Globex"}]
    assert moved["upsertPerson"]["pastCompanies"] == [{"id": "acme.com"}]
    assert moved["upsertPerson"]["name"] == "Ada Lovelace"  # kept from before


async def test_upsert_company_sets_flags(api: Api) -> None:
    data = await write(api, COMPANY, {"input": {"domain": "ada@Initech.COM", "name": "Initech",
                                                "flags": ["PROSPECT"], "size": 120}})
    assert data["upsertCompany"] == {"id": "initech.com", "name": "Initech",
                                     "domain": "initech.com", "flags": ["PROSPECT"]}
    data = await write(api, COMPANY, {"input": {"domain": "initech.com",
                                                "flags": ["CUSTOMER"]}})
    assert data["upsertCompany"]["flags"] == ["CUSTOMER", "PROSPECT"]


@pytest.mark.parametrize(("query", "variables", "field"), [
    (PERSON, {"input": {"email": "a..b@x.com"}}, "input.email"),
    (PERSON, {"input": {"name": "No key"}}, "input"),
    (PERSON, {"input": {"email": "a@acme.com", "company": {"domain": "gmail.com"}}},
     "input.company.domain"),
    (PERSON, {"input": {"email": "a@acme.com", "name": "bad\u0000name"}}, "input.name"),
    (COMPANY, {"input": {}}, "input"),
    (COMPANY, {"input": {"domain": "acme.com", "size": -3}}, "input.size"),
    ("mutation { connect(input: {a: \"a@acme.com\", b: \"A@acme.com\"}) { source } }", None,
     "input.b"),
    ("mutation { connect(input: {a: \"a@acme.com\", b: \"b@acme.com\", strength: 1.5}) "
     "{ source } }", None, "input.strength"),
    ("mutation { tagContent(input: {url: \"ftp://x.org/a\", topics: [\"crm\"]}) "
     "{ content { id } } }", None, "input.url"),
    ("mutation { recordConcern(input: {person: \"not a person\", text: \"x\", "
     "at: \"2026-10-01T00:00:00Z\"}) { id } }", None, "input.person"),
])
async def test_bad_input_is_refused_naming_the_field(api: Api, query: str,
                                                     variables: dict[str, Any] | None,
                                                     field: str) -> None:
    before = api.store.counts()
    error = await api.error(query, variables, scope="write")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(field), error["message"]
    assert api.store.counts() == before


async def test_a_naive_date_time_or_unknown_enum_is_refused(api: Api) -> None:
    naive = await api.error(PERSON, {"input": {"email": "a@acme.com",
                                               "observedAt": "2026-10-01T00:00:00"}},
                            scope="write")
    assert naive["extensions"]["code"] == "BAD_USER_INPUT" and "zone" in naive["message"]
    enum = await api.error(COMPANY, {"input": {"domain": "acme.com", "flags": ["FRIEND"]}},
                           scope="write")
    assert enum["extensions"]["code"] == "BAD_USER_INPUT"


EVENTS = """mutation ($events: [EventInput!]!) { recordEvents(events: $events) {
  accepted rejected { index reason } } }"""


async def test_record_events_writes_meaningful_ones_and_lists_the_refused(api: Api) -> None:
    events = [
        {"id": "e1", "type": "setup_completed", "at": "2026-10-01T10:00:00Z",
         "person": "ada@acme.com", "account": "acme.com", "properties": {"step": 3}},
        {"id": "e2", "type": "feature_used", "at": "2026-10-01T10:05:00Z",
         "person": "ada@acme.com"},
        {"id": "e3", "type": "Not A Type", "at": "2026-10-01T10:05:00Z",
         "person": "ada@acme.com"},
        {"id": "e4", "type": "login", "at": "2026-10-01T10:05:00Z", "person": "a..b@x.com"},
        {"id": "e5", "type": "login", "at": "2026-10-01T10:05:00Z"},
    ]
    result = (await write(api, EVENTS, {"events": events}))["recordEvents"]
    assert result["accepted"] == 2
    assert [(r["index"], r["reason"].split(":")[0]) for r in result["rejected"]] == [
        (2, "events[2].type"), (3, "events[3].person"), (4, "events[4]")]
    assert api.store.existing("Event", ["api:e1", "api:e2"]) == {"api:e1"}
    ada = await api.gql('{ person(email: "ada@acme.com") { id } }')
    assert ada["person"] == {"id": "ada@acme.com"}
    counts = api.store.counts()
    again = (await write(api, EVENTS, {"events": events[:2]}))["recordEvents"]
    assert again["accepted"] == 2 and api.store.counts() == counts  # nothing new


async def test_a_mutated_world_answers_the_questions(api: Api) -> None:
    """Our team, a connection, what they read and the concern they raised, all written through
    mutations, are found by the connections question at once."""
    await write(api, COMPANY, {"input": {"domain": "relgraph.io", "flags": ["OWN"]}})
    await write(api, PERSON, {"input": {"email": "maya@relgraph.io", "name": "Maya",
                                        "company": {"domain": "relgraph.io"},
                                        "observedAt": "2026-01-01T00:00:00Z"}})
    await write(api, PERSON, {"input": {"email": "ada@acme.com", "name": "Ada",
                                        "company": {"domain": "acme.com", "name": "Acme"},
                                        "observedAt": "2026-01-01T00:00:00Z"}})
    knows = await write(api, """mutation { connect(input: {a: "maya@relgraph.io",
        b: "Ada@Acme.com", strength: 0.8, source: "crm"}) { a { id } b { id } strength } }""", {})
    assert knows["connect"] == {"a": {"id": "maya@relgraph.io"}, "b": {"id": "ada@acme.com"},
                                "strength": 0.8}
    tagged = await write(api, """mutation { tagContent(input: {
        url: "https://www.relgraph.io/papers/crm-playbook?utm_source=x",
        title: "The CRM Playbook", kind: WHITE_PAPER}) {
        content { id title kind } topics { topic { id } matched } } }""", {})
    assert tagged["tagContent"]["content"] == {
        "id": "https://www.relgraph.io/papers/crm-playbook", "title": "The CRM Playbook",
        "kind": "WHITE_PAPER"}
    assert [t["topic"]["id"] for t in tagged["tagContent"]["topics"]] == ["crm"]
    read = await write(api, """mutation { recordRead(input: {person: "ada@acme.com",
        url: "https://www.relgraph.io/papers/crm-playbook", at: "2026-10-10T09:00:00Z"}) {
        person { id } content { id } } }""", {})
    assert read["recordRead"]["content"]["id"] == "https://www.relgraph.io/papers/crm-playbook"
    concern = await write(api, """mutation { recordConcern(input: {person: "ada@acme.com",
        text: "We are thinking about cancellation before the renewal", channel: CALL,
        at: "2026-10-20T15:00:00Z", id: "call-1"}) { id channel topics { id } } }""", {})
    assert concern["recordConcern"]["id"] == "call-1"
    assert {"churn", "renewal"} <= {t["id"] for t in concern["recordConcern"]["topics"]}
    found = await api.gql("""{ connections(readTopic: "crm", concernTopic: "churn",
        asOf: "2026-11-01T00:00:00Z") { totalCount edges { node { person { id }
        via { id } reads { content { id } count } concerns { id channel topics { id } } } } } }""")
    (node,) = [e["node"] for e in found["connections"]["edges"]]
    assert node["person"] == {"id": "ada@acme.com"}
    assert node["via"] == [{"id": "maya@relgraph.io"}]
    assert node["reads"] == [{"content": {"id": "https://www.relgraph.io/papers/crm-playbook"},
                              "count": 1}]
    assert node["concerns"][0]["id"] == "call-1" and node["concerns"][0]["channel"] == "call"
    sources = api.store.counts()
    assert sources.relationships["READ"] == 1 and sources.relationships["KNOWS"] == 1


def test_pipeline_rejects_name_the_input_line() -> None:
    summary = LoadSummary("api", [], rejected=2,
                          examples=["<api>:3: field 'at': not an ISO-8601 date-time", "odd"])
    assert rejects(summary) == [(3, "field 'at': not an ISO-8601 date-time"), (0, "odd")]
