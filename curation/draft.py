"""Drafting an issue: the week's candidates ranked, the best of each section picked, every item
with a blurb and a suggested verdict the editor can keep or rewrite.

- **Window**: from `--since`, else the end of the last published issue's window, else 7 days
  before the issue's date; to the end of the issue's date, or now when that is earlier.
- **Candidates**: `curation.candidates.candidates` (the feeds half: one per story, never one an
  earlier published issue featured — checked again here).
- **Ranking**: `curation.rank` with the graph signal asked for the window's last
  `INTEREST_WINDOW` (our contacts' and customers' reads and concerns).
- **Picks**: the best `per_section` of each section (by source kind: 5 from the companies and
  pontificators, 5 from the vendors, 2 from us by default), in ranking order, among the
  stories about at least one topic of the taxonomy. Every other candidate stays in the issue,
  unpicked, with its number, blurb and verdict ready.
- **Blurb** (`draft_blurb`): from the summary, else the text of the entry's content; feed
  boilerplate dropped ("The post … appeared first on …", "Continue reading"), cut to whole
  sentences (up to 3 and about 300 characters; a first sentence longer than 400 is cut at a word
  with "…"), and led by who wrote it where — "From Acme's blog, Jane Roe writes: …" — unless
  the sentences name them already.
- **Verdict** (`suggest_verdict`): "Love it." for the best of each section and for stories our
  audience is clearly into (at least half the audience part); "Read it." otherwise.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from connectors.feed import html_to_text
from connectors.tagging import Taxonomy, default_taxonomy
from curation import issues as issue_store
from curation.errors import CurationError, NothingToDraft
from curation.issues import Issue, Item, day_start, now_utc
from curation.model import Candidate, IssueStatus, Ranked, SourceKind
from curation.rank import Weights, audience_interest, rank
from graph.store import GraphStore

FIRST_ISSUE_WINDOW = timedelta(days=7)
PER_SECTION: Mapping[SourceKind, int] = {SourceKind.COMPANY: 5, SourceKind.VENDOR: 5,
                                         SourceKind.OURS: 2}
MAX_SENTENCES = 3
BLURB_CHARS = 300  # sentences are added while the blurb stays within this
LONG_SENTENCE = 400  # a first sentence longer than this is cut at a word
LOVE_IT, READ_IT = "Love it.", "Read it."

_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "inc", "ltd", "co", "corp", "vs", "etc", "e.g", "i.e",
    "st", "jr", "sr", "no", "fig", "approx", "dept", "est", "u.s", "u.k", "a.m", "p.m"})
_END = re.compile(r"([.!?…]+)([\"'”’)\]]*)(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
_BOILERPLATE = re.compile(
    r"^(the post .+ appeared first on .+|continue reading\b.*|read more\b.*|"
    r"read the (full|rest|whole)\b.*|click here\b.*|\[?(…|\.\.\.)\]?)$", re.IGNORECASE)
_TRAILER = re.compile(r"\s*(\[(…|\.\.\.|&hellip;)\]|\[\s*read more\s*\])\s*$", re.IGNORECASE)
# WordPress's "The post <title> appeared first on <site>." as one phrase wherever it stands: a
# title with a full stop inside ("… indicator. Here's how …") would split it into two sentences.
_WORDPRESS = re.compile(r"\s*\bThe post (?:(?!\bThe post ).){1,400}? appeared first on "
                        r".{1,100}?\.(?=\s|$)", re.IGNORECASE)
_EMAIL_NAME = re.compile(r"^\S+@\S+\s*\((?P<name>[^)]+)\)$")  # RSS: "jane@x.org (Jane Roe)"
_NOBODY = frozenset({"admin", "administrator", "editor", "staff", "team", "guest", "webmaster",
                     "unknown", "author"})


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text: ends at . ! ? … (and closing quotes) followed by a capital or a
    digit, but not after an abbreviation or an initial ("J. Smith").

    >>> split_sentences("Dr. Who met J. R. Smith at 3 p.m. Today. Really?! Yes: 2 of them.")
    ['Dr. Who met J. R. Smith at 3 p.m. Today.', 'Really?!', 'Yes: 2 of them.']
    """
    text = " ".join(text.split())
    sentences, start = [], 0
    for m in _END.finditer(text):
        before = text[start:m.start()].rsplit(" ", 1)[-1].casefold()
        if m.group(1) == "." and (before.rstrip(".") in _ABBREVIATIONS
                                  or (len(before) == 1 and before.isalpha())):
            continue
        sentences.append(text[start:m.end(2)].strip())
        start = m.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return [s for s in sentences if s]


def _whole(sentence: str) -> bool:
    return sentence.rstrip("\"'”’)]").endswith((".", "!", "?", "…"))


def clean_author(author: str | None) -> str | None:
    """A person's name fit for a blurb: "jane@x.org (Jane Roe)" -> "Jane Roe"; bare e-mail
    addresses and role names ("admin") -> None."""
    if not author:
        return None
    text = " ".join(author.split())
    m = _EMAIL_NAME.match(text)
    if m:
        text = m.group("name").strip()
    if "@" in text or text.casefold() in _NOBODY or not text:
        return None
    return text


def attribution(author: str | None, outlet: str | None) -> str:
    """The words that lead a blurb and name who wrote it where."""
    author = clean_author(author)
    outlet = " ".join(outlet.split()) if outlet else None
    if author and outlet and author.casefold() == outlet.casefold():
        author = None  # a feed that names itself as the author
    if author and outlet:
        return f"From {outlet}, {author} writes: "
    if author:
        return f"{author} writes: "
    if outlet:
        return f"From {outlet}: "
    return ""


def draft_blurb(candidate: Candidate, text: str | None = None) -> str:
    """A blurb from the summary (or `text`, the entry's full text): whole sentences, led by the
    author and outlet (those the sentences do not name already)."""
    body = _WORDPRESS.sub("", " ".join((text if text is not None else candidate.summary).split()))
    body = _TRAILER.sub("", body)
    sentences = [s for s in split_sentences(body) if not _BOILERPLATE.match(s)]
    whole = [s for s in sentences if _whole(s)]
    chosen: list[str] = []
    for sentence in whole:
        if chosen and (len(chosen) >= MAX_SENTENCES
                       or len(" ".join([*chosen, sentence])) > BLURB_CHARS):
            break
        chosen.append(sentence)
    if not chosen and sentences:
        chosen = [sentences[0].rstrip(" ,;:-–—") + "…"]  # only a fragment: say it is cut
    lead = " ".join(chosen)
    if len(lead) > LONG_SENTENCE:
        cut = lead[:LONG_SENTENCE].rsplit(" ", 1)[0].rstrip(" ,;:-–—.…")
        lead = cut + "…"
    if not lead:
        lead = f"{candidate.title}."
    author, outlet = clean_author(candidate.author), candidate.outlet
    folded = lead.casefold()
    if author and author.casefold() in folded:
        author = None
    if outlet and outlet.casefold() in folded:
        outlet = None
    prefix = attribution(author, outlet)
    if prefix and lead[:1].islower() and not prefix.endswith(": "):
        lead = lead[:1].upper() + lead[1:]
    return prefix + lead


def suggest_verdict(ranked: Ranked, best_of_section: bool, weights: Weights | None = None) -> str:
    w = weights or Weights()
    audience = next((r.value for r in ranked.reasons if r.name == "audience"), 0.0)
    if best_of_section or audience >= w.audience / 2:
        return LOVE_IT
    return READ_IT


def title_for(name: str, day: date) -> str:
    """"What's new in Customer Success – Friday, November 27th"."""
    n = day.day
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{name} – {day.strftime('%A, %B')} {n}{suffix}"


def window(db: sqlite3.Connection, day: date, since: datetime | None,
           now: datetime) -> tuple[datetime, datetime]:
    until = min(day_start(day + timedelta(days=1)), now)
    if since is None:
        last = issue_store.last_published(db)
        since = last.until if last is not None else day_start(day) - FIRST_ISSUE_WINDOW
    if since.tzinfo is None:
        raise CurationError("--since must carry a timezone (e.g. 2026-11-20T00:00:00Z)")
    if since >= until:
        raise CurationError(f"the window from {since.isoformat()} to {until.isoformat()} is "
                            "empty: give an earlier --since or a later --date")
    return since, until


def _full_text(db: sqlite3.Connection, candidate: Candidate) -> str | None:
    """The text of the entry's content, when its summary is empty."""
    if candidate.summary.strip() or not candidate.entry_ids:
        return None
    marks = ",".join("?" * len(candidate.entry_ids))
    for (html,) in db.execute(f"SELECT content_html FROM entries WHERE id IN ({marks}) AND "
                              "content_html IS NOT NULL", candidate.entry_ids):
        text = html_to_text(html)
        if text:
            return text
    return None


@dataclass(frozen=True, slots=True)
class Built:
    issue: Issue
    ranked: tuple[Ranked, ...]
    items: tuple[Item, ...]


def build(db: sqlite3.Connection, store: GraphStore | None, *, day: date | None = None,
          since: datetime | None = None, candidates: Sequence[Candidate] | None = None,
          who: str, now: datetime | None = None, name: str = "What's new",
          intro: str = "", taxonomy: Taxonomy | None = None,
          per_section: Mapping[SourceKind, int] | None = None,
          weights: Weights | None = None, data_dir: Path | None = None) -> Built:
    """A new draft issue for `day` (default today). Without `candidates` they are found by
    `curation.candidates` (which writes them into the graph, with `data_dir`'s event log).
    `store` None: ranked without the graph signal (the audience reason says so). With nothing
    new to offer (no candidate, or only ones a published issue featured), `NothingToDraft` and
    no draft."""
    now = now or now_utc()
    day = day or now.date()
    since, until = window(db, day, since, now)
    tax = taxonomy or default_taxonomy()
    if candidates is None:
        from curation.candidates import candidates as find

        if store is None:
            raise CurationError("finding the candidates needs the graph store")
        candidates = find(db, store, since=since, until=until, data_dir=data_dir, taxonomy=tax)
    done = issue_store.featured(db)
    fresh = [c for c in candidates if c.content_id not in done]
    if not fresh:
        said = f" ({len(candidates)} featured in a published issue already)" if candidates else ""
        raise NothingToDraft(
            f"no candidate from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC{said}: no "
            "draft made. `relgraph roundup fetch` first, or a wider --since")
    interest = (audience_interest(store, fresh, as_of=until, taxonomy=tax)
                if store is not None else None)
    ranked = rank(fresh, as_of=until, interest=interest, taxonomy=tax, weights=weights)
    limits = {**PER_SECTION, **(per_section or {})}
    issue = Issue(issue_store.new_issue_id(db, day), day, since, until, IssueStatus.DRAFT,
                  title_for(name, day), intro, None, None, now)
    taken: dict[SourceKind, int] = dict.fromkeys(SourceKind, 0)
    made = []
    for number, r in enumerate(ranked, 1):
        c = r.candidate
        relevant = any(x.name == "relevance" and x.value > 0 for x in r.reasons)
        picked = relevant and taken[c.kind] < limits.get(c.kind, 0)
        best = picked and taken[c.kind] == 0
        if picked:
            taken[c.kind] += 1
        made.append(Item(
            issue.id, c.content_id, number, c.kind, taken[c.kind] if picked else 0, picked,
            draft_blurb(c, _full_text(db, c)),
            suggest_verdict(r, best_of_section=best, weights=weights), r.score, r.reasons,
            c.title, c.url, c.author, c.outlet, c.published_at, c.summary, c.topics, c.sources,
            c.source_weight))
    issue_store.insert(db, issue, made, who=who)
    return Built(issue, tuple(ranked), tuple(made))

