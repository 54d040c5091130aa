"""Loads of real export formats through the pipeline, on both stores: identity across sources,
order independence of snapshot exports, proposed merges, idempotent re-loads, killed loads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.merges import MergeBook, approve
from connectors.pipeline import Loader, LoadSummary
from connectors.records import PersonRef
from connectors.source import ReadContext, source
from connectors.team import add_member
from graph.rows import parse_datetime
from graph.store import GraphStore
from tests.conftest import ROOT

HUBSPOT_HEADER = ('"Record ID","First Name","Last Name","Email","Job Title","Company Name",'
                  '"Website URL","Lifecycle Stage","Create Date","Last Modified Date"\n')
LINKEDIN_PREAMBLE = ('Notes:\n"When exporting your connection data, you may notice that some of '
                     'the email addresses are missing."\n\n')
LINKEDIN_HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


def load(store: GraphStore, data: Path, name: str, *paths: Path, owner: str | None = None,
         observed_at: str | None = None, mapping: dict | None = None) -> LoadSummary:
    ctx = ReadContext(name, owner=PersonRef(email=owner) if owner else None,
                      observed_at=parse_datetime(observed_at) if observed_at else None,
                      mapping=mapping)
    return Loader(store, data_dir=data, batch_size=7).run(source(name), list(paths), ctx)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def hubspot(tmp: Path, name: str, rows: list[str]) -> Path:
    return write(tmp / name, HUBSPOT_HEADER + "".join(rows))


def test_one_person_from_five_sources_is_one_node(store: GraphStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_member(store, "maya@relgraph.io", name="Maya Chen")
    li = write(tmp_path / "Connections.csv", LINKEDIN_PREAMBLE + LINKEDIN_HEADER
               + "Ada,Lovelace,https://www.linkedin.com/in/ada-l,ADA@acme.com,Acme Corp,CTO,"
                 "15 Mar 2023\n")
    hs = hubspot(tmp_path, "contacts.csv", [
        '"51","Ada","Lovelace","ada@Acme.com","CTO","Acme Corp","https://www.acme.com",'
        '"Customer","2022-11-03 10:15","2024-03-05 14:22"\n'])
    sf = write(tmp_path / "sf.csv",
               '"First Name","Last Name","Title","Account Name","Account Type","Email",'
               '"Contact ID","Last Modified Date"\n'
               '"Ada","Lovelace","CTO","Acme Corporation","Customer - Direct",'
               '" ada@acme.com ","0035e00000AbCdEAAZ","3/15/2024 10:02 AM"\n')
    mapped = write(tmp_path / "accounts.csv", "email,name,plan\nAda@ACME.com,Ada Lovelace,pro\n")
    graph = write(tmp_path / "g.jsonl", '{"node": "Person", "id": "ada@acme.com", '
                  '"location": "London"}\n')
    load(store, data, "linkedin", li, owner="maya@relgraph.io")
    load(store, data, "hubspot", hs)
    load(store, data, "salesforce", sf)
    load(store, data, "csv", mapped, mapping={
        "source": "billing", "observed_at": "2024-04-01", "customer": True,
        "accounts": "person", "columns": {"email": "email", "name": "name", "plan": "plan"}})
    load(store, data, "graph", graph)
    ada = store.person_profile("ada@acme.com")
    assert [s.split(":")[0] for s in ada.properties["sources"]] == [
        "linkedin", "hubspot", "salesforce", "csv", "graph"]
    assert ada.properties["aliases"] == ["linkedin:https://www.linkedin.com/in/ada-l",
                                         "hubspot:51", "salesforce:0035e00000AbCdEAAZ"]
    assert (ada.name, ada.properties["location"]) == ("Ada Lovelace", "London")
    assert store.counts().nodes["Person"] == 2  # Ada and Maya, nobody else
    # "Acme Corp" (LinkedIn, name only) met acme.com through HubSpot's website column, and
    # Salesforce's "Acme Corporation" is the same name once the legal suffix is dropped.
    assert [j.company_id for j in ada.current] == ["acme.com"]
    assert store.counts().nodes["Company"] == 2


def _exports(tmp: Path) -> tuple[Path, Path]:
    sept = hubspot(tmp, "sept.csv", [
        '"51","Ada","L.","ada@mail.org","Analyst","Initech","initech.com","Lead",'
        '"2022-01-01 10:00","2026-09-01 09:00"\n'])
    nov = hubspot(tmp, "nov.csv", [
        '"51","Ada","Lovelace","ada@mail.org","VP","Acme","acme.com","Customer",'
        '"2022-01-01 10:00","2026-11-01 09:00"\n'])
    return sept, nov


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "newest first"])
def test_two_crm_exports_a_job_change_apart_in_either_order(store: GraphStore, tmp_path: Path,
                                                            reverse: bool) -> None:
    sept, nov = _exports(tmp_path)
    for path in ([nov, sept] if reverse else [sept, nov]):
        load(store, tmp_path / "data", "hubspot", path)
    ada = store.person_profile("ada@mail.org", as_of=parse_datetime("2026-11-15T00:00:00Z"))
    assert [(j.company_id, j.title) for j in ada.current] == [("acme.com", "VP")]
    assert [(j.company_id, j.title, j.until) for j in ada.past] == [
        ("initech.com", "Analyst", parse_datetime("2026-11-01T09:00:00Z"))]
    assert ada.name == "Ada Lovelace"
    before = store.person_profile("ada@mail.org", as_of=parse_datetime("2026-10-01T00:00:00Z"))
    assert [j.company_id for j in before.current] == ["initech.com"]


def test_a_proposed_merge_approved_survives_a_reload(store: GraphStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_member(store, "maya@relgraph.io")
    li = write(tmp_path / "Connections.csv", LINKEDIN_PREAMBLE + LINKEDIN_HEADER
               + "Raj,Patel,https://www.linkedin.com/in/rajp,,Globex,VP Sales,01 Oct 2026\n")
    hs = hubspot(tmp_path, "contacts.csv", [
        '"52","Raj","Patel","raj@globex.com","VP Sales","Globex","globex.com","Lead",'
        '"2026-01-10 08:00","2026-10-28 17:45"\n'])
    load(store, data, "linkedin", li, owner="maya@relgraph.io")
    assert load(store, data, "hubspot", hs).proposed == 1
    book = MergeBook(data / "merges.sqlite")
    (proposal,) = book.proposals()
    assert (proposal.keep, proposal.drop) == ("raj@globex.com", "linkedin:https://www.linkedin.com/in/rajp")
    assert proposal.evidence["company"] == "globex.com" and proposal.score == 1.0
    assert store.counts().nodes["Person"] == 3  # proposed, never merged silently
    approve(store, book, proposal.id)
    assert store.counts().nodes["Person"] == 2
    raj = store.person_profile("raj@globex.com")
    assert raj.connections == 1  # Maya's LinkedIn KNOWS moved onto the merged node
    again = load(store, data, "linkedin", li, owner="maya@relgraph.io")
    assert (again.proposed, store.counts().nodes["Person"]) == (0, 2)
    assert book.proposals() == []


def test_rejected_merges_are_not_proposed_again(store: GraphStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_member(store, "maya@relgraph.io")
    li = write(tmp_path / "Connections.csv", LINKEDIN_HEADER
               + "Raj,Patel,https://www.linkedin.com/in/rajp,,Globex,VP,01 Oct 2026\n")
    hs = hubspot(tmp_path, "contacts.csv", [
        '"52","Raj","Patel","raj@globex.com","VP","Globex","globex.com","Lead",'
        '"2026-01-10 08:00","2026-10-28 17:45"\n'])
    load(store, data, "linkedin", li, owner="maya@relgraph.io")
    load(store, data, "hubspot", hs)
    book = MergeBook(data / "merges.sqlite")
    book.decide(book.proposals()[0].id, "rejected")
    load(store, data, "linkedin", li, owner="maya@relgraph.io")
    assert load(store, data, "hubspot", hs).proposed == 0
    assert store.counts().nodes["Person"] == 3


def test_reloading_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_member(store, "maya@relgraph.io")
    li = ROOT / "fixtures" / "linkedin" / "Connections.csv"
    first = load(store, data, "linkedin", li, owner="maya@relgraph.io")
    counts = store.counts()
    again = load(store, data, "linkedin", li, owner="maya@relgraph.io")
    assert store.counts() == counts
    assert (again.rejected, again.merged) == (first.rejected, 0)


def _generated_connections(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write(LINKEDIN_PREAMBLE + LINKEDIN_HEADER)
        for i in range(n):
            f.write(f"P{i},Q{i},https://www.linkedin.com/in/p{i},p{i}@c{i % 50}.com,"
                    f"C{i % 50},Role,01 Oct 2026\n")
    return path


def test_a_load_killed_half_way_then_rerun_is_one_complete_load(store: GraphStore,
                                                                tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Killed once some batches are committed (waiting on that, not on a clock: a fast machine
    # would finish a load before any fixed delay), with most of the file still to go.
    n = 6000 if store.kind == "neo4j" else 40_000
    path = _generated_connections(tmp_path / "Connections.csv", n)
    env = {**os.environ, "RELGRAPH_DATA_DIR": str(data), "RELGRAPH_BATCH_SIZE": "500",
           "PYTHONPATH": str(ROOT)}
    if store.kind == "neo4j":
        env.update({"RELGRAPH_STORE": "neo4j", "NEO4J_URI": os.environ["RELGRAPH_TEST_NEO4J_URI"],
                    "NEO4J_PASSWORD": os.environ["RELGRAPH_TEST_NEO4J_PASSWORD"],
                    "NEO4J_USER": os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j")})
    else:
        env["RELGRAPH_STORE"] = "memory"
        store = type(store)(data / "graph.sqlite")  # type: ignore[call-arg]
    cli = [sys.executable, "-m", "api.cli"]
    subprocess.run([*cli, "team", "add", "maya@relgraph.io"], env=env, check=True,
                   capture_output=True)
    run = subprocess.Popen([*cli, "load", "linkedin", str(path), "--owner", "maya@relgraph.io"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if store.counts().relationships.get("KNOWS", 0) > 0:
            break
        time.sleep(0.05)
    assert run.poll() is None, "the load finished before it could be killed: make it bigger"
    run.send_signal(signal.SIGKILL)
    run.wait()
    half = store.counts()
    assert half.relationships.get("KNOWS", 0) < n
    subprocess.run([*cli, "load", "linkedin", str(path), "--owner", "maya@relgraph.io"],
                   env=env, check=True, capture_output=True)
    if store.kind == "memory":
        store = type(store)(data / "graph.sqlite")  # type: ignore[call-arg]
    counts = store.counts()
    assert counts.nodes["Person"] == n + 1 and counts.nodes["Company"] == 50 + 1
    assert counts.relationships["KNOWS"] == n and counts.relationships["WORKS_AT"] == n + 1


def test_records_from_no_file_go_through_the_same_pipeline(store: GraphStore,
                                                           tmp_path: Path) -> None:
    from connectors.records import CompanyRef, Link, Node

    ada = PersonRef(email="Ada@Acme.com", name="Ada", company=CompanyRef(domain="acme.com"))
    summary = Loader(store, data_dir=tmp_path / "data").apply(
        [Node(ada, {"name": "Ada"}), Node(CompanyRef(domain="https://www.acme.com", name="Acme")),
         Link("WORKS_AT", ada, CompanyRef(domain="acme.com"), {"title": "CTO"}),
         Node(PersonRef(email="not an e-mail"))], source="graphql", provenance="graphql:test")
    assert (summary.nodes["Person"], summary.relationships["WORKS_AT"], summary.rejected) == (
        1, 1, 1)
    (job,) = store.person_profile("ada@acme.com").current
    assert (job.company_id, job.name, job.title) == ("acme.com", "Acme", "CTO")
    assert store.person_profile("ada@acme.com").properties["sources"] == ["graphql:test"]
