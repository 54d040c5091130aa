"""The editorial workflow: every edit and transition, the history that keeps them, frozen
published issues, and what publishing writes into the graph (on every store)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from curation import issues
from curation.errors import BadEdit, FrozenIssue, NotFound, NothingToDraft
from curation.model import IssueStatus, SourceKind
from graph.questions import Cypher, Question, Record, same
from graph.store import GraphStore
from graph.view import GraphView
from tests.curation.feedserver import FeedServer
from tests.curation.roundup_fixtures import EDITOR, NOW, built, curation_db, week

LATER = NOW + timedelta(minutes=5)
FRIDAY = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with curation_db(tmp_path) as db:
        built(db)
        yield db


ISSUE = "roundup-2026-11-27"


def layout(db: sqlite3.Connection) -> dict[str, list[str]]:
    return {k.value: [i.content_id.rsplit("/", 1)[1] for i in v]
            for k, v in issues.sections(db, ISSUE).items()}


def test_items_are_named_by_number_url_or_a_unique_part_of_it(db: sqlite3.Connection) -> None:
    issue = issues.get(db, ISSUE)
    assert issues.find_item(db, issue, "3").content_id.endswith("churn-signals")
    assert issues.find_item(db, issue, "https://THINKERS.example/nps-is-not-enough#x").rank == 5
    assert issues.find_item(db, issue, "remote-teams").rank == 8
    with pytest.raises(BadEdit, match="names 3 items"):
        issues.find_item(db, issue, "vendor.example")
    with pytest.raises(NotFound, match="no item number 99"):
        issues.find_item(db, issue, "99")
    with pytest.raises(NotFound, match="no item 'nothing-like-this'"):
        issues.find_item(db, issue, "nothing-like-this")
    with pytest.raises(NotFound, match="no issue 'roundup-1999-01-01'.*roundup-2026-11-27"):
        issues.get(db, "roundup-1999-01-01")
    assert issues.get(db, "latest").id == ISSUE


def test_pick_drop_move_and_every_edit_kept(db: sqlite3.Connection) -> None:
    assert layout(db) == {
        "company": ["churn-signals", "renewal-playbook", "nps-is-not-enough"],
        "vendor": ["onboarding-benchmarks", "pricing-page-teardown", "crm-hygiene"],
        "ours": ["graph-of-concerns"]}
    issues.pick(db, ISSUE, "remote-teams", who="ann", now=LATER)
    issues.move(db, ISSUE, "remote-teams", 1, who="ann", now=LATER)
    issues.drop(db, ISSUE, "renewal-playbook", who="bob", now=LATER)
    issues.move(db, ISSUE, "crm-hygiene", 2, section=SourceKind.OURS, who="bob", now=LATER)
    issues.pick(db, ISSUE, "renewal-playbook", section=SourceKind.VENDOR, who="bob", now=LATER)
    assert layout(db) == {
        "company": ["remote-teams", "churn-signals", "nps-is-not-enough"],
        "vendor": ["onboarding-benchmarks", "pricing-page-teardown", "renewal-playbook"],
        "ours": ["graph-of-concerns", "crm-hygiene"]}
    issues.set_blurb(db, ISSUE, "1", "  Lena counted   400 onboardings.  ", who="cy", now=LATER)
    issues.set_verdict(db, ISSUE, "1", "Must read.", who="cy", now=LATER)
    issues.set_intro(db, ISSUE, "Hello!\n\nA short week.", who="cy", now=LATER)
    item = issues.find_item(db, issues.get(db, ISSUE), "1")
    assert (item.blurb, item.verdict) == ("Lena counted 400 onboardings.", "Must read.")
    assert issues.get(db, ISSUE).intro == "Hello!\n\nA short week."
    log = [(e.who, e.action, (e.target or "").rsplit("/", 1)[-1], e.before, e.after)
           for e in issues.history(db, ISSUE)]
    assert log[0][:2] == (EDITOR, "build")
    assert log[1:] == [
        ("ann", "pick", "remote-teams", "not picked", "company #4"),
        ("ann", "move", "remote-teams", "company #4", "company #1"),
        ("bob", "drop", "renewal-playbook", "company #3", "not picked"),
        ("bob", "move", "crm-hygiene", "vendor #3", "ours #2"),
        ("bob", "pick", "renewal-playbook", "not picked", "vendor #3"),
        ("cy", "blurb", "onboarding-benchmarks",
         "From Vendor Blog: How long does onboarding take, really? Lena "
         "Fischer looked at 400 customer onboarding projects and reports the median time to "
         "value by segment. Enterprise accounts took three times longer than mid-market ones, "
         "mostly waiting on data.", "Lena counted 400 onboardings."),
        ("cy", "verdict", "onboarding-benchmarks", "Love it.", "Must read."),
        ("cy", "intro", "", "Welcome to this week's roundup.\n\nThree things stood out: churn "
         "signals, renewals and onboarding.", "Hello!\n\nA short week."),
    ]
    assert all(e.at == LATER for e in issues.history(db, ISSUE)[1:])


@pytest.mark.parametrize(("edit", "message"), [
    (lambda db: issues.pick(db, ISSUE, "1", who="x"), "already picked"),
    (lambda db: issues.drop(db, ISSUE, "remote-teams", who="x"), "is not picked"),
    (lambda db: issues.move(db, ISSUE, "remote-teams", 1, who="x"), "pick it first"),
    (lambda db: issues.move(db, ISSUE, "1", 5, who="x"), r"position 5 is outside section "
                                                          r"vendor \(1 to 3\)"),
    (lambda db: issues.move(db, ISSUE, "1", 0, who="x"), "position 0"),
    (lambda db: issues.set_blurb(db, ISSUE, "1", "   ", who="x"), "empty blurb"),
    (lambda db: issues.unschedule(db, ISSUE, who="x"), "is a draft, not scheduled"),
    (lambda db: issues.schedule(db, ISSUE, NOW - timedelta(hours=1), who="x", now=NOW),
     "is in the past"),
    (lambda db: issues.schedule(db, ISSUE, datetime(2027, 1, 1), who="x", now=NOW),
     "timezone"),
], ids=["pick-twice", "drop-unpicked", "move-unpicked", "move-too-far", "move-zero",
        "empty-blurb", "unschedule-draft", "schedule-past", "schedule-naive"])
def test_bad_edits_are_refused_and_leave_no_trace(
        db: sqlite3.Connection, edit: Callable[[sqlite3.Connection], Any], message: str) -> None:
    before = (layout(db), len(issues.history(db, ISSUE)))
    with pytest.raises(BadEdit, match=message):
        edit(db)
    assert (layout(db), len(issues.history(db, ISSUE))) == before


def test_draft_scheduled_draft_scheduled_and_the_due_list(db: sqlite3.Connection) -> None:
    issue = issues.schedule(db, ISSUE, FRIDAY, who="ann", now=NOW)
    assert (issue.status, issue.scheduled_at) == (IssueStatus.SCHEDULED, FRIDAY)
    issues.set_verdict(db, ISSUE, "2", "Love love it.", who="ann", now=NOW)  # still editable
    assert issues.due(db, NOW) == [] and issues.due(db, FRIDAY) == [issues.get(db, ISSUE)]
    back = issues.unschedule(db, ISSUE, who="bob", now=NOW)
    assert (back.status, back.scheduled_at) == (IssueStatus.DRAFT, None)
    again = issues.schedule(db, ISSUE, FRIDAY + timedelta(hours=1), who="bob", now=NOW)
    moved = issues.schedule(db, ISSUE, FRIDAY, who="bob", now=NOW)  # re-scheduled
    assert again.status is moved.status is IssueStatus.SCHEDULED
    steps = [(e.action, e.before, e.after) for e in issues.history(db, ISSUE)
             if e.action in ("schedule", "unschedule")]
    assert steps == [
        ("schedule", "draft", "scheduled for 2026-11-27 08:00 UTC"),
        ("unschedule", "scheduled for 2026-11-27 08:00 UTC", "draft"),
        ("schedule", "draft", "scheduled for 2026-11-27 09:00 UTC"),
        ("schedule", "scheduled for 2026-11-27 09:00 UTC", "scheduled for 2026-11-27 08:00 UTC"),
    ]


def test_an_issue_without_items_cannot_be_scheduled_or_published(
        db: sqlite3.Connection, tmp_path: Path) -> None:
    for item in issues.items(db, ISSUE):
        if item.picked:
            issues.drop(db, ISSUE, item.content_id, who="x")
    with pytest.raises(BadEdit, match="no picked item: nothing to schedule"):
        issues.schedule(db, ISSUE, FRIDAY, who="x", now=NOW)
    with pytest.raises(BadEdit, match="nothing to publish"):
        issues.publish(db, None, ISSUE, data_dir=tmp_path, who="x")  # type: ignore[arg-type]


# --- publishing: the graph --------------------------------------------------------------------

def _roundup_cypher(key: str) -> Cypher:
    return Cypher("""MATCH (r:Roundup {id: $id})
RETURN r.title AS title, r.status AS status, r.date AS date,
  [(r)-[f:FEATURES]->(c:Content) | {content: c.id, title: c.title, section: f.section,
    position: f.position, blurb: f.blurb, verdict: f.verdict,
    topics: [(c)-[:ABOUT]->(t:Topic) | t.id]}] AS features""", {"id": key})


def _roundup_records(key: str, records: Sequence[Record]) -> dict[str, Any] | None:
    if not records:
        return None
    r = records[0]
    return {"title": r["title"], "status": r["status"], "date": r["date"],
            "features": sorted((f["section"], f["position"], f["content"], f["title"],
                                 f["verdict"], tuple(sorted(f["topics"])))
                                for f in r["features"])}


def _roundup_embedded(view: GraphView, key: str) -> dict[str, Any] | None:
    attrs = view.node("Roundup", key)
    if attrs is None:
        return None
    return {"title": attrs.get("title"), "status": attrs.get("status"), "date": attrs["date"],
            "features": sorted((f["section"], f["position"], c[1], view.attrs(c).get("title"),
                                f["verdict"], view.topics(c))
                               for c, f in view.out(("Roundup", key), "FEATURES"))}


ROUNDUP: Question[str, dict[str, Any] | None] = Question(
    "roundup (test)", same, _roundup_cypher, _roundup_records, _roundup_embedded)


def test_publish_writes_the_roundup_into_the_graph_and_freezes_it(
        store: GraphStore, db: sqlite3.Connection, tmp_path: Path) -> None:
    issues.schedule(db, ISSUE, FRIDAY, who="ann", now=NOW)
    assert store.ask(ROUNDUP, ISSUE) is None
    done = issues.publish(db, store, ISSUE, data_dir=tmp_path / "data", who="ann", now=FRIDAY)
    assert (done.issue.status, done.issue.published_at) == (IssueStatus.PUBLISHED, FRIDAY)
    assert done.nodes and done.relationships
    found = store.ask(ROUNDUP, ISSUE)
    assert found is not None
    assert (found["title"], found["status"], found["date"]) == (
        "What's new in Customer Success – Friday, November 27th", "published",
        datetime(2026, 11, 27, tzinfo=UTC))
    assert [f[:3] for f in found["features"]] == [
        ("company", 1, "https://thinkers.example/churn-signals"),
        ("company", 2, "https://thinkers.example/renewal-playbook"),
        ("company", 3, "https://thinkers.example/nps-is-not-enough"),
        ("ours", 1, "https://relgraph.io/graph-of-concerns"),
        ("vendor", 1, "https://vendor.example/onboarding-benchmarks"),
        ("vendor", 2, "https://vendor.example/pricing-page-teardown"),
        ("vendor", 3, "https://vendor.example/crm-hygiene")]
    churn = found["features"][0]
    assert churn[3] == "The Churn Signals Hiding in Your Support Queue"
    assert churn[4] == "Love it." and "churn" in churn[5]
    # Files: the archive page, the index, the feed and the e-mail.
    names = sorted(p.relative_to(tmp_path / "data").as_posix() for p in done.files)
    assert names == ["roundup/mail/roundup-2026-11-27.eml", "roundup/site/feed.atom",
                     "roundup/site/index.html", "roundup/site/roundup-2026-11-27.html"]
    assert issues.history(db, ISSUE)[-1].action == "publish"
    assert issues.history(db, ISSUE)[-1].before == "scheduled for 2026-11-27 08:00 UTC"


FROZEN: list[Callable[[sqlite3.Connection], Any]] = [
    lambda db: issues.pick(db, ISSUE, "remote-teams", who="x"),
    lambda db: issues.drop(db, ISSUE, "1", who="x"),
    lambda db: issues.move(db, ISSUE, "1", 2, who="x"),
    lambda db: issues.set_blurb(db, ISSUE, "1", "New words.", who="x"),
    lambda db: issues.set_verdict(db, ISSUE, "1", "Meh.", who="x"),
    lambda db: issues.set_intro(db, ISSUE, "Hi.", who="x"),
    lambda db: issues.schedule(db, ISSUE, FRIDAY + timedelta(days=1), who="x", now=NOW),
    lambda db: issues.unschedule(db, ISSUE, who="x"),
    lambda db: issues.publish(db, None, ISSUE, data_dir=Path("/nonexistent"),  # type: ignore[arg-type]
                              who="x"),
]


def test_a_published_issue_is_frozen(store: GraphStore, db: sqlite3.Connection,
                                     tmp_path: Path) -> None:
    issues.publish(db, store, ISSUE, data_dir=tmp_path, who="ann", now=LATER)  # from draft
    before = (layout(db), issues.items(db, ISSUE), issues.get(db, ISSUE),
              issues.history(db, ISSUE))
    for edit in FROZEN:
        with pytest.raises(FrozenIssue, match="was published 2026-11-27 07:05 UTC: it is frozen"):
            edit(db)
    assert (layout(db), issues.items(db, ISSUE), issues.get(db, ISSUE),
            issues.history(db, ISSUE)) == before
    assert [e.action for e in issues.history(db, ISSUE)] == ["build", "publish"]
    assert issues.history(db, ISSUE)[-1].before == "draft"


def test_list_newest_first(db: sqlite3.Connection) -> None:
    built(db, day=NOW.date() + timedelta(days=7), now=NOW + timedelta(days=7))
    assert [i.id for i in issues.list_issues(db)] == ["roundup-2026-12-04", ISSUE]


# --- the README's walkthrough, as real `relgraph` processes -------------------------------------

WALKTHROUGH = Path(__file__).resolve().parents[2] / "fixtures" / "curation" / "walkthrough"


def relgraph(*args: str, data: Path, check: bool = True,
             store: str = "memory") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELGRAPH_STORE": store, "RELGRAPH_DATA_DIR": str(data),
           "COLUMNS": "200", "USER": "maya",
           "RELGRAPH_FEEDS_ALLOW_HOSTS": "127.0.0.1"}  # the walkthrough's feeds are local
    env.pop("RELGRAPH_ROUNDUP_TEMPLATES", None)
    if store == "neo4j":  # the test server (tests/conftest.py), never the user's NEO4J_*
        env.update({"NEO4J_URI": os.environ["RELGRAPH_TEST_NEO4J_URI"],
                    "NEO4J_USER": os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j"),
                    "NEO4J_PASSWORD": os.environ["RELGRAPH_TEST_NEO4J_PASSWORD"]})
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, text=True,
                            capture_output=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    if check and result.returncode != 0:
        raise AssertionError(f"relgraph {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


@pytest.mark.parametrize("kind", ["memory", "neo4j"])
def test_the_readme_walkthrough(kind: str, tmp_path: Path, request: pytest.FixtureRequest
                                ) -> None:
    """OPML in, an issue edited, previewed, scheduled, pulled back, published in every format;
    its clicks loaded; the next build's audience signal changed. On each store: the graph
    (Content, topics, the audience signal, the clicks) is the configured store's."""
    if kind == "neo4j":
        request.getfixturevalue("neo4j_store").delete_all()  # skips, or fails under CI=true
    data = tmp_path / "data"

    def run(*args: str, check: bool = True, at: Path = data) -> subprocess.CompletedProcess[str]:
        return relgraph(*args, data=at, check=check, store=kind)

    with FeedServer.of_directory(WALKTHROUGH) as server:
        opml = tmp_path / "roundup.opml"
        opml.write_text((WALKTHROUGH / "roundup.opml").read_text().replace(
            "127.0.0.1:8765", f"127.0.0.1:{server.port}"))
        run("init")
        run("demo")
        assert "3 added" in run("roundup", "sources", "import", str(opml)).stdout
        assert "11 new entries" in run("roundup", "fetch").stdout
    # the masthead first: the shipped one is a neutral sample publish refuses
    run("roundup", "setup", "--name", "What's new in Customer Success", "--organisation",
        "Relgraph", "--sender", "Maya Chen <roundup@relgraph.io>", "--curator", "Maya Chen",
        "--site-url", "https://relgraph.io")
    made = run("roundup", "build", "--date", "2026-11-06").stdout
    issue = "roundup-2026-11-06"
    assert f"draft {issue}" in made and "6 candidates, 6 picked" in made
    assert "audience +0.75: our contacts and customers, last 30 days: onboarding: 1" in made
    run("roundup", "edit", issue, "move", "renewal-playbook", "--to", "1")
    run("roundup", "edit", issue, "drop", "health-score-lies", "--by", "tom")
    run("roundup", "edit", issue, "verdict", "renewal-playbook", "Love it.")
    run("roundup", "edit", issue, "blurb", "pricing-page-teardown",
             "Sam Ortiz scores twelve pricing pages.")
    run("roundup", "edit", issue, "intro", "Welcome to November.")
    run("roundup", "edit", issue, "pick", "health-score-lies")
    run("roundup", "edit", issue, "drop", "health-score-lies")
    shown = run("roundup", "show", issue, "--history").stdout
    assert "1. A Renewal Playbook for Accounts You Barely Know" in shown
    assert "tom  drop http://127.0.0.1:8765/retention-desk/health-score-lies" in shown
    for fmt in ("md", "html", "text", "eml"):
        out = tmp_path / f"issue.{fmt}"
        run("roundup", "preview", issue, "--format", fmt, "-o", str(out))
        assert out.stat().st_size > 1000
    md = run("roundup", "preview", issue, "--format", "md").stdout
    assert md.startswith("# What's new in Customer Success – Friday, November 6th\n")
    assert "Sam Ortiz scores twelve pricing pages. **Read it.**" in md
    run("roundup", "schedule", issue, "--at", "2099-01-01T08:00:00Z")
    assert "is a draft again" in run("roundup", "unschedule", issue).stdout
    published = run("roundup", "publish", issue).stdout
    assert f"published {issue}: 5 stories" in published
    assert (data / "roundup" / "site" / f"{issue}.html").exists()
    frozen = run("roundup", "edit", issue, "verdict", "1", "Meh.", check=False)
    assert frozen.returncode == 1
    assert frozen.stderr.strip().startswith(f"error: issue {issue} was published")
    assert len(frozen.stderr.strip().splitlines()) == 1
    listed = run("roundup", "list", "--format", "json").stdout
    assert '"status": "published"' in listed
    # The click export of the issue, loaded like any other: the next build learns from it.
    shutil.copytree(data, tmp_path / "before")
    before = run("roundup", "build", "--date", "2026-11-13", at=tmp_path / "before").stdout
    loaded = run("load", "clicks", str(WALKTHROUGH / "clicks.csv")).stdout
    assert "READ 5" in loaded
    after = run("roundup", "build", "--date", "2026-11-13").stdout
    assert "onboarding: 1 read" in before and "onboarding: 4 read" in after


def test_a_draft_is_discarded_whole_and_its_id_is_free_again(db: sqlite3.Connection) -> None:
    issues.drop(db, ISSUE, "renewal-playbook", who="ann", now=LATER)
    rebuilt = built(db).issue  # a second build of the day: the -2 draft beside the first
    assert rebuilt.id == f"{ISSUE}-2"
    gone = issues.discard(db, ISSUE)
    assert gone.id == ISSUE
    for table, column in (("issues", "id"), ("items", "issue_id"),
                          ("item_details", "issue_id"), ("edits", "issue_id")):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                          (ISSUE,)).fetchone() == (0,)
    assert [i.id for i in issues.list_issues(db)] == [f"{ISSUE}-2"]
    assert issues.items(db, f"{ISSUE}-2")  # the other draft untouched
    assert built(db).issue.id == ISSUE  # the day's first id again
    with pytest.raises(NotFound):
        issues.discard(db, "roundup-1999-01-01")


def test_only_drafts_are_discarded(db: sqlite3.Connection, store: GraphStore,
                                   tmp_path: Path) -> None:
    issues.schedule(db, ISSUE, FRIDAY, who="ann", now=NOW)
    with pytest.raises(BadEdit, match=f"unschedule {ISSUE}"):
        issues.discard(db, ISSUE)
    issues.unschedule(db, ISSUE, who="ann", now=NOW)
    issues.publish(db, store, ISSUE, data_dir=tmp_path / "data", who="ann", now=LATER)
    with pytest.raises(FrozenIssue, match="discard refused"):
        issues.discard(db, ISSUE)
    assert issues.get(db, ISSUE).status is IssueStatus.PUBLISHED


def test_a_build_with_nothing_to_offer_makes_no_draft(db: sqlite3.Connection,
                                                      store: GraphStore,
                                                      tmp_path: Path) -> None:
    week_later = {"day": FRIDAY.date() + timedelta(days=7), "now": NOW + timedelta(days=7)}
    with pytest.raises(NothingToDraft, match="no draft made"):
        built(db, candidates=[], **week_later)  # type: ignore[arg-type]
    published = issues.publish(db, store, ISSUE, data_dir=tmp_path / "data", who="ann",
                               now=LATER)
    picked = {i.content_id for i in issues.items(db, published.issue.id) if i.picked}
    # all the window holds was featured already: still nothing new to offer
    with pytest.raises(NothingToDraft, match="featured in a published issue already"):
        built(db, candidates=[c for c in week() if c.content_id in picked],
              **week_later)  # type: ignore[arg-type]
    assert [i.id for i in issues.list_issues(db)] == [ISSUE]


def test_the_discard_and_build_commands(tmp_path: Path) -> None:
    """`relgraph roundup build` with nothing fetched makes no draft (one red line, exit 1);
    `relgraph roundup discard` deletes a draft and says which."""
    from tests.worlds.cli import relgraph

    data = tmp_path / "data"
    empty = relgraph("roundup", "build", "--date", "2026-11-27", data=data, check=False)
    assert empty.returncode == 1 and "no draft made" in empty.stderr, empty.stderr
    with curation_db(data) as db:  # a draft, as a build with candidates leaves it
        built(db)
    gone = relgraph("roundup", "discard", ISSUE, data=data)
    assert f"discarded {ISSUE}" in gone.stdout
    again = relgraph("roundup", "discard", ISSUE, data=data, check=False)
    assert again.returncode == 1 and f"no issue {ISSUE!r}" in again.stderr


def test_publish_refuses_the_shipped_masthead_until_setup(tmp_path: Path) -> None:
    """The shipped masthead is a neutral sample: `publish` says to run `relgraph roundup
    setup`, which asks (or takes options), writes roundup.toml, and keeps what it had."""
    from tests.worlds.cli import relgraph

    data = tmp_path / "data"
    with curation_db(data) as db:
        built(db)
    refused = relgraph("roundup", "publish", ISSUE, data=data, check=False)
    assert refused.returncode == 1 and "relgraph roundup setup" in refused.stderr
    assert "nothing was published" in refused.stderr
    with curation_db(data) as db:
        assert issues.get(db, ISSUE).status is IssueStatus.DRAFT
    answers = "Acme Weekly\nAcme\nAda Lovelace <news@acme.example>\n"  # what it asks
    asked = subprocess.run([sys.executable, "-m", "api.cli", "roundup", "setup", "--curator",
                            "Ada Lovelace"],
                           input=answers, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "RELGRAPH_DATA_DIR": str(data),
                                "RELGRAPH_STORE": "memory", "COLUMNS": "200"},
                           cwd=Path(__file__).resolve().parents[2])
    assert asked.returncode == 0, asked.stderr
    toml = data / "roundup" / "templates" / "roundup.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'name = "Acme Weekly"' in text and 'sender = "Ada Lovelace <news@acme.example>"' in text
    assert 'signature = "Ada"' in text and 'site_url = ""' in text
    toml.write_text(text + '\n[sections]\nours = "From Acme"\n', encoding="utf-8")
    again = relgraph("roundup", "setup", "--name", "Acme Weekly", "--organisation", "Acme",
                     "--sender", "news@acme.example", data=data)
    assert "masthead written to" in again.stdout.replace("\n", "")
    assert '[sections]\nours = "From Acme"' in toml.read_text(encoding="utf-8")  # kept
    assert relgraph("roundup", "setup", "--name", "X", "--organisation", "Y", "--sender",
                    "not an address", data=data, check=False).returncode == 2
    published = relgraph("roundup", "publish", ISSUE, data=data).stdout
    assert f"published {ISSUE}" in published
    eml = (data / "roundup" / "mail" / f"{ISSUE}.eml").read_text(encoding="utf-8")
    assert "From: news@acme.example" in eml and "roundup@relgraph.io" not in eml
