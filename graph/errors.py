"""Errors of the graph layer. Each names what was involved; none logs itself or knows about HTTP."""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error raised by `graph/`."""


class SchemaError(GraphError, ValueError):
    """A label, relationship type or property that the schema does not declare."""


class BadRow(GraphError, ValueError):
    """One input row that cannot be stored: names the row (its position in the batch) and field."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        self.row = row
        self.field = field
        self.reason = reason
        super().__init__(f"row {row}: field {field!r}: {reason}")


class NodeNotFound(GraphError, LookupError):
    def __init__(self, label: str, key: str) -> None:
        self.label = label
        self.key = key
        super().__init__(f"no {label} with key {key!r}")


class AliasTaken(GraphError, ValueError):
    """A fold would record `alias` as a key of node `keep` while it is already an alias of
    another node (`holder`): a key names one node, so the fold is refused (and its batch rolled
    back) rather than letting the next load pick either node."""

    def __init__(self, label: str, alias: str, holder: str, keep: str) -> None:
        self.label = label
        self.alias = alias
        self.holder = holder
        self.keep = keep
        super().__init__(f"{label} key {alias!r} is an alias of {holder!r}: it cannot also be "
                         f"recorded as an alias of {keep!r} (fold {holder!r} into {keep!r}, "
                         "or the other way, to join them)")


class StoreUnavailable(GraphError, ConnectionError):
    """The store cannot be reached or opened (server down, bad credentials, missing setting)."""


class SnapshotError(GraphError):
    """The embedded store's file (graph.sqlite, or an old snapshot being imported) is corrupt,
    truncated or of an unknown format."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"graph file {path} is unusable: {reason}. It was left untouched; restore it "
            "from a backup or move it away and load the data again."
        )


class StoreError(GraphError):
    """A write or read the store refused; names the label or type (and key) involved."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


class QueryTimeout(StoreError):
    """A question ran past the configured time limit on the server and was stopped there."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(what, f"stopped after the {seconds:g} s limit (RELGRAPH_QUERY_TIMEOUT)")
