"""Observation order, merges, aliases and job dating: the same on every store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.errors import AliasTaken, NodeNotFound
from graph.store import GraphStore
from tests.conformance.helpers import assert_reopens_the_same, reopened

SEPT, OCT, NOV = "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _export(store: GraphStore, observed: str, company: str, title: str, name: str) -> None:
    """One CRM export's view of Ada: her name, her employer and title at `observed`."""
    store.upsert_nodes("Company", [{"id": company, "observed_at": observed}], source="crm")
    store.upsert_nodes("Person", [{"id": "ada@mail.org", "name": name, "observed_at": observed}],
                       source="crm")
    store.upsert_relationships("WORKS_AT", [{"from": "ada@mail.org", "to": company,
                                             "title": title, "observed_at": observed}],
                               source="crm")
    store.reconcile_jobs(["ada@mail.org"])


def _jobs(store: GraphStore, as_of: str) -> tuple[list[tuple], list[tuple]]:
    p = store.person_profile("ada@mail.org", as_of=at(as_of))
    return ([(j.company_id, j.title, j.since, j.until) for j in p.current],
            [(j.company_id, j.title, j.since, j.until) for j in p.past])


@pytest.mark.parametrize("order", [(SEPT, NOV), (NOV, SEPT)], ids=["in order", "reversed"])
def test_a_job_change_from_two_exports_in_either_order(store: GraphStore, order) -> None:
    exports = {SEPT: ("initech.com", "Analyst", "Ada L."), NOV: ("acme.com", "VP", "Ada Lovelace")}
    for observed in order:
        _export(store, observed, *exports[observed])
    current, past = _jobs(store, "2026-11-15T00:00:00Z")
    assert current == [("acme.com", "VP", at(NOV), None)]
    assert past == [("initech.com", "Analyst", None, at(NOV))]
    assert store.person_profile("ada@mail.org").name == "Ada Lovelace"  # the newer name wins
    current, _ = _jobs(store, "2026-10-01T00:00:00Z")  # between the exports: still at Initech
    assert current == [("initech.com", "Analyst", None, at(NOV))]
    assert_reopens_the_same(store)


def test_an_older_observation_fills_gaps_but_never_overrides(store: GraphStore) -> None:
    store.upsert_nodes("Person", [{"id": "ada@mail.org", "name": "Ada", "observed_at": NOV}],
                       source="a")
    store.upsert_nodes("Person", [{"id": "ada@mail.org", "name": "Old Name", "title": "CTO",
                                   "observed_at": SEPT}], source="b")
    props = store.person_profile("ada@mail.org").properties
    assert (props["name"], props["title"]) == ("Ada", "CTO")
    assert (props["first_seen"], props["last_seen"]) == (at(SEPT), at(NOV))
    assert props["sources"] == ["a", "b"]
    assert_reopens_the_same(store)


def _two_adas(store: GraphStore) -> None:
    store.upsert_nodes("Company", [{"id": "acme.com", "name": "Acme"}, {"id": "us.io",
                                                                         "own": True}],
                       source="t")
    store.upsert_nodes("Person", [
        {"id": "ada@acme.com", "name": "Ada Lovelace", "observed_at": OCT},
        {"id": "linkedin:https://www.linkedin.com/in/ada", "name": "Ada Lovelace",
         "title": "VP", "linkedin_url": "https://www.linkedin.com/in/ada", "observed_at": NOV},
        {"id": "me@us.io"}, {"id": "bob@acme.com"}], source="t")
    li = "linkedin:https://www.linkedin.com/in/ada"
    store.upsert_relationships("WORKS_AT", [{"from": "ada@acme.com", "to": "acme.com"},
                                            {"from": li, "to": "acme.com", "title": "VP"},
                                            {"from": "me@us.io", "to": "us.io"}], source="t")
    store.upsert_relationships("KNOWS", [{"from": "me@us.io", "to": li, "source": "linkedin"},
                                         {"from": li, "to": "ada@acme.com"},
                                         {"from": "bob@acme.com", "to": li},
                                         {"from": "bob@acme.com", "to": "ada@acme.com",
                                          "strength": 0.4}], source="t2")


def test_merging_moves_every_relationship_and_keeps_both_ids(store: GraphStore) -> None:
    _two_adas(store)
    li = "linkedin:https://www.linkedin.com/in/ada"
    assert store.people_at(["acme.com", "nowhere.com"]) == [
        ("acme.com", "ada@acme.com", "Ada Lovelace"), ("acme.com", li, "Ada Lovelace")]
    assert store.merge_nodes("Person", "ada@acme.com", li) is True
    assert_reopens_the_same(store)
    counts = store.counts()
    assert counts.nodes["Person"] == 3
    # KNOWS: me–ada moved, li–ada (the two merged) dropped, bob–li folded into bob–ada
    assert counts.relationships["KNOWS"] == 2 and counts.relationships["WORKS_AT"] == 2
    ada = store.person_profile("ada@acme.com")
    assert ada.connections == 2
    assert ada.properties["linkedin_url"] == "https://www.linkedin.com/in/ada"
    assert ada.properties["aliases"] == [li]
    assert ada.properties["sources"] == ["t"]
    (job,) = ada.current
    assert (job.company_id, job.title) == ("acme.com", "VP")
    assert store.aliases("Person") == {li: "ada@acme.com"}
    # her LinkedIn profile still finds her: the folded key answers as the node it is now
    assert store.person_profile(li).person_id == "ada@acme.com"
    with pytest.raises(NodeNotFound):
        store.person_profile("linkedin:https://www.linkedin.com/in/nobody")
    # the team sees her through the moved KNOWS
    assert store.team() == ["me@us.io"]
    assert_reopens_the_same(store)


def test_a_merge_survives_and_is_idempotent(store: GraphStore) -> None:
    _two_adas(store)
    li = "linkedin:https://www.linkedin.com/in/ada"
    store.merge_nodes("Person", "ada@acme.com", li)
    before = store.counts()
    assert store.merge_nodes("Person", "ada@acme.com", li) is False  # nothing left to fold
    assert store.counts() == before
    assert store.aliases("Person") == {li: "ada@acme.com"}
    with pytest.raises(NodeNotFound):
        store.merge_nodes("Person", "ghost@acme.com", li)
    assert_reopens_the_same(store)


def test_an_alias_can_be_recorded_before_its_node_exists(store: GraphStore) -> None:
    store.upsert_nodes("Company", [{"id": "brightpath.io", "name": "Brightpath Labs"}],
                       source="crm")
    assert store.merge_nodes("Company", "brightpath.io", "Brightpath Labs") is False
    assert store.aliases("Company") == {"brightpath-labs": "brightpath.io"}
    assert_reopens_the_same(store)


def test_a_name_only_company_folds_into_its_domain(store: GraphStore) -> None:
    store.upsert_nodes("Company", [{"id": "Brightpath Labs", "name": "Brightpath Labs"},
                                   {"id": "brightpath.io", "customer": True}], source="t")
    store.upsert_nodes("Person", [{"id": "a@x.org"}], source="t")
    store.upsert_relationships("WORKS_AT", [{"from": "a@x.org", "to": "Brightpath Labs"}],
                               source="t")
    assert store.merge_nodes("Company", "brightpath.io", "brightpath-labs") is True
    assert sorted(store.companies()) == [("brightpath.io", "Brightpath Labs")]
    (job,) = store.person_profile("a@x.org").current
    assert (job.company_id, job.name) == ("brightpath.io", "Brightpath Labs")
    assert_reopens_the_same(store)


def _fold_world(store: GraphStore) -> list[tuple[str, str]]:
    """Three kinds of fold at once: alias-only (no folded node), a folded node with
    relationships, and a chain (x into y, then y into ada); plus a fold into itself."""
    _two_adas(store)
    store.upsert_nodes("Person", [{"id": "x@acme.com", "name": "X"},
                                  {"id": "y@acme.com", "title": "CTO"}], source="t3")
    store.upsert_relationships("KNOWS", [{"from": "x@acme.com", "to": "me@us.io"}],
                               source="t3")
    return [("segment:ada-1", "ada@acme.com"), ("hubspot:7", "bob@acme.com"),
            ("linkedin:https://www.linkedin.com/in/ada", "ada@acme.com"),
            ("segment:bob-1", "bob@acme.com"), ("x@acme.com", "y@acme.com"),
            ("y@acme.com", "ada@acme.com"), ("me@us.io", "me@us.io"),
            ("hubspot:8", "me@us.io")]


def _state(store: GraphStore) -> tuple[object, ...]:
    people = {p: store.person_profile(p) for p in ("ada@acme.com", "bob@acme.com", "me@us.io")}
    return (store.counts(), store.aliases("Person"),
            {p: (sorted(c.properties.get("aliases", [])), c.connections, c.properties.get("title"),
                 sorted(c.properties.get("sources", []))) for p, c in people.items()})


def test_folding_aliases_in_batches_is_folding_them_one_by_one(
        store: GraphStore, tmp_path) -> None:
    from graph.memory_store import MemoryStore

    folds = _fold_world(store)
    assert store.fold_aliases("Person", folds) == 3  # linkedin:…, x@ and y@ existed
    assert_reopens_the_same(store)
    one_by_one = MemoryStore(tmp_path / "one-by-one.sqlite")
    _fold_world(one_by_one)
    assert sum(one_by_one.merge_nodes("Person", keep, folded) for folded, keep in folds) == 3
    assert _state(store) == _state(one_by_one)
    assert store.aliases("Person")["segment:ada-1"] == "ada@acme.com"
    assert_reopens_the_same(one_by_one)
    assert store.aliases("Person")["x@acme.com"] == "ada@acme.com"  # through the chain
    again = [f for f in folds if f[1] != "y@acme.com"]  # y@ is folded now: not a kept node
    assert store.fold_aliases("Person", again) == 0  # nothing left to fold
    assert _state(store) == _state(one_by_one)
    assert_reopens_the_same(store)


def test_a_fold_into_a_missing_node_is_refused_and_its_batch_undone(store: GraphStore) -> None:
    _two_adas(store)
    before = store.aliases("Person")
    with pytest.raises(NodeNotFound):
        store.fold_aliases("Person", [("segment:bob-1", "bob@acme.com"),
                                      ("segment:ghost", "ghost@acme.com")])
    assert store.aliases("Person") == before
    assert_reopens_the_same(store)


def test_existing_keys(store: GraphStore) -> None:
    store.upsert_nodes("Content", [{"id": "https://x.org/a"}], source="t")
    assert store.existing("Content", ["https://x.org/a", "https://x.org/b"]) == {
        "https://x.org/a"}
    assert_reopens_the_same(store)


def _tracks(store: GraphStore) -> None:
    """Segment's view of one user: an anonymous track (old-7), the user's own (u42)."""
    store.upsert_nodes("Person", [{"id": "segment:old-7"}, {"id": "segment:u42"}],
                       source="segment")
    store.upsert_nodes("Event", [{"id": "m-1", "type": "page_viewed", "at": SEPT},
                                 {"id": "m-2", "type": "login", "at": OCT}], source="segment")
    store.upsert_relationships("PERFORMED", [{"from": "segment:old-7", "to": "m-1"},
                                             {"from": "segment:u42", "to": "m-2"}],
                               source="segment")


def test_a_fold_chain_in_one_batch_leaves_no_ghost_in_the_file(store: GraphStore) -> None:
    """`alias old-7 -> u42`, then `identify u42` with an e-mail: one batch folds old-7 into u42
    and u42 into the e-mail. The relationship the first fold moved onto u42 and u42 itself
    are gone by the end of the batch, and stay gone for the next process."""
    _tracks(store)
    store.upsert_nodes("Person", [{"id": "u42@acme.com", "name": "U"}], source="segment")
    folded = store.fold_aliases("Person", [("segment:old-7", "segment:u42"),
                                           ("segment:u42", "u42@acme.com")])
    assert folded == 2
    nodes, rels = assert_reopens_the_same(store)
    with reopened(store) as again:
        counts = again.counts()
        assert (counts.nodes["Person"], counts.relationships) == (1, {"PERFORMED": 2})
        assert again.aliases("Person") == {"segment:old-7": "u42@acme.com",
                                           "segment:u42": "u42@acme.com"}
    assert sorted(k for k in rels) == [
        ("PERFORMED", "Person", "u42@acme.com", "Event", "m-1"),
        ("PERFORMED", "Person", "u42@acme.com", "Event", "m-2")]
    assert ("Person", "segment:u42") not in nodes


def test_a_relationship_moved_twice_in_one_batch_is_stored_where_it_ends(
        store: GraphStore) -> None:
    """a's KNOWS with x moves to b when a folds into b, then to y when x folds into y: two
    folds of unrelated nodes in one batch move one relationship twice."""
    store.upsert_nodes("Person", [{"id": f"{p}@x.com"} for p in ("a", "b", "x", "y")],
                       source="t")
    store.upsert_relationships("KNOWS", [{"from": "a@x.com", "to": "x@x.com",
                                          "strength": 0.7}], source="t")
    assert store.fold_aliases("Person", [("a@x.com", "b@x.com"), ("x@x.com", "y@x.com")]) == 2
    _, rels = assert_reopens_the_same(store)
    assert list(rels) == [("KNOWS", "Person", "b@x.com", "Person", "y@x.com")]
    assert rels[("KNOWS", "Person", "b@x.com", "Person", "y@x.com")]["strength"] == 0.7
    with reopened(store) as again:
        assert again.counts().relationships == {"KNOWS": 1}


def _held(store: GraphStore) -> None:
    """ann holds the alias segment:7; bob has a second node (linkedin:bob) that knows ann."""
    store.upsert_nodes("Person", [{"id": "ann@a.com", "name": "Ann"},
                                  {"id": "bob@b.com", "name": "Bob"},
                                  {"id": "linkedin:bob", "title": "CTO"}], source="t")
    store.upsert_relationships("KNOWS", [{"from": "linkedin:bob", "to": "ann@a.com"}],
                               source="t")
    assert store.merge_nodes("Person", "ann@a.com", "segment:7") is False


def test_an_alias_another_node_holds_is_never_recorded(store: GraphStore) -> None:
    _held(store)
    before = assert_reopens_the_same(store)
    with pytest.raises(AliasTaken) as refused:
        store.merge_nodes("Person", "bob@b.com", "Segment:7")
    assert (refused.value.label, refused.value.alias) == ("Person", "segment:7")
    assert (refused.value.holder, refused.value.keep) == ("ann@a.com", "bob@b.com")
    assert "'segment:7' is an alias of 'ann@a.com'" in str(refused.value)
    assert assert_reopens_the_same(store) == before
    assert store.aliases("Person") == {"segment:7": "ann@a.com"}
    # folding a key into the node that already holds it stays a no-op
    assert store.merge_nodes("Person", "ann@a.com", "segment:7") is False
    assert store.fold_aliases("Person", [("segment:7", "ann@a.com")]) == 0
    assert assert_reopens_the_same(store) == before


@pytest.mark.parametrize("folds", [
    # kept nodes that take nothing else: Neo4j's one-statement alias path
    [("segment:8", "bob@b.com"), ("segment:7", "bob@b.com")],
    # a folded node first (relationships moved), then the refused alias
    [("linkedin:bob", "bob@b.com"), ("segment:7", "bob@b.com")],
    # one batch naming one key for two nodes: the second fold would take it from the first
    [("segment:9", "bob@b.com"), ("segment:9", "ann@a.com")],
    # ann's alias before ann herself: it is still hers when its fold comes
    [("segment:7", "bob@b.com"), ("ann@a.com", "bob@b.com")],
], ids=["aliases only", "after a folded node", "twice in one batch", "before its holder"])
def test_a_batch_that_would_record_a_held_alias_is_refused_whole(
        store: GraphStore, folds: list[tuple[str, str]]) -> None:
    _held(store)
    before = assert_reopens_the_same(store)
    with pytest.raises(AliasTaken):
        store.fold_aliases("Person", folds)
    assert assert_reopens_the_same(store) == before
    assert store.aliases("Person") == {"segment:7": "ann@a.com"}


def test_a_held_alias_moves_with_its_holder(store: GraphStore) -> None:
    """Folding ann into bob takes her aliases along; naming one of them again for bob in the
    same batch, after that fold, is no conflict."""
    _held(store)
    folds = [("ann@a.com", "bob@b.com"), ("segment:7", "bob@b.com")]
    assert store.fold_aliases("Person", folds) == 1
    assert store.aliases("Person") == {"ann@a.com": "bob@b.com", "segment:7": "bob@b.com"}
    assert_reopens_the_same(store)
