"""The screens: the customer feed, a person, a company.

Over HTTP (the app in-process, on both stores): no key, no data; `?key=` signs in; unknown ids
are a 404 page; the feed's filters, the cards and the drawn neighbourhood, field by field, on
the demo graph. In a real headless Chromium against a real `relgraph serve` (`browser`): the
feed shows what the graph holds, a `relgraph load` in another process reaches the open page
within 2 s, a name made of markup shows as text, the person page draws its neighbourhood, and
screenshots of both are not blank and show the names.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from api.app import create_app
from api.web.signin import COOKIE
from connectors.manifest import read_manifest
from connectors.pipeline import Loader
from connectors.source import source
from graph.store import GraphStore
from tests.api.conftest import api_settings, make_tokens
from tests.conformance.helpers import load_demo
from tests.conftest import DEMO
from tests.web.conftest import LiveServer
from tests.worlds.interactions import write_exports

if TYPE_CHECKING:
    from playwright.sync_api import Page

BASE = "http://relgraph.test"
HTML = {"Accept": "text/html"}
XSS = "<img src=x onerror=window.__pwned=1> Mallory"
DEMO_CONCERNS = {"acme-call-2026-10-20", "acme-survey-2026-10-28", "globex-ticket-8812",
                 "globex-ticket-7001", "initech-call-2026-10-16", "olga-email-2026-10-22",
                 "umbrella-call-2026-10-25"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Screens:
    client: httpx.AsyncClient
    tokens: dict[str, str]
    store: GraphStore

    def signed_in(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.tokens['read']}", "Origin": BASE}

    async def get(self, path: str, *, key: bool = True, **kwargs: Any) -> httpx.Response:
        self.client.cookies.clear()
        headers = {**(self.signed_in() if key else {}), **kwargs.pop("headers", {})}
        return await self.client.get(path, headers=headers, **kwargs)

    async def data(self, path: str, **params: str) -> dict[str, Any]:
        response = await self.get(path, params=params)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


@pytest.fixture
async def screens(store: GraphStore, tmp_path: Path) -> AsyncIterator[Screens]:
    """The app on the demo graph, loaded through the pipeline into this data dir (so its
    concerns are in the outbox the feed opens on)."""
    load_demo(store, DEMO, tmp_path)  # the outbox goes to tmp_path/feed, the settings' feed_dir
    settings = api_settings(tmp_path)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield Screens(client, make_tokens(settings), store)


# --- over HTTP --------------------------------------------------------------------------------

@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/", "/people/ada@acme.com", "/companies/acme.com",
                                  "/?kind=sign_up"])
async def test_a_screen_without_a_key_goes_to_the_signin_form(screens: Screens,
                                                              path: str) -> None:
    response = await screens.get(path, key=False, headers=HTML)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/signin?next=")
    assert httpx.URL(location).params["next"] == path


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/screens/data/feed", "/screens/data/insights",
                                  "/screens/data/people/ada@acme.com",
                                  "/screens/data/companies/acme.com",
                                  "/screens/data/accounts?company=acme.com"])
async def test_no_key_no_data(screens: Screens, path: str) -> None:
    response = await screens.get(path, key=False)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Ada" not in response.text


@pytest.mark.anyio
async def test_a_key_in_the_address_signs_in_to_the_feed(screens: Screens) -> None:
    response = await screens.get("/", key=False, params={"key": screens.tokens["read"],
                                                         "kind": "sign_up"})
    assert response.status_code == 303 and response.headers["location"] == "/?kind=sign_up"
    cookie = response.cookies.get(COOKIE)
    assert cookie == screens.tokens["read"]
    page = await screens.client.get("/", headers={"Cookie": f"{COOKIE}={cookie}"})
    assert page.status_code == 200
    assert '<script type="module" src="/static/screens/feed.js">' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "shown"), [
    ("/people/nobody@example.com", "nobody@example.com"),
    ("/people/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("/companies/nowhere.example", "nowhere.example"),
])
async def test_an_unknown_id_is_a_404_page(screens: Screens, path: str, shown: str) -> None:
    response = await screens.get(path, headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not in the graph" in response.text and shown in response.text
    assert "<script>alert" not in response.text
    data = await screens.get("/screens/data" + path)
    assert data.status_code in (400, 404)
    assert data.json()["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "BAD_USER_INPUT")


@pytest.mark.anyio
async def test_a_known_person_and_company_have_pages(screens: Screens) -> None:
    person = await screens.get("/people/Ada@Acme.com", headers=HTML)
    assert person.status_code == 200
    assert 'data-id="ada@acme.com"' in person.text and "<title>Ada Lovelace" in person.text
    assert "/static/vendor/cytoscape.min.js" in person.text
    company = await screens.get("/companies/acme.com", headers=HTML)
    assert company.status_code == 200 and "<title>Acme Corp" in company.text


@pytest.mark.anyio
async def test_the_feed_opens_on_the_interactions_in_the_graph(screens: Screens) -> None:
    data = await screens.data("/screens/data/feed")
    items = {i["id"]: i for i in data["items"]}
    assert set(items) == DEMO_CONCERNS
    assert [i["at"] for i in data["items"]] == sorted(  # the most recent first
        (i["at"] for i in data["items"]), reverse=True)
    ada = items["acme-call-2026-10-20"]
    assert ada["type"] == "CONCERN_RAISED" and ada["at"] == "2026-10-20T15:00:00Z"
    assert ada["properties"] == {"channel": "call"}
    assert ada["text"].startswith("Renewal at risk")
    assert (ada["person"]["id"], ada["person"]["name"]) == ("ada@acme.com", "Ada Lovelace")
    assert ada["person"]["knownBy"] == [{"person": {"id": "maya@relgraph.io",
                                                    "name": "Maya Chen"}, "strength": 0.9}]
    assert (ada["company"]["id"], ada["company"]["name"]) == ("acme.com", "Acme Corp")
    assert ada["company"]["flags"] == ["CUSTOMER"]
    assert items["olga-email-2026-10-22"]["company"] is None  # a gmail address: no company
    assert {m["id"] for m in data["team"]} == {"maya@relgraph.io", "tom@relgraph.io"}
    assert "concern_raised" in data["kinds"] and "sign_up" in data["kinds"]


@pytest.mark.anyio
@pytest.mark.parametrize(("params", "expected", "filters"), [
    ({"account": "globex.com"}, {"globex-ticket-8812", "globex-ticket-7001"},
     {"account": ["globex.com"], "kind": [], "owner": None}),
    ({"account": "company:acme.com, https://www.umbrella.com/"},
     {"acme-call-2026-10-20", "acme-survey-2026-10-28", "umbrella-call-2026-10-25"},
     {"account": ["acme.com", "umbrella.com"], "kind": [], "owner": None}),
    ({"owner": "Tom@relgraph.io"}, {"acme-survey-2026-10-28", "globex-ticket-7001"},
     {"account": [], "kind": [], "owner": "tom@relgraph.io"}),
    ({"owner": "maya@relgraph.io", "account": "globex.com"}, {"globex-ticket-8812"},
     {"account": ["globex.com"], "kind": [], "owner": "maya@relgraph.io"}),
    ({"kind": "concern_raised"}, DEMO_CONCERNS,
     {"account": [], "kind": ["concern_raised"], "owner": None}),
    ({"kind": "sign_up,first_login"}, set(),
     {"account": [], "kind": ["sign_up", "first_login"], "owner": None}),
])
async def test_the_feeds_filters(screens: Screens, params: dict[str, str],
                                 expected: set[str], filters: dict[str, Any]) -> None:
    data = await screens.data("/screens/data/feed", **params)
    assert {i["id"] for i in data["items"]} == expected
    assert data["filters"] == filters


@pytest.mark.anyio
@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "signups"}, "kind"), ({"owner": "not an e-mail"}, "owner"),
    ({"account": "acme.com,gmail.com"}, "account"), ({"account": "!!!"}, "account"),
    ({"limit": "0"}, "limit"),
])
async def test_a_bad_filter_is_said_not_ignored(screens: Screens, params: dict[str, str],
                                                field: str) -> None:
    response = await screens.get("/screens/data/feed", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and field in error["message"]


@pytest.mark.anyio
async def test_a_persons_card_and_warm_paths(screens: Screens) -> None:
    data = await screens.data("/screens/data/people/ines@umbrella.com")
    assert data["person"]["name"] == "Inês Sousa" and data["person"]["team"] is False
    assert [(j["company"]["id"], j["title"]) for j in data["jobs_now"]] == [
        ("umbrella.com", "CEO")]
    assert data["known_by"] == []  # nobody on our team knows her: Ada does, and Maya knows Ada
    assert [[p["id"] for p in path["people"]] for path in data["paths"]] == [
        ["maya@relgraph.io", "ada@acme.com", "ines@umbrella.com"]]
    assert data["paths"][0]["hops"] == 2
    assert data["paths"][0]["strength"] == pytest.approx(0.9 * 0.2)
    assert [c["id"] for c in data["concerns"]] == ["umbrella-call-2026-10-25"]
    nodes = {n["data"]["id"]: n["data"] for n in data["graph"]["nodes"]}
    edges = {(e["data"]["source"], e["data"]["target"]): e["data"]
             for e in data["graph"]["edges"]}
    assert nodes["p:ines@umbrella.com"]["kind"] == "focus"
    assert nodes["p:maya@relgraph.io"]["kind"] == "team"
    assert nodes["c:umbrella.com"]["href"] == "/companies/umbrella.com"
    warm = {pair for pair, e in edges.items() if e["warm"]}
    assert warm == {("p:ada@acme.com", "p:maya@relgraph.io"),
                    ("p:ada@acme.com", "p:ines@umbrella.com")}
    assert edges[("p:ines@umbrella.com", "c:umbrella.com")]["kind"] == "works_at"


@pytest.mark.anyio
async def test_a_mover_has_jobs_now_and_before(screens: Screens) -> None:
    data = await screens.data("/screens/data/people/raj@globex.com")
    assert [j["company"]["id"] for j in data["jobs_now"]] == ["globex.com"]
    assert [(j["company"]["id"], j["until"][:10]) for j in data["jobs_before"]] == [
        ("initech.com", "2026-06-30")]
    assert [(k["id"], k["strength"]) for k in data["known_by"]] == [("maya@relgraph.io", 0.7)]
    kinds = {(e["data"]["target"], e["data"]["kind"]) for e in data["graph"]["edges"]}
    assert ("c:initech.com", "worked_at") in kinds and ("c:globex.com", "works_at") in kinds


@pytest.mark.anyio
async def test_a_companys_card(screens: Screens) -> None:
    data = await screens.data("/screens/data/companies/acme.com")
    assert data["company"]["name"] == "Acme Corp" and data["company"]["flags"] == ["customer"]
    assert data["company"]["industry"] == "Manufacturing"
    people = {p["id"]: p for p in data["people_now"]}
    assert set(people) == {"ada@acme.com", "zoë@acme.com"}
    assert [k["id"] for k in people["zoë@acme.com"]["known_by"]] == ["tom@relgraph.io"]
    warm = {(e["data"]["source"], e["data"]["target"]) for e in data["graph"]["edges"]
            if e["data"]["warm"]}
    assert warm == {("p:ada@acme.com", "p:maya@relgraph.io"),
                    ("p:tom@relgraph.io", "p:zoë@acme.com")}
    assert data["customers"] == []  # flagged customer, but no Customer account is loaded
    assert (await screens.data("/screens/data/accounts", company="acme.com")) == {
        "accounts": []}


@pytest.mark.anyio
async def test_insights_say_when_there_are_no_customers(screens: Screens) -> None:
    data = await screens.data("/screens/data/insights")
    assert data["customers"] == 0 and data["filtered"] is False


@pytest.mark.anyio
async def test_the_feed_opens_on_solved_tickets_clicks_and_first_uses(
        screens: Screens, tmp_path: Path) -> None:
    """The Zendesk, Mailchimp and Segment exports of tests/worlds/interactions.py loaded into
    the screen's data dir: the feed's filter by kind names the three later kinds."""
    exports = write_exports(tmp_path / "exports")
    for spec in read_manifest(exports / "manifest.toml"):
        summary = Loader(screens.store, data_dir=tmp_path).run(
            source(spec.source), spec.paths, spec.context())
        assert summary.rejected == 0, summary.examples
    data = await screens.data("/screens/data/feed",
                              kind="concern_solved,newsletter_click,feature_used")
    assert {"concern_solved", "newsletter_click", "feature_used"} <= set(data["kinds"])
    items = data["items"]
    assert [i["type"] for i in items] == [  # the most recent first: 10 November to 16 October
        "NEWSLETTER_CLICK", "CONCERN_SOLVED", "CONCERN_SOLVED", "FEATURE_USED",
        "NEWSLETTER_CLICK", "NEWSLETTER_CLICK", "NEWSLETTER_CLICK", "FEATURE_USED",
        "CONCERN_SOLVED"]
    solved = items[1]
    assert (solved["id"], solved["at"]) == ("zendesk:5103:solved", "2026-11-04T09:00:00Z")
    assert solved["properties"] == {"concern": "zendesk:5103", "subject": "Invoice address"}
    assert (solved["person"]["id"], solved["person"]["name"]) == ("fay@apex.co", "Fay Ngata")
    assert solved["company"]["id"] == "apex.co"
    first = items[3]
    assert (first["id"], first["at"], first["properties"]) == (
        "first_feature:invite_sent:ada@apex.co", "2026-11-03T14:05:00Z",
        {"feature": "invite_sent"})
    click = items[0]
    assert click["person"]["id"] == "ben@apex.co" and click["properties"]["url"] == (
        "https://www.relgraph.io/guides/onboarding-checklist")


# --- in a browser -----------------------------------------------------------------------------

def segment_signup(path: Path, *, email: str, name: str, user: str) -> Path:
    """A Segment export: who they are (at Acme), and that they signed up just now."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    lines = [
        {"type": "identify", "userId": user, "messageId": f"{user}-identify", "timestamp": now,
         "traits": {"email": email, "name": name, "title": "Analyst",
                    "company": {"name": "Acme Corp", "website": "https://acme.com"}}},
        {"type": "track", "event": "Signed Up", "userId": user, "messageId": f"{user}-signup",
         "timestamp": now, "properties": {"plan": "team"}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def load(server: LiveServer, source: str, path: Path) -> float:
    """`relgraph load SOURCE PATH` in another process; the moment it exited."""
    result = subprocess.run([sys.executable, "-m", "api.cli", "load", source, str(path)],
                            env=server.env, cwd=server.data_dir, capture_output=True, text=True,
                            timeout=120)
    done = time.monotonic()
    assert result.returncode == 0, result.stdout + result.stderr
    return done


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def colours(png: Path) -> int:
    from PIL import Image

    with Image.open(png) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(found or ())


def open_feed(page: Page, server: LiveServer, path: str = "/") -> None:
    page.goto(server.signin_url(path))
    assert page.url == server.url + path  # signed in, and the key left the address
    # a selector, not wait_for_function: the page's CSP refuses the eval that one needs
    page.wait_for_selector("#live[data-state=live]", timeout=15_000)


def test_the_feed_shows_the_graph_and_a_new_load_within_two_seconds(
        page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    open_feed(page, live_server)
    items = page.locator("#feed > li")
    assert items.count() == len(DEMO_CONCERNS)
    first = page.locator('#feed > li[data-id="acme-survey-2026-10-28"]')
    assert "Zoë Brontë" in first.inner_text() and "Acme Corp" in first.inner_text()
    assert first.locator("a.name").get_attribute("href") == "/people/zo%C3%AB%40acme.com"
    expect(page.locator("#health")).to_contain_text("No customers in the graph", timeout=30_000)

    # the subscription is open: a load in another process now
    page.wait_for_timeout(300)
    export = segment_signup(tmp_path / "signup.jsonl", email="mallory@acme.com", name=XSS,
                            user="u-mallory")
    loaded = load(live_server, "segment", export)
    arrived = page.locator('#feed > li[data-type="sign_up"]')
    arrived.wait_for(timeout=5_000)
    waited = time.monotonic() - loaded
    assert waited < 2.0, f"the new interaction took {waited:.2f} s after the load"
    assert items.first.get_attribute("data-type") == "sign_up"  # on top

    # the name is text: its characters on the screen, no element made of it
    text = arrived.inner_text()
    assert XSS in text and "signed up for the team plan" in text and "just now" in text
    assert arrived.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert arrived.locator("a.name").get_attribute("href") == "/people/mallory%40acme.com"

    shot = tmp_path / "feed.png"
    page.screenshot(path=str(shot))
    assert colours(shot) > 500
    body = page.locator("body").inner_text()
    assert all(name in body for name in ("Ada Lovelace", "Raj Patel", "Customer feed", XSS))
    assert problems == []


def test_the_feeds_filters_reach_the_live_subscription(
        page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    open_feed(page, live_server, "/?account=globex.com")
    ids = page.eval_on_selector_all("#feed > li", "items => items.map(i => i.dataset.id)")
    assert set(ids) == {"globex-ticket-8812", "globex-ticket-7001"}
    assert page.input_value("#f-account") == "globex.com"
    page.wait_for_timeout(300)
    # someone at Acme signs up: not an interaction at Globex, so not on this screen
    load(live_server, "segment", segment_signup(tmp_path / "acme.jsonl", email="eve@acme.com",
                                                name="Eve Acme", user="u-eve"))
    page.wait_for_timeout(1_500)
    assert page.locator("#feed > li").count() == 2
    assert page.evaluate("window.relgraphFeed.received") == 0


def test_a_person_page_draws_the_neighbourhood_with_the_warm_path(
        page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    page.goto(live_server.signin_url("/people/ines@umbrella.com"))
    page.wait_for_selector("body[data-graph=drawn]", timeout=15_000)
    graph = page.evaluate("""() => { const cy = window.relgraphGraph; return {
        nodes: cy.nodes().length, edges: cy.edges().length,
        warm: cy.edges('[?warm]').map(e => [e.source().data('key'), e.target().data('key')]),
        labels: cy.nodes().map(n => n.data('label')),
        visible: cy.nodes().every(n => n.renderedBoundingBox().w > 0) }; }""")
    assert graph["nodes"] > 1 and graph["edges"] > 0 and graph["visible"]
    assert sorted(map(sorted, graph["warm"])) == [["ada@acme.com", "ines@umbrella.com"],
                                                  ["ada@acme.com", "maya@relgraph.io"]]
    assert {"Inês Sousa", "Ada Lovelace", "Maya Chen", "Umbrella"} <= set(graph["labels"])
    card = page.locator("#card").text_content() or ""  # the words, not their CSS capitals
    assert "Inês Sousa" in card and "Maya Chen" in card and "Warm introductions" in card
    shot = tmp_path / "person.png"
    page.locator("#graph").screenshot(path=str(shot))
    assert colours(shot) > 300

    page.click("#card a.name >> text=Ada Lovelace")  # names link to their pages
    page.wait_for_url(f"{live_server.url}/people/ada%40acme.com")
    page.wait_for_selector("body[data-graph=drawn]", timeout=15_000)
    assert page.evaluate("window.relgraphGraph.nodes().length") > 2


def test_a_company_page_and_a_missing_one(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.signin_url("/companies/globex.com"))
    page.wait_for_selector("body[data-graph=drawn]", timeout=15_000)
    card = page.locator("#card").inner_text()
    assert "Globex" in card and "Raj Patel" in card and "Li Wei" in card
    assert "Sam Rivera" not in card
    assert page.evaluate("window.relgraphGraph.edges('[?warm]').length") == 2
    response = page.goto(f"{live_server.url}/people/nobody@example.com")
    assert response is not None and response.status == 404
    assert "nobody@example.com" in page.locator("main").inner_text()


def test_the_feed_words_solved_tickets_clicks_and_first_uses(
        page: Page, live_server_factory: Any, tmp_path: Path) -> None:
    """The three later kinds on the screen, in words: the Zendesk, Mailchimp and Segment
    exports of tests/worlds/interactions.py loaded before the server starts."""
    exports = write_exports(tmp_path / "exports")

    def load_exports(data_dir: Path, env: dict[str, str]) -> None:
        result = subprocess.run([sys.executable, "-m", "api.cli", "load", "--manifest",
                                 str(exports / "manifest.toml")], env=env, cwd=data_dir,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr

    server = live_server_factory(load_exports)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    open_feed(page, server)
    counts = {kind: page.locator(f'#feed > li[data-type="{kind}"]').count()
              for kind in ("concern_solved", "newsletter_click", "feature_used")}
    assert counts == {"concern_solved": 3, "newsletter_click": 4, "feature_used": 2}

    def card(item_id: str) -> str:  # the words, not their CSS capitals
        return page.locator(f'#feed > li[data-id="{item_id}"]').text_content() or ""

    solved = card("zendesk:5101:solved")
    assert "Ada Lovelace" in solved and "Solved" in solved
    assert "had a ticket solved" in solved and "Renewal at risk" in solved
    first = card("first_feature:report_created:ada@apex.co")
    assert "Key feature" in first and "used report created for the first time" in first
    clicks = page.locator('#feed > li[data-type="newsletter_click"]')
    words = [clicks.nth(n).text_content() or "" for n in range(clicks.count())]
    assert len(words) == 4 and all("Newsletter" in w for w in words)
    assert any("Ben Okafor" in w and "clicked a link in roundup-2026-11-10" in w
               and "relgraph.io/guides/onboarding-checklist" in w for w in words)
    assert any("Raj Patel" in w and "clicked a link in the newsletter" in w
               and "relgraph.io/papers/crm-playbook" in w for w in words)
    assert problems == []
