"""Identity over whole loads, on both stores, from files in the layouts the tools export:
companies decided by weight of evidence, accounts re-keyed when their company folds, Segment
events whose identify comes later in the file (or in a later file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from connectors.merges import MergeBook
from connectors.pipeline import Loader, LoadSummary
from connectors.source import ReadContext, source
from graph.store import GraphStore
from tests.conformance.helpers import assert_reopens_the_same

OBSERVED = datetime(2026, 11, 2, tzinfo=UTC)
HUBSPOT_DEFAULT = ('"Record ID","First Name","Last Name","Email","Phone Number","Company Name",'
                   '"Job Title","Lifecycle Stage","Create Date","Last Activity Date"')


def _hubspot(path: Path, rows: list[tuple[str, ...]]) -> Path:
    """A HubSpot contacts export of the default view (no website, no Last Modified Date)."""
    lines = [HUBSPOT_DEFAULT]
    for record, first, last, email, company, title, stage in rows:
        lines.append(",".join(f'"{v}"' for v in (
            record, first, last, email, "", company, title, stage, "2025-01-10 09:00",
            "2026-10-30 16:45")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load(store: GraphStore, data: Path, name: str, paths: list[Path],
          **ctx_options: object) -> LoadSummary:
    ctx = ReadContext(name)
    for key, value in ctx_options.items():
        setattr(ctx, key, value)
    return Loader(store, data_dir=data, batch_size=5).run(source(name), paths, ctx)


def _apex_world(tmp: Path) -> Path:
    rows = [(str(100 + i), f"P{i}", "Apex", f"p{i}@apex.co", "Apex Systems", "Engineer",
             "Customer") for i in range(8)]
    # A mover: the CRM updated the e-mail and left the old company name.
    rows.append(("200", "Mo", "Ver", "mo@apex.co", "Ember Software", "Analyst", "Lead"))
    rows += [("201", "Em", "One", "em1@embersoft.com", "Ember Software", "CTO", "Customer"),
             ("202", "Em", "Two", "em2@embersoft.com", "Ember Software", "CEO", "Customer")]
    # Globex: one person at each of two domains, a real tie.
    rows += [("300", "Gil", "Bex", "gil@globex.com", "Globex", "VP", "Lead"),
             ("301", "Gus", "Bex", "gus@globex.io", "Globex", "VP", "Lead")]
    # A lone person whose e-mail domain spells nothing of the company name.
    rows += [("400", "Al", "Pha", "al@goog.example", "Alphabet Holdings", "Dev", "Lead")]
    return _hubspot(tmp / "hubspot-crm-exports-contacts-2026-11-02.csv", rows)


def test_companies_fold_by_weight_of_evidence(store: GraphStore, tmp_path: Path) -> None:
    path = _apex_world(tmp_path)
    data = tmp_path / "data"
    summary = _load(store, data, "hubspot", [path], observed_at=OBSERVED)
    assert summary.rejected == 0, summary.examples
    companies = dict(store.companies())
    assert "apex.co" in companies and "apex-systems" not in companies
    assert "embersoft.com" in companies and "ember-software" not in companies
    assert store.aliases("Company")["apex-systems"] == "apex.co"
    # The tie and the lone uncorroborated pairing stay by name, as proposals with evidence.
    assert {"globex", "alphabet-holdings"} <= set(companies)
    proposals = MergeBook(data / "merges.sqlite").proposals()
    assert sorted((p.label, p.keep, p.drop) for p in proposals if p.label == "Company") == [
        ("Company", "globex.com", "globex"), ("Company", "globex.io", "globex"),
        ("Company", "goog.example", "alphabet-holdings")]
    # Who works where: the mover's row says Ember Software, and Ember is embersoft.com.
    people = {(c, p) for c, p, _ in store.people_at(["apex.co", "embersoft.com"])}
    assert ("apex.co", "p0@apex.co") in people and ("embersoft.com", "mo@apex.co") in people
    assert len([1 for c, _ in people if c == "apex.co"]) == 8
    assert_reopens_the_same(store)


def test_a_mover_row_alone_does_not_fold_its_old_company(store: GraphStore,
                                                           tmp_path: Path) -> None:
    """The stale row loaded first, the company's own people later: the same graph as the
    other order, never Ember folded into apex.co."""
    mover = _hubspot(tmp_path / "hubspot-crm-exports-mover-2026-11-02.csv",
                     [("200", "Mo", "Ver", "mo@apex.co", "Ember Software", "Analyst", "Lead")])
    apex = _hubspot(tmp_path / "hubspot-crm-exports-apex-2026-11-02.csv",
                    [(str(100 + i), f"P{i}", "Apex", f"p{i}@apex.co", "Apex Systems", "Eng",
                      "Customer") for i in range(8)])
    data = tmp_path / "data"
    _load(store, data, "hubspot", [mover], observed_at=OBSERVED)
    _load(store, data, "hubspot", [apex], observed_at=OBSERVED)
    companies = dict(store.companies())
    assert "apex.co" in companies and "ember-software" in companies
    assert store.aliases("Company").get("ember-software") is None
    assert_reopens_the_same(store)


def test_accounts_move_with_their_company_and_a_reload_changes_nothing(
        store: GraphStore, tmp_path: Path) -> None:
    path = _apex_world(tmp_path)
    data = tmp_path / "data"
    _load(store, data, "hubspot", [path], observed_at=OBSERVED)
    first = store.counts()
    customers = store.existing("Customer", ["company:apex.co", "company:apex-systems",
                                            "company:embersoft.com", "company:ember-software"])
    assert customers == {"company:apex.co", "company:embersoft.com"}
    assert store.aliases("Customer")["company:apex-systems"] == "company:apex.co"
    _load(store, data, "hubspot", [path], observed_at=OBSERVED)
    assert store.counts() == first
    assert_reopens_the_same(store)


def _segment(path: Path, messages: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    return path


PAPER = "https://www.relgraph.io/papers/crm-playbook"


def _catalog(tmp: Path) -> Path:
    path = tmp / "catalog.csv"
    path.write_text("url,title,kind,topics,published_at\n"
                    f"{PAPER},The CRM playbook,white_paper,CRM,2026-09-01\n", encoding="utf-8")
    return path


def _page(mid: str, uid: str, at: str) -> dict[str, object]:
    return {"type": "page", "userId": uid, "messageId": mid, "timestamp": at,
            "properties": {"url": PAPER + "?utm_source=x"}}


def _identify(mid: str, uid: str, email: str, at: str) -> dict[str, object]:
    return {"type": "identify", "userId": uid, "messageId": mid, "timestamp": at,
            "traits": {"email": email, "name": "Usr Seven"}}


def test_a_page_before_its_users_identify_is_their_read(store: GraphStore,
                                                         tmp_path: Path) -> None:
    data = tmp_path / "data"
    _load(store, data, "catalog", [_catalog(tmp_path)])
    events = _segment(tmp_path / "unsorted.jsonl", [
        _page("m1", "usr_7000", "2026-10-05T10:00:00Z"),
        _page("m2", "usr_7000", "2026-10-06T10:00:00Z"),
        {"type": "alias", "previousId": "old-7", "userId": "usr_7000", "messageId": "m3",
         "timestamp": "2026-10-01T09:00:00Z"},
        _page("m4", "old-7", "2026-10-01T10:00:00Z"),
        _identify("m5", "usr_7000", "usr7@acme.com", "2026-10-07T10:00:00Z"),
    ])
    summary = _load(store, data, "segment", [events])
    assert summary.rejected == 0, summary.examples
    profile = store.person_profile("usr7@acme.com", as_of=datetime(2026, 11, 1, tzinfo=UTC))
    assert [(t.topic_id, t.contents, t.reads) for t in profile.topics] == [("crm", 1, 3)]
    assert store.existing("Person", ["segment:usr_7000", "segment:old-7"]) == set()
    counts = store.counts()
    again = _load(store, data, "segment", [events])
    assert again.rejected == 0 and store.counts() == counts
    assert_reopens_the_same(store)


def test_an_identify_in_a_later_file_credits_earlier_reads(store: GraphStore,
                                                           tmp_path: Path) -> None:
    data = tmp_path / "data"
    _load(store, data, "catalog", [_catalog(tmp_path)])
    pages = _segment(tmp_path / "day1.jsonl", [_page("m1", "usr_8", "2026-10-05T10:00:00Z")])
    who = _segment(tmp_path / "day2.jsonl", [
        _identify("m2", "usr_8", "eight@acme.com", "2026-10-09T10:00:00Z")])
    assert _load(store, data, "segment", [pages]).rejected == 0
    assert _load(store, data, "segment", [who]).rejected == 0
    profile = store.person_profile("eight@acme.com", as_of=datetime(2026, 11, 1, tzinfo=UTC))
    assert [(t.topic_id, t.contents, t.reads) for t in profile.topics] == [("crm", 1, 1)]
    assert_reopens_the_same(store)


def test_a_first_login_moves_with_its_person(store: GraphStore, tmp_path: Path) -> None:
    """A user's first login, logged before anyone knew their e-mail, becomes the first login
    of the person they turn out to be (the Event keyed by the old key folds with the person);
    loading both files again adds no second first login."""
    data = tmp_path / "data"
    logins = _segment(tmp_path / "day1.jsonl", [
        {"type": "track", "event": "Logged In", "userId": "usr_9", "messageId": "l2",
         "timestamp": "2026-10-07T09:00:00Z"},
        {"type": "track", "event": "Logged In", "userId": "usr_9", "messageId": "l1",
         "timestamp": "2026-10-05T09:00:00Z"}])
    who = _segment(tmp_path / "day2.jsonl", [
        _identify("i1", "usr_9", "nine@acme.com", "2026-10-09T10:00:00Z")])
    for path in (logins, who):
        assert _load(store, data, "segment", [path]).rejected == 0
    events = store.existing("Event", ["first_login:segment:usr_9", "first_login:nine@acme.com"])
    assert events == {"first_login:nine@acme.com"}
    counts = store.counts()
    for path in (logins, who):
        _load(store, data, "segment", [path])
    assert store.counts() == counts
    from graph.questions.nodes import NODES, NodesQuery

    (event,) = store.ask(NODES, NodesQuery("Event", ("first_login:nine@acme.com",))).values()
    assert event["at"] == datetime(2026, 10, 5, 9, tzinfo=UTC)
    assert_reopens_the_same(store)
