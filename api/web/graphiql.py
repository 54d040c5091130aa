"""GraphiQL without the internet: the page a browser gets at GET /graphql.

Its scripts and styles are this package's own files (`/static/vendor/`: GraphiQL 3 and React 18
as npm ships them, copied by scripts/build-assets; `/static/graphiql/`: the page's start-up
script), and its Content-Security-Policy allows nothing else: no CDN, no other host, even if a
bundle asked for one. The page asks /graphql over HTTP and subscriptions over the websocket on
the same path (graphql-transport-ws), authenticated by the sign-in cookie (api/web/signin.py:
it counts as a read key, so the page asks and never writes), and takes the schema from
/graphql/schema.graphql — a link on the page downloads it — since introspection is for admin
keys sent in a header.

A browser without a valid key is redirected to /signin?next=/graphql; `/graphql?key=TOKEN`
signs in as on every screen. In development mode (`RELGRAPH_API_DEV`) the page is shown without
a key too, and asks with whatever key the browser sends (none: 401).

The strawberry router (api/app.py) calls `render` where it would serve its own GraphiQL page,
which loads React and GraphiQL from unpkg.com: for a GET that asks for HTML and has no `query`
(api/context.py `is_ide_request`). `GET /graphql?query=…` is the GraphQL endpoint as before.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.services import Services
from api.web.signin import NO_STORE, SignInRequired, key_in_query, screen_principal

POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


async def render(request: Request) -> Response:
    """The GraphiQL page, or the sign-in redirect (a `?key=` sign-in: the cookie and back)."""
    answer = await key_in_query(request)
    if answer is not None:
        return answer
    services: Services = request.app.state.services
    if await screen_principal(request) is None and not services.settings.api_dev:
        return SignInRequired(request.url.path).response
    return HTMLResponse(PAGE, headers={**NO_STORE, "Content-Security-Policy": POLICY})


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL · Relationship Graph</title>
<link rel="stylesheet" href="/static/vendor/graphiql.min.css">
<link rel="stylesheet" href="/static/graphiql/page.css">
</head>
<body>
<nav class="bar">
<strong>Relationship Graph · GraphiQL</strong>
<a href="/graphql/schema.graphql" download="schema.graphql">Download the schema (SDL)</a>
<a href="/docs">REST look-ups (OpenAPI)</a>
<form method="post" action="/signout"><button type="submit">Sign out</button></form>
</nav>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/static/vendor/react.production.min.js"></script>
<script src="/static/vendor/react-dom.production.min.js"></script>
<script src="/static/vendor/graphiql.min.js"></script>
<script src="/static/graphiql/page.js"></script>
</body>
</html>
"""

__all__ = ["PAGE", "POLICY", "render"]
