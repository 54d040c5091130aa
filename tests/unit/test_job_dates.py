"""The observed-job dating rules (graph/merging.py), which both stores share."""

from __future__ import annotations

from datetime import UTC, datetime

from graph.merging import ObservedJob, job_dates


def d(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_one_job_has_no_dates() -> None:
    assert job_dates([ObservedJob("a.com", d(3, 1), d(9, 1))]) == {"a.com": (None, None)}


def test_a_newer_employer_ends_the_older_job_where_it_is_first_seen() -> None:
    jobs = [ObservedJob("old.com", d(1, 5), d(3, 1)), ObservedJob("new.com", d(6, 1), d(9, 1))]
    assert job_dates(jobs) == {"old.com": (None, d(6, 1)), "new.com": (d(6, 1), None)}


def test_a_lagging_export_of_the_old_job_does_not_undo_the_move() -> None:
    # sales' CRM still lists the old job hours after marketing's export showed the new one
    jobs = [ObservedJob("old.com", d(10, 6), d(12, 6, 20)),
            ObservedJob("new.com", d(12, 6), d(12, 6))]
    assert job_dates(jobs) == {"old.com": (None, d(12, 6)), "new.com": (d(12, 6), None)}


def test_any_order_of_the_jobs_gives_the_same_dates() -> None:
    jobs = [ObservedJob("a.com", d(1, 1), d(12, 1)), ObservedJob("b.com", d(4, 1), d(5, 1)),
            ObservedJob("c.com", d(8, 1), d(8, 2))]
    assert job_dates(jobs) == job_dates(list(reversed(jobs))) == {
        "a.com": (None, d(4, 1)), "b.com": (d(4, 1), d(8, 1)), "c.com": (d(8, 1), None)}


def test_jobs_first_seen_together_are_concurrent() -> None:
    jobs = [ObservedJob("a.com", d(2, 1), d(9, 1)), ObservedJob("b.com", d(2, 1), d(5, 1))]
    assert job_dates(jobs) == {"a.com": (None, None), "b.com": (None, None)}
