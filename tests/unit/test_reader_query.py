"""A content kind is read as people write it, and a wrong one says which was meant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graph.model import QueryError, ReaderQuery


def _query(kind: str) -> ReaderQuery:
    return ReaderQuery(read_topic="crm", concern_topic="churn", read_window=timedelta(days=90),
                       concern_window=timedelta(days=30), content_kind=kind)


@pytest.mark.parametrize("kind", ["white_paper", "White Paper", "white-paper", " WHITE_PAPER "])
def test_a_kind_as_people_write_it(kind: str) -> None:
    assert _query(kind).resolved().content_kind == "white_paper"


def test_an_unknown_kind_says_what_was_meant() -> None:
    with pytest.raises(QueryError, match=r"did you mean white_paper\?; one of article"):
        _query("whitepapr").resolved()
    with pytest.raises(QueryError, match=r"unknown content kind 'zzz'; one of"):
        _query("zzz").resolved()
