"""The screens: the live customer feed, a person, a company — served by `relgraph serve` beside
the API, signed in with a key kept in a cookie (api/web/signin.py).

    GET /                       the customer feed (?account=…&kind=…&owner=…: screens_feed.py)
    GET /people/{id}            a person: the card and the neighbourhood, warm paths highlighted
    GET /companies/{id}         a company: people we know there, triggers, account health
    GET /screens/data/feed      the feed's opening items, newest first (same filters)
    GET /screens/data/insights  today's outreach, accounts at risk, health at a glance
    GET /screens/data/people/{id}, /screens/data/companies/{id}, /screens/data/accounts?company=
                                the cards as JSON (404 for an unknown id)

A page is an HTML shell with no data in it but the id it is about (escaped); its script
(api/web/static/screens/) fetches the JSON routes and builds the DOM with textContent only, so
a name such as `<img src=x onerror=…>` shows as those characters. New interactions arrive over
the API's own `customerFeed` subscription (graphql-transport-ws at /graphql, authenticated by
the same cookie), which uvicorn closes cleanly when the server stops; the page reconnects.

Without a key a page redirects to /signin and a JSON route answers 401: no key, no data.
"""

from __future__ import annotations

import asyncio
import html
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api import validate as v
from api.auth import Principal
from api.context import NO_KEY
from api.errors import BadUserInput, NotFound, Unauthenticated
from api.loaders import Loaders
from api.services import Services, ServicesDep
from api.types.enums import INTERACTION_TYPES
from api.web.screens_entities import account_health, company_screen, person_screen
from api.web.screens_feed import MAX_ITEMS, Aliases, ScreenFilters, opening_items, person_card
from api.web.screens_insights import Known, insights
from api.web.signin import ScreenUser, screen_principal
from graph.model import MAX_LIMIT
from graph.questions.entities import CONNECTIONS, ConnectionsQuery

router = APIRouter(include_in_schema=False)

POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
          "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
          "form-action 'self'")
# Cytoscape.js sets style attributes on the canvases it makes: the entity pages allow those
# (style attributes only; <style> elements and style sheets stay 'self').
GRAPH_POLICY = POLICY + "; style-src-attr 'unsafe-inline'"
HEADERS = {"Content-Security-Policy": POLICY, "Cache-Control": "no-store",
           "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


async def require_key(request: Request) -> Principal:
    """The data routes' key: the cookie's or a bearer header's; 401 without one."""
    principal = await screen_principal(request)
    if principal is None:
        raise Unauthenticated(NO_KEY)
    return principal


ScreenKey = Annotated[Principal, Depends(require_key)]


def filters(account: str | None = None, kind: str | None = None,
            owner: str | None = None) -> ScreenFilters:
    return ScreenFilters.parse(account, kind, owner)


FiltersDep = Annotated[ScreenFilters, Depends(filters)]


# --- pages ------------------------------------------------------------------------------------

def page(title: str, screen: str, main: str, *, status: int = 200,
         about: str | None = None) -> HTMLResponse:
    """An HTML shell: the header, `main` (markup written here, never data), the screen's script.
    `about` (an id) goes into an attribute, escaped."""
    data = f' data-id="{html.escape(about, quote=True)}"' if about is not None else ""
    script = (f'<script type="module" src="/static/screens/{screen}.js"></script>'
              if screen != "missing" else "")
    if screen == "entity":  # Cytoscape.js (built from npm by scripts/build-assets), before it
        script = '<script src="/static/vendor/cytoscape.min.js" defer></script>\n' + script
    # Cytoscape adds a <style> of its own unless an element with this id exists; the CSP
    # (style-src 'self') would refuse it, and screens.css gives its container what it sets.
    sheet_id = ' id="__________cytoscape_stylesheet"' if screen == "entity" else ""
    body = _SHELL.format(title=html.escape(title), screen=screen, data=data, main=main,
                         script=script, sheet_id=sheet_id)
    policy = GRAPH_POLICY if screen == "entity" else POLICY
    return HTMLResponse(body, status, headers={**HEADERS, "Content-Security-Policy": policy})


def missing(what: str, key: str) -> HTMLResponse:
    return page("Not found", "missing", _MISSING.format(
        what=html.escape(what), key=html.escape(key)), status=404)


@router.get("/")
async def feed_page(user: ScreenUser) -> HTMLResponse:
    return page("Customer feed", "feed", _FEED)


@router.get("/people/{person_id:path}")
async def person_page(person_id: str, user: ScreenUser, services: ServicesDep) -> Response:
    try:
        key = v.person_key(person_id, "id")
    except BadUserInput:
        return missing("person", person_id)
    card = await person_card(key, Loaders(services.store), Aliases(services.store))
    if card is None:
        return missing("person", person_id)
    if card.person_id != key:  # a key folded into another person: their page
        return RedirectResponse(f"/people/{quote(card.person_id, safe='')}", 303)
    return page(card.name or card.person_id, "entity", _ENTITY, about=card.person_id)


@router.get("/companies/{company_id:path}")
async def company_page(company_id: str, user: ScreenUser, services: ServicesDep
                       ) -> HTMLResponse:
    try:
        key = v.company_id(company_id, "id")
    except BadUserInput:
        return missing("company", company_id)
    card = await Loaders(services.store).companies.load((key, None))
    if card is None:
        return missing("company", company_id)
    return page(card.name or card.company_id, "entity", _ENTITY, about=card.company_id)


# --- data -------------------------------------------------------------------------------------

@router.get("/screens/data/feed")
async def feed_data(services: ServicesDep, _: ScreenKey, chosen: FiltersDep,
                    limit: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 50) -> dict[str, Any]:
    """The newest interactions the filters keep, newest first, as `customerFeed` shows them."""
    items = await opening_items(services.settings.feed_dir, chosen, Loaders(services.store),
                                Aliases(services.store), limit)
    team = await _team(services)
    return {"filters": chosen.as_json(), "items": items, "team": team,
            "kinds": list(INTERACTION_TYPES)}


async def _team(services: Services) -> list[dict[str, Any]]:
    """Our team (people at a company flagged own), for the owner filter's choices."""
    ids = await asyncio.to_thread(services.store.team)
    cards = await Loaders(services.store).people_brief.load_many([(i, None) for i in ids])
    return [{"id": i, "name": c.name if c else None} for i, c in zip(ids, cards, strict=True)]


@router.get("/screens/data/insights")
async def insights_data(services: ServicesDep, _: ScreenKey,
                        chosen: FiltersDep) -> dict[str, Any]:
    """Health at a glance, accounts at risk and today's outreach (the account and owner filters
    apply)."""
    known = await _known_by(services, chosen.owner) if chosen.owner is not None else None
    found: dict[str, Any] = await services.analytics.ask(
        None, lambda a: insights(a, chosen.accounts, known=known))
    return found


async def _known_by(services: Services, owner: str) -> Known:
    """Whom this member of our team knows (their strongest MAX_LIMIT connections), and the
    customer accounts of those people: where they work now, or their own (B2C)."""
    contacts = (await services.store.ask_async(
        CONNECTIONS, ConnectionsQuery((owner,), limit=MAX_LIMIT))).get(owner, ())
    people = frozenset(c.person_id for c in contacts)
    cards = await Loaders(services.store).people_brief.load_many([(p, None) for p in people])
    customers = {f"person:{p}" for p in people}
    customers |= {f"company:{j.company_id}" for c in cards if c is not None for j in c.current}
    return Known(people, frozenset(customers))


@router.get("/screens/data/people/{person_id:path}")
async def person_data(person_id: str, services: ServicesDep, _: ScreenKey) -> dict[str, Any]:
    key = v.person_key(person_id, "id")
    card = await person_card(key, Loaders(services.store), Aliases(services.store))
    found = await person_screen(services, Loaders(services.store), card.person_id) \
        if card is not None else None
    if found is None:
        raise NotFound(f"no person {key!r}")
    return found


@router.get("/screens/data/companies/{company_id:path}")
async def company_data(company_id: str, services: ServicesDep, _: ScreenKey) -> dict[str, Any]:
    key = v.company_id(company_id, "id")
    found = await company_screen(services, Loaders(services.store), key)
    if found is None:
        raise NotFound(f"no company {key!r}")
    return found


@router.get("/screens/data/accounts")
async def accounts_data(company: str, services: ServicesDep, _: ScreenKey) -> dict[str, Any]:
    """What the analytics say of a company's customer accounts (an empty list: not a customer)."""
    key = v.company_id(company, "company")
    card = await Loaders(services.store).companies.load((key, None))
    if card is None:
        raise NotFound(f"no company {key!r}")
    ids = [c.customer_id for c in card.customers]
    if not ids:
        return {"accounts": []}
    shown = await services.analytics.ask(None, lambda a: account_health(a, ids))
    return {"accounts": shown}


_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="dark">
<title>{title} · Relationship Graph</title>
<link rel="icon" href="/static/screens/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/screens/screens.css"{sheet_id}>
</head>
<body data-screen="{screen}"{data}>
<header class="bar">
  <a class="brand" href="/"><span class="mark" aria-hidden="true"></span>Relationship Graph</a>
  <nav>
    <a href="/">Customer feed</a>
    <a href="/graphql">GraphiQL</a>
    <form method="post" action="/signout"><button type="submit">Sign out</button></form>
  </nav>
</header>
{main}
{script}
</body>
</html>
"""

_FEED = """<main class="feed-screen">
  <section class="feed" aria-labelledby="feed-title">
    <div class="section-head">
      <h1 id="feed-title">Customer feed</h1>
      <span id="live" class="live" data-state="connecting">connecting…</span>
    </div>
    <form id="filters" class="filters" method="get" action="/">
      <label>Account <input name="account" id="f-account" placeholder="acme.com"></label>
      <label>Kind <select name="kind" id="f-kind"><option value="">everything</option></select>
      </label>
      <label>Owner <select name="owner" id="f-owner"><option value="">anyone</option></select>
      </label>
      <button type="submit">Apply</button>
    </form>
    <p id="feed-problem" class="problem" hidden></p>
    <ol id="feed" class="items" aria-live="polite"></ol>
    <p id="feed-empty" class="empty" hidden></p>
  </section>
  <aside class="side">
    <section class="panel" aria-labelledby="health-title">
      <h2 id="health-title">Health at a glance</h2>
      <div id="health" class="health"><p class="loading">Computing…</p></div>
    </section>
    <section class="panel" aria-labelledby="outreach-title">
      <h2 id="outreach-title">Today's outreach</h2>
      <ol id="outreach" class="list"><li class="loading">Computing…</li></ol>
    </section>
    <section class="panel" aria-labelledby="risk-title">
      <h2 id="risk-title">Accounts at risk</h2>
      <ol id="at-risk" class="list"><li class="loading">Computing…</li></ol>
    </section>
  </aside>
</main>"""

_ENTITY = """<main class="entity-screen">
  <section class="card" id="card" aria-live="polite"><p class="loading">Loading…</p></section>
  <section class="graph-panel">
    <div class="section-head">
      <h2>Neighbourhood</h2>
      <ul class="legend" aria-label="legend">
        <li><span class="dot focus"></span>this one</li>
        <li><span class="dot team"></span>our team</li>
        <li><span class="dot person"></span>people</li>
        <li><span class="dot company"></span>companies</li>
        <li><span class="line warm"></span>warm introduction</li>
      </ul>
    </div>
    <div id="graph" class="graph" role="img" aria-label="the neighbourhood as a graph"></div>
    <p id="graph-problem" class="problem" hidden></p>
  </section>
</main>"""

_MISSING = """<main class="missing-screen">
  <h1>Not in the graph</h1>
  <p>There is no {what} with the id <code>{key}</code>.</p>
  <p><a href="/">Back to the customer feed</a></p>
</main>"""

__all__ = ["router"]
