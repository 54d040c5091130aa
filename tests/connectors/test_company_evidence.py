"""The company evidence rules (connectors/companies.py) and chain resolution of folds
(connectors/folds.py), case by case, beside their doctests."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

import pytest

import connectors.companies
import connectors.folds
from connectors.companies import CompanyEvidence, label_matches


@pytest.mark.parametrize("module", [connectors.companies, connectors.folds])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted and not result.failed


def _at(day: int) -> datetime:
    return datetime(2026, 10, day, tzinfo=UTC)


def test_a_website_column_beats_work_emails() -> None:
    ev = CompanyEvidence()
    ev.website("initech", "initech.com", "file.csv:2", _at(1))
    for i in range(2):
        ev.email("initech", "initrode.example", f"p{i}@initrode.example", _at(2))
    assert ev.decide(known={}, held={}).folds == {"initech": "initech.com"}


def test_two_people_fold_an_uncorroborated_name_nobody_else_holds() -> None:
    ev = CompanyEvidence()
    for i in range(2):
        ev.email("alphabet", "google.example", f"p{i}@google.example", None)
    assert ev.decide(known={}, held={}).folds == {"alphabet": "google.example"}
    # ... but not a domain the store already holds under another name.
    decision = ev.decide(known={}, held={"google.example": "google"})
    assert decision.folds == {} and decision.kept == {"alphabet": "google.example"}


def test_the_same_person_twice_is_one_witness() -> None:
    ev = CompanyEvidence()
    ev.email("alphabet", "google.example", "p@google.example", _at(1))
    ev.email("alphabet", "google.example", "p@google.example", _at(3))
    (proposal,) = ev.decide(known={}, held={}).proposals
    assert (proposal.keep, proposal.drop, proposal.evidence["people"]) == (
        "google.example", "alphabet", 1)
    assert proposal.evidence["kinds"]["latest"] == _at(3).isoformat()


def test_a_tie_is_proposed_both_ways_and_more_and_newer_evidence_wins() -> None:
    ev = CompanyEvidence()
    ev.email("globex", "globex.com", "a@globex.com", _at(1))
    ev.email("globex", "globex.io", "b@globex.io", _at(2))
    decision = ev.decide(known={}, held={})
    assert decision.folds == {}
    assert sorted(p.keep for p in decision.proposals) == ["globex.com", "globex.io"]
    ev.email("globex", "globex.io", "c@globex.io", _at(3))
    ev.email("globex", "globex.com", "d@globex.com", _at(1))
    ev.email("globex", "globex.io", "e@globex.io", _at(4))
    assert ev.decide(known={}, held={}).folds == {"globex": "globex.io"}  # 3 newer vs 2


def test_a_name_folded_earlier_is_left_as_it_was() -> None:
    ev = CompanyEvidence()
    for i in range(3):
        ev.email("acme", "acme.io", f"p{i}@acme.io", None)
    decision = ev.decide(known={"acme": "acme.com"}, held={})
    assert decision.folds == {} and "merged into acme.com earlier" in decision.notes[0]


@pytest.mark.parametrize(("name", "domain", "match"), [
    ("apex-systems", "apex.co", True), ("acme", "acmecorp.com", True),
    ("hewlett-packard", "hp.com", True), ("ember-software", "apex.co", False),
    ("globex", "initech.com", False), ("a", "b.com", False),
])
def test_label_matches(name: str, domain: str, match: bool) -> None:
    assert label_matches(name, domain) is match
