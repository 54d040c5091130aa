"""The newer questions' Cypher, checked without a database: user values never reach the text,
every parameter the text uses is sent, and the text depends only on the query's shape."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest

from graph.model import QueryError
from graph.questions import Cypher, Question
from graph.questions.entities import (
    COMPANY_CARDS,
    CONNECTIONS,
    PEOPLE,
    CompaniesQuery,
    ConnectionsQuery,
    PeopleQuery,
)
from graph.questions.search import (
    _LONG_FOLDS,
    SEARCH,
    SearchQuery,
    candidate_pattern,
    fold,
    score,
    words,
)
from graph.questions.triggers import TRIGGERS, TriggerQuery
from graph.questions.warm_paths import WARM_PATHS, WarmPathQuery, strength

NASTY = "x'}) MATCH (n) DETACH DELETE n //"
NASTY_PERSON = "crm:Bobby'}) DETACH DELETE n //"  # a valid source:id key
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)

# (question, a plain query, a query of the same shape differing in every user value, the
# user values that must not appear in the text)
CASES: list[tuple[Question[Any, Any], Any, Any, tuple[str, ...]]] = [
    (WARM_PATHS, WarmPathQuery("a@b.com", "c@d.com", 3, 10),
     WarmPathQuery(NASTY_PERSON, "crm:" + NASTY, 3, 99, as_of=T1), ("Bobby", "DETACH")),
    (TRIGGERS, TriggerQuery(T0), TriggerQuery(T1, ("ipo", "layoffs"), False, T1, None, 7, 3),
     ()),
    (TRIGGERS, TriggerQuery(T0, person="a@b.com"),
     TriggerQuery(T1, ("acquisition",), True, T1, NASTY_PERSON, 9, 1), ("Bobby", "DETACH")),
    (PEOPLE, PeopleQuery(("a@b.com",)), PeopleQuery((NASTY_PERSON, "Z@Y.com"), T1),
     ("Bobby", "DETACH", "z@y.com")),
    (PEOPLE, PeopleQuery(("a@b.com",), brief=True),
     PeopleQuery((NASTY_PERSON, "Z@Y.com"), T1, True), ("Bobby", "DETACH", "z@y.com")),
    (COMPANY_CARDS, CompaniesQuery(("a.com",)), CompaniesQuery((NASTY, "https://evil.org/x"), T1),
     ("DETACH", "evil")),
    (CONNECTIONS, ConnectionsQuery(("a@b.com",)), ConnectionsQuery((NASTY_PERSON,), 3, T1),
     ("Bobby", "DETACH")),
    (SEARCH, SearchQuery("ada"), SearchQuery(NASTY + " zoë", 5), ("DETACH", "zoe", "zoë")),
]
IDS = ["warm-paths", "triggers-team", "triggers-person", "people", "people-brief", "companies",
       "connections", "search"]


def _cypher(question: Question[Any, Any], query: Any) -> Cypher:
    return question.cypher(question.prepare(query))


@pytest.mark.parametrize(("question", "plain", "nasty", "values"), CASES, ids=IDS)
def test_user_values_are_parameters(question: Question[Any, Any], plain: Any, nasty: Any,
                                    values: tuple[str, ...]) -> None:
    """Two questions that differ in every user value must send the same Cypher text: then no
    value can be in it. And every $name the text uses must be among the parameters sent."""
    a, b = _cypher(question, plain), _cypher(question, nasty)
    assert a.text == b.text
    for value in values:
        assert value.lower() not in b.text.lower(), value
    for cypher in (a, b):
        used = set(re.findall(r"\$(\w+)", cypher.text))
        assert used and used <= set(cypher.params), used - set(cypher.params)


def test_person_or_team_changes_only_who_is_our_side() -> None:
    team = _cypher(TRIGGERS, TriggerQuery(T0)).text
    person = _cypher(TRIGGERS, TriggerQuery(T0, person="a@b.com")).text
    assert "own: true" in team and "{id: $person}" in person and "own: true" not in person
    for text in (team, person):
        assert text.startswith("MATCH (t:Trigger)\nWHERE $since <= t.at <= $as_of")


@pytest.mark.parametrize("hops", [1, 2, 3, 4])
def test_warm_paths_text_depends_on_max_hops_alone(hops: int) -> None:
    text = _cypher(WARM_PATHS, WarmPathQuery("a@b.com", "c@d.com", hops)).text
    assert text.startswith("OPTIONAL MATCH (a:Person {id: $source})\n"
                           "OPTIONAL MATCH (b:Person {id: $target})\n")
    matches = re.findall(r"MATCH p = (.*)", text)
    assert matches == ["(a)" + "".join(f"-[:KNOWS]-(m{i})" for i in range(1, n)) + "-[:KNOWS]-(b)"
                       for n in range(1, hops + 1)]
    assert "KNOWS*" not in text  # no variable-length pattern anywhere


@pytest.mark.parametrize("hops", [0, 5, -1, True, 2.0, "3"])
def test_max_hops_is_a_checked_integer(hops: Any) -> None:
    with pytest.raises(QueryError, match="max_hops"):
        WARM_PATHS.prepare(WarmPathQuery("a@b.com", "c@d.com", hops))


def test_batch_keys_are_normalised_once_and_bad_ones_dropped() -> None:
    people = PEOPLE.prepare(PeopleQuery(("Ann@A.com", "ann@a.com", "not a key", " crm:42 ")))
    assert people.keys == ("ann@a.com", "crm:42")
    companies = COMPANY_CARDS.prepare(CompaniesQuery(("https://www.A.com/x", "gmail.com",
                                                      "Acme Corp.", "a.com")))
    assert companies.keys == ("a.com", "acme")
    assert _cypher(PEOPLE, PeopleQuery(("Ann@A.com",))).params["keys"] == ["ann@a.com"]


def test_entity_questions_are_one_unwind_over_the_keys() -> None:
    for question, query in ((PEOPLE, PeopleQuery(("a@b.com",))),
                            (COMPANY_CARDS, CompaniesQuery(("a.com",))),
                            (CONNECTIONS, ConnectionsQuery(("a@b.com",)))):
        text = _cypher(question, query).text
        assert text.startswith("UNWIND $keys AS key\nMATCH (")
        assert text.count("UNWIND $keys") == 1


@pytest.mark.parametrize(("text", "folded", "split"), [
    ("Zoë Brontë", "zoe bronte", ("zoe", "bronte")),
    ("STRAẞE", "strasse", ("strasse",)),
    ("ada@Acme.com", "ada@acme.com", ("ada", "acme", "com")),
    ("ﬁnance_team", "finance_team", ("finance", "team")),
    ("Ｆｕｌｌ width", "full width", ("full", "width")),
])
def test_folding(text: str, folded: str, split: tuple[str, ...]) -> None:
    assert fold(text) == folded and words(text) == split


@pytest.mark.parametrize(("query", "fields", "expected"), [
    ("ada lovelace", ["Ada Lovelace"], 3.0),
    ("ada lov", ["Ada Lovelace"], 2.0),
    ("lovelace", ["Ada Lovelace"], 1.0),
    ("love ada", ["Ada Lovelace"], 0.0),  # only the last word may be a prefix
    ("ada acme", ["Ada Lovelace", "ada@acme.com"], 2.0),  # words from any field
    ("lovelace acme", ["Ada Lovelace", "ada@acme.com"], 1.0),
    ("bob", ["Ada Lovelace"], 0.0),
])
def test_scores(query: str, fields: list[str], expected: float) -> None:
    assert score(words(query), fields) == expected


def test_path_strength_multiplies_in_order_with_a_default() -> None:
    assert strength([0.5, None, 0.8]) == 0.5 * 0.5 * 0.8
    assert strength([]) == 1.0


def test_candidate_patterns_know_every_long_case_folding() -> None:
    """`candidate_pattern` assumes that after NFKD without marks a character folds to one
    character, except those in _LONG_FOLDS, and never to one NFKD would change."""
    long: dict[str, str] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for ch in unicodedata.normalize("NFKD", chr(cp)):
            if unicodedata.combining(ch):
                continue
            folded = ch.casefold()
            assert unicodedata.normalize("NFKD", folded) == folded, hex(cp)
            if len(folded) > 1:
                for letter in folded:
                    long[letter] = "".join(sorted(set(long.get(letter, "")) | {ch}))
    assert long == {k: "".join(sorted(v)) for k, v in _LONG_FOLDS.items()}


@pytest.mark.parametrize("word", ["zoe", "strasse", "ﬁ", "42"])
def test_candidate_patterns_hold_no_user_syntax(word: str) -> None:
    for w in words(word):
        pattern = candidate_pattern(w)
        assert pattern.startswith("(?su).*(?iu:") and pattern.endswith(").*")
        with pytest.raises(AssertionError):
            candidate_pattern(w + ".*")
