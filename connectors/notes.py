"""Reader for call and meeting notes kept in a plain CSV (a spreadsheet the team fills in, or
an export of a notes tool) — one row per conversation in which a customer said something.

Columns (names matched case-insensitively; aliases in brackets):

    email [E-mail, Email address, Contact email]   required: who said it
    date [When, Call date, Meeting date]           required: when
    note [Notes, Text, Body, Summary]              required: what was said
    name [Contact, Contact name], company [Organization, Account]
    channel [Type, Medium]      call (the default when empty), meeting, email, chat, survey,
                                social, ticket, or a common word for one ("phone", "Zoom",
                                "in person", "Slack" …); anything else rejects the row
    subject [Title], topics [Tags] (explicit topics, separated by ; | or commas)
    id [Note ID]                a stable id of the note; without it one is derived from the
                                e-mail, time and text, so re-loading the file adds nothing

Each row becomes a `Concern` keyed "notes:<id>" (or "notes:<hash>"), the person (by e-mail, as
written: a bad address is left for the resolver to reject) who RAISED it, their company as
employer when given, and a `Tag` of the note text with any explicit topics.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "notes.csv"
    >>> _ = p.write_text("email,name,company,date,channel,note\\n"
    ...                  "ada@acme.com,Ada,Acme,2024-03-05 10:00,Zoom,Worried about SSO pricing\\n")
    >>> company, person, works, concern, raised, tag = read(p, ReadContext("notes"))
    >>> concern.ref.key.startswith("notes:"), concern.props["channel"], raised.type
    (True, 'meeting', 'RAISED')
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.catalog import csv_rows, split_topics
from connectors.errors import BadLine
from connectors.funding import stable_id
from connectors.records import CompanyRef, KeyRef, Link, Node, ReadItem, Tag, person_ref
from connectors.sniff import Header
from connectors.source import ReadContext, Source
from connectors.zendesk import channel_of
from graph.schema import CONCERN_CHANNELS

DEFAULT_CHANNEL = "call"


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    rows = csv_rows(
        path,
        required=[("email", "E-mail", "Email address", "E-mail address", "Contact email"),
                  ("date", "When", "Call date", "Meeting date", "Date of call", "Created at"),
                  ("note", "Notes", "Text", "Body", "Summary", "Note text")],
        optional=[("name", "Contact", "Contact name", "Full name"),
                  ("company", "Organization", "Organisation", "Account", "Company name"),
                  ("channel", "Type", "Medium", "Kind"),
                  ("subject", "Title"), ("topics", "Tags"), ("id", "Note ID", "ID")],
    )
    allowed = ", ".join(sorted(CONCERN_CHANNELS))
    for row in rows:
        if isinstance(row, BadLine):
            yield row
            continue
        email, text = row["email"], row["note"]
        if not email:
            yield BadLine(path, row.line, "email", "no e-mail: whose note is this?")
            continue
        if not text:
            yield BadLine(path, row.line, "note", "no note text: nothing was said")
            continue
        try:
            at = ctx.clock.parse(row["date"])
        except ValueError as exc:
            yield BadLine(path, row.line, "date", str(exc))
            continue
        channel = channel_of(row["channel"]) if row["channel"] else DEFAULT_CHANNEL
        if channel is None:
            yield BadLine(path, row.line, "channel",
                          f"unknown channel {row['channel']!r}; allowed: {allowed} (or a word "
                          "for one, such as phone, Zoom, in person, Slack)")
            continue
        note_id = row["id"] or stable_id(email, at.isoformat(), text)
        concern = KeyRef("Concern", "notes:" + note_id)
        company_name = row["company"]
        company = CompanyRef(name=company_name) if company_name else None
        person = person_ref(email, row["name"], company=company)
        props: dict[str, Any] = {"text": text, "channel": channel, "at": at}
        if row["subject"]:
            props["subject"] = row["subject"]
        if company is not None:
            yield Node(company, {"name": company_name}, line=row.line)
        yield Node(person, {k: v for k, v in (("name", person.name), ("email", person.email))
                            if v}, line=row.line)
        if company is not None:
            yield Link("WORKS_AT", person, company, line=row.line)
        yield Node(concern, props, line=row.line)
        yield Link("RAISED", person, concern, line=row.line)
        tag_text = "\n\n".join(t for t in (row["subject"], text) if t)
        yield Tag(concern, text=tag_text, topics=split_topics(row["topics"]), line=row.line)


SOURCE = Source("notes", read, "call/meeting notes CSV (email, date, channel, note …) -> "
                "concerns raised by people, tagged with topics", what="a call notes CSV",
                headers=(Header("a call notes CSV", ("email", "E-mail", "Email address",
                                                     "Contact email"),
                                ("date", "When", "Call date", "Meeting date", "Date of call"),
                                ("note", "Notes", "Text", "Body", "Summary", "Note text")),))
