"""Every error the API shows, in one place: a code in `extensions.code`, a message meant for the
caller, an HTTP status — never a stack trace, a driver message or Cypher.

`classify` maps exceptions of every layer (graph/, connectors/, this package) to a code and a
message; `tidy` applies it to a GraphQL error in place (the schema's `process_errors` calls it
for queries, mutations and subscription events alike); `error_body` is the JSON every non-GraphQL
error (REST, authentication, limits) is answered with, in the same shape:

    {"errors": [{"message": "…", "extensions": {"code": "NOT_FOUND"}}]}

Unexpected exceptions are logged with their traceback under a short id that the caller's
message quotes, so an operator can find the log line.
"""

from __future__ import annotations

import logging
import math
import secrets
from enum import StrEnum
from typing import Any

from graphql import GraphQLError

from connectors.errors import ConnectorError
from connectors.resolve import BadRef
from graph.errors import (
    BadRow,
    GraphError,
    NodeNotFound,
    QueryTimeout,
    SchemaError,
    SnapshotError,
    StoreError,
    StoreUnavailable,
)
from graph.model import QueryError

log = logging.getLogger("relgraph.api")


class Code(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"  # not a GraphQL request at all (body, method, size)
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"  # could return more objects than the cost limit
    RATE_LIMITED = "RATE_LIMITED"  # this key (or address) sent too many requests: wait
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


HTTP_STATUS = {
    Code.BAD_USER_INPUT: 400, Code.GRAPHQL_PARSE_FAILED: 400,
    Code.GRAPHQL_VALIDATION_FAILED: 400, Code.BAD_REQUEST: 400, Code.NOT_FOUND: 404,
    Code.UNAUTHENTICATED: 401, Code.FORBIDDEN: 403, Code.STORE_UNAVAILABLE: 503,
    Code.TIMEOUT: 504, Code.INTERNAL_SERVER_ERROR: 500, Code.QUERY_TOO_COSTLY: 400,
    Code.RATE_LIMITED: 429,
}


class ApiError(Exception):
    """An error the API raises itself, with its code (and HTTP status outside GraphQL)."""

    code = Code.BAD_USER_INPUT

    def __init__(self, message: str, *, code: Code | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


class BadUserInput(ApiError, ValueError):
    code = Code.BAD_USER_INPUT


class NotFound(ApiError, LookupError):
    code = Code.NOT_FOUND


class Unauthenticated(ApiError):
    code = Code.UNAUTHENTICATED


class Forbidden(ApiError):
    code = Code.FORBIDDEN


class RequestTimeout(ApiError, TimeoutError):
    code = Code.TIMEOUT


class RateLimited(ApiError):
    """Too many requests: `Retry-After` says in how many seconds one is let through."""

    code = Code.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})
        self.retry_after = retry_after


_USER_ERRORS = (QueryError, BadRow, SchemaError, BadRef, ConnectorError)


def classify(exc: BaseException) -> tuple[Code, str]:
    """The code and the caller's message for an exception raised while answering."""
    if isinstance(exc, ApiError):
        return exc.code, exc.message
    if isinstance(exc, NodeNotFound):
        return Code.NOT_FOUND, str(exc)
    if isinstance(exc, QueryTimeout | TimeoutError):
        return Code.TIMEOUT, "the request ran past its time limit and was stopped"
    if isinstance(exc, StoreUnavailable | SnapshotError):
        return Code.STORE_UNAVAILABLE, "the graph store is unavailable; try again shortly"
    if isinstance(exc, _USER_ERRORS):
        return Code.BAD_USER_INPUT, str(exc)
    if isinstance(exc, StoreError):  # its reason may quote the driver or Cypher: not shown
        incident = _incident(exc)
        return Code.INTERNAL_SERVER_ERROR, f"the store refused {exc.what} (incident {incident})"
    if isinstance(exc, GraphError):
        return Code.BAD_USER_INPUT, str(exc)
    incident = _incident(exc)
    return Code.INTERNAL_SERVER_ERROR, f"internal error (incident {incident})"


def _incident(exc: BaseException) -> str:
    incident = secrets.token_hex(4)
    log.error("incident %s: %s", incident, type(exc).__name__, exc_info=exc)
    return incident


def _request_error_code(error: GraphQLError) -> Code:
    """Errors raised before execution, from graphql-core's own messages."""
    message = error.message
    if message.startswith("Syntax Error"):
        return Code.GRAPHQL_PARSE_FAILED
    if message.startswith("Variable '$") and (
            "invalid value" in message or "must not be null" in message
            or "was not provided" in message):
        return Code.BAD_USER_INPUT
    return Code.GRAPHQL_VALIDATION_FAILED


def tidy(error: GraphQLError) -> GraphQLError:
    """Give a GraphQL error its code and a clean message (in place; idempotent)."""
    extensions = dict(error.extensions or {})
    if "code" in extensions:
        return error
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, GraphQLError):
        extensions.update(original.extensions or {})
        code = Code(extensions.get("code", _request_error_code(error)))
    elif (original is not None and error.path is None
          and isinstance(original, ValueError | TypeError)
          and not isinstance(original, ApiError | GraphError)):
        code = Code.BAD_USER_INPUT  # graphql-core's message already says where and why
    elif original is not None:
        code, message = classify(original)
        if error.path is None and code is Code.BAD_USER_INPUT:
            # a scalar refused a literal or variable: keep graphql-core's "where", add "why"
            message = _with_reason(error.message, message)
        error.message = message
    else:
        code = _request_error_code(error)
    extensions["code"] = code.value
    error.extensions = extensions
    return error


def _with_reason(where: str, why: str) -> str:
    return where if why in where else f"{where.rstrip('.')}: {why}"


def error_body(code: Code, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code.value}}]}


__all__ = ["ApiError", "BadUserInput", "Code", "Forbidden", "HTTP_STATUS", "NotFound",
           "RateLimited", "RequestTimeout", "Unauthenticated", "classify", "error_body", "tidy"]
