"""The merge book (its table layout, the migration from the first layout, proposals in one
transaction) and the candidates' rules, against a brute-force reading of those rules."""

from __future__ import annotations

import json
import random
import sqlite3
from itertools import combinations
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from connectors.merges import (
    THRESHOLD,
    MergeBook,
    MergeError,
    _fold,
    candidates,
    evidence_line,
    is_source_key,
)

# The table as the first layout created it (connectors/merges.py before the canonical pairs).
FIRST_LAYOUT = """CREATE TABLE IF NOT EXISTS merges (
                id INTEGER PRIMARY KEY, label TEXT NOT NULL, keep TEXT NOT NULL,
                drop_key TEXT NOT NULL, score REAL NOT NULL, evidence TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected')),
                proposed_at TEXT NOT NULL, decided_at TEXT,
                UNIQUE (label, keep, drop_key))"""

OLD_ROWS = [  # keep before and after drop in sort order; every status; a gap in the ids
    (1, "Person", "raj@globex.com", "linkedin:https://www.linkedin.com/in/rajp", 1.0,
     {"rule": "same company, similar name", "company": "globex.com",
      "names": ["Raj Patel", "Raj Patel"], "name_similarity": 1.0},
     "approved", "2026-11-01T10:00:00+00:00", "2026-11-02T09:00:00+00:00"),
    (2, "Person", "linkedin:https://www.linkedin.com/in/ann", "linkedin:https://www.linkedin.com/in/anne",
     0.933, {"company": "a.com", "names": ["Ann Lee", "Anne Lee"]},
     "rejected", "2026-11-01T10:00:00+00:00", "2026-11-03T09:00:00+00:00"),
    (7, "Person", "zed@b.com", "hubspot:17", 0.9, {"company": "b.com", "names": ["Zed", "Zedd"]},
     "proposed", "2026-11-04T10:00:00+00:00", None),
]


def old_book(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute(FIRST_LAYOUT)
    con.executemany("INSERT INTO merges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(i, lab, k, d, s, json.dumps(e, sort_keys=True), st, p, dec)
                     for i, lab, k, d, s, e, st, p, dec in OLD_ROWS])
    con.commit()
    con.close()
    return path


def test_a_book_in_the_first_layout_is_migrated_in_place(tmp_path: Path) -> None:
    book = MergeBook(old_book(tmp_path / "merges.sqlite"))
    got = book.proposals(None)
    assert [(p.id, p.label, p.keep, p.drop, p.score, p.evidence, p.status, p.proposed_at,
             p.decided_at) for p in got] == OLD_ROWS
    assert all(p.note is None for p in got)
    con = sqlite3.connect(tmp_path / "merges.sqlite")
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    columns = [r[1] for r in con.execute("PRAGMA table_info(merges)")]
    assert "drop_key" not in columns and {"a", "b", "kept", "note"} <= set(columns)
    unique = [r[1] for r in con.execute("PRAGMA index_list(merges)") if r[2]]
    assert [[c[2] for c in con.execute(f"PRAGMA index_info({name})")] for name in unique] == [
        ["label", "a", "b"]]
    con.close()
    # Decided pairs stay decided, either way round; a new pair gets the next id.
    assert book.propose_many("Person", [
        ("linkedin:https://www.linkedin.com/in/rajp", "raj@globex.com", 1.0, {}),
        ("linkedin:https://www.linkedin.com/in/anne", "linkedin:https://www.linkedin.com/in/ann",
         0.9, {}),
        ("li@c.com", "linkedin:https://www.linkedin.com/in/li", 0.95, {"company": "c.com"})]) == 1
    (new,) = book.proposals()[1:]
    assert (new.id, new.keep, new.drop, new.status) == (
        8, "li@c.com", "linkedin:https://www.linkedin.com/in/li", "proposed")
    assert book.decide(7, "stale", note="gone").note == "gone"
    # Opening it again changes nothing.
    assert [p.id for p in MergeBook(tmp_path / "merges.sqlite").proposals(None)] == [1, 2, 7, 8]


def test_propose_many_is_one_transaction_and_counts_what_is_new(tmp_path: Path) -> None:
    book = MergeBook(tmp_path / "merges.sqlite")
    pairs = [("a@x.com", "li:1", 0.9, {"n": 1}), ("li:1", "a@x.com", 0.9, {"n": 2}),
             ("li:1", "li:2", 1.0, {"n": 3})]
    assert book.propose_many("Person", pairs) == 2
    assert book.propose_many("Person", pairs) == 0
    assert book.propose_many("Company", [("apex.co", "ember-software", 0.9, {})]) == 1
    assert [(p.label, p.keep, p.drop, p.evidence) for p in book.proposals()] == [
        ("Person", "a@x.com", "li:1", {"n": 1}), ("Person", "li:1", "li:2", {"n": 3}),
        ("Company", "apex.co", "ember-software", {})]
    with pytest.raises(MergeError, match="into itself"):
        book.propose_many("Person", [("b@x.com", "li:3", 0.9, {}), ("li:4", "li:4", 1.0, {})])
    assert len(book.proposals()) == 3  # the batch rolled back: b@x.com was not kept either


def test_an_unknown_layout_is_refused_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "merges.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 9")
    con.commit()
    con.close()
    with pytest.raises(MergeError, match="layout 9"):
        MergeBook(path).proposals()


def brute_force(people: list[tuple[str, str, str]]) -> set[tuple[str, str, str, float]]:
    """The rules of connectors/merges.py read literally: every pair at one company."""
    found = set()
    by_company: dict[str, dict[str, str]] = {}
    for company, person, name in people:
        by_company.setdefault(company, {})[person] = name
    for company, names in by_company.items():
        for p, q in combinations(sorted(names), 2):
            if not (is_source_key(p) or is_source_key(q)):
                continue
            ratio = fuzz.token_sort_ratio(_fold(names[p]), _fold(names[q]))
            if ratio < THRESHOLD * 100:
                continue
            if is_source_key(p) and is_source_key(q):
                keep, drop = p, q
            else:
                keep, drop = (q, p) if is_source_key(p) else (p, q)
            found.add((company, keep, drop, round(ratio / 100, 3)))
    return found


@pytest.mark.parametrize("seed", range(6))
def test_candidates_are_what_the_rules_say(seed: int) -> None:
    rnd = random.Random(seed)
    first = ["Ada", "Anne", "Ann", "Raj", "Rajesh", "Zoë", "Zoe", "Li"]
    last = ["Lovelace", "Love-lace", "Patel", "Patell", "Brontë", "Wei", "Lee"]
    people = []
    for i in range(rnd.randint(20, 80)):
        name = f"{rnd.choice(first)} {rnd.choice(last)}"
        if rnd.random() < 0.2:
            name = ", ".join(reversed(name.split()))
        key = f"linkedin:https://www.linkedin.com/in/p{i}" if rnd.random() < 0.7 else f"p{i}@x.com"
        people.append((f"c{rnd.randint(0, 2)}.com", key, name))
    got = list(candidates(people))
    assert {(e["company"], keep, drop, score) for keep, drop, score, e in got} == brute_force(
        people)
    assert len(got) == len(brute_force(people))
    for keep, drop, score, evidence in got:
        names = dict((p, n) for c, p, n in people if c == evidence["company"])
        assert evidence == {"rule": "same company, similar name", "company": evidence["company"],
                            "names": [names[keep], names[drop]], "name_similarity": score}
    assert got == list(candidates(reversed(people)))  # the order is the data's, not the input's


def test_evidence_lines_read_for_people_and_companies() -> None:
    assert evidence_line({"rule": "same company, similar name", "company": "globex.com",
                          "names": ["Raj Patel", "Patel, Raj"], "name_similarity": 1.0}) == (
        "Raj Patel / Patel, Raj at globex.com (same company, similar name)")
    # The shape connectors/companies.py proposes with.
    company = {"rule": "one work e-mail pairs the name with the domain",
               "name": "alphabet-holdings", "domain": "goog.example", "people": 1,
               "kinds": {"website": 0, "email": 1, "latest": "2026-10-30T16:45:00+00:00"},
               "domains": {"goog.example": {"website": 0, "email": 1, "latest": None}}}
    assert evidence_line(company, ("goog.example", "alphabet-holdings")) == (
        "people: 1; kinds: email 1, latest 2026-10-30; domains: goog.example (email 1) "
        "(one work e-mail pairs the name with the domain)")
    assert evidence_line({"names": ["A", "B"], "shared": False, "note": "T-shirt"}) == (
        "A / B; shared: False; note: T-shirt")
    assert evidence_line({"rule": "by hand"}) == "by hand"
    assert evidence_line({}) == ""
