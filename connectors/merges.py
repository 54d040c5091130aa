"""Proposed merges: the same name at the same company, scored, decided by a person.

A person known only by a source key (a LinkedIn profile without e-mail) stays its own node. When
someone with a similar name works at the same company, the pair becomes a *proposed* merge with
its evidence and a score; it is never merged silently. `relgraph merges approve ID` folds the
source-keyed node into the other (every relationship moved, both ids kept: the folded key becomes
an alias, so re-loading the file lands on the merged node); `reject` records that they are two
people, so the pair is never proposed again.

Scoring uses rapidfuzz with explicit rules rather than a trained record-linkage model (Splink):
Splink estimates its match weights with expectation maximisation over the whole population of
records, which needs thousands of comparisons to be meaningful and fails or gives arbitrary
weights on one team's export of a few hundred contacts — the usual input here. The rules are
short and auditable: candidates are blocked by company (only people who work or worked at the
same company are compared), at least one of the two has no e-mail (two different e-mails are two
people), and the score is rapidfuzz's token-sort ratio of the names after case, accents and
punctuation are folded (so "Lovelace, Ada" meets "Ada Lovelace"). Pairs scoring 0.85 or more are
proposed.

Decisions live in `<data dir>/merges.sqlite` (SQLite, WAL); an approved merge also lives in the
graph itself (the alias), so it holds for both stores.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from connectors.errors import ConnectorError
from graph.store import GraphStore

THRESHOLD = 0.85
STATUSES = ("proposed", "approved", "rejected")


class MergeError(ConnectorError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    label: str
    keep: str
    drop: str
    score: float
    evidence: dict[str, Any]
    status: str
    proposed_at: str
    decided_at: str | None


def is_source_key(person_key: str) -> bool:
    """Source keys are "source:id"; e-mail keys never hold a colon (email-validator refuses)."""
    return ":" in person_key


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().replace(",", " ")


class MergeBook:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("""CREATE TABLE IF NOT EXISTS merges (
                id INTEGER PRIMARY KEY, label TEXT NOT NULL, keep TEXT NOT NULL,
                drop_key TEXT NOT NULL, score REAL NOT NULL, evidence TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected')),
                proposed_at TEXT NOT NULL, decided_at TEXT,
                UNIQUE (label, keep, drop_key))""")
            with con:
                yield con
        except sqlite3.DatabaseError as exc:
            raise MergeError(f"merge book {self.path}: {exc}") from exc
        finally:
            con.close()

    def propose(self, label: str, keep: str, drop: str, score: float,
                evidence: dict[str, Any]) -> bool:
        """Record a proposal unless this pair (either way round) was proposed or decided."""
        with self._db() as con:
            seen = con.execute(
                "SELECT 1 FROM merges WHERE label = ? AND ((keep = ? AND drop_key = ?) OR "
                "(keep = ? AND drop_key = ?))", (label, keep, drop, drop, keep)).fetchone()
            if seen:
                return False
            con.execute(
                "INSERT INTO merges (label, keep, drop_key, score, evidence, status, "
                "proposed_at) VALUES (?, ?, ?, ?, ?, 'proposed', ?)",
                (label, keep, drop, score, json.dumps(evidence, sort_keys=True),
                 datetime.now(UTC).isoformat()))
            return True

    def proposals(self, status: str | None = "proposed") -> list[Proposal]:
        with self._db() as con:
            if status is None:
                rows = con.execute("SELECT * FROM merges ORDER BY id").fetchall()
            else:
                rows = con.execute("SELECT * FROM merges WHERE status = ? ORDER BY id",
                                   (status,)).fetchall()
        return [_proposal(r) for r in rows]

    def get(self, proposal_id: int) -> Proposal:
        with self._db() as con:
            row = con.execute("SELECT * FROM merges WHERE id = ?", (proposal_id,)).fetchone()
        if row is None:
            raise MergeError(f"no proposed merge with id {proposal_id} (see `relgraph merges "
                             "list`)")
        return _proposal(row)

    def decide(self, proposal_id: int, status: str) -> Proposal:
        proposal = self.get(proposal_id)
        if proposal.status != "proposed":
            raise MergeError(f"merge {proposal_id} was already {proposal.status}")
        with self._db() as con:
            con.execute("UPDATE merges SET status = ?, decided_at = ? WHERE id = ?",
                        (status, datetime.now(UTC).isoformat(), proposal_id))
        return self.get(proposal_id)


def _proposal(row: tuple[Any, ...]) -> Proposal:
    id_, label, keep, drop, score, evidence, status, proposed_at, decided_at = row
    return Proposal(id_, label, keep, drop, score, json.loads(evidence), status, proposed_at,
                    decided_at)


def candidates(people: Iterable[tuple[str, str, str | None]]
               ) -> Iterator[tuple[str, str, float, dict[str, Any]]]:
    """(keep, drop, score, evidence) for similar names at one company (rules in the doc)."""
    by_company: dict[str, dict[str, str]] = defaultdict(dict)
    for company, person, name in people:
        if name and name.strip():
            by_company[company][person] = name.strip()
    for company, names in sorted(by_company.items()):
        keys = sorted(names)
        choices = [_fold(names[k]) for k in keys]
        for i, key in enumerate(keys):
            if not is_source_key(key):
                continue
            for _, ratio, j in process.extract(choices[i], choices, scorer=fuzz.token_sort_ratio,
                                               score_cutoff=THRESHOLD * 100, limit=None):
                other = keys[j]
                if other == key or (is_source_key(other) and other < key):
                    continue  # itself, or a source-keyed pair already seen from the other side
                keep, drop = (other, key) if not is_source_key(other) else (key, other)
                score = round(ratio / 100, 3)
                yield keep, drop, score, {
                    "rule": "same company, similar name", "company": company,
                    "names": [names[keep], names[drop]], "name_similarity": score}


def propose_people(store: GraphStore, book: MergeBook, companies: Iterable[str]) -> int:
    """Propose merges among the people of these companies; returns how many are new."""
    aliases = store.aliases("Person")
    new = 0
    for keep, drop, score, evidence in candidates(store.people_at(companies)):
        if aliases.get(drop) == keep:
            continue
        new += book.propose("Person", keep, drop, score, evidence)
    return new


def approve(store: GraphStore, book: MergeBook, proposal_id: int) -> Proposal:
    """Merge the pair in the store, then record the decision (a failed merge decides nothing)."""
    proposal = book.get(proposal_id)
    if proposal.status != "proposed":
        raise MergeError(f"merge {proposal_id} was already {proposal.status}")
    store.merge_nodes(proposal.label, proposal.keep, proposal.drop)
    if proposal.label == "Person":
        store.reconcile_jobs([proposal.keep])
    store.checkpoint()
    return book.decide(proposal_id, "approved")
