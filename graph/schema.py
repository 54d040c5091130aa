"""The graph model, declared once: labels, relationship types, natural keys and property types.

Both stores, the migrations and (later) the GraphQL types read this module. Labels and relationship
types are the only identifiers that reach Cypher outside parameters, so they come from here alone
and pass `cypher_name` first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from graph import keys
from graph.errors import SchemaError


class PropType(StrEnum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATETIME = "datetime"
    STR_LIST = "str_list"
    JSON = "json"  # a mapping, stored as a JSON string: Neo4j properties cannot hold maps


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    type: PropType
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class NodeType:
    label: str
    normalise_key: Callable[[str], str]
    props: tuple[Prop, ...]
    indexed: tuple[str, ...] = ()  # properties the questions filter on, beside the key
    # Whether the stores record which source set each property (`SET_BY`): labels that
    # several sources describe with different authority (a catalogue and a feed).
    set_by: bool = False
    prop_map: dict[str, Prop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: row validation looks properties up on every row.
        object.__setattr__(self, "prop_map", {p.name: p for p in self.props})


@dataclass(frozen=True, slots=True)
class RelType:
    type: str
    ends: tuple[tuple[str, str], ...]  # allowed (from label, to label) pairs
    props: tuple[Prop, ...] = ()
    undirected: bool = False  # stored once per pair, from the smaller key to the larger
    # Rows may be inferred (a feed's or the taxonomy's guess): an inferred relationship is
    # stored with `inferred: true` and only where its start node has no explicit one of this
    # type; an explicit row removes its start node's inferred ones (see graph.rows).
    inferable: bool = False
    prop_map: dict[str, Prop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prop_map", {p.name: p for p in self.props})


KEY = "id"  # every node's natural key property
PROVENANCE = ("sources", "loaded_at")  # set by the stores on every node and relationship
# Set by the stores from a row's `observed_at` (the moment a snapshot export describes): the
# earliest and latest observation; and on merged nodes the keys folded into them.
OBSERVED = "observed_at"
# A row's mark (True) that its values are inferred: a guess (a curation default kind, a
# taxonomy match) or a source that only adds what is missing (our feed). An inferred node row
# fills missing properties only, and those its own source set before (`graph.rows.fill_gaps`);
# an explicit row overwrites as always. Stored (as true) on inferred relationships only.
INFERRED = "inferred"
# On labels that declare `set_by`: which source set each property, as "property=source"
# entries in the label's property order (Neo4j properties cannot hold maps).
SET_BY = "set_by"
STORE_SET = (*PROVENANCE, "first_seen", "last_seen", "aliases", SET_BY, INFERRED)

COMPANY_FLAGS = ("customer", "prospect", "competitor", "vendor", "own")
CONTENT_KINDS = frozenset(
    {"article", "white_paper", "webinar", "video", "newsletter_item", "podcast", "case_study",
     "ebook", "blog_post"}
)
CONCERN_CHANNELS = frozenset({"ticket", "call", "survey", "social", "email", "chat", "meeting"})
TRIGGER_TYPES = frozenset(
    {"funding_round", "leadership_change", "acquisition", "hiring_surge", "ipo", "expansion",
     "product_launch", "layoffs", "partnership"}
)

S, INT, F, B, DT, SL, J = (PropType.STR, PropType.INT, PropType.FLOAT, PropType.BOOL,
                         PropType.DATETIME, PropType.STR_LIST, PropType.JSON)

NODE_TYPES: dict[str, NodeType] = {
    n.label: n
    for n in (
        NodeType("Person", keys.person_key, (
            Prop("name", S), Prop("email", S), Prop("title", S), Prop("location", S),
            Prop("linkedin_url", S), Prop("phone", S),
        )),
        NodeType("Company", keys.company_key, (
            Prop("name", S), Prop("domain", S), Prop("industry", S), Prop("size", INT, min=0),
            Prop("website", S), Prop("country", S),
            *(Prop(flag, B) for flag in COMPANY_FLAGS),
        ), indexed=("own",)),
        NodeType("Customer", keys.plain_key, (
            Prop("name", S), Prop("plan", S), Prop("mrr", F, min=0), Prop("currency", S),
            Prop("started", DT), Prop("renews", DT),
            Prop("status", S, choices=frozenset({"trial", "active", "paused", "churned"})),
            Prop("contract", S), Prop("tenure_months", F, min=0), Prop("churned", B),
            Prop("churned_at", DT), Prop("orders", INT, min=0), Prop("total_spent", F, min=0),
            Prop("last_order_at", DT), Prop("attributes", J),
        )),
        NodeType("Content", keys.canonical_url, (
            Prop("title", S), Prop("kind", S, choices=CONTENT_KINDS), Prop("published_at", DT),
            Prop("author", S), Prop("summary", S),
        ), indexed=("kind",), set_by=True),
        NodeType("Topic", keys.slugify, (Prop("name", S), Prop("synonyms", SL))),
        NodeType("Concern", keys.plain_key, (
            Prop("text", S, required=True), Prop("channel", S, choices=CONCERN_CHANNELS),
            Prop("at", DT, required=True), Prop("subject", S), Prop("status", S),
            Prop("url", S), Prop("solved_at", DT),
        ), indexed=("at",)),
        NodeType("Event", keys.plain_key, (
            Prop("type", S, required=True), Prop("at", DT, required=True), Prop("properties", J),
        ), indexed=("at",)),
        NodeType("Trigger", keys.plain_key, (
            Prop("type", S, required=True, choices=TRIGGER_TYPES), Prop("at", DT, required=True),
            Prop("details", S), Prop("source_url", S), Prop("headline", S),
            Prop("amount", F, min=0), Prop("currency", S), Prop("round", S),
        ), indexed=("at",)),
        NodeType("Source", keys.canonical_url, (
            Prop("name", S), Prop("kind", S, choices=frozenset({"pontificator", "vendor", "own"})),
        )),
        NodeType("Roundup", keys.plain_key, (
            Prop("date", DT, required=True),
            Prop("status", S, choices=frozenset({"draft", "published"})),
            Prop("title", S),
        )),
    )
}

REL_TYPES: dict[str, RelType] = {
    r.type: r
    for r in (
        RelType("WORKS_AT", (("Person", "Company"),),
                (Prop("title", S), Prop("since", DT), Prop("until", DT))),
        RelType("KNOWS", (("Person", "Person"),),
                (Prop("source", S), Prop("since", DT), Prop("strength", F, min=0, max=1),
                 Prop("emails", INT, min=0), Prop("meetings", INT, min=0),
                 Prop("reciprocal", B), Prop("last_interaction", DT)),
                undirected=True),
        RelType("READ", (("Person", "Content"),),
                (Prop("first_at", DT, required=True), Prop("last_at", DT, required=True),
                 Prop("count", INT, min=1), Prop("channel", S))),
        RelType("ABOUT", (("Content", "Topic"), ("Concern", "Topic"), ("Trigger", "Topic")),
                (Prop("weight", F, min=0, max=1), Prop("matched", S)), inferable=True),
        RelType("RAISED", (("Person", "Concern"),)),
        RelType("PERFORMED", (("Person", "Event"),)),
        RelType("FOR_ACCOUNT", (("Event", "Customer"),)),
        RelType("ACCOUNT_OF", (("Customer", "Company"), ("Customer", "Person"))),
        RelType("HAD_TRIGGER", (("Company", "Trigger"),)),
        RelType("COMPETES_WITH", (("Company", "Company"),)),
        RelType("PUBLISHED_BY", (("Content", "Source"),)),
        RelType("FEATURES", (("Roundup", "Content"),),
                (Prop("section", S), Prop("position", INT, min=0), Prop("blurb", S),
                 Prop("verdict", S))),
    )
}

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def node_type(label: str) -> NodeType:
    try:
        return NODE_TYPES[label]
    except KeyError:
        raise SchemaError(f"unknown label {label!r}; known: {', '.join(NODE_TYPES)}") from None


def rel_type(name: str) -> RelType:
    try:
        return REL_TYPES[name]
    except KeyError:
        raise SchemaError(
            f"unknown relationship type {name!r}; known: {', '.join(REL_TYPES)}"
        ) from None


def rel_ends(rel: RelType, from_label: str | None, to_label: str | None) -> tuple[str, str]:
    """The (from, to) labels of a relationship; ambiguous ends must be named by the caller."""
    matches = [
        (f, t) for f, t in rel.ends
        if (from_label is None or f == from_label) and (to_label is None or t == to_label)
    ]
    if len(matches) != 1:
        allowed = ", ".join(f"{f}->{t}" for f, t in rel.ends)
        raise SchemaError(
            f"{rel.type} from {from_label or '?'} to {to_label or '?'} is "
            f"{'ambiguous' if matches else 'not allowed'}; allowed: {allowed}"
        )
    return matches[0]


def cypher_name(name: str) -> str:
    """A schema label or type, backtick-quoted for Cypher; anything not in the schema is refused."""
    if (name not in NODE_TYPES and name not in REL_TYPES) or not _NAME_RE.match(name):
        raise SchemaError(f"{name!r} is not a label or relationship type of the schema")
    return f"`{name}`"


__all__ = [
    "KEY", "PROVENANCE", "OBSERVED", "INFERRED", "SET_BY", "STORE_SET", "NODE_TYPES",
    "REL_TYPES", "NodeType", "RelType", "Prop", "PropType",
    "node_type", "rel_type", "rel_ends", "cypher_name",
]
