"""Approving a proposed merge on the graph as it is now, on both stores, through real loads of
export files: a proposal a later load made stale is refused and recorded so; one a later load
fulfilled changes nothing; one whose side was folded elsewhere merges what that side is now; a
company's approval takes its Customer account along."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.merges import MergeBook, MergeError, StaleMerge, approve
from connectors.team import add_member
from graph.questions.entities import COMPANY_CARDS, CompaniesQuery
from graph.store import GraphStore
from tests.conformance.test_connector_loads import (
    LINKEDIN_HEADER,
    LINKEDIN_PREAMBLE,
    hubspot,
    load,
    write,
)

OBSERVED = datetime(2026, 11, 2, tzinfo=UTC)
HUBSPOT_DEFAULT_VIEW = ('"Record ID","First Name","Last Name","Email","Phone Number",'
                        '"Company Name","Job Title","Lifecycle Stage","Create Date",'
                        '"Last Activity Date"\n')  # the contacts view's default columns
RAJ_URL = "https://www.linkedin.com/in/rajp"
RAJ_LI = f"linkedin:{RAJ_URL}"


def connections(path: Path, *rows: str) -> Path:
    return write(path, LINKEDIN_PREAMBLE + LINKEDIN_HEADER + "".join(rows))


def linkedin_aliases(store: GraphStore) -> dict[str, str]:
    return {k: v for k, v in store.aliases("Person").items() if k.startswith("linkedin:")}


def raj_proposed(store: GraphStore, tmp: Path) -> tuple[Path, MergeBook]:
    """Maya's LinkedIn knows Raj without an e-mail; the CRM has raj@globex.com at Globex."""
    data = tmp / "data"
    add_member(store, "maya@relgraph.io")
    load(store, data, "linkedin", connections(
        tmp / "2026-10" / "Connections.csv", f"Raj,Patel,{RAJ_URL},,Globex,VP Sales,01 Oct 2026\n"),
        owner="maya@relgraph.io")
    assert load(store, data, "hubspot", hubspot(tmp, "contacts.csv", [
        '"52","Raj","Patel","raj@globex.com","VP Sales","Globex","globex.com","Lead",'
        '"2026-01-10 08:00","2026-10-28 17:45"\n'])).proposed == 1
    book = MergeBook(data / "merges.sqlite")
    (proposal,) = book.proposals()
    assert (proposal.id, proposal.keep, proposal.drop) == (1, "raj@globex.com", RAJ_LI)
    return data, book


def test_a_proposal_a_later_export_made_stale_is_refused(store: GraphStore,
                                                         tmp_path: Path) -> None:
    data, book = raj_proposed(store, tmp_path)
    # Maya's next export shows Raj's (private) e-mail: the LinkedIn node is folded into it.
    later = connections(tmp_path / "2026-11" / "Connections.csv",
                        f"Raj,Patel,{RAJ_URL},raj@patel.family,Globex,VP Sales,01 Oct 2026\n")
    load(store, data, "linkedin", later, owner="maya@relgraph.io")
    assert linkedin_aliases(store) == {RAJ_LI: "raj@patel.family"}
    before = store.counts()
    with pytest.raises(StaleMerge) as refused:
        approve(store, book, 1)
    assert str(refused.value) == (
        f"merge 1 is stale: {RAJ_LI} was merged into raj@patel.family since it was "
        "proposed, and raj@globex.com and raj@patel.family are two e-mail addresses, so two "
        "people; nothing merged")
    assert store.counts() == before
    assert linkedin_aliases(store) == {RAJ_LI: "raj@patel.family"}  # one holder, as before
    (stale,) = book.proposals("stale")
    assert stale.note is not None and stale.note.startswith(f"{RAJ_LI} was merged into")
    with pytest.raises(MergeError, match="already stale"):
        approve(store, book, 1)
    # The next load of either export lands where it did: Maya knows his own address's node.
    load(store, data, "linkedin", later, owner="maya@relgraph.io")
    assert store.person_profile("raj@patel.family").connections == 1
    assert store.person_profile("raj@globex.com").connections == 0


def test_a_proposal_a_later_export_fulfilled_changes_nothing(store: GraphStore,
                                                             tmp_path: Path) -> None:
    data, book = raj_proposed(store, tmp_path)
    load(store, data, "linkedin", connections(
        tmp_path / "2026-11" / "Connections.csv",
        f"Raj,Patel,{RAJ_URL},raj@globex.com,Globex,VP Sales,01 Oct 2026\n"),
        owner="maya@relgraph.io")
    before = store.counts()
    decided = approve(store, book, 1)
    assert (decided.status, decided.note) == (
        "approved", f"already one node: {RAJ_LI} was merged into raj@globex.com since it was "
        "proposed; nothing to do")
    assert store.counts() == before
    assert linkedin_aliases(store) == {RAJ_LI: "raj@globex.com"}


def test_a_side_folded_elsewhere_is_merged_as_what_it_is_now(store: GraphStore,
                                                             tmp_path: Path) -> None:
    """Two LinkedIn profiles (two team members' exports) and the CRM: three proposals. Once the
    profiles are approved as one person, the others name that person through either profile."""
    data = tmp_path / "data"
    for member in ("maya@relgraph.io", "tom@relgraph.io"):
        add_member(store, member)
    load(store, data, "linkedin", connections(
        tmp_path / "maya" / "Connections.csv", f"Raj,Patel,{RAJ_URL},,Globex,VP,01 Oct 2026\n"),
        owner="maya@relgraph.io")
    load(store, data, "linkedin", connections(
        tmp_path / "tom" / "Connections.csv",
        "Raj,Patel,https://www.linkedin.com/in/raj-patel-2,,Globex,VP,02 Oct 2026\n"),
        owner="tom@relgraph.io")
    load(store, data, "hubspot", hubspot(tmp_path, "contacts.csv", [
        '"52","Raj","Patel","raj@globex.com","VP","Globex","globex.com","Lead",'
        '"2026-01-10 08:00","2026-10-28 17:45"\n']))
    book = MergeBook(data / "merges.sqlite")
    other = "linkedin:https://www.linkedin.com/in/raj-patel-2"
    pairs = {(p.keep, p.drop): p.id for p in book.proposals()}
    assert set(pairs) == {("raj@globex.com", RAJ_LI), ("raj@globex.com", other),
                          (other, RAJ_LI)}
    approve(store, book, pairs[(other, RAJ_LI)])  # the two profiles are one person
    retargeted = approve(store, book, pairs[("raj@globex.com", RAJ_LI)])
    assert retargeted.note == (f"merged {other} into raj@globex.com ({RAJ_LI} was merged into "
                               f"{other} since it was proposed)")
    done = approve(store, book, pairs[("raj@globex.com", other)])
    assert done.note == (f"already one node: {other} was merged into raj@globex.com since it "
                         "was proposed; nothing to do")
    assert linkedin_aliases(store) == {RAJ_LI: "raj@globex.com", other: "raj@globex.com"}
    assert store.person_profile("raj@globex.com").connections == 2  # Maya and Tom


def test_a_proposal_whose_node_is_gone_is_refused_and_stays_proposed(
        store: GraphStore, tmp_path: Path) -> None:
    _, book = raj_proposed(store, tmp_path)
    store.delete_all()
    with pytest.raises(MergeError, match=f"merge 1: Person '{RAJ_LI}' is not in the graph; "):
        approve(store, book, 1)
    assert [p.status for p in book.proposals(None)] == ["proposed"]


def test_approving_a_company_merge_folds_its_account(store: GraphStore, tmp_path: Path) -> None:
    """A lone customer whose work e-mail spells nothing of the company's name: a proposed
    company merge. Approved, the company and its Customer account fold into the domain's."""
    path = write(tmp_path / "hubspot-crm-exports-contacts-2026-11-02.csv", HUBSPOT_DEFAULT_VIEW
                 + '"400","Al","Pha","al@goog.example","","Alphabet Holdings","Dev","Customer",'
                   '"2025-01-10 09:00","2026-10-30 16:45"\n')
    data = tmp_path / "data"
    load(store, data, "hubspot", path, observed_at="2026-11-02T00:00:00Z")
    book = MergeBook(data / "merges.sqlite")
    (proposal,) = [p for p in book.proposals() if p.label == "Company"]
    assert (proposal.keep, proposal.drop) == ("goog.example", "alphabet-holdings")
    assert store.existing("Customer", ["company:alphabet-holdings", "company:goog.example"]) == {
        "company:alphabet-holdings"}
    decided = approve(store, book, proposal.id)
    assert decided.note == ("its account company:alphabet-holdings was folded into "
                            "company:goog.example")
    assert store.existing("Company", ["goog.example", "alphabet-holdings"]) == {"goog.example"}
    assert store.existing("Customer", ["company:alphabet-holdings", "company:goog.example"]) == {
        "company:goog.example"}
    assert store.aliases("Customer") == {"company:alphabet-holdings": "company:goog.example"}
    card = store.ask(COMPANY_CARDS, CompaniesQuery(("goog.example",), as_of=OBSERVED))
    assert [c.customer_id for c in card["goog.example"].customers] == ["company:goog.example"]
    counts = store.counts()
    load(store, data, "hubspot", path, observed_at="2026-11-02T00:00:00Z")  # again: same graph
    assert store.counts().nodes == counts.nodes

