"""Enums taken from the graph's schema (graph/schema.py), so GraphQL and the stores never drift:
`ContentKind`, `TriggerType`, `ConcernChannel`, `CompanyFlag`; and the live feed's kinds."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from connectors.pipeline import INTERACTIONS
from graph.schema import COMPANY_FLAGS, CONCERN_CHANNELS, CONTENT_KINDS, TRIGGER_TYPES


def _enum(name: str, values: frozenset[str] | tuple[str, ...], description: str) -> type[Enum]:
    members = Enum(name, {v.upper(): v for v in sorted(values)})  # type: ignore[misc]
    return strawberry.enum(members, description=description)  # type: ignore[no-any-return]


# What the live customer feed shows: the pipeline's interactions (Event nodes: the meaningful
# events, a newsletter click, a concern solved, a key feature used for the first time), a
# concern raised, a buying trigger at a customer.
INTERACTION_TYPES = (*sorted(INTERACTIONS), "concern_raised", "trigger")

if TYPE_CHECKING:  # built at run time from the schema's sets; to the type checker, enums
    ContentKind = Enum
    TriggerType = Enum
    ConcernChannel = Enum
    CompanyFlag = Enum
    InteractionType = Enum
else:
    ContentKind = _enum("ContentKind", CONTENT_KINDS, "What kind of content was read.")
    TriggerType = _enum("TriggerType", TRIGGER_TYPES, "A kind of buying trigger.")
    ConcernChannel = _enum("ConcernChannel", CONCERN_CHANNELS, "Where a concern was raised.")
    CompanyFlag = _enum("CompanyFlag", COMPANY_FLAGS, "What a company is to us.")
    InteractionType = _enum("InteractionType", INTERACTION_TYPES,
                            "A kind of meaningful interaction in the live customer feed.")

__all__ = ["CompanyFlag", "ConcernChannel", "ContentKind", "INTERACTION_TYPES",
           "InteractionType", "TriggerType"]
