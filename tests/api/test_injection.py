"""The injection suite: quotes, backticks, `}) DETACH DELETE n //`, `$param`, null bytes and
unicode look-alikes in every string argument of every query and mutation (found by walking the
schema, so a new argument cannot be forgotten). The graph stays as it was (queries) or only
gains what the mutation said, as inert text (mutations); every error is clean: a known code, no
stack trace, no driver message, no Cypher."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from api.schema import build_schema
from graph.schema import PROVENANCE
from graph.settings import Settings
from graph.store import GraphStore
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio

PAYLOADS = [
    "'", '"', "`", "\\", "' OR 1=1 --", "\" OR \"\"=\"", "`Person`", "a`) RETURN 1 //",
    "}) DETACH DELETE n //", "x'}) DETACH DELETE n //", "\"}) MATCH (n) DETACH DELETE n //",
    "$param", "$keys", "$id", "\x00", "ada@acme.com\x00", "ada\x00@acme.com",
    "ａｄａ＠ａｃｍｅ．ｃｏｍ", "аda@acme.com", "ada@acme.com\u200b", "\u202eevil",
    "maya@relgraph.io\u0301", "%00", "../../../etc/passwd", "<script>alert(1)</script>",
    "${jndi:ldap://x/a}", "=cmd|' /C calc'!A0", "\U0001f600" * 3,
]
# Look-alikes that are other keys (Cyrillic а): a mutation never reaches acme.com through them.
# (Full-width "ａｃｍｅ．ｃｏｍ" *is* acme.com: IDNA maps it, as every load does; see below.)
MUTATION_PAYLOADS = ["'", "\"", "`", "}) DETACH DELETE n //", "$param", "\x00",
                     "аcme.com", "ada@аcme.com"]
CLEAN_CODES = {"BAD_USER_INPUT", "NOT_FOUND", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}
LEAKS = ("Traceback", "File \"", "Neo.", "neo4j", "UNWIND", "MATCH (", "RETURN ", "$keys:",
         "incident")
AT = "2026-10-01T00:00:00Z"

# Valid values for the required arguments; each string argument is then replaced in turn.
QUERY_BASE: dict[str, dict[str, Any]] = {
    "connections": {"readTopic": "crm", "concernTopic": "churn"},
    "companiesByConnections": {"readTopic": "crm", "concernTopic": "churn"},
    "warmPaths": {"from": "maya@relgraph.io", "to": "ines@umbrella.com"},
    "triggers": {"since": "2026-01-01T00:00:00Z"},
    "person": {}, "company": {},  # exactly one of id/email, id/domain: the payload's
    "search": {"text": "ada"},
    # the customer-success fields: the payload goes in each string argument (an id, a page's
    # cursor, a cohort's period or event type, a company); the others take no string
    "customer": {}, "atRiskCustomers": {}, "cohorts": {}, "topicSurge": {},
}
MUTATION_BASE: dict[str, dict[str, Any]] = {
    "upsertPerson": {"input": {"email": "target@injection.example", "name": "Target"}},
    "upsertCompany": {"input": {"domain": "injection.example", "name": "Injection"}},
    "connect": {"input": {"a": "one@injection.example", "b": "two@injection.example"}},
    "recordEvents": {"events": [{"id": "inj-1", "type": "setup_completed", "at": AT,
                                 "person": "one@injection.example"}]},
    "recordConcern": {"input": {"person": "one@injection.example", "text": "A concern",
                                "at": AT}},
    "recordRead": {"input": {"person": "one@injection.example",
                             "url": "https://injection.example/a", "at": AT}},
    "tagContent": {"input": {"url": "https://injection.example/a", "topics": ["crm"]}},
}


def _unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _is_string(t: GraphQLInputType) -> bool:
    named = _unwrap(t)
    return isinstance(named, GraphQLScalarType) and named.name in ("String", "ID")


def _is_list(t: Any) -> bool:
    t = t.of_type if isinstance(t, GraphQLNonNull) else t
    return isinstance(t, GraphQLList)


def _string_paths(t: GraphQLInputType, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Every place a string goes in a value of type `t` (lists: their first element)."""
    named = _unwrap(t)
    if _is_string(t):
        yield path + ((0,) if _is_list(t) else ())
    elif isinstance(named, GraphQLInputObjectType):
        inner = path + ((0,) if _is_list(t) else ())
        for name, field in named.fields.items():
            yield from _string_paths(field.type, inner + (name,))


def _put(value: Any, path: tuple[Any, ...], payload: str) -> Any:
    """A copy of `value` with `payload` at `path` (creating what is missing)."""
    if not path:
        return payload
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(value) if isinstance(value, list) and value else [{} if rest else None]
        items[0] = _put(items[0], rest, payload)
        return items
    copy = dict(value or {})
    copy[head] = _put(copy.get(head), rest, payload)
    return copy


def cases(root: str, base: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(field, document, variables without the payload) per string place of every field."""
    schema = build_schema(Settings())._schema
    root_type = schema.query_type if root == "query" else schema.mutation_type
    assert isinstance(root_type, GraphQLObjectType)
    found = []
    for name, field in root_type.fields.items():
        places = [(arg_name, path) for arg_name, arg in field.args.items()
                  for path in _string_paths(arg.type, (arg_name,))]
        if not places:  # no string reaches this field: nothing to inject
            continue
        assert name in base, f"the injection suite has no base arguments for {root} {name}"
        for arg_name, path in places:
            used = {a: v for a, v in base[name].items()}
            used[arg_name] = _put(used.get(arg_name), path[1:], "\uffff")
            decl = ", ".join(f"${a}: {field.args[a].type}" for a in used)
            call = ", ".join(f"{a}: ${a}" for a in used)
            found.append((name, f"{root} ({decl}) {{ {name}({call}) {{ __typename }} }}", used))
    return found


def _with(variables: dict[str, Any], payload: str) -> dict[str, Any]:
    def swap(value: Any) -> Any:
        if value == "\uffff":
            return payload
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value
    return swap(variables)


def base_document(name: str) -> str:
    mutation = build_schema(Settings())._schema.mutation_type
    assert mutation is not None
    field = mutation.fields[name]
    used = MUTATION_BASE[name]
    decl = ", ".join(f"${a}: {field.args[a].type}" for a in used)
    call = ", ".join(f"{a}: ${a}" for a in used)
    return f"mutation ({decl}) {{ {name}({call}) {{ __typename }} }}"


QUERY_CASES = cases("query", QUERY_BASE)
MUTATION_CASES = cases("mutation", MUTATION_BASE)


def dump(store: GraphStore) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:
    """Every node and relationship with its properties (test-only access to the stores)."""
    if store.kind.value == "memory":
        nodes = {n: dict(a) for n, a in store._nodes.items()}  # type: ignore[attr-defined]
        rels = {(u, v, t): dict(a) for u, nbrs in store._succ.items()  # type: ignore[attr-defined]
                for v, by in nbrs.items() for t, a in by.items()}
        return nodes, rels
    driver = store._driver  # type: ignore[attr-defined]
    records = driver.execute_query(
        "MATCH (n) RETURN labels(n)[0] AS label, n.id AS id, properties(n) AS props").records
    nodes = {(r["label"], r["id"]): dict(r["props"]) for r in records}
    records = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN labels(a)[0] AS al, a.id AS a, labels(b)[0] AS bl, "
        "b.id AS b, type(r) AS t, properties(r) AS props").records
    rels = {((r["al"], r["a"]), (r["bl"], r["b"]), r["t"]): dict(r["props"]) for r in records}
    return nodes, rels


def _sans_provenance(found: dict[Any, dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    drop = {*PROVENANCE, "first_seen", "last_seen"}
    return {k: {p: v for p, v in props.items() if p not in drop} for k, props in found.items()}


def assert_clean(body: dict[str, Any], payload: str = "") -> None:
    """Known codes only; no trace, driver message or Cypher (beyond the payload echoed)."""
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code in CLEAN_CODES, (code, error)
        message = error["message"]
        for echo in filter(None, (payload, repr(payload)[1:-1])):
            message = message.replace(echo, "")
        assert not [leak for leak in LEAKS if leak in message], error["message"]
        assert set(error) <= {"message", "locations", "path", "extensions"}, error


def test_the_suite_covers_every_string_argument() -> None:
    assert len(QUERY_CASES) >= 19 and len(MUTATION_CASES) >= 39
    assert {name for name, _, _ in QUERY_CASES} == set(QUERY_BASE)
    assert {name for name, _, _ in MUTATION_CASES} == set(MUTATION_BASE)


async def test_queries_leave_the_graph_as_it_was(demo_api: Api) -> None:
    before = dump(demo_api.store)
    for name, document, variables in QUERY_CASES:
        for payload in PAYLOADS:
            response = await demo_api.post(document, _with(variables, payload))
            assert response.status_code in (200, 400), (name, payload, response.text)
            assert_clean(response.json(), payload)
    assert dump(demo_api.store) == before


async def test_mutations_write_payloads_as_inert_text_or_refuse_them(demo_api: Api) -> None:
    demo = dump(demo_api.store)
    for name, base in MUTATION_BASE.items():  # what each mutation does without any payload
        await demo_api.gql(base_document(name), base, scope="write")
    before = [_sans_provenance({k: part[k] for k in old})
              for part, old in zip(dump(demo_api.store), demo, strict=True)]
    for name, document, variables in MUTATION_CASES:
        for payload in MUTATION_PAYLOADS:
            response = await demo_api.post(document, _with(variables, payload), scope="write")
            assert response.status_code in (200, 400), (name, payload, response.text)
            assert_clean(response.json(), payload)
    after = [_sans_provenance(part) for part in dump(demo_api.store)]
    for old, new in zip(before, after, strict=True):
        assert {k: new.get(k) for k in old} == old  # nothing that was there changed or went
    written = await demo_api.gql(
        'mutation { upsertPerson(input: {email: "inert@injection.example", '
        'name: "}) DETACH DELETE n //", title: "`Person` $param"}) { name title } }',
        scope="write")
    assert written["upsertPerson"] == {"name": "}) DETACH DELETE n //",
                                       "title": "`Person` $param"}


async def test_full_width_forms_are_the_same_key_as_in_every_load(demo_api: Api) -> None:
    """UTS 46 maps full-width letters and dots: ａｃｍｅ．ｃｏｍ is acme.com for a load too."""
    found = await demo_api.gql('{ company(domain: "ａｃｍｅ．ｃｏｍ") { id } }')
    assert found["company"] == {"id": "acme.com"}
    other = await demo_api.gql('{ company(domain: "аcme.com") { id } }')  # Cyrillic а
    assert other["company"] is None


@pytest.mark.parametrize("document", [
    '{ person(email: "x") { id } } #") { id } }',
    '{ person(email: "x\\") { id } }',
    '{ person(email: """x""") { id } } mutation { upsertCompany(input: {domain: "a.io"}) '
    '{ id } }',
    "{ person(email: \"\\u0000\") { id } }",
])
async def test_injection_into_the_document_is_a_clean_request_error(demo_api: Api,
                                                                    document: str) -> None:
    before = dump(demo_api.store)
    response = await demo_api.post(document, accept="application/graphql-response+json")
    assert response.status_code in (200, 400)
    assert_clean(response.json())
    assert dump(demo_api.store) == before


@pytest.mark.parametrize("value", ["\\ud800", "crm:a\\udfffb", "\\u0000"])
async def test_lone_surrogates_and_escaped_nulls_in_json_are_clean(demo_api: Api,
                                                                   value: str) -> None:
    """JSON may escape what UTF-8 cannot hold (a lone surrogate): refused cleanly."""
    before = dump(demo_api.store)
    for document in ('query ($e: String) { person(email: $e) { id } }',
                     'query ($e: ID) { person(id: $e) { id name } }',
                     'query ($e: ID) { company(id: $e) { id name } }',
                     'query ($e: ID!) { warmPaths(from: $e, to: "ada@acme.com") { totalCount } }',
                     'query ($e: String!) { search(text: $e) { totalCount } }',
                     'mutation ($e: String) { upsertPerson(input: {email: "x@injection.example",'
                     ' name: $e}) { id } }'):
        quoted = document.replace('"', '\\"')
        body = f'{{"query": "{quoted}", "variables": {{"e": "{value}"}}}}'.encode()
        response = await demo_api.client.post("/graphql", content=body, headers={
            **demo_api.auth("write"), "Content-Type": "application/json"})
        assert response.status_code in (200, 400), response.text
        assert_clean(response.json())
    assert dump(demo_api.store) == before
