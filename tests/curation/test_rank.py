"""Ranking: every score is the sum of its reasons, and each reason says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.tagging import default_taxonomy
from curation.model import Ranked, SourceKind
from curation.rank import Weights, audience, explain, graph_topics, rank
from graph.questions.interest import TopicInterest
from tests.curation.roundup_fixtures import NOW, week


def by_slug(ranked: list[Ranked]) -> dict[str, Ranked]:
    return {r.candidate.content_id.rsplit("/", 1)[1]: r for r in ranked}


def test_every_score_is_the_sum_of_its_four_reasons() -> None:
    ranked = rank(week(), as_of=NOW, interest={})
    assert len(ranked) == 8
    for r in ranked:
        assert [x.name for x in r.reasons] == ["relevance", "freshness", "source", "audience"]
        assert r.score == pytest.approx(sum(x.value for x in r.reasons), abs=1e-3)
        assert all(x.why for x in r.reasons)
        assert explain(r).startswith(f"{r.score:.2f} = relevance ")
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_relevance_names_topics_and_the_phrases_that_matched() -> None:
    r = by_slug(rank(week(), as_of=NOW, interest=None))
    churn = r["churn-signals"].reasons[0]
    assert churn.name == "relevance" and churn.value > 0.9
    assert "Churn" in churn.why and "cancellation" in churn.why
    off_topic = r["remote-teams"].reasons[0]
    assert off_topic.value == 0 and off_topic.why == "about no topic of the taxonomy"
    # A taxonomy topic only the feed names counts as one mention.
    story = replace(week()[3], topics=("CRM",))
    (only,) = rank([story], as_of=NOW, interest=None)
    assert only.reasons[0].value == 0.5 and "named by the feed" in only.reasons[0].why


def test_freshness_halves_every_half_life_and_the_future_is_new() -> None:
    base = week()[0]
    stories = [replace(base, content_id=f"https://x.org/{h}", published_at=NOW - timedelta(
        hours=h)) for h in (0, 72, 144)] + [
        replace(base, content_id="https://x.org/future", published_at=NOW + timedelta(hours=5))]
    fresh = {r.candidate.content_id: r.reasons[1] for r in rank(stories, as_of=NOW,
                                                                 interest=None)}
    assert fresh["https://x.org/0"].value == 1.0
    assert fresh["https://x.org/72"].value == pytest.approx(0.5)
    assert fresh["https://x.org/144"].value == pytest.approx(0.25)
    assert fresh["https://x.org/future"].value == 1.0
    assert fresh["https://x.org/72"].why == "published 3.0 days before the issue (half-life " \
                                            "3.0 days)"


def test_source_weight_and_syndication() -> None:
    r = by_slug(rank(week(), as_of=NOW, interest=None))
    assert r["onboarding-benchmarks"].reasons[2].value == pytest.approx(0.5 * 0.585, abs=1e-3)
    assert r["renewal-playbook"].reasons[2].value == pytest.approx(0.15)
    assert "carried by 2 feeds" in r["renewal-playbook"].reasons[2].why
    low = replace(week()[0], source_weight=0.5)
    assert rank([low], as_of=NOW, interest=None)[0].reasons[2].value == pytest.approx(-0.5)


def test_audience_takes_the_best_topic_and_weighs_concerns_double() -> None:
    w = Weights()
    interest = {"churn": TopicInterest("churn", 3, 1), "crm": TopicInterest("crm", 1, 0)}
    reason = audience(("crm", "churn"), interest, w)
    assert reason.value == pytest.approx(1.5 * (1 - 0.5 ** (5 / 5)))
    assert reason.why == ("our contacts and customers, last 30 days: churn: 3 read, 1 raised "
                          "concerns; crm: 1 read")
    quiet = audience(("crm",), {"crm": TopicInterest("crm", 0, 0)}, w)
    assert quiet.value == 0 and "none of our contacts" in quiet.why
    assert audience(("crm",), None, w).why == "the graph was not asked"


def test_the_audience_moves_the_ranking() -> None:
    """NPS is behind churn on its own; once our audience cares about NPS it comes first."""
    plain = [r.candidate.content_id for r in rank(week(), as_of=NOW, interest={})]
    cared = rank(week(), as_of=NOW, interest={"nps": TopicInterest("nps", 8, 3)})
    assert plain.index("https://thinkers.example/nps-is-not-enough") > 2
    assert cared[0].candidate.content_id == "https://thinkers.example/nps-is-not-enough"
    assert cared[0].reasons[3].why.endswith("nps: 8 read, 3 raised concerns")


def test_graph_topics_are_what_the_pipeline_tags() -> None:
    story = week()[5]  # "A Pricing Page Teardown", the feed says "Pricing"
    assert graph_topics(story, default_taxonomy()) == ("pricing",)
    other = replace(week()[3], topics=("Remote Work",))  # a feed topic outside the taxonomy
    assert other.kind is SourceKind.COMPANY
    assert graph_topics(other, default_taxonomy()) == ("remote-work",)
