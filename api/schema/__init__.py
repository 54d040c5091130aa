"""The GraphQL schema: queries (questions), mutations (writes through the load pipeline), the
live feed subscription; with the limits, caches and error codes every request goes through.

Extensions, in order: strawberry's parser and validation caches (parsing and validating a
document dominate small queries), the token, depth and alias limits (a document that exceeds one
is refused before it runs), the cost limit (api/cost.py: a query that could return more
objects than RELGRAPH_API_MAX_COST is refused before it runs; introspection needs an admin key
unless opened), and `WriteScope` (a mutation needs a key of scope write: refused as a
whole, 403, before anything runs). `RelgraphSchema.process_errors` is the one place every error
gets its `extensions.code` and a clean message (api/errors.py). The executor checks the
request's deadline while it resolves (api/execution.py), so the time limit holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from api.auth import Scope
from api.cost import CostLimit, Costs
from api.errors import Code, tidy
from api.execution import DeadlineExecutor
from api.schema.mutation import Mutation
from api.schema.query import Query
from api.schema.subscription import Subscription
from api.types.scalars import SCALARS
from graph.settings import Settings

log = logging.getLogger("relgraph.api")
CACHE_SIZE = 1024  # distinct documents whose parse and validation are remembered


class WriteScope(SchemaExtension):
    """Mutations need a key of scope write or admin; refused before execution otherwise."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if self.execution_context.operation_type is OperationType.MUTATION:
            context.require(Scope.WRITE)
        yield


class RelgraphSchema(strawberry.Schema):
    costs: Costs  # what each document may cost (api/cost.py), set by build_schema

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            tidy(error)
            code = (error.extensions or {}).get("code")
            if code == Code.INTERNAL_SERVER_ERROR:
                continue  # logged with its traceback where it was classified
            log.debug("graphql error %s: %s", code, error.message)


def build_schema(settings: Settings) -> RelgraphSchema:
    # The depth and alias limiters are validation rules, built once: a limiter built per request
    # would bring new rule classes each time, and the validation cache, keyed by the rules, would
    # never hit. Each request still gets its own extension instances (they hold its context).
    limits = [*QueryDepthLimiter(max_depth=settings.api_max_depth).validation_rules,
              *MaxAliasesLimiter(max_alias_count=settings.api_max_aliases).validation_rules]
    costs: list[Costs] = []  # made from the schema once it exists
    schema = RelgraphSchema(
        query=Query, mutation=Mutation, subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=DeadlineExecutor,
        extensions=[
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: MaxTokensLimiter(max_token_count=settings.api_max_tokens),
            lambda: AddValidationRules(limits),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            lambda: CostLimit(costs=costs[0], limit=settings.api_max_cost,
                              open_introspection=settings.api_introspection
                              or settings.api_dev),
            WriteScope,
        ])
    costs.append(Costs(schema._schema, page_size=settings.api_page_size))
    schema.costs = costs[0]
    return schema


__all__ = ["RelgraphSchema", "WriteScope", "build_schema"]
