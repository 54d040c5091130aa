"""The service: FastAPI with the GraphQL endpoint, the REST look-ups and the health checks.

    create_app(settings=None, *, store=None, broker=None) -> FastAPI

    /graphql            GraphQL over HTTP (POST, GET for queries), subscriptions over
                        graphql-transport-ws, and GraphiQL for browsers (api/web/graphiql.py:
                        served from package data, for a signed-in browser)
    /graphql/schema.graphql  the schema's SDL
    /v1/lookup          a person's or company's relationships on one screen (api/rest.py)
    /v1/export/connections.csv
    /signin, /static/…, /docs, /openapi.json and the screens: api/web (`mount`)
    /healthz            the process answers (no key needed)
    /readyz             the store answers (no key needed): 200, or 503 with the reason's code

The store is opened when the app starts (or given, in tests: then it is not closed) and every
request shares it; `relgraph serve` runs this app under uvicorn (`create_app` is its factory).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api import rest
from api.analytics import AnalyticsService
from api.auth import Authenticator, KeyStore
from api.context import Context, context_getter, on_ws_connect
from api.errors import HTTP_STATUS, ApiError, Code, classify, error_body
from api.execution import ExecutionThread
from api.feed import Broker, LocalBroker, OutboxFeed, PublishingOutbox
from api.http import GraphQLHTTPRouter, json_error
from api.schema import build_schema
from api.services import Services
from api.web import graphiql
from api.web import mount as mount_web
from api.writes import Writer
from connectors.adoption import configured_key_features
from connectors.tagging import load_taxonomy
from graph.errors import GraphError
from graph.settings import Settings, get_settings
from graph.store import GraphStore, open_store

log = logging.getLogger("relgraph.api")
READY_TIMEOUT = 5.0


def settle_heap() -> None:
    """Move what start-up made (the embedded graph: millions of objects) out of the garbage
    collector's sight. Without it, a full collection walks the whole graph every so often while
    a request waits: ~0.9 s pauses, a p95 of hundreds of ms on 1M relationships. Objects made
    later (requests, writes) are collected as usual.

    The thresholds: a costly query makes millions of objects that all live until it answers;
    with the default ones every few hundred thousand of them set off a full collection that
    walks them all (collecting nothing), pauses that grew to ~0.9 s and held every thread, the
    health checks too. Young collections come every 10,000 allocations instead of 700, and a
    full one only after 1,000 of the middle generation's."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 5, 1_000)
    # The thread that runs costly queries hands the interpreter over every millisecond, not
    # every five: the server's loop needs it a few times to answer any request.
    sys.setswitchinterval(0.001)


class Router(GraphQLHTTPRouter):
    # strawberry declares HTMLResponse; a browser without a key gets a redirect (any Response)
    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        # our page, from package data, instead of strawberry's (React and GraphiQL from unpkg)
        return await graphiql.render(request)

    async def on_ws_connect(self, context: Context) -> Any:
        try:
            await on_ws_connect(context, context.connection_params)
        except ApiError as exc:
            raise ConnectionRejectionError({"message": exc.message,
                                            "code": exc.code.value}) from None


class BodyLimit:
    """Refuse request bodies above `limit` bytes (413) before anything reads them whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = json_error(413, Code.BAD_REQUEST, f"the request body is over {self.limit} "
                              "bytes (RELGRAPH_API_MAX_BODY)")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class RequestLog:
    """Quiet request logging: a warning for every 5xx answer, every request at debug."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            level = logging.WARNING if status >= 500 else logging.DEBUG
            if log.isEnabledFor(level):
                log.log(level, "%s %s %s", scope["method"], scope["path"], status, extra={
                    "status": status, "ms": round((time.perf_counter() - start) * 1000, 2)})


def create_app(settings: Settings | None = None, *, store: GraphStore | None = None,
               broker: Broker | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        the_store = store if store is not None else await asyncio.to_thread(open_store, settings)
        the_broker = broker if broker is not None else LocalBroker()
        taxonomy = await asyncio.to_thread(load_taxonomy, settings.taxonomy)
        outbox = PublishingOutbox(settings.feed_dir, the_broker.publish,
                                  asyncio.get_running_loop())
        key_features = await asyncio.to_thread(configured_key_features,
                                               settings.analytics_config)
        writer = await asyncio.to_thread(
            Writer, the_store, data_dir=settings.data_dir, batch_size=settings.batch_size,
            taxonomy=taxonomy, outbox=outbox, key_features=key_features)
        app.state.services = Services(settings, the_store,
                                      Authenticator(KeyStore(settings.api_keys_path),
                                                    rate=settings.api_rate,
                                                    burst=settings.api_burst,
                                                    failures=settings.api_auth_failures),
                                      the_broker, writer,
                                      AnalyticsService(the_store, settings))
        feed = OutboxFeed(settings.feed_dir, the_broker, poll=settings.api_feed_poll)
        await feed.start()
        execution = graphql.execution = await asyncio.to_thread(ExecutionThread)
        settle_heap()
        log.info("relgraph API ready", extra={"store": the_store.kind.value,
                                              "dev": settings.api_dev})
        try:
            yield
        finally:
            await feed.stop()
            graphql.execution = None
            await asyncio.to_thread(execution.stop, the_store.aclose())
            await the_store.aclose()
            if own_store:
                await asyncio.to_thread(the_store.close)
            log.info("relgraph API stopped")

    # /docs and /openapi.json are api/web's: for anyone with a key, Swagger UI from package data
    app = FastAPI(title="Relationship Graph", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(BodyLimit, limit=settings.api_max_body)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], max_age=600,
                           allow_headers=["Authorization", "Content-Type", "Accept"])
    app.add_middleware(RequestLog)
    graphql = Router(
        build_schema(settings), context_getter=context_getter, graphql_ide="graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        timeout=settings.api_timeout)
    sdl = graphql.schema.as_str() + "\n"

    @app.get("/graphql/schema.graphql", include_in_schema=False)
    async def schema_sdl(_: rest.KeyDep) -> Response:
        """The schema's SDL, for code generators and editors (a read key suffices; the same
        text as `relgraph schema print`)."""
        return Response(sdl, media_type="application/graphql; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="schema.graphql"'})

    app.include_router(graphql, prefix="/graphql")
    app.include_router(rest.router)
    mount_web(app, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            await asyncio.wait_for(asyncio.to_thread(services.store.counts), READY_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its code
            code = Code.TIMEOUT if isinstance(exc, TimeoutError) else classify(exc)[0]
            return JSONResponse({"status": "unavailable", "code": code.value}, status_code=503)
        return JSONResponse({"status": "ready", "store": services.store.kind.value})

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(GraphError)
    async def graph_error(request: Request, exc: GraphError) -> Response:
        code, message = classify(exc)
        return JSONResponse(error_body(code, message), status_code=HTTP_STATUS[code])

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
            for e in exc.errors())
        return JSONResponse(error_body(Code.BAD_USER_INPUT, problems), status_code=400)

    return app


__all__ = ["create_app"]
