"""Identity resolution: one key per real person and company, across every source and load.

People: keyed by normalised e-mail (`graph.keys`). Without one, by the source key the reader
gives ("linkedin:https://www.linkedin.com/in/ada"). A row that names both teaches the resolver
that the source key *is* that e-mail: the source key becomes an alias of the e-mail's node (a
node already keyed by it is folded in at the end of the load), so every later row that names only
the source key lands on the e-mail's node.

Two e-mail addresses are two people, but for one case: a CRM record (the same HubSpot Record
ID, Salesforce Contact ID, LinkedIn profile …) that named one address and now names another,
under a similar name (the merge proposals' name rule). That is the CRM saying the person changed
jobs and it updated their e-mail: the two addresses are one person, so their jobs are one
history (the older job ends where the newer is first seen, graph/merging.py). The kept key is
the smaller of the two addresses, so the graph does not depend on the order the snapshots
load in; the other becomes an alias, and the stored `email` is the newest one observed. Under
another name it is a record reused for someone else: two people, and a note says so.

Anything fuzzier (the same name at the same company)
is never merged here: it becomes a proposed merge (`connectors/merges.py`) a person decides.

Companies: keyed by registrable domain. A company first seen by name only gets a name key
(`graph.keys.company_name_key`: the name without legal suffixes, punctuation, accents and case;
"Brightpath Labs, Inc." and "BRIGHTPATH LABS" are both `brightpath-labs`). Rows that pair a name
with a domain (a website column; the work e-mail of a person said to work there) are claims,
weighed over the whole load at its end (`connectors/companies.py`): a name that clearly is one
domain is folded into it, a tie becomes a proposed company merge, a stale row (a mover's new
e-mail beside the old company name) changes nothing and is noted.

Aliases live in the graph (`aliases` on the kept node), so they hold for both stores and survive
re-loads: the resolver reads them when a load starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from connectors.companies import CompanyEvidence, Decision
from connectors.merges import similar_names
from connectors.records import CompanyRef, CustomerRef, KeyRef, PersonRef, Ref
from graph import keys
from graph.keys import company_name_key, is_domain_key
from graph.questions.nodes import NODES, NodesQuery
from graph.schema import node_type
from graph.store import GraphStore

_TEXT_CACHE = 1 << 18  # distinct company texts remembered per load (then forgotten, not grown)


class BadRef(ValueError):
    """A ref the resolver cannot key: names the field of the row and why."""

    def __init__(self, field_name: str, reason: str) -> None:
        self.field = field_name
        self.reason = reason
        super().__init__(f"{field_name}: {reason}")


@dataclass
class Resolver:
    """Keys for refs, for one load. Learns aliases as it goes; `pending_*` are the folds the
    load must make in the store when its rows are written."""

    person_aliases: dict[str, str] = field(default_factory=dict)
    company_aliases: dict[str, str] = field(default_factory=dict)
    domain_of: dict[str, str] = field(default_factory=dict)  # name key -> domain key
    pending_people: dict[str, str] = field(default_factory=dict)  # folded -> kept
    pending_companies: dict[str, str] = field(default_factory=dict)
    evidence: CompanyEvidence = field(default_factory=CompanyEvidence)
    held: dict[str, str] = field(default_factory=dict)  # domain -> name key of its stored name
    notes: list[str] = field(default_factory=list)
    # (domain, name) as a file wrote them -> (registrable domain, name key): a pure function of
    # the text, asked for on every row that names a company (registrable_domain is not cached).
    _company_texts: dict[tuple[str | None, str | None], tuple[str | None, str | None]] = field(
        default_factory=dict, repr=False)
    _work_domains: dict[str, str | None] = field(default_factory=dict, repr=False)
    # The name each record (a source key paired with an e-mail) gave in this load, for telling
    # a record whose e-mail changed from a record reused for somebody else; the store's nodes
    # are asked for the records of earlier loads (rare: only when a record's e-mail changed).
    store: GraphStore | None = field(default=None, repr=False)
    _record_names: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def for_store(cls, store: GraphStore) -> Resolver:
        resolver = cls(person_aliases=store.aliases("Person"),
                       company_aliases=store.aliases("Company"), store=store)
        for key, name in store.companies():
            if is_domain_key(key) and name:
                try:
                    name_key = company_name_key(name)
                except ValueError:
                    continue
                resolver.domain_of.setdefault(name_key, key)
                resolver.held[key] = name_key
        for alias, key in resolver.company_aliases.items():
            if not is_domain_key(alias) and is_domain_key(key):
                resolver.domain_of[alias] = key
        return resolver

    # --- people -------------------------------------------------------------------------------

    def person(self, ref: PersonRef) -> str:
        strong = weak = None
        if ref.source_key:
            try:
                weak = keys.person_key(ref.source_key)
            except ValueError as exc:
                raise BadRef("id", str(exc)) from None
        if ref.email:
            strong = self.email(ref.email)
            if strong is None:
                if weak is None:
                    raise BadRef("email", f"not an e-mail address: {ref.email!r}")
                self.note("rows whose e-mail is not an e-mail address were keyed by their "
                          "source id instead (the address was not stored)")
        if strong is None and weak is None:
            raise BadRef("email", "no e-mail address and no other id for this person")
        if strong is not None and weak is not None and weak != strong:
            known, now = self._person_alias(weak), self._person_alias(strong)
            if known != weak and known != now and self._same_person(weak, known, ref.name):
                keep, other = sorted((known, now))  # the record's e-mail changed
                self.person_aliases[other] = keep
                self.pending_people[other] = keep
            else:
                self._learn_person(weak, now)
            key = self._person_alias(strong)
            if ref.name and ref.name.strip() and self._person_alias(weak) == key:
                self._record_names[weak] = ref.name.strip()  # the record is this person
            return key
        return self._person_alias(strong or weak)  # type: ignore[arg-type]

    def _same_person(self, record: str, holder: str, name: str | None) -> bool:
        """Is the person a row names with `record` (already the alias of `holder`, under
        another e-mail) the holder? Yes when the names are similar (module doc)."""
        before = self._record_names.get(record)
        if before is None and self.store is not None:
            found = self.store.ask(NODES, NodesQuery("Person", (holder,))).get(holder, {})
            before = found.get("name") if isinstance(found.get("name"), str) else None
        if name and before and similar_names(name, before):
            return True
        self.note("rows whose record id already names someone with another e-mail, under "
                  "another name, were kept as another person (a record reused for somebody "
                  "else)")
        return False

    @staticmethod
    def email(text: str) -> str | None:
        """The normalised e-mail, or None when the text is not an e-mail address."""
        try:
            return keys.normalise_email(text)
        except ValueError:
            return None

    def _person_alias(self, key: str) -> str:
        if key not in self.person_aliases:  # the common case: no alias
            return key
        seen = {key}
        while key in self.person_aliases:  # chains from successive merges
            key = self.person_aliases[key]
            if key in seen:
                break
            seen.add(key)
        return key

    def people_now(self) -> dict[str, str]:
        """Every key folded into a person (the store's and this load's) -> that person's key
        now: what an event logged under an old key or a visitor id stands for."""
        return {alias: self._person_alias(alias) for alias in self.person_aliases}

    def _learn_person(self, weak: str, strong: str) -> None:
        known = self._person_alias(weak)
        if known == strong:
            return
        if known != weak:  # already an alias of someone else: keep the first, say so
            self.note(f"{weak} is already merged into {known}; not also into {strong}")
            return
        self.person_aliases[weak] = strong
        self.pending_people[weak] = strong

    def alias_person(self, alias: str, ref: PersonRef) -> str:
        """An explicit identity link (Segment identify/alias): `alias` is this person."""
        key = self.person(ref)
        try:
            weak = keys.person_key(alias)
        except ValueError as exc:
            raise BadRef("id", str(exc)) from None
        if weak != key:
            self._learn_person(weak, key)
        return key

    # --- companies ----------------------------------------------------------------------------

    def company(self, ref: CompanyRef) -> str:
        domain, name_key = self.company_text(ref)
        if domain is not None:
            return self.company_aliases.get(domain, domain)
        if name_key:
            key = self.domain_of.get(name_key, name_key)
            return self.company_aliases.get(key, key)
        raise BadRef("company", "no company domain and no company name")

    def company_text(self, ref: CompanyRef) -> tuple[str | None, str | None]:
        """(registrable domain, name key) of what the file wrote (either may be None)."""
        text = (ref.domain, ref.name)
        found = self._company_texts.get(text)
        if found is None:
            found = self._company_keys(ref)
            if len(self._company_texts) >= _TEXT_CACHE:
                self._company_texts.clear()
            self._company_texts[text] = found
        return found

    @staticmethod
    def _company_keys(ref: CompanyRef) -> tuple[str | None, str | None]:
        """(registrable domain, name key) of what the file wrote; either may be None."""
        domain = None
        if ref.domain:
            domain = keys.registrable_domain(ref.domain)
            if domain is None and not ref.name:
                raise BadRef("domain", f"{ref.domain!r} is not a company domain "
                             "(free-mail, an IP or a public suffix)")
        name = (ref.name or "").strip()
        if domain is None and name and keys.looks_like_domain(name):
            domain = keys.registrable_domain(name)  # "Acme.io" written as a name
        try:
            name_key = company_name_key(name) if name else None
        except ValueError:
            name_key = None
        return domain, name_key

    def claim_website(self, ref: CompanyRef, witness: str, at: datetime | None) -> None:
        """Evidence from a row naming a company with its domain or website beside its name."""
        domain, name_key = self.company_text(ref)
        if domain is not None and name_key and name_key != domain:
            self.evidence.website(name_key, domain, witness, at)

    def claim_email(self, ref: CompanyRef, person: str, at: datetime | None) -> None:
        """Evidence from a person said to work at a company named without a domain, whose key
        is a work e-mail: its domain may be the company's."""
        if "@" not in person:
            return
        domain, name_key = self.company_text(ref)
        if domain is not None or not name_key:
            return
        work = self._work_domain(person)
        if work is not None:
            self.evidence.email(name_key, work, person, at)

    def _work_domain(self, email: str) -> str | None:
        host = email.rpartition("@")[2]
        found = self._work_domains.get(host, "")
        if found == "":
            found = keys.registrable_domain(host)
            if len(self._work_domains) >= _TEXT_CACHE:
                self._work_domains.clear()
            self._work_domains[host] = found
        return found

    def decide_companies(self) -> Decision:
        """Weigh this load's company claims (connectors/companies.py); the folds become
        pending, later rows naming those names land on the domain."""
        decision = self.evidence.decide(known=self.domain_of, held=self.held)
        for name_key, domain in decision.folds.items():
            domain = self.company_aliases.get(domain, domain)
            self.domain_of[name_key] = domain
            self.company_aliases[name_key] = domain
            self.pending_companies[name_key] = domain
        for text in decision.notes:
            self.note(text)
        return decision

    # --- anything -----------------------------------------------------------------------------

    def customer(self, ref: CustomerRef) -> tuple[str, str, str]:
        """(customer key, label of whose account it is, that node's key)."""
        if isinstance(ref.of, CompanyRef):
            company = self.company(ref.of)
            return f"company:{company}", "Company", company
        person = self.person(ref.of)
        return f"person:{person}", "Person", person

    def key(self, ref: Ref) -> tuple[str, str]:
        """(label, key) of any ref."""
        if isinstance(ref, PersonRef):
            return "Person", self.person(ref)
        if isinstance(ref, CompanyRef):
            return "Company", self.company(ref)
        if isinstance(ref, CustomerRef):
            return "Customer", self.customer(ref)[0]
        return ref.label, self.plain(ref)

    def plain(self, ref: KeyRef) -> str:
        if ref.label == "Person":
            return self.person(PersonRef(source_key=ref.key) if "@" not in ref.key
                               else PersonRef(email=ref.key))
        if ref.label == "Company":
            return self.company(CompanyRef(domain=ref.key) if keys.looks_like_domain(ref.key)
                                else CompanyRef(name=ref.key))
        try:
            return node_type(ref.label).normalise_key(ref.key)
        except ValueError as exc:
            raise BadRef("id", str(exc)) from None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
