"""The request context: the services of the app, who is asking, and this request's DataLoaders.

`context_getter` is the FastAPI dependency the GraphQL router runs first. It reads the bearer
token; without a valid one it answers 401 — except a browser asking for GraphiQL in development
mode (`RELGRAPH_API_DEV`). A websocket may send its key in the `connection_init` payload
(`{"Authorization": "Bearer …"}`) instead, which `on_ws_connect` checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.auth import Principal, Scope, bearer_token
from api.errors import Forbidden, Unauthenticated
from api.loaders import Loaders
from api.services import Services

if TYPE_CHECKING:
    from analytics.run import CustomerCard

NO_KEY = ("no API key: send the header `Authorization: Bearer <token>` "
          "(an operator creates one with `relgraph apikey create`)")
BAD_KEY = "the API key is not valid (mistyped, or revoked)"


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


async def authenticate(connection: HTTPConnection) -> Principal | None:
    services: Services = connection.app.state.services
    # A browser replays a typed-in (Basic) key on any request to this origin, websockets from
    # other sites' pages included: those must send a bearer token or a connection_init key.
    token = bearer_token(connection.headers.get("authorization"),
                         basic=connection.scope["type"] == "http")
    address = connection.client.host if connection.client else "unknown"
    principal = await services.auth.admit(token, address)
    if principal is None and token is not None:
        raise Unauthenticated(BAD_KEY, headers=_challenge(connection))
    return principal


def _challenge(connection: HTTPConnection) -> dict[str, str]:
    # A browser shows its log-in prompt for Basic: paste the key as the password.
    if is_ide_request(connection):
        return {"WWW-Authenticate": 'Basic realm="relgraph GraphiQL: the API key is the '
                                    'password", charset="UTF-8"'}
    return {"WWW-Authenticate": 'Bearer realm="relgraph"'}


async def context_getter(connection: HTTPConnection) -> Context:
    services: Services = connection.app.state.services
    principal = await authenticate(connection)
    if principal is None and connection.scope["type"] == "http" and not (
            services.settings.api_dev and is_ide_request(connection)):
        raise Unauthenticated(NO_KEY, headers=_challenge(connection))
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


__all__ = ["Context", "Info", "authenticate", "context_getter", "is_ide_request",
           "on_ws_connect"]
