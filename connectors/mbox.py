"""Reader for mbox mailboxes (Gmail Takeout, Thunderbird, Apple Mail, `mutt`): who our team e-mails.

An mbox file is messages one after another, each starting with a "From " separator line
(`From ada@acme.com Thu Mar 14 10:00:00 2024`), then the message's headers, a blank line and the
body. Only the headers From, To, Cc and Date are read; bodies are skipped as they stream past and
never stored. The file is split message by message as it is read (not with `mailbox.mbox`, which
indexes the whole file): a "From " line starts a message when it follows a blank line (or is the
file's first line) and the next line is a header, or when it has the separator's own shape
(address, then an asctime date); body lines quoted as ">From " (mboxrd/mboxo) never split.

What it yields, once the whole file is read (interactions are added up per pair of people, in
memory bounded by the number of pairs):
- `Node(Person)` for every team member and correspondent in a counted pair (e-mail, the latest
  display name, RFC 2047-decoded: "=?utf-8?q?Jos=C3=A9?=" is "José");
- one `Link("KNOWS", team member, other person)` per pair with `source` "email", `emails` (sent by
  the team member to them + received from them), `reciprocal` (both directions seen), `since`
  (first e-mail), `last_interaction` (latest e-mail), `strength` (below), `line` = the "From "
  line of the latest e-mail, and `observed_at` = the reference moment below.

Only pairs of (team member, other person) count: our team is `ctx.team` plus `--owner`. A message
from a team member counts once for each outside recipient (To/Cc); a message from an outsider
counts for each team member among its recipients. Two outsiders on one thread are not KNOWS, and
neither are two team members. Skipped, with a note: automated mail (a sender or recipient like
noreply@, no-reply@, mailer-daemon@, postmaster@, notifications@, bounces@, newsletter@; messages
with List-Unsubscribe or List-Id headers, `Precedence: bulk/list/junk`, or `Auto-Submitted` other
than "no"), and broadcasts with more than 50 recipients. Duplicate copies of a message (the same
Message-ID twice) are not detected: that would need memory per message.

Strength, in [0, 1], rounded to 3 decimals (`strength`)::

    s = (1 − e^(−volume / 10)) × reciprocity × 2^(−age_days / 90)

    volume      = emails + 3 × meetings          (10 e-mails ≈ 0.63, 30 ≈ 0.95)
    reciprocity = 1.0 if both directions were seen (meetings count as both), else 0.5
                  (one-way mail: newsletters, cold outreach, unanswered asks)
    age_days    = days from the last interaction to the reference moment (half-life 90 days)

The reference moment is `--observed-at` if given, else the latest interaction in the file, never
the clock of the load: loading the same file again gives the same strengths.

Malformed messages (no sender, a Date that is not a date, headers cut by the end of the file, a
header block over 1 MiB) are `BadLine`s naming the message's "From " line; the rest loads. A
message without a Date header takes the date of its "From " line. A file whose first line is not a
"From " line is not an mbox (`UnreadableFile`, before anything is read).

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> from connectors.records import PersonRef
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sent.mbox"
    >>> _ = p.write_bytes(b"From me@ours.io Mon Mar  4 09:00:00 2024\\n"
    ...     b"From: Me <me@ours.io>\\nTo: =?utf-8?q?Jos=C3=A9?= <jose@client.com>\\n"
    ...     b"Date: Mon, 04 Mar 2024 09:00:00 +0000\\n\\nHello\\n\\n"
    ...     b"From jose@client.com Tue Mar  5 10:00:00 2024\\n"
    ...     b"From: jose@client.com\\nTo: me@ours.io\\nDate: Tue, 05 Mar 2024 10:00:00 +0000\\n\\n"
    ...     b">From the desk of Jose: thanks!\\n")
    >>> ctx = ReadContext("mbox", owner=PersonRef(email="me@ours.io"))
    >>> people, knows = [], []
    >>> for r in read(p, ctx):
    ...     (people if isinstance(r, Node) else knows).append(r)
    >>> [(r.ref.email, r.props.get("name"), r.line) for r in people]
    [('jose@client.com', 'José', 1), ('me@ours.io', 'Me', 1)]
    >>> [(k.type, k.line, k.props["emails"], k.props["reciprocal"], k.props["strength"])
    ...  for k in knows]
    [('KNOWS', 8, 2, True, 0.181)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from connectors.errors import BadLine, UnreadableFile
from connectors.records import Link, Node, PersonRef, ReadItem
from connectors.source import MissingOption, ReadContext, Source
from graph.keys import normalise_email

# --- strength (shared with connectors/ics.py) ----------------------------------------------------

VOLUME_SCALE = 10.0  # volume at which the volume factor reaches 1 − 1/e ≈ 0.63
MEETING_WEIGHT = 3  # one meeting weighs as much as three e-mails
ONE_WAY = 0.5  # reciprocity factor when only one direction was seen
HALF_LIFE_DAYS = 90.0
MAX_PARTICIPANTS = 50  # more recipients/attendees: a broadcast, not a relationship


def strength(emails: int, meetings: int, reciprocal: bool, age_days: float) -> float:
    """The KNOWS strength formula (module docstring).

    >>> strength(10, 0, True, 0), strength(10, 0, False, 0), strength(10, 0, True, 90)
    (0.632, 0.316, 0.316)
    >>> strength(0, 3, True, 0), strength(0, 0, False, 0), strength(500, 50, True, -5)
    (0.593, 0.0, 1.0)
    """
    volume = emails + MEETING_WEIGHT * meetings
    value = (1.0 - math.exp(-volume / VOLUME_SCALE)) * (1.0 if reciprocal else ONE_WAY)
    value *= 2.0 ** (-max(0.0, age_days) / HALF_LIFE_DAYS)
    return round(min(1.0, max(0.0, value)), 3)


_AUTOMATED = re.compile(
    r"(?:^|[._+-])(?:no-?reply|do-?not-?reply|mailer-?daemon|postmaster|notifications?|"
    r"bounces?|newsletters?)(?:$|[._+-])")


def automated_address(address: str) -> bool:
    """noreply@, no-reply@, mailer-daemon@, notifications@ … (by the local part)."""
    return bool(_AUTOMATED.search(address.rpartition("@")[0].lower()))


def team_of(ctx: ReadContext) -> frozenset[str]:
    """`ctx.team` plus the owner's e-mail; MissingOption if that leaves nobody."""
    team = set(ctx.team)
    if ctx.owner is not None:
        raw = ctx.owner.email or ""
        try:
            team.add(normalise_email(raw))
        except ValueError:
            raise MissingOption(f"--owner {raw or ctx.owner.source_key!r} is not an e-mail "
                                "address: pass --owner EMAIL (whose mailbox or calendar this "
                                "is)") from None
    if not team:
        raise MissingOption(f"`relgraph load {ctx.source}` needs to know who our team is: pass "
                            "--owner EMAIL, or add team members with `relgraph team add`")
    return frozenset(team)


def person_key(address: str) -> str:
    """The aggregation key of an address: normalised e-mail, else the raw text lower-cased (an
    invalid address is passed through for the resolver to reject, naming the line)."""
    try:
        return normalise_email(address)
    except ValueError:
        return address.strip().lower()


@dataclass
class _Person:
    email: str  # as first written in the file
    name: str | None
    line: int


@dataclass
class _Pair:
    first: datetime
    last: datetime
    line: int  # of the last interaction
    sent: int = 0
    received: int = 0
    meetings: int = 0


class Interactions:
    """Interactions between our team and other people, added up per pair, for KNOWS."""

    def __init__(self, ctx: ReadContext, source: str) -> None:
        self.ctx = ctx
        self.source = source  # "email" or "calendar"
        self.team = team_of(ctx)
        self.people: dict[str, _Person] = {}
        self.pairs: dict[tuple[str, str], _Pair] = {}  # (team key, other key)
        self.latest: datetime | None = None

    def person(self, address: str, name: str | None, line: int) -> str | None:
        """Remember someone (and their latest display name); their key, or None to skip them."""
        address = address.strip()
        if not address or automated_address(address):
            return None
        key = person_key(address)
        name = _clean_name(name, address)
        known = self.people.get(key)
        if known is None:
            self.people[key] = _Person(address, name, line)
        elif name:
            known.name = name
        return key

    def is_team(self, key: str) -> bool:
        return key in self.team

    def _touch(self, team: str, other: str, at: datetime, line: int) -> _Pair:
        pair = self.pairs.get((team, other))
        if pair is None:
            pair = self.pairs[(team, other)] = _Pair(at, at, line)
        if at < pair.first:
            pair.first = at
        if at >= pair.last:
            pair.last, pair.line = at, line
        if self.latest is None or at > self.latest:
            self.latest = at
        return pair

    def email(self, sender: str, recipients: Iterable[str], at: datetime, line: int) -> bool:
        """One message; True if it involved a (team member, other person) pair."""
        counted = False
        if self.is_team(sender):
            for other in set(recipients):
                if other != sender and not self.is_team(other):
                    self._touch(sender, other, at, line).sent += 1
                    counted = True
        else:
            for member in set(recipients):
                if self.is_team(member):
                    self._touch(member, sender, at, line).received += 1
                    counted = True
        return counted

    def meeting(self, participants: Iterable[str], at: datetime, line: int) -> bool:
        """One meeting; every team member present meets every other participant present."""
        people = set(participants)
        members = [p for p in people if self.is_team(p)]
        others = [p for p in people if not self.is_team(p)]
        for member in members:
            for other in others:
                self._touch(member, other, at, line).meetings += 1
        return bool(members and others)

    def reference(self) -> datetime | None:
        """The moment strengths are computed at: --observed-at, else the latest interaction."""
        if self.ctx.observed_at is not None:
            self.ctx.note(f"strength computed at {self.ctx.observed_at.isoformat()} "
                          "(--observed-at)")
            return self.ctx.observed_at
        if self.latest is not None:
            self.ctx.note(f"strength computed at {self.latest.isoformat()}: the latest "
                          "interaction in the file (pass --observed-at to choose the moment)")
        return self.latest

    def records(self, path: Path, reference: datetime | None = None) -> Iterator[ReadItem]:
        """Person nodes, then one KNOWS per pair (sorted, so output is stable), with strengths
        at `reference` (default: `self.reference()`)."""
        reference = reference or self.reference()
        if reference is None:
            self.ctx.note(f"{path.name}: no interaction between our team and others")
            return
        used = sorted({k for pair in self.pairs for k in pair})
        refs = {}
        for key in used:
            person = self.people[key]
            email = key if self.is_team(key) else person.email
            refs[key] = PersonRef(email=email, name=person.name)
            yield Node(refs[key], {"name": person.name} if person.name else {}, line=person.line)
        for (member, other), pair in sorted(self.pairs.items()):
            emails = pair.sent + pair.received
            reciprocal = (pair.sent > 0 and pair.received > 0) or pair.meetings > 0
            age = (reference - pair.last).total_seconds() / 86400
            props: dict[str, object] = {"source": self.source}
            if self.source == "email":
                props["emails"] = emails
            else:
                props["meetings"] = pair.meetings
            props.update(reciprocal=reciprocal, since=pair.first, last_interaction=pair.last,
                         strength=strength(emails, pair.meetings, reciprocal, age))
            yield Link("KNOWS", refs[member], refs[other], props, line=pair.line,
                       observed_at=reference)


def _clean_name(name: str | None, address: str) -> str | None:
    name = " ".join((name or "").split()).strip("'\" ")
    if not name or "@" in name or name.lower() == address.lower():
        return None
    return name


# --- reading the mbox ----------------------------------------------------------------------------

MAX_LINE = 1 << 16  # longer lines are cut (headers never need more; bodies are skipped)
MAX_HEADER = 1 << 20
_SEPARATOR = re.compile(
    rb"^From \S+ +(?:[A-Za-z]{3},? +)?[A-Za-z]{3} +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})?"
    rb"(?: +(?:[+-]\d{4}|[A-Z]{2,5}))? +\d{4}\s*$")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_BULK = frozenset({"bulk", "list", "junk"})


def _lines(f: BinaryIO) -> Iterator[bytes]:
    """The file's lines, each cut at MAX_LINE bytes (the rest of a longer line is skipped)."""
    while True:
        line = f.readline(MAX_LINE)
        if not line:
            return
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            while True:  # skip to the end of this over-long line
                rest = f.readline(MAX_LINE)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def _decode(raw: bytes) -> str:
    """Headers are ASCII, or UTF-8 (RFC 6532); legacy 8-bit headers are read as Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _unfold(value: str) -> str:
    return " ".join(value.split())


def decode_words(text: str) -> str:
    """RFC 2047 encoded words decoded ("=?utf-8?q?Jos=C3=A9?=" -> "José"); left as is if bad."""
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError, AssertionError):
        return text


def addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, address) of every address in the named headers, names decoded."""
    values = []
    for name in names:
        values += [_unfold(str(v)) for v in msg.get_all(name) or []]
    if not values:
        return []
    return [(decode_words(n), a) for n, a in getaddresses(values) if a]


def _from_line_date(line: bytes, ctx: ReadContext) -> datetime | None:
    """The asctime date of a "From " separator line (the date the message was stored)."""
    parts = line.decode("ascii", "replace").split(None, 2)
    if len(parts) < 3:
        return None
    try:
        return ctx.clock.parse(parts[2])
    except ValueError:
        return None


def _message_date(msg: Message, from_line: bytes, ctx: ReadContext) -> datetime:
    raw = msg.get("Date")
    if raw is None:
        fallback = _from_line_date(from_line, ctx)
        if fallback is None:
            raise ValueError("no Date header, and no date on the From line")
        ctx.note("messages without a Date header were dated by their mbox \"From \" line")
        return fallback
    text = _unfold(str(raw))
    try:
        parsed = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        return ctx.clock.parse(text)  # odd shapes; ValueError if not a date at all
    if parsed.tzinfo is None:  # "-0000" or no zone: local time unknown
        return ctx.clock.parse(parsed.isoformat())
    result = parsed.astimezone(UTC)
    if result.year < 1970:
        raise ValueError(f"{text!r} is before 1970: not a plausible date here")
    return result


def _automated_message(msg: Message) -> bool:
    if msg.get("List-Unsubscribe") is not None or msg.get("List-Id") is not None:
        return True
    if str(msg.get("Precedence", "")).strip().lower() in _BULK:
        return True
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    return bool(auto) and auto != "no"


@dataclass
class _Counts:
    messages: int = 0
    automated: int = 0
    broadcast: int = 0
    unrelated: int = 0


def _message(path: Path, line: int, from_line: bytes, header: bytes, ctx: ReadContext,
             seen: Interactions, counts: _Counts) -> BadLine | None:
    counts.messages += 1
    try:
        msg = HeaderParser(policy=compat32).parsestr(_decode(header))
        senders = addresses(msg, "From")
        if not senders:
            raw = msg.get("From")
            why = "no From header" if raw is None else f"no address in From: {_unfold(raw)!r}"
            return BadLine(path, line, "From", why)
        try:
            at = _message_date(msg, from_line, ctx)
        except ValueError as exc:
            return BadLine(path, line, "Date", str(exc))
        recipients = addresses(msg, "To", "Cc")
    except Exception as exc:  # the email package on garbage: this message only
        return BadLine(path, line, None, f"unreadable message headers ({exc})")
    if _automated_message(msg):
        counts.automated += 1
        return None
    if len(recipients) > MAX_PARTICIPANTS:
        counts.broadcast += 1
        return None
    name, address = senders[0]
    sender = seen.person(address, name, line)
    if sender is None:
        counts.automated += 1
        return None
    keys = [k for n, a in recipients if (k := seen.person(a, n, line)) is not None]
    if not seen.email(sender, keys, at, line):
        counts.unrelated += 1
    return None


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    path = Path(path)
    seen = Interactions(ctx, "email")  # MissingOption before anything is read
    counts = _Counts()
    try:
        f = path.open("rb")
    except OSError as exc:
        raise UnreadableFile(path, f"cannot open: {exc.strerror or exc}") from None
    with f:
        lines = _lines(f)
        lineno = 0
        for first in lines:  # the first non-blank line must be a separator
            lineno += 1
            first = first.removeprefix(b"\xef\xbb\xbf") if lineno == 1 else first
            if first.strip():
                break
        else:
            ctx.note(f"{path.name}: an empty mailbox")
            return
        if not first.startswith(b"From "):
            raise UnreadableFile(path, f"line {lineno} is not a \"From \" line: not an mbox "
                                 "file (export the mailbox as mbox)")
        start, from_line = lineno, first  # the current message
        header: list[bytes] = []
        size = 0
        in_header = True
        pending: tuple[int, bytes] | None = None  # a "From " line after a blank, in a body
        blank = False
        for line in lines:
            lineno += 1
            if pending is not None:
                if _HEADER_LINE.match(line):
                    start, from_line = pending
                    header, size, in_header = [], 0, True
                pending = None
            if in_header:
                if not line.strip():
                    bad = _message(path, start, from_line, b"".join(header), ctx, seen, counts)
                    if bad is not None:
                        yield bad
                    in_header, header = False, []
                elif line.startswith(b"From ") and _SEPARATOR.match(line):
                    yield BadLine(path, start, None, "the message has no blank line after "
                                  "its headers (cut short?)")
                    start, from_line, header, size = lineno, line, [], 0
                else:
                    size += len(line)
                    if size > MAX_HEADER:
                        yield BadLine(path, start, None, "header block over 1 MiB: not a "
                                      "message")
                        in_header, header = False, []
                    else:
                        header.append(line)
            elif line.startswith(b"From "):
                if _SEPARATOR.match(line):
                    start, from_line, header, size, in_header = lineno, line, [], 0, True
                elif blank:
                    pending = (lineno, line)
            blank = not line.strip()
        if in_header:
            yield BadLine(path, start, None, "the file ends inside this message's headers "
                          "(truncated)")
    _summarise(ctx, path, counts)
    yield from seen.records(path)


def _summarise(ctx: ReadContext, path: Path, counts: _Counts) -> None:
    ctx.note(f"{path.name}: {counts.messages} messages read; headers only, bodies never stored")
    if counts.automated:
        ctx.note(f"{counts.automated} automated messages skipped (noreply/notifications senders, "
                 "List-Unsubscribe/List-Id, Precedence: bulk, Auto-Submitted)")
    if counts.broadcast:
        ctx.note(f"{counts.broadcast} messages to more than {MAX_PARTICIPANTS} recipients "
                 "skipped as broadcasts")
    if counts.unrelated:
        ctx.note(f"{counts.unrelated} messages involved no pair of a team member and someone "
                 "else")


SOURCE = Source("mbox", read, "mbox mailbox headers: KNOWS between our team and the people they "
                "e-mail, with counts, reciprocity and a decaying strength", snapshot=True,
                format="mbox", what="an mbox mailbox")
