"""Feedback: what readers click in an issue flows back into the graph, and into the next ranking.

Every link to a story in an issue carries the issue's tracking parameters:

    https://acme.com/blog/churn?utm_source=roundup&utm_medium=email&utm_campaign=roundup-2026-11-27

(`utm_medium` is `email` in the e-mail and its Markdown and text, `web` on the archive pages,
`feed` in the Atom feed). They are the standard campaign parameters every sending tool and web
analytics tool reads, and `graph.keys.canonical_url` drops every `utm_*` parameter, so the
clicked URL and the story's Content node have the same key.

The sending tool's click export (Mailchimp's, or `email,url,action,timestamp`) loads with
`relgraph load clicks FILE` (connectors/clicks.py): each click is a `newsletter_click` event and
becomes a READ of that Content with channel `newsletter`. From then on "who read CRM content"
includes newsletter readers, and the next `relgraph roundup build` sees them in its audience
signal (graph/questions/interest.py): topics our contacts and customers clicked rank higher.

`campaign_of` reads the issue back from a clicked URL; `clicks_by_issue` counts an export's
clicks per issue and story (what the editor sees before loading it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from graph import keys

SOURCE, CAMPAIGN, MEDIUM = "utm_source", "utm_campaign", "utm_medium"
ROUNDUP = "roundup"
MEDIA = frozenset({"email", "web", "feed"})


def track(url: str, issue_id: str, medium: str = "email") -> str:
    """`url` with the issue's tracking parameters (any earlier utm_* replaced).

    >>> track("https://acme.com/p?id=7&utm_source=x#top", "roundup-2026-11-27")
    'https://acme.com/p?id=7&utm_source=roundup&utm_medium=email&utm_campaign=roundup-2026-11-27#top'
    """
    if medium not in MEDIA:
        raise ValueError(f"medium {medium!r}: one of {', '.join(sorted(MEDIA))}")
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]
    query += [(SOURCE, ROUNDUP), (MEDIUM, medium), (CAMPAIGN, issue_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def campaign_of(url: str) -> str | None:
    """The issue a tracked link belongs to, or None for a link of no roundup.

    >>> campaign_of("https://acme.com/p?utm_source=roundup&utm_campaign=roundup-2026-11-27")
    'roundup-2026-11-27'
    """
    params = dict(parse_qsl(urlsplit(url).query))
    if params.get(SOURCE) != ROUNDUP:
        return None
    return params.get(CAMPAIGN) or None


def clicks_by_issue(urls: Iterable[str]) -> Counter[tuple[str, str]]:
    """(issue id, story key) -> clicks, for the roundup links among `urls`."""
    found: Counter[tuple[str, str]] = Counter()
    for url in urls:
        issue = campaign_of(url)
        if issue is None:
            continue
        try:
            found[(issue, keys.canonical_url(url))] += 1
        except ValueError:
            continue
    return found
