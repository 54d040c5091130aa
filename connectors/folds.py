"""Folding one node into another, with everything keyed by it.

Some nodes are keyed by another node's key: a Customer account by whose account it is
("company:<company key>", "person:<person key>") and a person's first login Event
("first_login:<person key>"). When a load or an approved merge folds a company or a person into
another, those must fold with it — else the next load, which resolves to the kept key, makes a
second account beside the first (20 accounts became 30 on re-loading a 220-person world).

`fold(store, label, folds, source=…)` does both: the kept nodes made sure of, the folds applied
in batches (`GraphStore.fold_aliases`), then each dependent that exists folded into its kept
twin. Chains (a -> b, b -> c) are resolved first, so every fold names its final node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graph.store import GraphStore

# label of the folded node -> (label of the dependent, the prefix of its key)
DEPENDENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Company": (("Customer", "company:"),),
    "Person": (("Customer", "person:"), ("Event", "first_login:")),
}


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


def fold(store: GraphStore, label: str, folds: Mapping[str, str], *, source: str) -> int:
    """Fold every key of `folds` into its (final) kept key, and the nodes keyed by them.
    Returns how many folded nodes of `label` existed."""
    pairs = sorted(final(folds).items())
    if not pairs:
        return 0
    store.upsert_nodes(label, [{"id": k} for k in sorted({keep for _, keep in pairs})],
                       source=source)
    merged = store.fold_aliases(label, pairs)
    for dependent, prefix in DEPENDENTS.get(label, ()):
        fold_existing(store, dependent, ((prefix + f, prefix + k) for f, k in pairs),
                      source=source)
    return merged


def fold_existing(store: GraphStore, label: str, pairs: Iterable[tuple[str, str]], *,
                  source: str) -> int:
    """Fold those (folded, kept) pairs whose folded node exists (a missing kept node is made
    first, with only its key: it takes everything the folded one had)."""
    pairs = list(pairs)
    present = store.existing(label, [f for f, _ in pairs])
    todo = [(f, k) for f, k in pairs if f in present]
    if not todo:
        return 0
    store.upsert_nodes(label, [{"id": k} for k in sorted({k for _, k in todo})], source=source)
    return store.fold_aliases(label, todo)
