"""De-duplication layers: global GUID, canonical URL, near-duplicate text across feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from curation.dedup import cluster, shingles
from curation.model import Entry

T = datetime(2024, 3, 5, tzinfo=UTC)
STORY = ("Churn is a symptom not a disease, and the customer success teams that treat its "
         "causes early keep their customers for years: onboarding, health scores and renewals "
         "all start with the first week of a new account")


def entry(id: str, feed: str, url: str, title: str, text: str = "",
          guid: str | None = None) -> Entry:
    return Entry(id, feed, guid, url, title, None, T, T, text)


def groups(entries: list[Entry], **kwargs: object) -> list[list[str]]:
    return sorted(cluster(entries, **kwargs).members.values())  # type: ignore[arg-type]


# (case, entries, expected groups)
CASES = [
    ("global GUID across feeds",
     [entry("a", "f1", "https://a.example/1", "One", guid="tag:a.example,2024:1"),
      entry("b", "f2", "https://planet.example/x", "One (via planet)",
            guid="tag:a.example,2024:1")],
     [["a", "b"]]),
    ("a feed-local GUID never joins two feeds",
     [entry("a", "f1", "https://a.example/first", "Alpha's first", guid="1"),
      entry("b", "f2", "https://b.example/first", "Beta's first", guid="1")],
     [["a"], ["b"]]),
    ("canonical URL: case, tracking parameters, fragments",
     [entry("a", "f1", "https://a.example/post", "Post"),
      entry("b", "f2", "HTTPS://A.EXAMPLE:443/post?utm_source=rss#comments", "Post (copy)")],
     [["a", "b"]]),
    ("near-duplicate text across feeds",
     [entry("a", "f1", "https://a.example/churn", "Churn is a symptom", STORY),
      entry("b", "f2", "https://syndicate.example/9", "Churn is a symptom",
            STORY.replace("for years", "for many years") + " Read more at the source.")],
     [["a", "b"]]),
    ("an excerpt meets the full text (the lead is compared)",
     [entry("a", "f1", "https://a.example/churn", "Churn is a symptom", STORY * 5),
      entry("b", "f2", "https://syndicate.example/9", "Churn is a symptom", STORY[:180])],
     [["a", "b"]]),
    ("near-duplicate text in one feed stays apart (a series repeats itself)",
     [entry("a", "f1", "https://a.example/week-1", "Weekly roundup", STORY),
      entry("b", "f1", "https://a.example/week-2", "Weekly roundup", STORY)],
     [["a"], ["b"]]),
    ("different stories stay apart",
     [entry("a", "f1", "https://a.example/churn", "Churn is a symptom", STORY),
      entry("b", "f2", "https://b.example/nps", "What NPS does not tell you",
            "Net promoter scores measure a mood on a given day; renewals measure behaviour "
            "over a year, and the two disagree more often than dashboards admit.")],
     [["a"], ["b"]]),
    ("short texts are too short to call near-duplicates",
     [entry("a", "f1", "https://a.example/1", "News"),
      entry("b", "f2", "https://b.example/1", "News")],
     [["a"], ["b"]]),
    ("layers combine transitively",
     [entry("a", "f1", "https://a.example/churn", "Churn is a symptom", STORY),
      entry("b", "f2", "https://a.example/churn?utm_campaign=x", "Churn"),
      entry("c", "f3", "https://c.example/copy", "Churn is a symptom", STORY)],
     [["a", "b", "c"]]),
]


@pytest.mark.parametrize(("case", "entries", "expected"), CASES, ids=[c[0] for c in CASES])
def test_layers(case: str, entries: list[Entry], expected: list[list[str]]) -> None:
    assert groups(entries) == expected


def test_the_layer_that_joined_each_pair_is_kept() -> None:
    found = cluster(CASES[-1][1])
    assert sorted(found.layers.values()) == ["canonical URL", "near-duplicate text"]


def test_cluster_ids_are_stable_across_runs() -> None:
    entries = [entry("b", "f1", "https://a.example/x", "X"),
               entry("c", "f2", "https://a.example/x", "X")]
    assert cluster(entries).of == {"b": "b", "c": "b"}
    known = {"c": "old-cluster"}
    assert cluster(entries, known=known).of == {"b": "old-cluster", "c": "old-cluster"}
    # a known cluster whose entries no longer meet keeps its id for one of them only
    apart = [entry("b", "f1", "https://a.example/1", "One"),
             entry("c", "f2", "https://a.example/2", "Two")]
    ids = cluster(apart, known={"b": "k", "c": "k"}).of
    assert sorted(ids.values()) == ["c", "k"] or sorted(ids.values()) == ["b", "k"]


def test_shingles() -> None:
    assert shingles("Too short", "") == set()
    assert "churn is a" in shingles("Churn is a symptom", STORY)
