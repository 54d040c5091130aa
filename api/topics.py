"""The topics a question names, read the same way by the CLI, GraphQL and the REST export.

A topic is known when the taxonomy has it (by id, name or synonym, after the taxonomy's own
normalisation: `CRM`, `customer relationship management`) or the graph holds a Topic of that
id (a file's explicit tags become topics of their own). A synonym asks about its topic: `--topic
"customer relationship management"` is `crm`. An unknown topic is an error that lists the
nearest known ones, as an unknown content kind lists the kinds — never a silent empty answer.

    >>> from connectors.tagging import load_taxonomy
    >>> tax = load_taxonomy()
    >>> topic_key("Customer Relationship Management", tax), topic_key("crm", tax)
    ('crm', 'crm')
    >>> unknown_topic("crmm", "--topic", tax, ())
    "unknown topic 'crmm' (--topic): did you mean crm? `relgraph topics list` shows them all"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process

from api.errors import BadUserInput
from connectors.tagging import Taxonomy, normalise
from graph import keys
from graph.questions.evidence import EVIDENCE, EvidenceQuery
from graph.store import GraphStore

_CUTOFF = 70  # rapidfuzz WRatio: "crmm" ~ "crm" 86, "chrun" ~ "churn" 80; unrelated words < 60


def _spellings(taxonomy: Taxonomy) -> dict[str, str]:
    """Normalised id, name or synonym -> topic id (phrases only signal a topic: not names)."""
    found: dict[str, str] = {}
    for topic in taxonomy.topics:
        for spelling in (topic.id, topic.name, *topic.synonyms):
            found.setdefault(normalise(spelling), topic.id)
    return found


def topic_key(text: str, taxonomy: Taxonomy) -> str:
    """The Topic id a person means: the taxonomy's topic of that id, name or synonym, else the
    text's slug (a topic only the graph holds). ValueError for text with nothing to key."""
    found = _spellings(taxonomy).get(normalise(text))
    return found if found is not None else keys.slugify(text)


def asked_topic(text: str, taxonomy: Taxonomy) -> str:
    """`topic_key`, or the text as typed when it cannot be a key: the question then refuses it
    with its own words."""
    try:
        return topic_key(text, taxonomy)
    except ValueError:
        return text


async def check_topics(store: GraphStore, taxonomy: Taxonomy,
                       typed: Sequence[tuple[str, str]]) -> None:
    """For an empty answer (only then: a known topic costs nothing): `BadUserInput` naming
    each unknown topic of `typed` ((text, argument name) pairs) with the nearest known ones."""
    (read, _), (concern, _) = typed
    try:
        asked = EvidenceQuery(topic_key(read, taxonomy), topic_key(concern, taxonomy))
    except ValueError:
        asked = None
    graph_topics = (await store.ask_async(EVIDENCE, asked)).topics if asked else ()
    problems = [p for text, name in typed
                if (p := unknown_topic(text, name, taxonomy, graph_topics)) is not None]
    if problems:
        raise BadUserInput("; ".join(problems))


def did_you_mean(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The known names nearest to `word`, best first (rapidfuzz's WRatio)."""
    unique = sorted(set(choices))
    hits = process.extract(word, unique, scorer=fuzz.WRatio, limit=limit, score_cutoff=_CUTOFF)
    return [choice for choice, _, _ in hits]


def unknown_topic(text: str, option: str, taxonomy: Taxonomy,
                  graph_topics: Sequence[tuple[str, str | None]]) -> str | None:
    """Why `text` names no topic (with the nearest ones), or None when the taxonomy or the
    graph (`graph_topics`: (id, name) of its Topic nodes) knows it."""
    try:
        key = topic_key(text, taxonomy)
    except ValueError as exc:
        return f"topic {text!r} ({option}): {exc}"
    known = {t.id for t in taxonomy.topics} | {topic_id for topic_id, _ in graph_topics}
    if key in known:
        return None
    names = _spellings(taxonomy)
    names.update({normalise(name): topic_id for topic_id, name in graph_topics if name})
    names.update({normalise(topic_id): topic_id for topic_id, _ in graph_topics})
    near = list(dict.fromkeys(names[n] for n in did_you_mean(normalise(text), names)))
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    return (f"unknown topic {text!r} ({option}): {hint}`relgraph topics list` shows them all")


__all__ = ["asked_topic", "check_topics", "did_you_mean", "topic_key", "unknown_topic"]
