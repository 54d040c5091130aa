"""Topic tagging: which topics of a taxonomy a text is about, and which phrase said so.

The pipeline tags every Content, Concern and Trigger a reader names in a `Tag` record: the topics
found in its text (`Taxonomy.tag`) plus the topics the file names explicitly (`Taxonomy.explicit`,
e.g. a ticket's tags or a catalogue's topic column). Each becomes an ABOUT relationship with a
`weight` and the phrase that `matched`.

The taxonomy file (TOML; the customer-success default ships as `connectors/taxonomy.toml`)::

    [[topic]]
    id = "crm"                      # a slug (graph.keys.slugify): the Topic node's key
    name = "CRM"                    # shown to people; also matched in text
    synonyms = ["customer relationship management", "crm system"]   # other names: matched
    phrases = ["salesforce instance"]    # wordings that signal the topic: matched too

`id` and `name` are required; `synonyms` and `phrases` are optional lists of strings (synonyms
are stored on the Topic node, phrases only drive matching). Any other key is an error, so a typo
("synonym") is reported rather than silently ignored. Errors name the file, the topic and the
field (`TaxonomyError`).

Matching is on whole words and whole phrases after the same normalisation of text and phrases
(`normalise`): case-folded; accents removed (NFKD, combining marks dropped; "ﬁ" -> "fi");
possessives dropped ("customer's" -> "customer"); other apostrophes removed ("don't" -> "dont");
every other non-letter/digit (punctuation, "_", "-") a space; then each word folded to a crude
singular stem so plurals meet their singular: "renewals" -> "renewal", "companies" and "company"
-> "compani", "prices" and "price" -> "pric" (the folded form is internal; `matched` reports the
phrase as the taxonomy writes it); words of three letters or fewer are never folded ("nps",
"crm"). Whole words only: "crm" never matches inside "crmx", nor "nps" inside "snps".

The matcher is a trie over words: at each word the longest phrase starting there is taken, and a
match lying wholly inside a longer one is dropped ("retention" inside "data retention" tags only
security; "considering leaving" and "leaving for a competitor" overlap and both count). Its cost
is linear in the length of the text (times the words of the longest phrase), whatever the number
of phrases.

Weight (0..1): a topic hit by `d` distinct phrases, `h` times in all, scores
`s = d + 0.25 × (h − d)` and weighs `1 − 0.5^s`, rounded to 3 decimals: one mention 0.5, the same
phrase twice 0.58, two different phrases 0.75, three 0.875 — more distinct evidence counts more
than repetition, and the weight approaches but never reaches 1. Explicit tags weigh 1.0.

Explicit tags (`explicit`) map onto the taxonomy when their normalised text equals a topic's id,
name, synonym or phrase ("churn_risk", "Churn Risk" -> churn); otherwise when the taxonomy finds
topics inside them ("billing_question" -> pricing); otherwise the tag is kept as its own topic
(id = its slug, name = the tag as written), so nothing a file says is lost.

    >>> tax = load_taxonomy()
    >>> text = "Churn risk: the CRM's renewal is in doubt"
    >>> [(m.topic_id, m.matched, m.weight) for m in tax.tag(text)]
    [('churn', 'churn risk', 0.5), ('crm', 'CRM', 0.5), ('renewal', 'Renewal', 0.5)]
    >>> [(m.topic_id, m.matched) for m in tax.explicit(["churn_risk", "billing_faq", "VIP"])]
    [('churn', 'churn_risk'), ('billing', 'billing_faq'), ('vip', 'VIP')]
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError
from graph.keys import slugify

DEFAULT_TAXONOMY = "taxonomy.toml"  # package data of `connectors`

_POSSESSIVE = re.compile(r"(?<=\w)['’ʼ`´]s\b")
_APOSTROPHE = re.compile(r"(?<=\w)['’ʼ`´](?=\w)")
_NON_WORD = re.compile(r"[\W_]+")
_NO_FOLD = frozenset({"news", "series", "species"})
_TOPIC_KEYS = frozenset({"id", "name", "synonyms", "phrases"})


class TaxonomyError(ConnectorError, ValueError):
    """A taxonomy file that cannot be used: names the file, the topic and the field."""

    def __init__(self, path: str, reason: str, topic: str | None = None,
                 field_name: str | None = None) -> None:
        self.path = path
        self.topic = topic
        self.field = field_name
        where = path + (f": topic {topic}" if topic else "") + (
            f": field {field_name!r}" if field_name else "")
        super().__init__(f"{where}: {reason}")


@lru_cache(maxsize=1 << 14)
def _fold(word: str) -> str:
    """A crude singular stem, applied until nothing changes (so folding is idempotent)."""
    if word in _NO_FOLD or not word.isalpha():
        return word
    while len(word) > 3:
        before = word
        if word.endswith("ies"):
            word = word[:-3] + "i"
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        if len(word) > 3 and word.endswith("e"):
            word = word[:-1]
        if len(word) > 3 and word.endswith("y"):
            word = word[:-1] + "i"
        if word == before:
            break
    return word


def words(text: str) -> list[str]:
    """The normalised words of `text` (see the module docstring)."""
    if text.isascii():
        text = text.lower()  # the same as the steps below for ASCII, and much faster
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
        # casefold can produce new combining marks or decomposable letters: settle them too.
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _POSSESSIVE.sub("", text)
    text = _APOSTROPHE.sub("", text)
    return [_fold(w) for w in _NON_WORD.sub(" ", text).split()]


def normalise(text: str) -> str:
    """Normalised text: words as `words` makes them, joined by single spaces.

    >>> normalise("  The Customers' RENEWALS — Café_CRM, Companies! Renewal")
    'the customer renewal caf crm compani renewal'
    """
    return " ".join(words(text))


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        """Everything that names or signals the topic in text: name, synonyms, phrases."""
        return (self.name, *self.synonyms, *self.phrases)


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic_id: str
    name: str
    matched: str  # the phrase as the taxonomy writes it (the first hit), or the explicit tag
    weight: float  # 0..1, see the module docstring
    phrases: tuple[tuple[str, int], ...] = ()  # every phrase that hit, with its count


@dataclass
class _Trie:
    children: dict[str, _Trie] = field(default_factory=dict)
    ends: list[tuple[int, str]] = field(default_factory=list)  # (topic index, phrase as written)


def _weight(distinct: int, hits: int) -> float:
    score = distinct + 0.25 * (hits - distinct)
    return round(min(1.0, 1.0 - 0.5 ** score), 3)


class Taxonomy:
    """Topics and a word-trie matcher over their names, synonyms and phrases."""

    def __init__(self, topics: Iterable[Topic], source: str = "<taxonomy>") -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        self.source = source
        self.by_id: dict[str, Topic] = {}
        self._root = _Trie()
        self._exact: dict[str, int] = {}  # normalised id/name/synonym/phrase -> topic index
        for index, topic in enumerate(self.topics):
            if topic.id in self.by_id:
                raise TaxonomyError(source, "the id is used by two topics", topic.id, "id")
            self.by_id[topic.id] = topic
            for spelling in topic.spellings:
                key = words(spelling)
                if not key:
                    raise TaxonomyError(source, f"{spelling!r} has no letters or digits to "
                                        "match", topic.id, "phrases")
                node = self._root
                for word in key:
                    node = node.children.setdefault(word, _Trie())
                if all(i != index for i, _ in node.ends):
                    node.ends.append((index, spelling))
            for spelling in (topic.id, *topic.spellings):
                self._exact.setdefault(normalise(spelling), index)

    def __len__(self) -> int:
        return len(self.topics)

    def _scan(self, text: str) -> dict[int, dict[str, int]]:
        """topic index -> {phrase as written: hits}, in order of first hit.

        At each word the longest phrase starting there is taken; a match lying wholly inside
        an earlier, longer one is dropped ("retention" inside "data retention"), overlapping
        ones both count ("considering leaving" and "leaving for a competitor")."""
        found: dict[int, dict[str, int]] = {}
        tokens = words(text)
        root = self._root.children
        covered = 0  # end of the furthest-reaching match so far
        for i, token in enumerate(tokens):
            node = root.get(token)
            if node is None:
                continue
            best: list[tuple[int, str]] = node.ends
            best_end = i + 1
            j = i + 1
            while j < len(tokens):
                node = node.children.get(tokens[j])
                if node is None:
                    break
                j += 1
                if node.ends:
                    best, best_end = node.ends, j
            if not best or best_end <= covered:
                continue
            covered = best_end
            for index, phrase in best:
                hits = found.setdefault(index, {})
                hits[phrase] = hits.get(phrase, 0) + 1
        return found

    def tag(self, text: str) -> list[TopicMatch]:
        """The topics `text` is about, in order of first mention."""
        matches = []
        for index, hits in self._scan(text or "").items():
            topic = self.topics[index]
            matches.append(TopicMatch(
                topic.id, topic.name, next(iter(hits)), _weight(len(hits), sum(hits.values())),
                tuple(hits.items())))
        return matches

    def explicit(self, tags: Iterable[str]) -> list[TopicMatch]:
        """Topics a file names explicitly, mapped onto the taxonomy (unknown ones kept)."""
        out: dict[str, TopicMatch] = {}
        for tag in tags:
            raw = (tag or "").strip()
            if not raw or not normalise(raw):
                continue
            index = self._exact.get(normalise(raw))
            if index is not None:
                found = [self.topics[index]]
            else:
                found = [self.topics[i] for i in self._scan(raw)]
            if not found:
                try:
                    slug = slugify(raw.replace("_", " "))
                except ValueError:
                    continue
                found = [Topic(slug, raw)]
            for topic in found:
                out.setdefault(topic.id, TopicMatch(topic.id, topic.name, raw, 1.0,
                                                    ((raw, 1),)))
        return list(out.values())

    def topics_of(self, text: str, tags: Iterable[str] = ()) -> list[TopicMatch]:
        """Explicit tags first (weight 1), then topics found in the text that they did not name."""
        out = {m.topic_id: m for m in self.explicit(tags)}
        for m in self.tag(text):
            out.setdefault(m.topic_id, m)
        return list(out.values())


def _strings(value: Any, path: str, topic: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(path, "must be a list of strings", topic, name)
    if any(not v.strip() for v in value):
        raise TaxonomyError(path, "holds an empty string", topic, name)
    return tuple(v.strip() for v in value)


def parse_taxonomy(data: Mapping[str, Any], source: str = "<taxonomy>") -> Taxonomy:
    """A Taxonomy from parsed TOML, validated (errors name the file, topic and field)."""
    extra = set(data) - {"topic"}
    if extra:
        raise TaxonomyError(source, f"unknown top-level key(s) {sorted(extra)}: topics are "
                            "written as [[topic]] tables")
    entries = data.get("topic")
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(source, "no topics: write at least one [[topic]] table")
    topics = []
    for number, entry in enumerate(entries, 1):
        label = f"#{number}"
        if not isinstance(entry, dict):
            raise TaxonomyError(source, "must be a table ([[topic]])", label)
        topic_id = entry.get("id")
        if isinstance(topic_id, str) and topic_id.strip():
            label = f"#{number} ({topic_id!r})"
        unknown = set(entry) - _TOPIC_KEYS
        if unknown:
            raise TaxonomyError(source, f"unknown key(s) {sorted(unknown)}; a topic has "
                                f"{', '.join(sorted(_TOPIC_KEYS))}", label)
        for name in ("id", "name"):
            value = entry.get(name)
            if not isinstance(value, str) or not value.strip():
                raise TaxonomyError(source, "is required and must be a non-empty string",
                                    label, name)
        assert isinstance(topic_id, str)
        try:
            slug = slugify(topic_id)
        except ValueError:
            slug = ""
        if slug != topic_id:
            hint = f": write {slug!r}" if slug else ""
            raise TaxonomyError(source, f"{topic_id!r} is not a slug (lower-case words joined "
                                f"by '-'){hint}", label, "id")
        topics.append(Topic(topic_id, entry["name"].strip(),
                            _strings(entry.get("synonyms"), source, label, "synonyms"),
                            _strings(entry.get("phrases"), source, label, "phrases")))
    return Taxonomy(topics, source)


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """The taxonomy in `path` (TOML), or the customer-success default shipped with relgraph."""
    if path is None:
        resource = importlib.resources.files("connectors").joinpath(DEFAULT_TAXONOMY)
        text, source = resource.read_text(encoding="utf-8"), f"connectors/{DEFAULT_TAXONOMY}"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaxonomyError(source, f"cannot read the taxonomy: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(source, f"not valid TOML: {exc}") from None
    return parse_taxonomy(data, source)


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    return load_taxonomy()


DESCRIBE_COLUMNS = ("topic", "name", "weight", "matched", "hits")


def describe(text: str, taxonomy: Taxonomy | None = None,
             tags: Iterable[str] = ()) -> list[dict[str, str]]:
    """What `relgraph topics test "text"` prints: one row per topic the text would be tagged with.

    >>> for row in describe("Renewals: two renewals, one renewal date. Net Promoter Score!"):
    ...     print(" | ".join(row[c] for c in DESCRIBE_COLUMNS))
    renewal | Renewal | 0.79 | Renewal | Renewal ×2, renewal date
    nps | NPS | 0.5 | net promoter score | net promoter score
    """
    tax = taxonomy or default_taxonomy()
    rows = []
    for m in tax.topics_of(text, tags):
        hits = ", ".join(p if n == 1 else f"{p} ×{n}" for p, n in m.phrases)
        rows.append({"topic": m.topic_id, "name": m.name, "weight": f"{m.weight:g}",
                     "matched": m.matched, "hits": hits})
    return rows
