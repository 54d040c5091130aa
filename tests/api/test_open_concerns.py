"""Open concerns, on both stores, from a Zendesk export in its own CSV layout: a ticket is open
at asOf unless it was solved or closed by then; the headline question counts every concern
raised in its window, whatever became of it (a solved ticket still says what worried them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from connectors.pipeline import Loader
from connectors.records import PersonRef
from connectors.source import ReadContext, source
from connectors.team import add_member
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio

# Zendesk Support's CSV export (Admin Center > Reports > Export), every column it writes.
LEGACY = ["Summation column", "Id", "Requester", "Requester id", "Requester external id",
          "Requester email", "Requester domain", "Submitter", "Assignee", "Group", "Subject",
          "Description", "Tags", "Status", "Priority", "Via", "Ticket type", "Created at",
          "Updated at", "Assigned at", "Organization", "Due date", "Initially assigned at",
          "Solved at", "Resolution time", "Satisfaction Score"]
# (id, status, created, solved at, tags); the export was taken on 2026-11-10.
TICKETS = [
    ("5001", "new", "2026-10-25 09:00:00 +0000", "", "churn"),
    ("5002", "open", "2026-10-24 09:00:00 +0000", "", "churn"),
    ("5003", "pending", "2026-10-23 09:00:00 +0000", "", ""),
    ("5004", "hold", "2026-10-22 09:00:00 +0000", "", ""),
    ("5005", "solved", "2026-10-21 09:00:00 +0000", "2026-10-22 10:30:00 +0000", "churn"),
    ("5006", "closed", "2026-10-20 09:00:00 +0000", "2026-10-20 12:00:00 +0000", ""),
    ("5007", "solved", "2026-10-30 09:00:00 +0000", "2026-11-05 16:00:00 +0000", ""),
    ("5008", "closed", "2026-10-19 09:00:00 +0000", "", ""),  # solved before exports said when
    ("5009", "open", "2026-06-01 09:00:00 +0000", "", ""),  # outside the 90 days
]
# A call note has no status: open for as long as the window holds it.
NOTES = ("id,date,email,name,company,channel,subject,note,topics\n"
         "N-1,2026-10-26 10:00,ada@acme.com,Ada Lovelace,Acme Corp,call,Renewal,"
         "Budget is tight this year,\n")
AS_OF = "2026-11-01T00:00:00Z"
OPEN_AT_AS_OF = ["zendesk:5007", "notes:N-1", "zendesk:5001", "zendesk:5002", "zendesk:5003",
                 "zendesk:5004"]


def zendesk_export(path: Path) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEGACY)
    for ticket, status, created, solved, tags in TICKETS:
        row = dict.fromkeys(LEGACY, "")
        row.update({"Id": ticket, "Requester": "Ada Lovelace", "Requester id": "38110001",
                    "Requester email": "ada@acme.com", "Requester domain": "acme.com",
                    "Submitter": "Ada Lovelace", "Assignee": "Sam Agent", "Group": "Support",
                    "Subject": f"Ticket {ticket}", "Description": "Details to follow.",
                    "Tags": tags, "Status": status, "Priority": "normal", "Via": "Mail",
                    "Created at": created, "Updated at": solved or created,
                    "Organization": "Acme Corp", "Solved at": solved,
                    "Satisfaction Score": "Not Offered"})
        writer.writerow([row[c] for c in LEGACY])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
async def tickets(api: Api, tmp_path: Path) -> Api:
    """Maya (our team) knows Ada (her LinkedIn export), who read a CRM page, filed the tickets
    above and said something on a call."""
    store, data = api.store, tmp_path / "data"
    add_member(store, "maya@relgraph.io", name="Maya Chen")
    linkedin = tmp_path / "Connections.csv"
    linkedin.write_text("First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
                        "Ada,Lovelace,https://www.linkedin.com/in/ada,ada@acme.com,Acme Corp,"
                        "VP,15 Mar 2023\n", encoding="utf-8")
    notes = tmp_path / "call-notes.csv"
    notes.write_text(NOTES, encoding="utf-8")
    for name, path, owner in (("linkedin", linkedin, "maya@relgraph.io"),
                              ("zendesk", zendesk_export(tmp_path / "tickets.csv"), None),
                              ("notes", notes, None)):
        ctx = ReadContext(name, owner=PersonRef(email=owner) if owner else None)
        summary = Loader(store, data_dir=data, batch_size=4).run(source(name), [path], ctx)
        assert summary.rejected == 0, summary.examples
    store.upsert_nodes("Topic", [{"id": "crm", "name": "CRM"}], source="test")
    store.upsert_nodes("Content", [{"id": "https://acme.example/crm", "kind": "article"}],
                       source="test")
    store.upsert_relationships("ABOUT", [{"from": "https://acme.example/crm", "to": "crm"}],
                               source="test", from_label="Content")
    store.upsert_relationships("READ", [{"from": "ada@acme.com", "to": "https://acme.example/crm",
                                         "first_at": "2026-10-10T00:00:00Z",
                                         "last_at": "2026-10-10T00:00:00Z"}], source="test")
    store.checkpoint()
    return api


PERSON = """query ($asOf: DateTime) { person(email: "ada@acme.com", asOf: $asOf) {
    openConcerns { id } concerns { id } } }"""


@pytest.mark.parametrize(("as_of", "open_ids"), [
    (AS_OF, OPEN_AT_AS_OF),
    # 5007 was solved on 11-05: open before, not after
    ("2026-11-06T00:00:00Z", OPEN_AT_AS_OF[1:]),
    # before 5005 was solved (10-22 10:30) it was open too; 5006 was solved on the 20th
    ("2026-10-22T10:00:00Z", ["zendesk:5004", "zendesk:5005"]),
])
async def test_open_concerns_leave_out_what_was_solved_or_closed(
        tickets: Api, as_of: str, open_ids: list[str]) -> None:
    ada = (await tickets.gql(PERSON, {"asOf": as_of}))["person"]
    assert [c["id"] for c in ada["openConcerns"]] == open_ids
    every = [c["id"] for c in ada["concerns"]]  # what they raised, solved or not
    assert "zendesk:5006" in every and "zendesk:5008" in every


async def test_the_lookup_shows_only_open_concerns(tickets: Api) -> None:
    for params in ({"email": "ada@acme.com"}, {"domain": "acme.com"}):
        response = await tickets.client.get("/v1/lookup", headers=tickets.auth(),
                                            params={**params, "asOf": AS_OF})
        assert response.status_code == 200, response.text
        assert [c["id"] for c in response.json()["openConcerns"]] == OPEN_AT_AS_OF


async def test_the_headline_question_counts_concerns_raised_solved_or_not(
        tickets: Api) -> None:
    data = await tickets.gql("""query ($asOf: DateTime) {
        connections(readTopic: "crm", concernTopic: "churn", readWithin: "90d",
                    concernWithin: "30d", asOf: $asOf) {
        edges { node { person { id } concerns { id } } } } }""", {"asOf": AS_OF})
    (edge,) = data["connections"]["edges"]
    assert edge["node"]["person"]["id"] == "ada@acme.com"
    assert [c["id"] for c in edge["node"]["concerns"]] == [
        "zendesk:5001", "zendesk:5002", "zendesk:5005"]
