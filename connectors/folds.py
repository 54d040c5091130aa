"""Folding one node into another, with everything keyed by it.

Some nodes are keyed by another node's key: a Customer account by whose account it is
("company:<company key>", "person:<person key>"), a person's first login Event
("first_login:<person key>") and their first use of each key feature
("first_feature:<feature>:<person key>", connectors/adoption.py). When a load or an approved
merge folds a company or a person into another, those must fold with it — else the next load,
which resolves to the kept key, makes a second account beside the first (20 accounts became 30
on re-loading a 220-person world), or a second first login in the live feed.

`fold(store, label, folds, source=…)` does both: the kept nodes made sure of, the folds applied
in batches (`GraphStore.fold_aliases`), then each dependent that exists folded into its kept
twin. Chains (a -> b, b -> c) are resolved first, so every fold names its final node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connectors import adoption
from graph.questions.nodes import NODES, NodesQuery
from graph.schema import node_type
from graph.store import GraphStore

# label of the folded node -> (label of the dependent, the prefix of its key)
DEPENDENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Company": (("Customer", "company:"),),
    "Person": (("Customer", "person:"), ("Event", "first_login:")),
}


def dependents(label: str, key_features: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """The nodes keyed by a `label` node's key, as (label, key prefix): `DEPENDENTS`, and for a
    person their first use of each of these key features. A feature taken off the key features
    since its first uses were made is not folded any more: name it here to fold them."""
    found = DEPENDENTS.get(label, ())
    if label == "Person":
        found += tuple(("Event", adoption.event_id(f, "")) for f in sorted(set(key_features)))
    return found


def final(folds: Mapping[str, str]) -> dict[str, str]:
    """Each folded key -> the key at the end of its chain (a -> b, b -> c: a -> c, b -> c).

    >>> final({"a": "b", "b": "c", "x": "y"})
    {'a': 'c', 'b': 'c', 'x': 'y'}
    """
    resolved = {}
    for start in folds:
        key, seen = start, {start}
        while key in folds and folds[key] not in seen:
            key = folds[key]
            seen.add(key)
        resolved[start] = key
    return {k: v for k, v in resolved.items() if k != v}


@dataclass
class Folded:
    merged: int = 0  # folded nodes of the label that existed
    created: set[str] = field(default_factory=set)  # kept nodes that did not exist before


def fold(store: GraphStore, label: str, folds: Mapping[str, str], *, source: str,
         key_features: Iterable[str] = ()) -> Folded:
    """Fold every key of `folds` into its (final) kept key, and the nodes keyed by them (with
    a person's first uses of these key features)."""
    pairs = sorted(final(folds).items())
    if not pairs:
        return Folded()
    kept = sorted({keep for _, keep in pairs})
    made = store.upsert_nodes(label, [{"id": k} for k in kept], source=source)
    done = Folded(store.fold_aliases(label, pairs), {kept[i] for i in made.created})
    for dependent, prefix in dependents(label, key_features):
        fold_existing(store, dependent, ((prefix + f, prefix + k) for f, k in pairs),
                      source=source)
    return done


def fold_existing(store: GraphStore, label: str, pairs: Iterable[tuple[str, str]], *,
                  source: str) -> int:
    """Fold those (folded, kept) pairs whose folded node exists. A kept node that does not exist
    yet is made first from the folded one's properties (an Event cannot be written without its
    type and time), then takes everything else the folded one had."""
    pairs = list(pairs)
    present = store.existing(label, [f for f, _ in pairs])
    todo = [(f, k) for f, k in pairs if f in present]
    if not todo:
        return 0
    kept = {k for _, k in todo}
    missing = kept - store.existing(label, kept)
    if missing:
        declared = node_type(label).prop_map
        found = store.ask(NODES, NodesQuery(label, tuple(f for f, k in todo if k in missing)))
        rows = {}
        for folded, keep in todo:
            if keep in missing and keep not in rows:
                props = found.get(folded, {})
                rows[keep] = {**{n: v for n, v in props.items() if n in declared}, "id": keep}
        store.upsert_nodes(label, [rows[k] for k in sorted(rows)], source=source)
    return store.fold_aliases(label, todo)


def folds_by_label(folds: Mapping[str, Mapping[str, str]], key_features: Iterable[str] = ()
                   ) -> dict[str, dict[str, str]]:
    """Per label, each folded key -> its final kept key, the dependents' included (what a
    count of written nodes must read a folded key as).

    >>> folds_by_label({"Company": {"acme": "acme.io"}})["Customer"]
    {'company:acme': 'company:acme.io'}
    """
    found: dict[str, dict[str, str]] = {}
    for label, pending in folds.items():
        pairs = final(pending)
        if not pairs:
            continue
        found.setdefault(label, {}).update(pairs)
        for dependent, prefix in dependents(label, key_features):
            found.setdefault(dependent, {}).update(
                {prefix + f: prefix + k for f, k in pairs.items()})
    return found
