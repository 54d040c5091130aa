"""Reader for newsletter click and open exports (Mailchimp and a generic layout).

Three shapes load:
- the generic activity file, one click or open per row (also what Mailchimp's email-activity
  report gives through its API and the tools built on it: `email_address, action, timestamp,
  url`):

      email,url,action,timestamp
      ada@acme.com,https://acme.com/blog/crm-guide?utm_source=newsletter,click,2026-03-02 10:15:00
      ada@acme.com,,open,2026-03-02 10:14:00

- Mailchimp's per-campaign report exports ("Clicked" / "Opened" recipients, or the recipients of
  one link), with the audience's columns and a count, e.g.

      "Email Address","First Name","Last Name","Clicks",…,"MEMBER_RATING","OPTIN_TIME",…

  Which action: an `Action` column, else a Clicks/URL column (clicks) or an Opens column
  (opens), else "click"/"open" in the file name. Which moment: a time column (`Timestamp`,
  `Click Time`, `Open Time`, `Clicked At`, `Opened At`, `Date`), else `--observed-at` (the
  campaign's send time; the load stops before anything is read when neither exists). Which URL:
  a `URL`/`Link` column, else `url` in `--mapping` (a per-link export); without one, clicks are
  logged without a page. A row whose Clicks/Opens count is 0 did not click or open: it is skipped.

What it yields, per row: a `ProductEvent` of type `newsletter_click` (with its raw `url`; the
pipeline canonicalises it, turns the click into a READ with channel newsletter, and makes it an
Event node of its own with the URL in its properties, so the live feed shows it) or
`newsletter_open` (kept in the event log only: an open is not a read), named by the e-mail as
written (`PersonRef(email)`, a bad address is left for the resolver to reject), `id` =
`"clicks:"` + a hash of (e-mail, url, action, time as written), and the campaign, count and
action as written in `properties`. A `Node(Person)` with the name, the first time an e-mail with
a name appears. Times without a zone are read in `--timezone`. A row with an unknown action (a
bounce, an unsubscribe), no e-mail or a bad time is a `BadLine`.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "activity.csv"
    >>> _ = p.write_text("email,url,action,timestamp\\n"
    ...     "ada@acme.com,https://acme.com/crm-guide,click,2026-03-02 10:15:00\\n"
    ...     "ada@acme.com,,open,2026-03-02 10:14:00\\n"
    ...     "bob@acme.com,,bounce,2026-03-02 10:16:00\\n")
    >>> items = list(read(p, ReadContext("clicks")))
    >>> [(i.type, i.url) for i in items[:2]]
    [('newsletter_click', 'https://acme.com/crm-guide'), ('newsletter_open', None)]
    >>> items[0].person.email
    'ada@acme.com'
    >>> items[2].line, items[2].field, items[2].reason
    (4, 'action', "'bounce' is not a click or an open")
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.csvio import CsvFile, MissingColumns, Row
from connectors.errors import BadLine
from connectors.records import Node, ProductEvent, ReadItem, person_ref
from connectors.sniff import Header
from connectors.source import MissingOption, ReadContext, Source

PREFIX = "clicks:"
EMAIL = ("email", "Email Address", "E-mail", "email_address", "E-mail Address",
         "Subscriber Email")
URL = ("url", "Link", "Clicked URL", "Click URL", "Link URL")
ACTION = ("action", "Activity", "Event", "Event Type")
TIME = ("timestamp", "Click Time", "Open Time", "Clicked At", "Opened At", "Date", "Time",
        "Event Time")
CLICKS = ("Clicks", "Total Clicks", "Unique Clicks", "Click Count")
OPENS = ("Opens", "Total Opens", "Open Count")
FIRST, LAST, NAME = ("First Name", "FNAME"), ("Last Name", "LNAME"), ("Name", "Full Name")
CAMPAIGN = ("Campaign", "Campaign Title", "Campaign Name", "Subject", "campaign_id")

CLICK, OPEN = "newsletter_click", "newsletter_open"
_CLICK_WORDS = frozenset({"click", "clicked", "clicks"})
_OPEN_WORDS = frozenset({"open", "opened", "opens"})
_WORDS = re.compile(r"[\W_]+")


def action_type(text: str) -> str | None:
    """`newsletter_click` / `newsletter_open` for the ways tools write an action, else None.

    >>> action_type("Clicked"), action_type("email_opened"), action_type("bounce")
    ('newsletter_click', 'newsletter_open', None)
    """
    words = set(_WORDS.split(text.casefold()))
    click, opened = bool(words & _CLICK_WORDS), bool(words & _OPEN_WORDS)
    if click == opened:
        return None
    return CLICK if click else OPEN


class _Layout:
    """What the header says about the file: where the action, time and URL come from."""

    def __init__(self, f: CsvFile, ctx: ReadContext) -> None:
        self.f = f
        self.default_action: str | None = None
        if not f.has(ACTION[0]):
            stem = f.path.name.casefold()
            if f.has(CLICKS[0]) or f.has(URL[0]):
                self.default_action = CLICK
            elif f.has(OPENS[0]):
                self.default_action = OPEN
            elif "click" in stem and "open" not in stem:
                self.default_action = CLICK
            elif "open" in stem and "click" not in stem:
                self.default_action = OPEN
            else:
                raise MissingColumns(f.path, ["action (or a Clicks, URL or Opens column, or "
                                              "'clicked'/'opened' in the file name)"], f.header)
        self.fallback_time: datetime | None = ctx.observed_at
        if not f.has(TIME[0]):
            if ctx.observed_at is None:
                raise MissingOption(f"{f.path}: this export has no time column (Timestamp, "
                                    "Click Time, Open Time …): pass --observed-at with the "
                                    "campaign's send time")
            ctx.note(f"clicks: {f.path.name} has no time column; every row is dated "
                     f"--observed-at {ctx.observed_at.isoformat()}")
        mapping = ctx.mapping or {}
        url = mapping.get("url")
        self.fixed_url = str(url).strip() if url and not f.has(URL[0]) else None
        if self.default_action == CLICK and not f.has(URL[0]) and not self.fixed_url:
            ctx.note(f"clicks: {f.path.name} has no URL column (and no url in --mapping): its "
                     "clicks are logged without a page and make no READ")


def _open(path: Path) -> CsvFile:
    return CsvFile(path, required=(EMAIL,),
                   optional=(URL, ACTION, TIME, CLICKS, OPENS, FIRST, LAST, NAME, CAMPAIGN))


def read(path: Path | str, ctx: ReadContext) -> Iterator[ReadItem]:
    """Records lazily, row by row (header and options are checked before anything is yielded)."""
    f = _open(Path(path))
    layout = _Layout(f, ctx)
    return _read(layout, ctx)


def _read(layout: _Layout, ctx: ReadContext) -> Iterator[ReadItem]:
    named: set[str] = set()  # e-mails whose Person node was yielded (bounded by subscribers)
    for row in layout.f.rows():
        if isinstance(row, BadLine):
            yield row
            continue
        item = _row(layout, row, ctx)
        if item is None or isinstance(item, BadLine):
            if item is not None:
                yield item
            continue
        assert item.person is not None
        email = item.person.email or ""
        if item.person.name and email not in named:
            named.add(email)
            yield Node(item.person, {"name": item.person.name}, row.line)
        yield item


def _count(row: Row, columns: tuple[str, ...]) -> int | None:
    text = (row.get(columns[0]) or "").replace(",", "").strip()
    return int(text) if text.isascii() and text.isdecimal() else None


def _row(layout: _Layout, row: Row, ctx: ReadContext) -> ProductEvent | BadLine | None:
    f = layout.f
    email = row.get(EMAIL[0])
    if not email:
        return BadLine(f.path, row.line, EMAIL[0], "no e-mail address: who clicked?")
    written_action = row.get(ACTION[0])
    if f.has(ACTION[0]):
        kind = action_type(written_action or "")
        if kind is None:
            reason = (f"{written_action!r} is not a click or an open" if written_action
                      else "no action: is this a click or an open?")
            return BadLine(f.path, row.line, ACTION[0], reason)
    else:
        assert layout.default_action is not None
        kind = layout.default_action
    counts = {"clicks": _count(row, CLICKS), "opens": _count(row, OPENS)}
    if counts["clicks" if kind == CLICK else "opens"] == 0:
        return None  # a recipient listed with 0 clicks (or opens) did neither
    written_time = row.get(TIME[0])
    if written_time:
        try:
            at = ctx.clock.parse(written_time)
        except ValueError as exc:
            return BadLine(f.path, row.line, TIME[0], str(exc))
    elif layout.fallback_time is not None:
        at = layout.fallback_time
        written_time = at.isoformat()
    else:
        return BadLine(f.path, row.line, TIME[0], "no time: when was this? (or pass "
                       "--observed-at with the campaign's send time)")
    url = (row.get(URL[0]) or layout.fixed_url) if kind == CLICK else row.get(URL[0])
    name = row.get(NAME[0]) or " ".join(
        v for v in (row.get(FIRST[0]), row.get(LAST[0])) if v) or None
    key = "\x1f".join((email.strip().casefold(), url or "", kind, written_time))
    props: dict[str, Any] = {"action": written_action, "campaign": row.get(CAMPAIGN[0]),
                             **counts}
    return ProductEvent(
        PREFIX + hashlib.blake2b(key.encode("utf-8", "surrogateescape"),
                                 digest_size=16).hexdigest(),
        kind, at, person=person_ref(email, name), url=url,
        properties={k: v for k, v in props.items() if v is not None}, line=row.line)


# snapshot=True: `--observed-at` applies here (it dates the rows of an export without a time
# column, e.g. Mailchimp's "Opened" recipients of one campaign: the campaign's send time).
SOURCE = Source("clicks", read, "newsletter clicks and opens (Mailchimp exports or "
                "email,url,action,timestamp): events that become READs of the linked content",
                snapshot=True, what="a newsletter clicks or opens export", headers=(
                    Header("a newsletter clicks or opens export", EMAIL,
                           (*ACTION, *CLICKS, *OPENS, "Click Time", "Open Time", "Clicked At",
                            "Opened At")),
                    Header("a Mailchimp export", "Email Address",
                           ("MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LEID", "EUID"))))
