"""Reader for Zendesk Support ticket exports (Admin Center > Reports > Export > CSV, or an
Explore report of tickets exported to CSV).

Columns used (names matched case-insensitively; aliases in brackets; Zendesk's other columns —
Summation column, Submitter, Assignee, Group, Priority, Ticket type, Updated at … — are ignored):

    Id [Ticket ID]                              required
    Subject [Ticket subject]                    required
    Created at [Ticket created - Timestamp]     required: 2024-03-05 14:22:10 +0000, ISO 8601,
                                                or without a zone (read in --timezone)
    Description [Ticket description]            the first comment, when the export has it
    Requester [Requester name], Requester email, Requester id, Organization
    Status, Tags (space- or comma-separated), Via [Channel, Ticket channel], URL [Ticket URL]
    Solved at [Ticket solved - Timestamp]       when it was solved (read like Created at)
    Updated at [Ticket updated - Timestamp]     when it last changed: the moment of a solved or
                                                closed ticket whose export has no Solved at

Each ticket becomes a `Concern` keyed "zendesk:<Id>" (text = subject and description, subject,
channel, created time, status in lower case — new, open, pending, hold or on-hold, solved,
closed —, when it was solved, url; a concern is open until it is solved or closed, see
graph/questions/entities.py, and a later export's load brings its status up to date), the
requester as a `Person` (e-mail as written, and "zendesk:<Requester id>" as source key when the
export has it; their Organization as employer) who RAISED it, and a `Tag` of the text with the
ticket's tags as explicit topics. The channel comes from "Via": Mail -> email, Chat/Messaging ->
chat, Phone/Voice -> call, Twitter/Facebook … -> social, anything else (Web form, API, Help
Center …) -> ticket. A ticket whose requester has neither an e-mail nor an id still loads as a
Concern (counted in a note). Quoted descriptions over several lines are one row, reported at the
line the row starts on.

A solved or closed ticket is also an interaction of its own for timelines and the live feed: an
`Event` keyed "zendesk:<Id>:solved" of type `concern_solved`, at the ticket's Solved at (else its
Updated at; a solved ticket with neither is counted in a note and makes no Event), with the
concern's key, subject and url in its properties, which the requester PERFORMED (it is
their concern that was solved). One per ticket: a later export of the same ticket changes it and
makes no second one, whichever export is loaded first, and an earlier export where the ticket is
still open adds nothing to it.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tickets.csv"
    >>> _ = p.write_text('Id,Requester,Requester email,Subject,Description,Status,Via,Tags,'
    ...                  'Created at,Organization\\n'
    ...                  '4711,Ada Lovelace,ada@acme.com,Export fails,"CSV export\\ntimes out",'
    ...                  'open,Mail,export bug,2024-03-05 14:22:10 +0000,Acme\\n')
    >>> items = list(read(p, ReadContext("zendesk")))
    >>> [type(i).__name__ for i in items]
    ['Node', 'Node', 'Link', 'Node', 'Link', 'Tag']
    >>> concern = items[3]
    >>> concern.ref.key, concern.props["channel"], concern.props["text"]
    ('zendesk:4711', 'email', 'Export fails\\n\\nCSV export\\ntimes out')
    >>> items[4].type, items[5].topics
    ('RAISED', ('export', 'bug'))
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.catalog import csv_rows
from connectors.errors import BadLine
from connectors.records import (
    CompanyRef,
    KeyRef,
    Link,
    Node,
    PersonRef,
    ReadItem,
    Tag,
    person_ref,
)
from connectors.sniff import Header
from connectors.source import ReadContext, Source
from graph.schema import CONCERN_CHANNELS

SOLVED = "concern_solved"  # the type of the Event a solved or closed ticket makes
_DONE = frozenset({"solved", "closed"})

# Words in a channel name ("Phone call (incoming)", "Facebook post", "Native messaging") -> the
# schema's concern channel. Checked in this order; the first word found wins.
_CHANNEL_WORDS = (
    ("email", ("mail", "email", "e-mail")),
    ("chat", ("chat", "messaging", "whatsapp", "messenger", "slack", "sms", "line", "wechat",
              "intercom", "livechat")),
    ("call", ("phone", "voice", "voicemail", "call", "calls", "telephone", "zoom call")),
    ("meeting", ("meeting", "meetings", "zoom", "teams", "meet", "in person", "in-person",
                 "visit", "demo", "workshop", "video")),
    ("social", ("twitter", "x", "facebook", "instagram", "linkedin", "social", "tweet",
                "youtube", "reddit", "tiktok")),
    ("survey", ("survey", "nps", "csat", "feedback form", "satisfaction")),
    ("ticket", ("ticket", "web", "form", "api", "help", "center", "portal", "widget", "closed",
                "sharing", "mobile", "sdk", "rule", "automation", "system", "email-to-ticket")),
)
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)?")


def channel_of(text: str | None) -> str | None:
    """The schema's concern channel for a channel as a tool writes it; None when unknown.

    >>> channel_of("Phone call (incoming)"), channel_of("Mail"), channel_of("Web Form")
    ('call', 'email', 'ticket')
    >>> channel_of("carrier pigeon") is None
    True
    """
    raw = (text or "").strip().casefold()
    if not raw:
        return None
    if raw in CONCERN_CHANNELS:
        return raw
    words = _WORDS.findall(raw)
    phrases = set(words) | {" ".join(pair) for pair in zip(words, words[1:], strict=False)}
    for channel, names in _CHANNEL_WORDS:
        if any(name in phrases for name in names):
            return channel
    return None


def split_tags(text: str | None) -> tuple[str, ...]:
    """Zendesk tags: separated by spaces or commas; repeats dropped."""
    seen: dict[str, str] = {}
    for tag in re.split(r"[\s,;]+", text or ""):
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return tuple(seen.values())


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    rows = csv_rows(
        path,
        required=[("Id", "Ticket ID", "Ticket Id", "ID"),
                  ("Subject", "Ticket subject"),
                  ("Created at", "Ticket created - Timestamp", "Created", "Created At",
                   "Ticket created - Date", "Date created")],
        optional=[("Description", "Ticket description", "First comment", "Comment"),
                  ("Requester", "Requester name", "Ticket requester"),
                  ("Requester email", "Requester e-mail", "Requester email address"),
                  ("Requester id", "Requester ID"),
                  ("Organization", "Organization name", "Requester organization",
                   "Ticket organization name"),
                  ("Status", "Ticket status"), ("Tags", "Ticket tags"),
                  ("Via", "Channel", "Ticket channel", "Source"),
                  ("URL", "Ticket URL", "Link"),
                  ("Solved at", "Ticket solved - Timestamp", "Solved", "Date solved"),
                  ("Updated at", "Ticket updated - Timestamp", "Updated", "Updated At",
                   "Date updated")],
    )
    anonymous = undated = 0
    for row in rows:
        if isinstance(row, BadLine):
            yield row
            continue
        ticket_id = row["Id"].lstrip("#").strip()
        if not ticket_id:
            yield BadLine(path, row.line, "Id", "no ticket id")
            continue
        subject, description = row["Subject"], row["Description"]
        text = "\n\n".join(t for t in (subject, description) if t)
        if not text:
            yield BadLine(path, row.line, "Subject", "no subject or description: nothing was "
                          "said")
            continue
        try:
            at = ctx.clock.parse(row["Created at"])
        except ValueError as exc:
            yield BadLine(path, row.line, "Created at", str(exc))
            continue
        solved_at = None
        if row["Solved at"]:
            try:
                solved_at = ctx.clock.parse(row["Solved at"])
            except ValueError as exc:
                yield BadLine(path, row.line, "Solved at", str(exc))
                continue
        status = row["Status"].casefold() if row["Status"] else None
        done_at = solved_at
        if status in _DONE and done_at is None and row["Updated at"]:
            try:
                done_at = ctx.clock.parse(row["Updated at"])
            except ValueError as exc:
                yield BadLine(path, row.line, "Updated at", str(exc))
                continue
        concern = KeyRef("Concern", "zendesk:" + ticket_id)
        props: dict[str, Any] = {"text": text, "channel": channel_of(row["Via"]) or "ticket",
                                 "at": at}
        if subject:
            props["subject"] = subject
        if status:
            props["status"] = status
        if solved_at is not None:
            props["solved_at"] = solved_at
        if row["URL"]:
            props["url"] = row["URL"]
        organization = row["Organization"]
        company = CompanyRef(name=organization) if organization else None
        requester_id = row["Requester id"]
        person: PersonRef | None = person_ref(
            row["Requester email"], row["Requester"],
            source_key=f"zendesk:{requester_id}" if requester_id else None, company=company)
        if person is not None and person.email is None and person.source_key is None:
            person = None
            anonymous += 1
        if person is not None:
            if company is not None:
                yield Node(company, {"name": organization}, line=row.line)
            yield Node(person, {k: v for k, v in (("name", person.name),
                                                  ("email", person.email)) if v},
                       line=row.line)
            if company is not None:
                yield Link("WORKS_AT", person, company, line=row.line)
        yield Node(concern, props, line=row.line)
        if person is not None:
            yield Link("RAISED", person, concern, line=row.line)
        yield Tag(concern, text=text, topics=split_tags(row["Tags"]), line=row.line)
        if status in _DONE:
            if done_at is None:
                undated += 1
                continue
            solved = KeyRef("Event", f"{concern.key}:solved")
            # Solved and closed are one moment to the feed (Zendesk closes a solved ticket
            # days later): not in the properties, so either export makes the same Event.
            yield Node(solved, {"type": SOLVED, "at": done_at, "properties": {
                k: v for k, v in (("concern", concern.key), ("subject", subject),
                                  ("url", row["URL"])) if v}},
                line=row.line)
            if person is not None:
                yield Link("PERFORMED", person, solved, line=row.line)
    if anonymous:
        ctx.note(f"{path.name}: {anonymous} ticket(s) had no requester e-mail or id; they were "
                 "loaded as concerns raised by no one")
    if undated:
        ctx.note(f"{path.name}: {undated} solved or closed ticket(s) had no Solved at or "
                 "Updated at time; they are not in the customer feed as solved")


SOURCE = Source("zendesk", read, "Zendesk ticket export CSV -> concerns raised by requesters, "
                "tagged with topics", what="a Zendesk tickets export", headers=(Header(
                    "a Zendesk tickets export", ("Id", "Ticket ID"), ("Subject", "Ticket subject"),
                    ("Created at", "Ticket created - Timestamp", "Created", "Ticket created - Date",
                     "Date created")),))
