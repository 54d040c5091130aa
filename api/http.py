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
  store's server-side limit stops the query itself), a deadline its executor checks while
  resolving, and a query costlier than `INLINE_COST` runs on the execution thread, off the
  server's event loop (api/execution.py);
- JSON is encoded with orjson.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import DocumentNode, GraphQLError, parse
from graphql import OperationType as AstOperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET

from api.cost import Costs, operation_of
from api.errors import Code, error_body, tidy
from api.execution import INLINE_COST, ExecutionThread

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
    """`execution`: the thread costly queries run on (api/execution.py), set while the app
    runs; without it every operation runs on the server's loop."""

    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = timeout
        self.execution: ExecutionThread | None = None
        self._plans = Plans()

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def execute_operation(self, request: Any, request_adapter: Any, request_data: Any,
                                context: Any, root_value: Any, sub_response: Any) -> Any:
        if hasattr(context, "deadline"):  # checked while resolving (DeadlineExecutor)
            context.deadline = time.monotonic() + self.timeout
        work = super().execute_operation(request, request_adapter, request_data, context,
                                         root_value, sub_response)
        try:
            async with asyncio.timeout(self.timeout):
                if self.execution is not None and self._costly(request_data):
                    result = await self.execution.run(work)
                else:
                    result = await work
        except TimeoutError:
            return self._timed_out()
        if getattr(context, "expired", False):
            return self._timed_out()
        return result

    def _costly(self, request_data: Any) -> bool:
        if isinstance(request_data, list) or self.schema is None:
            return False
        costs: Costs | None = getattr(self.schema, "costs", None)
        if costs is None:
            return False
        return self._plans.costly(costs, request_data.query, request_data.operation_name,
                                  request_data.variables)

    def _timed_out(self) -> PreExecutionError:
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


class Plans:
    """Is a request a query costlier than INLINE_COST (to run on the execution thread)? Read
    from its document, parsed once per distinct text (strawberry parses it again, from its own
    cache); a document that does not parse runs inline, where it is refused as usual."""

    def __init__(self, size: int = 1024) -> None:
        self._documents: OrderedDict[str, DocumentNode | None] = OrderedDict()
        self._size = size

    def costly(self, costs: Costs, query: str | None, operation_name: str | None,
               variables: dict[str, Any] | None) -> bool:
        if not query:
            return False
        document = self._document(query)
        if document is None:
            return False
        operation = operation_of(document, operation_name)
        if operation is None or operation.operation is not AstOperationType.QUERY:
            return False  # mutations and subscriptions stay on the server's loop
        try:
            cost = costs.of(document, operation_name, variables, query=query)
        except Exception:  # noqa: BLE001 - a document the cost walk cannot read runs inline
            return False
        return cost.total > INLINE_COST

    def _document(self, query: str) -> DocumentNode | None:
        if query in self._documents:
            self._documents.move_to_end(query)
            return self._documents[query]
        try:
            document: DocumentNode | None = parse(query, no_location=True)
        except GraphQLError:
            document = None
        self._documents[query] = document
        if len(self._documents) > self._size:
            self._documents.popitem(last=False)
        return document


__all__ = ["GRAPHQL_RESPONSE", "GraphQLHTTPRouter", "is_request_error", "json_error",
           "negotiate"]
