"""Drafting: blurbs cut to whole sentences that name author and outlet, suggested verdicts, the
window, and the picks of a new draft issue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from curation import issues
from curation.draft import (
    LOVE_IT,
    READ_IT,
    attribution,
    clean_author,
    draft_blurb,
    split_sentences,
    title_for,
    window,
)
from curation.errors import CurationError
from curation.model import Candidate, IssueStatus, SourceKind
from tests.curation.roundup_fixtures import DAY, EDITOR, NOW, built, curation_db, week


def story(summary: str, author: str | None = "Jane Roe",
          outlet: str | None = "Acme Blog") -> Candidate:
    return replace(week()[0], summary=summary, author=author, outlet=outlet)


@pytest.mark.parametrize(("text", "expected"), [
    ("One. Two! Three? four.", ["One.", "Two!", "Three? four."]),
    ("Mr. Smith went to Washington. He stayed.", ["Mr. Smith went to Washington.",
                                                   "He stayed."]),
    ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
    ("Version 2.5 shipped. It is fast", ["Version 2.5 shipped.", "It is fast"]),
    ("e.g. This stays whole. Yes.", ["e.g. This stays whole.", "Yes."]),
    ("", []),
])
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_blurb_keeps_whole_sentences_within_the_budget() -> None:
    long = " ".join(f"Sentence number {n} says something rather useful about churn." for n in
                    range(1, 9))
    blurb = draft_blurb(story(long))
    assert blurb.startswith("From Acme Blog, Jane Roe writes: Sentence number 1 says")
    assert blurb.endswith("number 3 says something rather useful about churn.")  # 3 at most
    short_budget = draft_blurb(story("A short one. " + "Word " * 80 + "end. Last."))
    assert short_budget == "From Acme Blog, Jane Roe writes: A short one."


def test_blurb_drops_feed_boilerplate_and_cut_fragments() -> None:
    text = ("Churn is a symptom. The post Churn Is a Symptom appeared first on Acme Blog. "
            "Continue reading → And then the feed cut this sentence in the mid […]")
    assert draft_blurb(story(text)) == "From Acme Blog, Jane Roe writes: Churn is a symptom."
    # Only a fragment: it is kept and marked as cut.
    assert draft_blurb(story("Ten ways to keep customers, and why the third")) == \
        "From Acme Blog, Jane Roe writes: Ten ways to keep customers, and why the third…"
    # A single endless sentence is cut at a word.
    endless = draft_blurb(story("word " * 200 + "end."))
    assert endless.endswith("word…") and len(endless) < 450
    # Nothing at all: the title.
    assert draft_blurb(story("", None, None)) == "The Churn Signals Hiding in Your Support Queue."


def test_blurb_names_author_and_outlet_only_once() -> None:
    assert draft_blurb(story("Jane Roe shows how. It works.")) == \
        "From Acme Blog: Jane Roe shows how. It works."
    assert draft_blurb(story("On the Acme Blog, Jane Roe shows how.")) == \
        "On the Acme Blog, Jane Roe shows how."
    assert draft_blurb(story("It works.", author=None)) == "From Acme Blog: It works."
    assert draft_blurb(story("It works.", outlet=None)) == "Jane Roe writes: It works."
    assert draft_blurb(story("It works.", author="Acme Blog")) == "From Acme Blog: It works."


@pytest.mark.parametrize(("raw", "name"), [
    ("jane@acme.com (Jane Roe)", "Jane Roe"), ("  Jane   Roe ", "Jane Roe"),
    ("jane@acme.com", None), ("admin", None), ("The Team", "The Team"), (None, None)])
def test_clean_author(raw: str | None, name: str | None) -> None:
    assert clean_author(raw) == name


def test_attribution_without_anyone() -> None:
    assert attribution(None, None) == ""


def test_title_has_weekday_month_and_ordinal() -> None:
    assert title_for("What's new", date(2026, 11, 27)) == "What's new – Friday, November 27th"
    assert [title_for("X", date(2026, 3, d)).rsplit(" ", 1)[1] for d in (1, 2, 3, 11, 12, 13,
                                                                         21, 22, 23, 31)] == \
        ["1st", "2nd", "3rd", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


def test_window_defaults_and_refusals(tmp_path: Path) -> None:
    with curation_db(tmp_path) as db:
        since, until = window(db, DAY, None, NOW)
        assert (since, until) == (datetime(2026, 11, 20, tzinfo=UTC), NOW)  # first: 7 days
        # A past date ends with its day; an explicit --since wins.
        assert window(db, date(2026, 11, 1), None, NOW)[1] == datetime(2026, 11, 2, tzinfo=UTC)
        given = datetime(2026, 11, 25, tzinfo=UTC)
        assert window(db, DAY, given, NOW) == (given, NOW)
        with pytest.raises(CurationError, match="is empty"):
            window(db, DAY, NOW, NOW)
        with pytest.raises(CurationError, match="timezone"):
            window(db, DAY, datetime(2026, 11, 25), NOW)
        # After a published issue: from the end of its window.
        first = built(db).issue
        db.execute("UPDATE issues SET status = 'published', published_at = ? WHERE id = ?",
                   (NOW.isoformat(), first.id))
        later = NOW + timedelta(days=7)
        assert window(db, later.date(), None, later) == (first.until, later)


def test_build_picks_the_best_on_topic_stories_per_section(tmp_path: Path) -> None:
    with curation_db(tmp_path) as db:
        made = built(db)
        assert made.issue.id == "roundup-2026-11-27"
        assert made.issue.status is IssueStatus.DRAFT
        assert made.issue.title == "What's new in Customer Success – Friday, November 27th"
        assert [i.rank for i in made.items] == list(range(1, 9))
        picked = issues.sections(db, made.issue.id)
        assert [len(picked[k]) for k in SourceKind] == [3, 3, 1]
        # The off-topic story stays a candidate, unpicked.
        remote = next(i for i in made.items if i.content_id.endswith("remote-teams"))
        assert not remote.picked and remote.position == 0 and remote.blurb
        # Positions follow the ranking within each section; the best of each is loved.
        for kind in SourceKind:
            assert [i.position for i in picked[kind]] == list(range(1, len(picked[kind]) + 1))
            assert picked[kind][0].verdict == LOVE_IT
            assert [i.rank for i in picked[kind]] == sorted(i.rank for i in picked[kind])
        assert {i.verdict for i in made.items} == {LOVE_IT, READ_IT}
        # The same day again: a second issue id.
        assert built(db).issue.id == "roundup-2026-11-27-2"
        (entry,) = issues.history(db, made.issue.id)
        assert (entry.action, entry.who) == ("build", EDITOR)
        assert entry.after == ("8 candidates from 2026-11-20 00:00 UTC to 2026-11-27 07:00 UTC; "
                               "7 picked")


def test_build_never_features_a_story_again_and_limits_per_section(tmp_path: Path) -> None:
    with curation_db(tmp_path) as db:
        first = built(db)
        db.execute("UPDATE issues SET status = 'published', published_at = ? WHERE id = ?",
                   (NOW.isoformat(), first.issue.id))
        later = NOW + timedelta(days=1)
        second = built(db, day=later.date(), now=later)
        featured = {i.content_id for i in first.items if i.picked}
        assert {i.content_id for i in second.items} == {i.content_id for i in first.items} - \
            featured
        from curation.draft import build
        third = build(db, None, day=later.date(), candidates=week(), who=EDITOR, now=later,
                      since=NOW - timedelta(days=7),
                      per_section={SourceKind.COMPANY: 0, SourceKind.VENDOR: 1})
        assert [(i.section, i.position) for i in third.items if i.picked] == []  # all featured


def test_build_drafts_from_the_full_text_when_the_summary_is_empty(tmp_path: Path) -> None:
    with curation_db(tmp_path) as db:
        bare = replace(week()[4], summary="", entry_ids=("e1",))
        db.execute("INSERT INTO entries (id, feed_url, url, title, published_at, first_seen_at, "
                   "summary, content_html) VALUES ('e1', 'f', ?, 't', ?, ?, '', ?)",
                   (bare.url, NOW.isoformat(), NOW.isoformat(),
                    "<p>Onboarding took <b>longer</b> than planned.</p><p>Here is why.</p>"))
        made = built(db, candidates=[bare])
        assert made.items[0].blurb == ("From Vendor Blog, Lena Fischer writes: Onboarding took "
                                       "longer than planned. Here is why.")
