"""The mbox reader: KNOWS between our team and the people they e-mail, from headers only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.errors import BadLine, UnreadableFile
from connectors.mbox import SOURCE, automated_address, read, strength
from connectors.records import Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mbox" / "takeout.mbox"
ADA = PersonRef(email="ada@ours.io")


def ctx(team: tuple[str, ...] = ("grace@ours.io",), owner: PersonRef | None = ADA,
        observed_at: datetime | None = None) -> ReadContext:
    return ReadContext("mbox", owner=owner, team=frozenset(team), observed_at=observed_at)


def run(path: Path, context: ReadContext | None = None) -> list[Any]:
    return list(read(path, context or ctx()))


def links(items: list[Any]) -> dict[tuple[str, str], Any]:
    return {(i.start.email, i.end.email): i for i in items if isinstance(i, Link)}


def bad(items: list[Any]) -> list[tuple[int, str | None]]:
    return [(i.line, i.field) for i in items if isinstance(i, BadLine)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mbox(tmp_path: Path, *messages: str | bytes, name: str = "m.mbox") -> Path:
    """An mbox of `messages` (headers + body), each after a standard separator line."""
    chunks = []
    for n, message in enumerate(messages):
        body = message.encode("utf-8") if isinstance(message, str) else message
        chunks.append(f"From sender{n}@x Mon Jan 08 09:15:00 +0000 2024\n".encode() + body
                      + b"\n")
    path = tmp_path / name
    path.write_bytes(b"".join(chunks))
    return path


def msg(frm: str = "Ada <ada@ours.io>", to: str = "Bob <bob@client.com>",
        date: str = "Mon, 8 Jan 2024 09:15:00 +0000", extra: str = "", body: str = "Hi\n") -> str:
    return f"From: {frm}\nTo: {to}\nDate: {date}\n{extra}Subject: s\n\n{body}"


# --- the fixture ---------------------------------------------------------------------------------

EXPECTED = {
    # (team member, other): (emails, reciprocal, since, last interaction, strength, line)
    ("ada@ours.io", "bob@client.com"):
        (2, True, "2024-01-08T09:15:00", "2024-01-09T15:02:11", 0.121, 20),
    ("ada@ours.io", "carol@client.com"):
        (2, True, "2024-01-08T09:15:00", "2024-02-05T09:00:00", 0.149, 85),
    ("ada@ours.io", "dan@other.example"):
        (1, False, "2024-02-01T16:45:00", "2024-02-01T16:45:00", 0.038, 77),
    ("ada@ours.io", "jose@cliente.es"):
        (1, False, "2024-01-12T11:30:00", "2024-01-12T11:30:00", 0.033, 52),
    ("grace@ours.io", "bob@client.com"):
        (2, True, "2024-01-09T15:02:11", "2024-03-01T14:00:00", 0.181, 99),
    ("grace@ours.io", "jose@cliente.es"):
        (1, False, "2024-01-12T11:30:00", "2024-01-12T11:30:00", 0.033, 52),
}


def test_fixture_knows() -> None:
    items = run(FIXTURE)
    got = {pair: (k.props["emails"], k.props["reciprocal"], k.props["since"],
                  k.props["last_interaction"], k.props["strength"], k.line)
           for pair, k in links(items).items()}
    assert got == {pair: (e, r, at(s), at(last), st_, line)
                   for pair, (e, r, s, last, st_, line) in EXPECTED.items()}
    for k in links(items).values():
        assert k.type == "KNOWS" and k.props["source"] == "email" and "meetings" not in k.props
        assert k.observed_at == at("2024-03-01T14:00:00")  # the latest e-mail, not the clock


def test_fixture_bad_lines_and_notes() -> None:
    context = ctx()
    items = run(FIXTURE, context)
    assert bad(items) == [(61, "Date"), (92, "From")]
    notes = "\n".join(context.notes)
    assert "11 messages read" in notes and "bodies never stored" in notes
    assert "2 automated messages skipped" in notes
    assert "1 messages involved no pair" in notes  # dan -> erin: two outsiders
    assert "dated by their mbox \"From \" line" in notes


def test_fixture_people_come_first_with_decoded_names() -> None:
    items = [i for i in run(FIXTURE) if not isinstance(i, BadLine)]
    kinds = [type(i).__name__ for i in items]
    assert kinds == sorted(kinds, key=lambda k: k != "Node")  # every Node before any Link
    people = {i.ref.email: (i.props.get("name"), i.line) for i in items if isinstance(i, Node)}
    assert people == {
        "ada@ours.io": ("Ada Lovelace", 1), "bob@client.com": ("Bob Client", 1),
        "carol@client.com": ("Carol Jones", 1), "dan@other.example": ("Dan Other", 69),
        "grace@ours.io": ("Grace Hopper", 20), "jose@cliente.es": ("José Muñoz", 52),
    }
    assert "erin@other.example" not in people and "noreply@github.com" not in people


def test_strength_does_not_depend_on_the_load_clock() -> None:
    first = links(run(FIXTURE))
    again = links(run(FIXTURE))
    assert {p: k.props for p, k in first.items()} == {p: k.props for p, k in again.items()}
    later = links(run(FIXTURE, ctx(observed_at=at("2024-06-01T14:00:00"))))
    pair = ("grace@ours.io", "bob@client.com")
    assert later[pair].props["strength"] == round(0.181 * 2 ** (-92 / 90), 3)
    assert later[pair].observed_at == at("2024-06-01T14:00:00")


@pytest.mark.parametrize(
    ("emails", "meetings", "reciprocal", "age", "expected"),
    [
        (10, 0, True, 0, 0.632),
        (10, 0, False, 0, 0.316),  # one-way: halved
        (10, 0, True, 90, 0.316),  # one half-life later
        (10, 0, True, 180, 0.158),
        (0, 1, True, 0, 0.259),  # a meeting weighs three e-mails
        (1, 0, True, 0, 0.095),
        (0, 0, True, 0, 0.0),
        (10_000, 0, True, 0, 1.0),
        (10, 0, True, -3, 0.632),  # after the reference moment: no decay, never above 1
    ],
)
def test_strength_formula(emails: int, meetings: int, reciprocal: bool, age: float,
                          expected: float) -> None:
    assert strength(emails, meetings, reciprocal, age) == expected


# --- who our team is -----------------------------------------------------------------------------

def test_no_team_and_no_owner_is_one_clear_error(tmp_path: Path) -> None:
    path = mbox(tmp_path, msg())
    with pytest.raises(MissingOption, match="--owner EMAIL.*relgraph team add"):
        next(read(path, ctx(team=(), owner=None)))


def test_an_owner_that_is_not_an_email(tmp_path: Path) -> None:
    with pytest.raises(MissingOption, match="not an e-mail"):
        next(read(mbox(tmp_path, msg()), ctx(team=(), owner=PersonRef(source_key="x:1"))))


def test_team_alone_is_enough(tmp_path: Path) -> None:
    items = run(mbox(tmp_path, msg()), ctx(team=("ada@ours.io",), owner=None))
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}


def test_team_members_e_mailing_each_other_are_not_counted(tmp_path: Path) -> None:
    path = mbox(tmp_path, msg(to="grace@ours.io, Bob <bob@client.com>"),
                msg(frm="grace@ours.io", to="ada@ours.io"))
    assert set(links(run(path))) == {("ada@ours.io", "bob@client.com")}


def test_owner_e_mail_is_normalised(tmp_path: Path) -> None:
    items = run(mbox(tmp_path, msg(frm="ADA@Ours.IO")),
                ctx(team=(), owner=PersonRef(email=" Ada@OURS.io ")))
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}


# --- bad and odd input ---------------------------------------------------------------------------

def test_truncated_mbox(tmp_path: Path) -> None:
    path = tmp_path / "cut.mbox"
    path.write_bytes(b"From a@x Mon Jan 08 09:15:00 2024\n" + msg().encode()
                     + b"\nFrom b@x Mon Jan 08 10:15:00 2024\nFrom: Bob <bob@client.com>\nTo: a")
    items = run(path)
    assert bad(items) == [(9, None)]
    assert "truncated" in items[0].reason
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}


@pytest.mark.parametrize(
    ("date", "field", "expected"),
    [
        ("not a date", "Date", None),
        ("Mon, 32 Jan 2024 09:15:00 +0000", "Date", None),
        ("Mon, 8 Jan 1950 09:15:00 +0000", "Date", None),  # before 1970
        ("Mon, 8 Jan 2024 09:15:00 -0000", None, "2024-01-08T09:15:00"),  # zone unknown: UTC
        ("8 Jan 2024 10:15 +0100", None, "2024-01-08T09:15:00"),
        ("2024-01-08T09:15:00Z", None, "2024-01-08T09:15:00"),  # not RFC 5322, still a date
    ],
)
def test_dates(tmp_path: Path, date: str, field: str | None, expected: str | None) -> None:
    items = run(mbox(tmp_path, msg(date=date)))
    if field:
        assert bad(items) == [(1, field)]
        assert not links(items)
    else:
        (k,) = links(items).values()
        assert k.props["last_interaction"] == at(expected or "")


@pytest.mark.parametrize(
    ("header", "email", "name"),
    [
        ("=?UTF-8?Q?Jos=C3=A9_Mu=C3=B1oz?= <jose@cliente.es>", "jose@cliente.es", "José Muñoz"),
        ("=?utf-8?b?Sm9zw6kgTXXDsW96?= <jose@cliente.es>", "jose@cliente.es", "José Muñoz"),
        ("=?iso-8859-1?q?Fran=E7ois?= <fr@client.fr>", "fr@client.fr", "François"),
        ("=?utf-8?q?Doe=2C_John?= <john@client.com>", "john@client.com", "Doe, John"),
        ('"Doe, Jane" <jane@client.com>', "jane@client.com", "Doe, Jane"),
        ("jane@client.com (Jane Doe)", "jane@client.com", "Jane Doe"),
        ("=?bogus-charset?q?Who?= <who@client.com>", "who@client.com", "=?bogus-charset?q?Who?="),
        ("<bare@client.com>", "bare@client.com", None),
        ("bare@client.com <bare@client.com>", "bare@client.com", None),  # the address as name
        ("Bob <Bob@Client.COM>", "Bob@Client.COM", "Bob"),  # raw e-mail kept for the resolver
        ("Bob <bob@localhost>", "bob@localhost", "Bob"),  # invalid: passed through, to be rejected
    ],
)
def test_encoded_and_odd_sender_headers(tmp_path: Path, header: str, email: str,
                                        name: str | None) -> None:
    items = run(mbox(tmp_path, msg(frm=header, to="ada@ours.io")))
    people = {i.ref.email: i for i in items if isinstance(i, Node)}
    assert email in people
    assert people[email].ref.name == name
    assert people[email].props == ({"name": name} if name else {})


def test_eight_bit_headers_utf8_and_latin1(tmp_path: Path) -> None:
    utf8 = msg(frm="Zoë Ünal <zoe@client.de>", to="ada@ours.io").encode("utf-8")
    latin1 = msg(frm="Zoë Ünal <zoe2@client.de>", to="ada@ours.io").encode("latin-1")
    names = {i.ref.email: i.ref.name for i in run(mbox(tmp_path, utf8, latin1))
             if isinstance(i, Node)}
    assert names["zoe@client.de"] == names["zoe2@client.de"] == "Zoë Ünal"


def test_folded_headers_crlf_and_bom(tmp_path: Path) -> None:
    text = ("\ufeffFrom a@x Mon Jan 08 09:15:00 2024\r\nFrom: Ada <ada@ours.io>\r\n"
            "To: Bob <bob@client.com>,\r\n\tCarol\r\n <carol@client.com>\r\n"
            "Date: Mon, 8 Jan 2024\r\n 09:15:00 +0000\r\n\r\nbody\r\n")
    path = tmp_path / "crlf.mbox"
    path.write_bytes(text.encode("utf-8"))
    items = run(path)
    assert set(links(items)) == {("ada@ours.io", "bob@client.com"),
                                 ("ada@ours.io", "carol@client.com")}
    assert {k.props["since"] for k in links(items).values()} == {at("2024-01-08T09:15:00")}


def test_from_lines_in_bodies_do_not_split_messages(tmp_path: Path) -> None:
    body = ("Hello\n\nFrom my perspective, all good.\n>From the archive.\n>>From deeper.\n"
            "From here on\nFrom: not a header line at all\n")
    path = mbox(tmp_path, msg(body=body), msg(frm="bob@client.com", to="ada@ours.io"))
    items = run(path)
    assert bad(items) == []
    (k,) = links(items).values()
    assert k.props["emails"] == 2 and k.props["reciprocal"] is True


def test_a_message_without_a_blank_line_after_its_headers(tmp_path: Path) -> None:
    path = tmp_path / "noblank.mbox"
    path.write_bytes(b"From a@x Mon Jan 08 09:15:00 2024\nFrom: ada@ours.io\nTo: bob@client.com\n"
                     b"From b@x Mon Jan 08 10:15:00 2024\n" + msg(to="carol@client.com").encode())
    items = run(path)
    assert bad(items) == [(1, None)]
    assert set(links(items)) == {("ada@ours.io", "carol@client.com")}


@pytest.mark.parametrize(
    "extra",
    ["List-Unsubscribe: <mailto:unsub@vendor.example>\n", "List-Id: <team.lists.example>\n",
     "Precedence: bulk\n", "Precedence: list\n", "Auto-Submitted: auto-replied\n"],
)
def test_automated_messages_are_skipped(tmp_path: Path, extra: str) -> None:
    context = ctx()
    items = run(mbox(tmp_path, msg(frm="bob@client.com", to="ada@ours.io", extra=extra)),
                context)
    assert not links(items)
    assert any("1 automated messages skipped" in n for n in context.notes)


def test_auto_submitted_no_is_a_person(tmp_path: Path) -> None:
    items = run(mbox(tmp_path, msg(extra="Auto-Submitted: no\n")))
    assert links(items)


@pytest.mark.parametrize(
    ("address", "automated"),
    [("noreply@github.com", True), ("no-reply@x.com", True), ("no_reply@x.com", False),
     ("MAILER-DAEMON@x.com", True), ("notifications@github.com", True),
     ("calendar-notification@google.com", True), ("bounces+123@mail.x.com", True),
     ("postmaster@x.com", True), ("newsletter@x.com", True), ("donotreply@x.com", True),
     ("ada@ours.io", False), ("noreen@x.com", False), ("bounce.house@x.com", True),
     ("reply@x.com", False)],
)
def test_automated_addresses(address: str, automated: bool) -> None:
    assert automated_address(address) is automated


def test_automated_recipients_are_left_out(tmp_path: Path) -> None:
    items = run(mbox(tmp_path, msg(to="noreply@vendor.example, bob@client.com")))
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}


def test_broadcasts_are_skipped(tmp_path: Path) -> None:
    many = ", ".join(f"p{i}@client.com" for i in range(51))
    context = ctx()
    assert not links(run(mbox(tmp_path, msg(to=many)), context))
    assert any("more than 50 recipients" in n for n in context.notes)


def test_undisclosed_recipients_and_groups(tmp_path: Path) -> None:
    group = "Cc: Team: bob@client.com, carol@client.com;\n"
    items = run(mbox(tmp_path, msg(to="undisclosed-recipients:;", extra=group)))
    assert set(links(items)) == {("ada@ours.io", "bob@client.com"),
                                 ("ada@ours.io", "carol@client.com")}


def test_huge_header_lines_are_cut_not_fatal(tmp_path: Path) -> None:
    items = run(mbox(tmp_path, msg(extra="X-Junk: " + "x" * 200_000 + "\n")))
    assert set(links(items)) == {("ada@ours.io", "bob@client.com")}


@pytest.mark.parametrize(
    "content",
    [b"Hello, this is a plain text file\n", b"\x00\x01\x02garbage", b"From: ada@ours.io\n\nhi\n",
     b"PK\x03\x04zip"],
)
def test_not_an_mbox(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.mbox"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match="not an mbox"):
        next(read(path, ctx()))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"\n\n")
    context = ctx()
    assert run(path, context) == []
    assert any("empty mailbox" in n for n in context.notes)
    with pytest.raises(UnreadableFile, match="cannot open"):
        next(read(tmp_path / "nope.mbox", ctx()))


def test_source_declaration() -> None:
    assert SOURCE.name == "mbox" and SOURCE.reader is read and not SOURCE.needs_owner


# --- never crashes -------------------------------------------------------------------------------

@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.mbox"
    path.write_bytes(data)
    try:
        items = list(read(path, ctx()))
    except UnreadableFile:
        return
    assert all(isinstance(i, (Node, Link, BadLine)) for i in items)


_HEADER_BITS = st.sampled_from([
    "From: ", "To: ", "Cc: ", "Date: ", "Subject: ", "List-Id: ", " ", "\t", "\n", "\r\n",
    "From ", ">From ", "ada@ours.io", "bob@client.com", "<", ">", ",", ";", ":", '"', "=?utf-8?q?",
    "=?", "?=", "Mon, 8 Jan 2024 09:15:00 +0000", "Mon Jan 08 09:15:00 2024", "é", "\x00", "@",
])


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_HEADER_BITS, max_size=80), st.binary(max_size=50))
def test_random_messages_never_crash(tmp_path: Path, bits: list[str], tail: bytes) -> None:
    path = tmp_path / "r.mbox"
    path.write_bytes(b"From a@x Mon Jan 08 09:15:00 2024\n" + "".join(bits).encode() + tail)
    items = list(read(path, ctx()))
    for item in items:
        if isinstance(item, Link):
            assert 0 <= item.props["strength"] <= 1
        if isinstance(item, BadLine):
            assert item.line >= 1
