"""The request context: the services of the app, who is asking, and this request's DataLoaders.

`context_getter` is the FastAPI dependency the GraphQL router runs first. It reads the key: a
bearer token in the Authorization header or, without that header, the screens' sign-in cookie
(`relgraph_key`, set by api/web/signin.py). Without a valid key it answers 401 — except a
browser asking for the GraphiQL page, which api/web/graphiql.py answers (the page, or a redirect
to /signin). A websocket may send its key in the `connection_init` payload
(`{"Authorization": "Bearer …"}`) instead, which `on_ws_connect` checks.

The cookie is a browser's credential, sent with every request to this origin, so it is worth
less than a header: a request that has only the cookie reads (its key counts as a read key,
whatever its scope: mutations are refused), and the cookie is ignored when the request names
another origin (`Origin`) than its own host — a websocket must name it, which stops another
site's page from opening one with the visitor's cookie (cross-site websocket hijacking).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import strawberry
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.auth import SESSION_COOKIE, Principal, Scope, bearer_token
from api.errors import Forbidden, Unauthenticated
from api.loaders import Loaders
from api.services import Services

if TYPE_CHECKING:
    from analytics.run import CustomerCard

NO_KEY = ("no API key: send the header `Authorization: Bearer <token>` "
          "(an operator creates one with `relgraph apikey create`)")
BAD_KEY = "the API key is not valid (mistyped, or revoked)"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="relgraph"'}
BAD_COOKIE = "the signed-in API key is not valid any more (revoked): sign in again at /signin"


class Context(BaseContext):
    def __init__(self, services: Services, principal: Principal | None) -> None:
        super().__init__()
        self.services = services
        self.principal = principal
        self.loaders = Loaders(services.store)
        # customers' analytics cards, batched per moment: one worker-thread call a page
        self.cards: DataLoader[tuple[str, datetime | None], CustomerCard | None] = \
            DataLoader(self._cards)
        self.deadline: float | None = None  # time.monotonic(); set by the router per request
        self.expired = False  # the deadline passed while resolving (api/execution.py)

    async def _cards(self, wanted: list[tuple[str, datetime | None]]
                     ) -> list[CustomerCard | None]:
        found: dict[tuple[str, datetime | None], CustomerCard | None] = {}
        for as_of in {k[1] for k in wanted}:
            ids = [k[0] for k in wanted if k[1] == as_of]
            cards = await self.services.analytics.ask(
                as_of, lambda a, ids=ids: [a.card(i) for i in ids])  # type: ignore[misc]
            found.update({(i, as_of): c for i, c in zip(ids, cards, strict=True)})
        return [found[k] for k in wanted]

    def require(self, scope: Scope) -> Principal:
        if self.principal is None:
            raise Unauthenticated(NO_KEY)
        if not self.principal.can(scope):
            raise Forbidden(f"this API key's scope is {self.principal.scope.value}; "
                            f"this needs a {scope.value} key")
        return self.principal


Info = strawberry.Info[Context, None]


def is_ide_request(connection: HTTPConnection) -> bool:
    """A browser asking for GraphiQL (strawberry's own test: GET, no query, HTML accepted)."""
    accept = connection.headers.get("accept", "")
    return (connection.scope.get("method") == "GET" and "query" not in connection.query_params
            and ("text/html" in accept or "*/*" in accept))


def same_origin(connection: HTTPConnection) -> bool:
    """Does the request come from a page of this origin? Its Origin header names our host; a
    plain HTTP request without one counts (browsers send Origin on every cross-site POST and
    fetch), a websocket without one does not (browsers always send it there)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return connection.scope["type"] == "http"
    host = connection.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


async def authenticate(connection: HTTPConnection) -> Principal | None:
    """Who is asking: the key of the Authorization header, else of the sign-in cookie (as a
    read key, and only from this origin's pages); None without either. A key that is not valid
    raises Unauthenticated; a client over its limits, RateLimited."""
    services: Services = connection.app.state.services
    header = connection.headers.get("authorization")
    # A browser replays a typed-in (Basic) key on any request to this origin, websockets from
    # other sites' pages included: those must send a bearer token or a connection_init key.
    token = bearer_token(header, basic=connection.scope["type"] == "http")
    by_cookie = False
    if header is None:
        cookie = connection.cookies.get(SESSION_COOKIE) or None
        if cookie is not None and same_origin(connection):
            token, by_cookie = cookie, True
    address = connection.client.host if connection.client else "unknown"
    principal = await services.auth.admit(token, address)
    if principal is None and token is not None:
        raise Unauthenticated(BAD_COOKIE if by_cookie else BAD_KEY, headers=CHALLENGE)
    if principal is not None and by_cookie:
        principal = principal.limited_to(Scope.READ)
    return principal


async def context_getter(connection: HTTPConnection) -> Context:
    services: Services = connection.app.state.services
    if connection.scope["type"] == "http" and is_ide_request(connection):
        # the GraphiQL page: api/web/graphiql.py signs the browser in or redirects it
        return Context(services, None)
    principal = await authenticate(connection)
    if principal is None and connection.scope["type"] == "http":
        raise Unauthenticated(NO_KEY, headers=CHALLENGE)
    return Context(services, principal)


async def on_ws_connect(context: Context, params: dict[str, Any] | None) -> None:
    """A websocket without a key in its headers may send one in connection_init."""
    if context.principal is not None:
        return
    params = params or {}
    raw = params.get("Authorization") or params.get("authorization")
    token = bearer_token(raw, basic=False) if isinstance(raw, str) else None
    if token is None and isinstance(params.get("apiKey"), str):
        token = params["apiKey"]
    client = context.request.client if context.request is not None else None
    context.principal = await context.services.auth.admit(
        token, client.host if client else "unknown")
    if context.principal is None:
        raise Unauthenticated(NO_KEY if token is None else BAD_KEY)


__all__ = ["BAD_KEY", "CHALLENGE", "NO_KEY", "Context", "Info", "authenticate", "context_getter",
           "is_ide_request", "on_ws_connect", "same_origin"]
