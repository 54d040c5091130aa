"""GraphQL over HTTP as the spec (graphql.github.io/graphql-over-http) and its `graphql-http`
audit ask for, on strawberry's FastAPI router.

What the stock router does not do, this subclass adds:
- it answers in `application/graphql-response+json` when the client asks for it (the Accept
  header, by q-value then order; `*/*`, `application/json` or no header get
  `application/json`);
- a *request error* (the document does not parse or validate, variables do not coerce, the
  operation is refused before it runs) has no `data` entry, and with graphql-response+json a 4xx
  status (400; 401/403 for authentication, 504 for the time limit); with application/json it
  stays 200, as the spec asks. Field errors (data present) are always 200;
- non-GraphQL failures (a body that is not JSON, a wrong method, GET for a mutation: 405) are
  JSON error bodies with a code, not plain text;
- every operation runs under the per-request time limit (`RELGRAPH_API_TIMEOUT`; on Neo4j the
  store's server-side limit stops the query itself);
- JSON is encoded with orjson.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET

from api.errors import Code, error_body, tidy

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_OUTCOME = "relgraph.graphql"  # scope key: (media type, status) decided for this request
_STATUS_BY_CODE = {Code.UNAUTHENTICATED: 401, Code.FORBIDDEN: 403, Code.TIMEOUT: 504,
                   Code.STORE_UNAVAILABLE: 503, Code.INTERNAL_SERVER_ERROR: 500}


def negotiate(accept: str | None) -> str:
    """The media type to answer in: graphql-response+json only when the client prefers it."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        if media not in (GRAPHQL_RESPONSE, JSON, "*/*", "application/*"):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        chosen = GRAPHQL_RESPONSE if media == GRAPHQL_RESPONSE else JSON
        if best is None or (quality, -position) > (best[0], best[1]):
            best = (quality, -position, chosen)
    return best[2] if best is not None else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Did the operation fail before it ran (no `data` at all)?"""
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(
        e.path is None for e in result.errors or ())


def request_error_status(errors: list[GraphQLError], media: str) -> int:
    codes = {(e.extensions or {}).get("code") for e in errors}
    for code, status in _STATUS_BY_CODE.items():
        if code.value in codes:
            return status
    return 400 if media == GRAPHQL_RESPONSE else 200


def json_error(status: int, code: Code, message: str,
               headers: dict[str, str] | None = None, media: str = JSON) -> Response:
    return Response(orjson.dumps(error_body(code, message)), status_code=status,
                    media_type=media, headers=headers)


class GraphQLHTTPRouter(GraphQLRouter[Any, None]):
    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = timeout

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            error = GraphQLError(
                f"the request ran past its {self.timeout:g} s time limit and was stopped",
                extensions={"code": Code.TIMEOUT.value})
            return PreExecutionError(data=None, errors=[error])

    async def process_result(self, request: Request, result: ExecutionResult
                             ) -> GraphQLHTTPResponse:
        media = negotiate(request.headers.get("accept"))
        errors = [tidy(e) for e in result.errors or ()]  # done already unless raised here
        response = process_result(result)
        status = 200
        if is_request_error(result):
            response.pop("data", None)  # a request error has no data entry at all
            status = request_error_status(errors, media)
        request.scope[_OUTCOME] = (media, status)
        return response

    async def run(self, request: Request | WebSocket, context: Any = UNSET,
                  root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        media = negotiate(request.headers.get("accept"))
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            if request.method == "GET" and "not allowed" in exc.reason:
                return json_error(405, Code.BAD_REQUEST, exc.reason, {"Allow": "POST"}, media)
            return json_error(exc.status_code, Code.BAD_REQUEST, exc.reason, media=media)
        outcome = request.scope.get(_OUTCOME)
        if outcome is not None and isinstance(response, Response):
            media, status = outcome
            response.status_code = status
            response.headers["content-type"] = (
                f"{media}; charset=utf-8" if media == GRAPHQL_RESPONSE else media)
        return response


__all__ = ["GRAPHQL_RESPONSE", "GraphQLHTTPRouter", "is_request_error", "json_error",
           "negotiate"]
