"""The notes reader: a plain call/meeting-notes CSV -> concerns raised by people."""

from __future__ import annotations

import contextlib
import csv
import doctest
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import notes as module
from connectors.csvio import DuplicateColumn, MissingColumns
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.notes import SOURCE, read
from connectors.records import CompanyRef, KeyRef, Link, Node, PersonRef, Tag
from connectors.source import ReadContext, source

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "notes" / "call-notes.csv"
HEADER = "email,name,company,date,channel,note"


def run(path: Path, ctx: ReadContext | None = None) -> list:
    return list(read(path, ctx or ReadContext("notes")))


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "notes.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def concerns(items: list) -> list[Node]:
    return [i for i in items if isinstance(i, Node) and isinstance(i.ref, KeyRef)]


def bad(items: list) -> list[tuple[int, str | None]]:
    return [(i.line, i.field) for i in items if isinstance(i, BadLine)]


def test_registered() -> None:
    assert source("notes") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_fixture() -> None:
    items = run(FIXTURE)
    found = concerns(items)
    assert [(n.line, n.props["channel"]) for n in found] == [(2, "call"), (3, "meeting"),
                                                             (4, "meeting")]
    assert found[0].ref == KeyRef("Concern", "notes:N-1")
    assert found[0].props == {
        "text": "Ada says the SSO add-on is too expensive; renewal at risk if pricing stays.",
        "channel": "call", "at": datetime(2024, 3, 4, 10, 0, tzinfo=UTC),
        "subject": "Renewal call"}
    assert found[1].ref.key.startswith("notes:") and len(found[1].ref.key) == 6 + 16
    assert found[2].props["text"] == "Onboarding was confusing,\nespecially importing contacts."
    assert bad(items) == [(6, "email"), (7, "date"), (8, "channel"), (9, "note")]
    reason = next(i.reason for i in items if isinstance(i, BadLine) and i.field == "channel")
    assert "allowed: call, chat, email, meeting, social, survey, ticket" in reason


def test_people_raise_and_work_at() -> None:
    items = run(FIXTURE)
    ada = PersonRef(email="ada@acme.com", name="Ada Lovelace", company=CompanyRef(name="Acme Corp"))
    assert Link("RAISED", ada, KeyRef("Concern", "notes:N-1"), line=2) in items
    assert Link("WORKS_AT", ada, CompanyRef(name="Acme Corp"), line=2) in items
    linus = [i for i in items if isinstance(i, Node) and isinstance(i.ref, PersonRef)
             and i.ref.email == "linus@initech.com"]
    assert linus[0].ref.company is None  # no company column value: no employer


def test_tags_carry_subject_text_and_topics() -> None:
    tags = [i for i in run(FIXTURE) if isinstance(i, Tag)]
    assert tags[0].text.startswith("Renewal call\n\nAda says")
    assert tags[0].topics == ("pricing", "sso")


def test_ids_are_stable_across_loads() -> None:
    first = [n.ref for n in concerns(run(FIXTURE))]
    assert first == [n.ref for n in concerns(run(FIXTURE))]


def test_same_note_with_another_date_format_is_the_same_concern(tmp_path: Path) -> None:
    a = concerns(run(write(tmp_path, f"{HEADER}\nA@x.com,A,,2024-03-05 10:00,call,Hi\n")))
    b = concerns(run(write(tmp_path, f"{HEADER}\na@x.com,A,,2024-03-05T10:00:00Z,call,Hi\n")))
    assert a[0].ref == b[0].ref


@pytest.mark.parametrize(("channel", "expected"), [
    ("", "call"), ("Phone", "call"), ("Zoom", "meeting"), ("in person", "meeting"),
    ("E-mail", "email"), ("Slack", "chat"), ("NPS survey", "survey"), ("LinkedIn", "social"),
])
def test_channels(tmp_path: Path, channel: str, expected: str) -> None:
    items = run(write(tmp_path, f"{HEADER}\na@x.com,A,,2024-03-05,{channel},Hi\n"))
    assert concerns(items)[0].props["channel"] == expected


def test_bad_email_is_passed_through(tmp_path: Path) -> None:
    items = run(write(tmp_path, f"{HEADER}\nnot-an-email,A,,2024-03-05,call,Hi\n"))
    assert any(isinstance(i, Link) and i.start.email == "not-an-email" for i in items)


def test_aliases_and_optional_columns(tmp_path: Path) -> None:
    text = "Contact email;Contact name;When;Notes;Tags;Note ID\nb@y.com;B;05/03/2024;Yo;x|y;42\n"
    items = run(write(tmp_path, text))
    assert concerns(items)[0].ref == KeyRef("Concern", "notes:42")
    assert [i.topics for i in items if isinstance(i, Tag)] == [("x", "y")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    text = f"{HEADER}\nzoe@x.com,Zoë,Crème SA,2024-03-05,call,\"Trop cher,\nvraiment\"\n"
    items = run(write(tmp_path, text.encode(encoding)))
    assert concerns(items)[0].props["text"] == "Trop cher,\nvraiment"
    assert CompanyRef(name="Crème SA") in [i.ref for i in items if isinstance(i, Node)]


def test_formula_kept_as_text(tmp_path: Path) -> None:
    items = run(write(tmp_path, f"{HEADER}\na@x.com,A,,2024-03-05,call,=cmd|' /C calc'!A0\n"))
    assert concerns(items)[0].props["text"] == "=cmd|' /C calc'!A0"


def test_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(MissingColumns, match="note"):
        run(write(tmp_path, "email,name,date\na@x.com,A,2024-03-05\n"))


def test_duplicate_used_column(tmp_path: Path) -> None:
    with pytest.raises(DuplicateColumn):
        run(write(tmp_path, "email,email,date,note\na,b,2024-03-05,c\n"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, b""))


def test_huge_field(tmp_path: Path) -> None:
    huge = "x" * (1 << 20 | 1)
    items = run(write(tmp_path, f"{HEADER}\na@x.com,A,,2024-03-05,call,{huge}\n"
                                "b@x.com,B,,2024-03-05,call,ok\n"))
    assert bad(items) == [(2, "note")]
    assert len(concerns(items)) == 1

@pytest.mark.parametrize("data", [b"\\x00\\x00\\x01", b"\\x00a\\x00b\\x00"])
def test_dangling_utf16_byte_is_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, data))


def test_dangling_utf16_byte_after_rows(tmp_path: Path) -> None:
    data = f"{HEADER}\na@x.com,A,,2024-03-05,call,Hi\n".encode("utf-16-le") + b"x"
    items = run(write(tmp_path, data))
    assert isinstance(items[-1], BadLine) and "ends inside" in items[-1].reason
    assert len(items) > 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(ConnectorError):
        run(write(Path(tmp), data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.text(max_size=30), min_size=6, max_size=6), max_size=8))
def test_random_rows_never_crash(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            items = run(write(Path(tmp), buf.getvalue().encode("utf-8", "surrogatepass")))
        except ConnectorError:
            return
    for node in concerns(items):
        assert node.ref.key.startswith("notes:") and node.props["text"]
