"""Proposed merges: the same name at the same company, scored, decided by a person.

A person known only by a source key (a LinkedIn profile without e-mail) stays its own node. When
someone with a similar name works at the same company, the pair becomes a *proposed* merge with
its evidence and a score; it is never merged silently. `relgraph merges approve ID` folds the
source-keyed node into the other (every relationship moved, both ids kept: the folded key becomes
an alias, so re-loading the file lands on the merged node); `reject` records that they are two
people, so the pair is never proposed again. Other proposers (companies: a name key beside a
domain) use the same book and the same decision: `label` says what the pair is.

Scoring uses rapidfuzz with explicit rules rather than a trained record-linkage model (Splink):
Splink estimates its match weights with expectation maximisation over the whole population of
records, which needs thousands of comparisons to be meaningful and fails or gives arbitrary
weights on one team's export of a few hundred contacts — the usual input here. The rules are
short and auditable: candidates are blocked by company (only people who work or worked at the
same company are compared), at least one of the two has no e-mail (two different e-mails are two
people), and the score is rapidfuzz's token-sort ratio of the names after case, accents and
punctuation are folded (so "Lovelace, Ada" meets "Ada Lovelace"). Pairs scoring 0.85 or more are
proposed.

A decision is taken on the graph as it is when the person decides, not as it was proposed: both
sides are followed through the aliases first. A later load may have given the source-keyed side
an e-mail (it was folded into that e-mail's node): the proposal is then *stale* — two e-mail
addresses are two people — and approving it is refused, with the reason kept in the book.

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

from connectors.adoption import configured_key_features
from connectors.errors import ConnectorError
from connectors.folds import dependents, fold_existing
from graph import version as graph_version
from graph.keys import is_domain_key
from graph.store import GraphStore

THRESHOLD = 0.85
STATUSES = ("proposed", "approved", "rejected", "stale")


class MergeError(ConnectorError, ValueError):
    pass


class StaleMerge(MergeError):
    """The graph changed since the proposal so that approving it would merge two nodes the
    proposal's evidence says nothing about (recorded as `stale` in the book)."""


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
    note: str | None = None  # what a decision found (stale, already one node, re-targeted)


def is_source_key(person_key: str) -> bool:
    """Source keys are "source:id"; e-mail keys never hold a colon (email-validator refuses)."""
    return ":" in person_key


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().replace(",", " ")


def similar_names(one: str, other: str) -> bool:
    """The rule's name test on its own: the folded names score THRESHOLD or more.

    >>> similar_names("Lovelace, Ada", "Ada Lovelace"), similar_names("Ada Larsen", "Bo Ek")
    (True, False)
    """
    a, b = _fold(one.strip()), _fold(other.strip())
    return bool(a and b) and (a == b or fuzz.token_sort_ratio(a, b) >= THRESHOLD * 100)


# --- the book -------------------------------------------------------------------------------

# Layout 2 (PRAGMA user_version): each pair once, in canonical order (a < b) behind a unique
# index, and which of the two is kept. Layout 0 stored (keep, drop_key) as proposed, so a check
# for the pair meant two look-ups per proposal, each in its own connection and commit: 1.2 ms
# a proposal on an empty book, 6.7 ms at 73k. A book in layout 0 is rebuilt in place on first
# open, every row and id kept.
LAYOUT = 2
_TABLE = """CREATE TABLE {name} (
    id INTEGER PRIMARY KEY, label TEXT NOT NULL,
    a TEXT NOT NULL, b TEXT NOT NULL, kept TEXT NOT NULL CHECK (kept IN ('a', 'b')),
    score REAL NOT NULL, evidence TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'stale')),
    proposed_at TEXT NOT NULL, decided_at TEXT, note TEXT,
    CHECK (a < b))"""
_INDEXES = ("CREATE UNIQUE INDEX merges_pair ON merges (label, a, b)",
            "CREATE INDEX merges_status ON merges (status, id)")
_SELECT = """SELECT id, label, CASE kept WHEN 'a' THEN a ELSE b END,
    CASE kept WHEN 'a' THEN b ELSE a END, score, evidence, status, proposed_at, decided_at, note
FROM merges"""
# From layout 0. Its pairs were checked both ways round before each insert, so no pair is there
# twice; were one there twice (two loads racing), the decided row wins, else the earlier.
_FROM_LAYOUT_0 = """INSERT OR IGNORE INTO merges_layout2
    (id, label, a, b, kept, score, evidence, status, proposed_at, decided_at)
SELECT id, label, min(keep, drop_key), max(keep, drop_key),
       CASE WHEN keep < drop_key THEN 'a' ELSE 'b' END,
       score, evidence, status, proposed_at, decided_at
FROM merges ORDER BY status = 'proposed', id"""


class MergeBook:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _db(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in the current layout; `write`: one IMMEDIATE transaction around it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            if con.execute("PRAGMA user_version").fetchone()[0] != LAYOUT:
                self._lay_out(con)
            if write:
                con.execute("BEGIN IMMEDIATE")
            yield con
            if write:
                con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise MergeError(f"merge book {self.path}: {exc}") from exc
        finally:
            if con.in_transaction:
                con.execute("ROLLBACK")
            con.close()

    def _lay_out(self, con: sqlite3.Connection) -> None:
        """Create the table, or rebuild a layout-0 one, once (another process may race us)."""
        con.execute("BEGIN IMMEDIATE")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version == LAYOUT:
            con.execute("COMMIT")
            return
        columns = {r[1] for r in con.execute("PRAGMA table_info(merges)")}
        if version != 0 or (columns and "drop_key" not in columns):
            raise MergeError(f"merge book {self.path} is in layout {version}, which this "
                             f"version does not know (it writes layout {LAYOUT})")
        if columns:
            con.execute(_TABLE.format(name="merges_layout2"))
            con.execute(_FROM_LAYOUT_0)
            con.execute("DROP TABLE merges")
            con.execute("ALTER TABLE merges_layout2 RENAME TO merges")
        else:
            con.execute(_TABLE.format(name="merges"))
        for statement in _INDEXES:
            con.execute(statement)
        con.execute(f"PRAGMA user_version = {LAYOUT}")
        con.execute("COMMIT")

    def propose(self, label: str, keep: str, drop: str, score: float,
                evidence: dict[str, Any]) -> bool:
        """Record one proposal unless this pair (either way round) was proposed or decided."""
        return self.propose_many(label, [(keep, drop, score, evidence)]) == 1

    def propose_many(self, label: str,
                     proposals: Iterable[tuple[str, str, float, dict[str, Any]]]) -> int:
        """Record (keep, drop, score, evidence) proposals in one transaction; a pair proposed or
        decided before (either way round, or earlier in `proposals`) is left as it is. Returns
        how many are new."""
        now = datetime.now(UTC).isoformat()

        def rows() -> Iterator[tuple[Any, ...]]:
            for keep, drop, score, evidence in proposals:
                if keep == drop:
                    raise MergeError(f"cannot propose merging {label} {keep!r} into itself")
                a, b, kept = (keep, drop, "a") if keep < drop else (drop, keep, "b")
                yield label, a, b, kept, score, json.dumps(evidence, sort_keys=True), now

        with self._db(write=True) as con:
            before = con.total_changes
            con.executemany(
                "INSERT INTO merges (label, a, b, kept, score, evidence, status, proposed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'proposed', ?) ON CONFLICT (label, a, b) DO NOTHING",
                rows())
            return con.total_changes - before

    def proposals(self, status: str | None = "proposed") -> list[Proposal]:
        with self._db() as con:
            if status is None:
                rows = con.execute(f"{_SELECT} ORDER BY id").fetchall()
            else:
                rows = con.execute(f"{_SELECT} WHERE status = ? ORDER BY id",
                                   (status,)).fetchall()
        return [_proposal(r) for r in rows]

    def get(self, proposal_id: int) -> Proposal:
        with self._db() as con:
            row = con.execute(f"{_SELECT} WHERE id = ?", (proposal_id,)).fetchone()
        if row is None:
            raise MergeError(f"no proposed merge with id {proposal_id} (see `relgraph merges "
                             "list`)")
        return _proposal(row)

    def decide(self, proposal_id: int, status: str, *, note: str | None = None) -> Proposal:
        """Decide a proposal still proposed (approved, rejected or stale), with what was found."""
        if status not in STATUSES[1:]:
            raise MergeError(f"a decision is one of {', '.join(STATUSES[1:])}, not {status!r}")
        with self._db(write=True) as con:
            changed = con.execute(
                "UPDATE merges SET status = ?, decided_at = ?, note = ? "
                "WHERE id = ? AND status = 'proposed'",
                (status, datetime.now(UTC).isoformat(), note, proposal_id)).rowcount
        if not changed:
            proposal = self.get(proposal_id)
            raise MergeError(f"merge {proposal_id} was already {proposal.status}")
        return self.get(proposal_id)


def _proposal(row: tuple[Any, ...]) -> Proposal:
    id_, label, keep, drop, score, evidence, status, proposed_at, decided_at, note = row
    return Proposal(id_, label, keep, drop, score, json.loads(evidence), status, proposed_at,
                    decided_at, note)


def evidence_line(evidence: dict[str, Any], pair: Iterable[str] = ()) -> str:
    """One readable line of any proposer's evidence: the names (at the company), the other
    facts by name (zero counts, empty values and the pair's own keys left out,
    instants as days), the rule in brackets."""
    names, company = evidence.get("names"), evidence.get("company")
    parts = []
    if names:
        parts.append(" / ".join(str(n) for n in names) + (f" at {company}" if company else ""))
    elif company:
        parts.append(f"at {company}")
    shown = {"names", "company", "rule", "name_similarity"}  # the score column says similarity
    keys = set(pair)
    parts += [f"{key}: {_plain(value)}" for key, value in evidence.items()
              if key not in shown and _said(value) and not (isinstance(value, str)
                                                            and value in keys)]
    rule = evidence.get("rule")
    return "; ".join(parts) + (f" ({rule})" if rule and parts else rule or "")


def _said(value: Any) -> bool:
    return value not in (None, "", 0, [], {}) or value is False


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} ({_plain(v)})" if isinstance(v, dict) else f"{k} {_plain(v)}"
                         for k, v in value.items() if _said(v))
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    text = str(value)
    try:  # an instant: its day is what a person reading the list needs
        return datetime.fromisoformat(text).date().isoformat() if "T" in text else text
    except ValueError:
        return text


# --- people to propose ----------------------------------------------------------------------

_CHUNK = 512  # names compared at once: a chunk of rows of the score matrix, not all of it


def candidates(people: Iterable[tuple[str, str, str | None]]
               ) -> Iterator[tuple[str, str, float, dict[str, Any]]]:
    """(keep, drop, score, evidence) for similar names at one company (rules in the doc).

    People whose names fold to the same text are scored once as a group: a company where many
    people share a few names costs a comparison per pair of *distinct* names (rapidfuzz's
    cdist, a chunk of rows at a time), plus one line out per pair it proposes."""
    by_company: dict[str, dict[str, str]] = defaultdict(dict)
    for company, person, name in people:
        if name and name.strip():
            by_company[company][person] = name.strip()
    for company, names in sorted(by_company.items()):
        # In the order of the source-keyed person who finds the pair, best score first.
        found = sorted((min(keep, drop) if is_source_key(keep) else drop, -score, keep, drop)
                       for keep, drop, score in _similar(names))
        for _, minus_score, keep, drop in found:
            yield keep, drop, -minus_score, {
                "rule": "same company, similar name", "company": company,
                "names": [names[keep], names[drop]], "name_similarity": -minus_score}


def _similar(names: dict[str, str]) -> Iterator[tuple[str, str, float]]:
    """(keep, drop, score) of the pairs of one company's people the rules propose."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in sorted(names):
        groups[_fold(names[key])].append(key)
    folded = sorted(groups)
    cutoff = THRESHOLD * 100
    for start in range(0, len(folded), _CHUNK):
        rows = folded[start:start + _CHUNK]
        # float32 scores only pick the pairs; each one's score is computed again exactly.
        matrix = process.cdist(rows, folded, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff)
        for i, j in zip(*matrix.nonzero(), strict=True):
            u, v = start + int(i), int(j)
            if v < u:
                continue  # each pair of names once
            ratio = 100.0 if u == v else fuzz.token_sort_ratio(folded[u], folded[v])
            if ratio < cutoff:
                continue
            score = round(ratio / 100, 3)
            mine, theirs = groups[folded[u]], groups[folded[v]]
            pairs = ((p, q) for n, p in enumerate(mine) for q in mine[n + 1:]) if u == v else (
                (p, q) for p in mine for q in theirs)
            for p, q in pairs:
                source_p, source_q = is_source_key(p), is_source_key(q)
                if source_p and source_q:
                    yield min(p, q), max(p, q), score
                elif source_p or source_q:
                    yield (q, p, score) if source_p else (p, q, score)


def propose_people(store: GraphStore, book: MergeBook, companies: Iterable[str]) -> int:
    """Propose merges among the people of these companies; returns how many are new."""
    aliases = store.aliases("Person")
    return book.propose_many("Person", (
        (keep, drop, score, evidence)
        for keep, drop, score, evidence in candidates(store.people_at(companies))
        if aliases.get(drop) != keep))


def approve(store: GraphStore, book: MergeBook, proposal_id: int, *,
            key_features: Iterable[str] | None = None) -> Proposal:
    """Merge what the pair's two keys name *now*, then record the decision (a failed merge
    decides nothing).

    Both keys are followed through the aliases first: a later load may have folded either side
    into another node. Then:
    - both name one node: approved, nothing to do (the note says since when);
    - a side names no node at all (the graph was reset, the node deleted): refused, still
      proposed — except a company proposal's domain, which e-mails alone may have named: it is
      made, as a load's fold would make it;
    - a side moved, and both nodes now have strong keys (people: two e-mail addresses; companies:
      two domains): stale, refused and recorded so — the evidence was about a weaker key;
    - else the two nodes are merged, the strong-keyed one kept, and the nodes keyed by the folded
      one (its Customer account, a person's first login and first uses of `key_features`, by
      default the analytics' shipped list) fold with it (connectors/folds.py).
    """
    proposal = book.get(proposal_id)
    if proposal.status != "proposed":
        raise MergeError(f"merge {proposal_id} was already {proposal.status}")
    label = proposal.label
    aliases = store.aliases(label)
    keep, drop = _now(aliases, proposal.keep), _now(aliases, proposal.drop)
    moved = [f"{was} was merged into {now}" for was, now in ((proposal.drop, drop),
                                                             (proposal.keep, keep)) if was != now]
    since = f"{' and '.join(moved)} since it was proposed"
    present = store.existing(label, {keep, drop})
    if keep not in present and keep == proposal.keep and label == "Company" and _strong(
            label, keep) and drop in present:
        # A company proposal's domain may be one only e-mails named so far: made, as a load's
        # fold would make it.
        store.upsert_nodes(label, [{"id": keep}], source=SOURCE)
        present.add(keep)
    for was, now in ((proposal.drop, drop), (proposal.keep, keep)):
        if now not in present:
            raise MergeError(
                f"merge {proposal_id}: {label} {was!r} is not in the graph"
                + (f" (nor {now!r}, which it was merged into)" if now != was else "")
                + f"; nothing merged, it stays proposed (`relgraph merges reject {proposal_id}` "
                  "sets it aside)")
    if keep == drop:
        return book.decide(proposal_id, "approved",
                           note=f"already one node: {since}; nothing to do")
    if moved and _strong(label, keep) and _strong(label, drop):
        note = f"{since}, and {keep} and {drop} are {_TWO[label]}"
        book.decide(proposal_id, "stale", note=note)
        raise StaleMerge(f"merge {proposal_id} is stale: {note}; nothing merged")
    if _strong(label, drop) and not _strong(label, keep):
        keep, drop = drop, keep  # the node with the stronger key stays
    store.merge_nodes(label, keep, drop)
    graph_version.bump(book.path.parent)  # the merge book lives in the data dir
    notes = [f"merged {drop} into {keep} ({since})"] if moved else []
    features = configured_key_features() if key_features is None else key_features
    for dependent, prefix in dependents(label, features):
        if fold_existing(store, dependent, [(prefix + drop, prefix + keep)], source=SOURCE):
            notes.append(f"its {'account' if dependent == 'Customer' else dependent} "
                         f"{prefix + drop} was folded into {prefix + keep}")
    if label == "Person":
        store.reconcile_jobs([keep])
    store.checkpoint()
    return book.decide(proposal_id, "approved", note="; ".join(notes) or None)


SOURCE = "merges"  # the provenance of what an approval writes (a kept account made for a fold)
_TWO = {"Person": "two e-mail addresses, so two people",
        "Company": "two domains: decide on evidence about them, not about a name"}


def _strong(label: str, key: str) -> bool:
    """Whether a key is one no proposal may merge away: an e-mail, a company's domain."""
    if label == "Person":
        return not is_source_key(key)
    return label == "Company" and is_domain_key(key)


def _now(aliases: dict[str, str], key: str) -> str:
    """The key a (maybe folded) key names now, through chains of folds."""
    seen = {key}
    while key in aliases and aliases[key] not in seen:
        key = aliases[key]
        seen.add(key)
    return key
