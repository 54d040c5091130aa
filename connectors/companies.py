"""Which domain a company name stands for, decided by weight of evidence over a whole load.

Files name companies by name ("Apex Systems") far more often than by domain. A row that pairs a
name with a domain is evidence that the name *is* that company: an explicit company domain or
website column (strong: somebody typed the company's site), or the work e-mail of a person the
row says works there (weak: CRMs update a mover's e-mail and leave the old company name, so one
row can pair "Ember Software" with @apex.co). No single row decides. Each load gathers every
pairing as a claim — which name, which domain, what kind, who (distinct people, not rows), when —
and only at its end decides, per name:

- **fold** the name into a domain that clearly wins: it has website evidence, or its e-mail
  evidence is corroborated (the domain's own label matches the name: "Apex Systems" and
  apex.co), or at least `MIN_PEOPLE` distinct people back it and no other company holds it; and
  it beats the next domain: by kind (a website column beats work e-mails), else by at least
  twice the weight, else by more weight and newer evidence;
- **propose** a company merge (`relgraph merges list`, with the evidence) for a real tie between
  two domains, or for a lone uncorroborated e-mail pairing with a domain nobody holds;
- **keep the name** when the domain is held by another company (its name, or another name with
  far more people), noting how many rows said otherwise: that is what a stale row looks like.

Weights: a website claim counts `WEBSITE_WEIGHT` per distinct witness, an e-mail claim 1 per
distinct person (a person who also has a website claim is counted once, as website). The store's
own knowledge (a domain node's name, earlier folds) is consulted, so a load order cannot turn a
stale row into a fold the other order would refuse.

    >>> ev = CompanyEvidence()
    >>> for i in range(8):
    ...     ev.email("apex-systems", "apex.co", f"p{i}@apex.co", None)
    >>> ev.email("ember-software", "apex.co", "mover@apex.co", None)
    >>> d = ev.decide(known={}, held={})
    >>> d.folds, [p.drop for p in d.proposals]
    ({'apex-systems': 'apex.co'}, [])
    >>> d.kept
    {'ember-software': 'apex.co'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rapidfuzz import fuzz

WEBSITE_WEIGHT = 3
MIN_PEOPLE = 2  # uncorroborated e-mail claims fold a name only with this many distinct people
CLEAR_MARGIN = 2.0  # the winner's weight over the runner-up's for a clear win
_LABEL = re.compile(r"[^a-z0-9]")


@dataclass(slots=True)
class Support:
    """The evidence that one name is one domain."""

    website: set[str] = field(default_factory=set)  # distinct witnesses of explicit columns
    email: set[str] = field(default_factory=set)  # distinct people with a work e-mail there
    latest: datetime | None = None

    def weight(self) -> int:
        return WEBSITE_WEIGHT * len(self.website) + len(self.email - self.website)

    def people(self) -> int:
        return len(self.website | self.email)

    def seen(self, at: datetime | None) -> None:
        if at is not None and (self.latest is None or at > self.latest):
            self.latest = at

    def describe(self) -> dict[str, Any]:
        return {"website": len(self.website), "email": len(self.email - self.website),
                "latest": self.latest.isoformat() if self.latest else None}


@dataclass(frozen=True, slots=True)
class CompanyProposal:
    """A company merge a person should decide: fold name key `drop` into domain `keep`."""

    keep: str
    drop: str
    score: float
    evidence: dict[str, Any]


@dataclass
class Decision:
    folds: dict[str, str] = field(default_factory=dict)  # name key -> domain
    proposals: list[CompanyProposal] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # name key kept despite a claim -> domain
    notes: list[str] = field(default_factory=list)


def label_matches(name_key: str, domain: str) -> bool:
    """Whether a domain's own label spells the name ("apex.co" and "apex-systems", "ibm.com" and
    "international-business-machines"): corroboration no stale row can fake.

    >>> label_matches("apex-systems", "apex.co"), label_matches("ember-software", "apex.co")
    (True, False)
    >>> label_matches("international-business-machines", "ibm.com")
    True
    """
    label = _LABEL.sub("", domain.split(".")[0])
    words = [w for w in name_key.split("-") if w]
    if not label or not words:
        return False
    joined = "".join(words)
    if label == joined or label in words or joined.startswith(label) or label.startswith(joined):
        return True
    if len(words) > 1 and label == "".join(w[0] for w in words):
        return True
    return len(label) >= 4 and fuzz.partial_ratio(label, joined) >= 90


class CompanyEvidence:
    """Claims that company names are domains, gathered over one load."""

    def __init__(self) -> None:
        self.claims: dict[str, dict[str, Support]] = {}

    def __bool__(self) -> bool:
        return bool(self.claims)

    def _support(self, name_key: str, domain: str) -> Support:
        by_domain = self.claims.setdefault(name_key, {})
        found = by_domain.get(domain)
        if found is None:
            found = by_domain[domain] = Support()
        return found

    def website(self, name_key: str, domain: str, witness: str, at: datetime | None) -> None:
        """A row's explicit company domain or website column beside the name."""
        support = self._support(name_key, domain)
        support.website.add(witness)
        support.seen(at)

    def email(self, name_key: str, domain: str, person: str, at: datetime | None) -> None:
        """A person said to work at the name, whose work e-mail is at the domain."""
        support = self._support(name_key, domain)
        support.email.add(person)
        support.seen(at)

    def decide(self, *, known: Mapping[str, str], held: Mapping[str, str]) -> Decision:
        """Per name with claims in this load: fold, propose or keep (rules in the module doc).

        `known`: names the store already resolves to a domain (earlier folds); `held`: domain ->
        the name key of the company the store holds under that domain (its name)."""
        decision = Decision()
        # Which names claim each domain in this load, for "held by another name".
        claimants: dict[str, dict[str, int]] = {}
        for name_key, by_domain in self.claims.items():
            for domain, support in by_domain.items():
                claimants.setdefault(domain, {})[name_key] = support.weight()
        stale: dict[str, int] = {}
        for name_key in sorted(self.claims):
            ranked = sorted(self.claims[name_key].items(), key=_rank, reverse=True)
            domain, best = ranked[0]
            if name_key in known:
                if known[name_key] != domain and best.weight() > 0:
                    decision.notes.append(
                        f"company {name_key!r} was merged into {known[name_key]} earlier; this "
                        f"load pairs it with {domain} ({_people(best)}): left as it was")
                continue
            runner = ranked[1][1] if len(ranked) > 1 else None
            if runner is not None and not _clear_win(best, runner):
                for other, support in ranked[:2]:
                    decision.proposals.append(self._proposal(
                        name_key, other, support, "a name paired with two domains",
                        {d: s.describe() for d, s in ranked}))
                decision.notes.append(
                    f"company {name_key!r} is paired with {domain} and {ranked[1][0]} about "
                    "equally: proposed both merges (`relgraph merges list`); kept by name")
                continue
            if best.website or label_matches(name_key, domain):
                decision.folds[name_key] = domain
                continue
            holder = self._holder(name_key, domain, best, claimants.get(domain, {}), held)
            if holder is not None:
                decision.kept[name_key] = domain
                stale[holder] = stale.get(holder, 0) + best.people()
                continue
            if best.people() >= MIN_PEOPLE:
                decision.folds[name_key] = domain
            else:
                decision.proposals.append(self._proposal(
                    name_key, domain, best, "one work e-mail pairs the name with the domain",
                    {domain: best.describe()}))
        for name_key, domain in sorted(decision.kept.items()):
            holder = held.get(domain) or max(claimants[domain].items(), key=lambda kv: kv[1])[0]
            decision.notes.append(
                f"company {name_key!r} was kept by name: its people's e-mails are at {domain}, "
                f"which is {holder!r}'s domain (stale company names beside updated e-mails)")
        if decision.proposals:
            decision.notes.append(
                f"{len({p.drop for p in decision.proposals}):,} company name(s) could be a "
                "domain but the evidence is thin or tied: see `relgraph merges list`")
        return decision

    @staticmethod
    def _holder(name_key: str, domain: str, best: Support, claimants: Mapping[str, int],
                held: Mapping[str, str]) -> str | None:
        """Another company that holds `domain`: the store's company under it (by a name that
        is not this one), or a name with at least twice this one's weight in this load."""
        stored = held.get(domain)
        if stored is not None and stored != name_key:
            return stored
        for other, weight in claimants.items():
            if other != name_key and weight >= CLEAR_MARGIN * best.weight():
                return other
        return None

    @staticmethod
    def _proposal(name_key: str, domain: str, support: Support, rule: str,
                  domains: dict[str, Any]) -> CompanyProposal:
        score = round(min(1.0, support.weight() / (WEBSITE_WEIGHT * MIN_PEOPLE)), 3)
        return CompanyProposal(domain, name_key, score, {
            "rule": rule, "name": name_key, "domain": domain, "people": support.people(),
            "kinds": support.describe(), "domains": domains})


def _rank(claim: tuple[str, Support]) -> tuple[bool, int, bool, datetime, str]:
    """The kind first (a website column beats work e-mails), then weight, then recency."""
    domain, support = claim
    return (bool(support.website), support.weight(), support.latest is not None,
            support.latest or datetime.min.replace(tzinfo=UTC), domain)


def _clear_win(best: Support, runner: Support) -> bool:
    if best.website and not runner.website:
        return True
    if best.weight() >= CLEAR_MARGIN * runner.weight():
        return True
    newer = best.latest is not None and (runner.latest is None or best.latest > runner.latest)
    return best.weight() > runner.weight() and newer


def _people(support: Support) -> str:
    n = support.people()
    return f"{n:,} {'person' if n == 1 else 'people'}"
