"""What a query may cost, worked out before it runs.

A document can stay inside the depth, alias and token limits and still ask for millions of
objects: `company { people { currentCompanies { people { … } } } }` multiplies by the size of each
list on the way down (40 people at a company, four levels: 40⁴). So, as GitHub's node limit
does, every list field has a page (`Cap`): `first` items (its argument, else the field's
default), at most its maximum; a list without an argument has a fixed bound (a company's flags,
the steps of a path). The **cost** of a query is the number of objects it can return: each object
field counts its parent's multiplier, each list multiplies it by its page. A query whose cost is
over `RELGRAPH_API_MAX_COST` is refused before anything runs, with `extensions.code =
QUERY_TOO_COSTLY`, its cost and the limit.

Introspection (`__schema`, `__type`) is counted the same way with the schema's own sizes (how
many types, how many fields a type has on average …), and is answered only for admin keys
unless `RELGRAPH_API_INTROSPECTION` opens it (or development mode).

Resolvers take the same `Cap` to cut their lists (`Cap.take`), so what the cost promised is what
the answer holds: the cost is an upper bound of the answer, never a guess.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_composite_type,
)
from graphql.type import is_interface_type, is_object_type
from strawberry.extensions import SchemaExtension

from api.auth import Scope
from api.errors import BadUserInput, Code, Forbidden

T = TypeVar("T")
COST = "relgraph.cost"  # the key of a field's `Cap` in its strawberry metadata
PAGE_SIZE = 0  # a Cap default meaning "the setting RELGRAPH_API_PAGE_SIZE"
_CACHE_SIZE = 1024
MAX_OFFSET = 1_000_000


@dataclass(frozen=True, slots=True)
class Cap:
    """A list field's page: `default` items unless `first` asks for 1..`maximum`.

    `argument=None`: the list has no `first`; it holds at most `maximum` by nature (the cost
    counts that many). `same_page`: the edges or nodes of a connection, one per item of the
    page the connection field already counted (multiplier 1)."""

    default: int
    maximum: int
    argument: str | None = "first"
    same_page: bool = False

    def metadata(self) -> dict[str, Cap]:
        return {COST: self}

    def size(self, first: int | None) -> int:
        """The page asked for, checked."""
        n = self.default if first is None else first
        if isinstance(n, bool) or not 1 <= n <= self.maximum:
            raise BadUserInput(f"first must be between 1 and {self.maximum}, got {n}")
        return n

    def take(self, items: Sequence[T], first: int | None, offset: int = 0) -> list[T]:
        """The page of `items` from `offset` (a list with an `offset` argument pages on)."""
        if isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise BadUserInput(f"offset must be between 0 and {MAX_OFFSET:,}, got {offset}")
        return list(items[offset:offset + self.size(first)])


# Lists whose items need no look-up of their own come with the answer that holds them;
# lists of people and companies each cost their own look-ups, and nest.
LIST = Cap(default=50, maximum=1000)  # people, jobs, concerns … of one node
EVIDENCE = Cap(default=20, maximum=100)  # who knows them, what they read, what they said
JOBS = Cap(default=10, maximum=100)  # a person's jobs and employers, now or before
SAME_PAGE = Cap(default=1, maximum=1, argument=None, same_page=True)


def fixed(maximum: int) -> Cap:
    """A list with a bound of its own (no `first`)."""
    return Cap(default=maximum, maximum=maximum, argument=None)


TOPICS = fixed(10)  # the topics an item is about, strongest first


class TooCostly(GraphQLError):
    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(
            f"this query could return up to {cost:,} objects, over the limit of {limit:,} "
            "(RELGRAPH_API_MAX_COST): ask for smaller pages (first) or fewer nested lists",
            extensions={"code": Code.QUERY_TOO_COSTLY.value, "cost": cost, "limit": limit})


@dataclass(frozen=True, slots=True)
class Cost:
    total: int
    introspection: bool
    uses_variables: bool


class _Walk:
    """One document's cost (after validation: fragments exist and do not cycle)."""

    def __init__(self, schema: GraphQLSchema, sizes: dict[tuple[str, str], int],
                 fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any],
                 page_size: int) -> None:
        self.schema, self.sizes, self.fragments = schema, sizes, fragments
        self.variables, self.page_size = variables, page_size
        self.introspection = self.uses_variables = False

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None,
                   multiplier: int) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                on = selection.type_condition
                target = self.schema.get_type(on.name.value) if on else parent
                total += self.selections(target or parent, selection.selection_set, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(target or parent, fragment.selection_set,
                                             multiplier)
        return total

    def field(self, parent: GraphQLNamedType, node: FieldNode, multiplier: int) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        if name in ("__schema", "__type"):
            self.introspection = True
        definition = _field(self.schema, parent, name)
        if definition is None:
            return 0
        kind, is_list = _unwrap(definition.type)
        if not is_composite_type(kind):
            return 0
        cap = _cap(definition)
        if is_list:  # one object per item of the page
            multiplier *= self.page(parent, name, cap, node)
            return multiplier + self.selections(kind, node.selection_set, multiplier)
        if cap is not None:  # a connection: one object, whose edges are the page
            page = self.page(parent, name, cap, node)
            return multiplier + self.selections(kind, node.selection_set, multiplier * page)
        if parent.name.startswith("__"):  # a type's `type` or `ofType`: part of what holds it
            return self.selections(kind, node.selection_set, multiplier)
        return multiplier + self.selections(kind, node.selection_set, multiplier)

    def page(self, parent: GraphQLNamedType, name: str, cap: Cap | None,
             node: FieldNode) -> int:
        if cap is None:  # introspection, or a list the schema test says must not exist
            return self.sizes.get((parent.name, name), LIST.maximum)
        if cap.same_page:
            return 1
        if cap.argument is None:
            return cap.maximum
        asked = self.argument(node, cap.argument)
        if asked is None:
            return self.page_size if cap.default == PAGE_SIZE else cap.default
        if not 1 <= asked <= cap.maximum:
            return 1  # refused (BAD_USER_INPUT) when it runs, before any of its items exist
        return asked

    def argument(self, node: FieldNode, name: str) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            value = arg.value
            if isinstance(value, VariableNode):
                self.uses_variables = True
                found = self.variables.get(value.name.value)
                return found if isinstance(found, int) and not isinstance(found, bool) else None
            if isinstance(value, IntValueNode):
                return int(value.value)
        return None


def _field(schema: GraphQLSchema, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name in ("__schema", "__type"):
        return _meta_field(name)
    if is_object_type(parent) or is_interface_type(parent):
        return parent.fields.get(name)  # type: ignore[union-attr]
    return None


def _meta_field(name: str) -> GraphQLField:
    from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

    return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef


def _unwrap(kind: Any) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(kind, GraphQLList)
        kind = kind.of_type
    return kind, is_list


def _cap(definition: GraphQLField) -> Cap | None:
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    metadata = getattr(strawberry_field, "metadata", None) or {}
    cap = metadata.get(COST)
    return cap if isinstance(cap, Cap) else None


def introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """How long each introspection list is in this schema, on average (rounded up): the schema
    is answered from memory, so an estimate of the real answer is enough to refuse what would
    be huge (types → fields → type → fields … nested: the average to the power of the nesting)
    while the standard introspection query of GraphiQL stays cheap."""
    types = list(schema.type_map.values())
    objects = [t for t in types if isinstance(t, GraphQLObjectType) or is_interface_type(t)]
    fields = [f for t in objects for f in t.fields.values()]  # type: ignore[attr-defined]
    enums = [t for t in types if getattr(t, "values", None)]
    inputs = [t for t in types if t not in objects and isinstance(getattr(t, "fields", None),
                                                                    dict)]
    unions = [t for t in types if getattr(t, "types", None)]

    def mean(total: int, count: int) -> int:
        return max(1, -(-total // max(count, 1)))  # rounded up

    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): mean(len(fields), len(objects)),
        ("__Type", "interfaces"): mean(sum(len(getattr(t, "interfaces", ())) for t in objects),
                                       len(objects)),
        ("__Type", "possibleTypes"): mean(sum(len(t.types) for t in unions),  # type: ignore
                                          len(unions)),
        ("__Type", "enumValues"): mean(sum(len(t.values) for t in enums),  # type: ignore
                                       len(enums)),
        ("__Type", "inputFields"): mean(sum(len(t.fields) for t in inputs),  # type: ignore
                                        len(inputs)),
        ("__Field", "args"): mean(sum(len(f.args) for f in fields), len(fields)),
        ("__Directive", "args"): mean(sum(len(d.args) for d in schema.directives),
                                      len(schema.directives)),
    }


class Costs:
    """The cost of each document, remembered when no variable decides it."""

    def __init__(self, schema: GraphQLSchema, *, page_size: int) -> None:
        self.schema = schema
        self.page_size = page_size
        self.sizes = introspection_sizes(schema)
        self._known: OrderedDict[tuple[str, str | None], Cost] = OrderedDict()

    def of(self, document: DocumentNode, operation_name: str | None = None,
           variables: dict[str, Any] | None = None, *, query: str | None = None) -> Cost:
        key = (query, operation_name) if query is not None else None
        if key is not None and (known := self._known.get(key)) is not None:
            return known
        operation, fragments = _parts(document, operation_name)
        given = dict(variables or {})
        for definition in (operation.variable_definitions or ()) if operation else ():
            default = definition.default_value
            if definition.variable.name.value not in given and isinstance(default, IntValueNode):
                given[definition.variable.name.value] = int(default.value)
        walk = _Walk(self.schema, self.sizes, fragments, given, self.page_size)
        total = 0
        if operation is not None:
            root = self.schema.get_root_type(operation.operation)
            if root is not None:
                total = walk.selections(root, operation.selection_set, 1)
        cost = Cost(total, walk.introspection, walk.uses_variables)
        if key is not None and not cost.uses_variables:
            self._known[key] = cost
            if len(self._known) > _CACHE_SIZE:
                self._known.popitem(last=False)
        return cost


def operation_of(document: DocumentNode, operation_name: str | None
                 ) -> OperationDefinitionNode | None:
    """The operation a request runs (None: the document does not say which)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0] if len(operations) == 1 else None


def _parts(document: DocumentNode, operation_name: str | None
           ) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    return operation_of(document, operation_name), fragments


class CostLimit(SchemaExtension):
    """Refuses, before execution, a query over the cost limit, and introspection for a key that
    may not introspect."""

    def __init__(self, *, costs: Costs, limit: int, open_introspection: bool) -> None:
        self.costs = costs
        self.limit = limit
        self.open_introspection = open_introspection

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None:
            cost = self.costs.of(ec.graphql_document, ec.operation_name, ec.variables,
                                 query=ec.query)
            if cost.introspection and not self.open_introspection:
                principal = getattr(ec.context, "principal", None)
                if principal is None or not principal.can(Scope.ADMIN):
                    raise Forbidden("introspection (__schema, __type) needs an admin key "
                                    "(or RELGRAPH_API_INTROSPECTION=true)")
            if cost.total > self.limit:
                raise TooCostly(cost.total, self.limit)
        yield


__all__ = ["COST", "Cap", "Cost", "CostLimit", "Costs", "EVIDENCE", "JOBS", "LIST",
           "MAX_OFFSET", "PAGE_SIZE", "SAME_PAGE", "TOPICS", "TooCostly", "fixed",
           "introspection_sizes", "operation_of"]
