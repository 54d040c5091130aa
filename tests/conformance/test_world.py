"""The foundation's questions on a world loaded only from the files tools export (both stores):
LinkedIn exports of two team members, two HubSpot exports a job change apart, the content
catalogue, Segment page views, Zendesk tickets and newsletter clicks (fixtures/world)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.manifest import read_manifest
from connectors.merges import MergeBook, approve
from connectors.pipeline import Loader
from connectors.source import source
from connectors.team import add_member
from graph.rows import parse_datetime
from graph.store import GraphStore
from tests.conformance.helpers import demo_query
from tests.conftest import ROOT

WORLD = ROOT / "fixtures" / "world" / "world.toml"
PLAYBOOK = "https://www.relgraph.io/papers/crm-playbook"
WEBINAR = "https://www.relgraph.io/webinars/crm-health-scores"
RAJ = "rajpatel@gmail.com"  # Gmail ignores dots: raj.patel@gmail.com is this one mailbox


def load_world(store: GraphStore, data: Path) -> list:
    add_member(store, "maya@relgraph.io", name="Maya Chen")
    add_member(store, "tom@relgraph.io", name="Tom Berg")
    summaries = []
    for spec in read_manifest(WORLD):
        loader = Loader(store, data_dir=data, batch_size=4)
        summaries.append(loader.run(source(spec.source), spec.paths, spec.context()))
    return summaries


@pytest.fixture
def world(store: GraphStore, tmp_path: Path) -> GraphStore:
    summaries = load_world(store, tmp_path / "data")
    assert [s.rejected for s in summaries] == [0] * len(summaries)
    return store


def answer(store: GraphStore) -> list[tuple]:
    return [(m.person_id, m.via, tuple(c.company_id for c in m.companies),
             tuple((r.content_id, r.count) for r in m.reads),
             tuple(c.concern_id for c in m.concerns))
            for m in store.readers(demo_query())]


def test_who_read_about_crm_and_raised_churn(world: GraphStore, tmp_path: Path) -> None:
    assert answer(world) == [
        ("zoe@acme.com", ("tom@relgraph.io",), ("acme.com",), ((WEBINAR, 1),),
         ("zendesk:4103",)),
        ("ada@acme.com", ("maya@relgraph.io",), ("acme.com",), ((PLAYBOOK, 2),),
         ("zendesk:4101",)),
    ]
    zoe, ada = world.readers(demo_query())
    (read,) = ada.reads  # one anonymous visit stitched by identify, one signed in
    assert (read.first_at, read.last_at) == (parse_datetime("2026-10-10T14:03:00Z"),
                                             parse_datetime("2026-10-12T08:30:00Z"))
    (click,) = zoe.reads  # a newsletter click with utm_* and mc_* parameters, in London time
    assert click.first_at == parse_datetime("2026-10-22T08:00:00Z")
    assert zoe.concerns[0].channel == "chat" and "cancel" in zoe.concerns[0].text


def test_raj_is_a_proposed_merge_then_in_the_answer(world: GraphStore, tmp_path: Path) -> None:
    book = MergeBook(tmp_path / "data" / "merges.sqlite")
    (proposal,) = book.proposals()
    assert (proposal.keep, proposal.drop) == (RAJ, "linkedin:https://www.linkedin.com/in/raj-patel-ops")
    approve(world, book, proposal.id)
    assert [m[0] for m in answer(world)] == ["zoe@acme.com", RAJ, "ada@acme.com"]
    companies = world.reader_companies(demo_query())
    assert [(c.company_id, c.people, c.person_ids) for c in companies] == [
        ("acme.com", 2, ("ada@acme.com", "zoe@acme.com")), ("globex.com", 1, (RAJ,))]


def test_the_job_change_between_the_two_crm_exports(world: GraphStore) -> None:
    raj = world.person_profile(RAJ, as_of=parse_datetime("2026-11-15T00:00:00Z"))
    assert [(j.company_id, j.title) for j in raj.current] == [("globex.com", "Director of Support")]
    assert [j.company_id for j in raj.past] == ["initech.com"]
    before = world.person_profile(RAJ, as_of=parse_datetime("2026-09-15T00:00:00Z"))
    assert [(j.company_id, j.title) for j in before.current] == [("initech.com", "Analyst")]


def test_reloading_the_world_changes_nothing(world: GraphStore, tmp_path: Path) -> None:
    counts = world.counts()
    summaries = load_world(world, tmp_path / "data")
    assert world.counts() == counts
    assert sum(s.events_added for s in summaries) == 0
    assert sum(s.proposed for s in summaries) == 0
