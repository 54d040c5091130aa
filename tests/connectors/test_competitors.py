"""The competitors reader: a text file of competitor domains or names -> flagged companies."""

from __future__ import annotations

import doctest
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import competitors as module
from connectors.competitors import SOURCE, parse_line, read
from connectors.errors import BadLine, UnreadableFile
from connectors.records import CompanyRef, Node
from connectors.source import ReadContext, source

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "competitors" / "competitors.txt"


def run(path: Path) -> list:
    return list(read(path, ReadContext("competitors")))


def write(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "competitors.txt"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_registered() -> None:
    assert source("competitors") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_fixture() -> None:
    items = run(FIXTURE)
    assert [(i.line, i.ref) for i in items if isinstance(i, Node)] == [
        (2, CompanyRef(domain="rival.com")),
        (3, CompanyRef(domain="https://www.globex.io/pricing")),
        (4, CompanyRef(name="Initech")),
        (6, CompanyRef(domain="hooli.xyz", name="Hooli Inc.")),
        (7, CompanyRef(domain="umbrella.com", name="Umbrella Corporation")),
        (8, CompanyRef(domain="sales@piedpiper.com")),
        (11, CompanyRef(name="Société Générale")),
    ]
    assert all(i.props["competitor"] is True for i in items if isinstance(i, Node))
    assert [i.props.get("name") for i in items if isinstance(i, Node)][3] == "Hooli Inc."
    assert [(i.line, i.reason) for i in items if isinstance(i, BadLine)] == [
        (9, "no letter or digit: not a company name or domain"),
        (10, "'gmail.com' is free-mail, an IP address or a public suffix, not a company's "
             "domain")]


@pytest.mark.parametrize(("line", "ref"), [
    ("acme.com", CompanyRef(domain="acme.com")),
    ("www.acme.co.uk", CompanyRef(domain="www.acme.co.uk")),
    ("https://acme.io/", CompanyRef(domain="https://acme.io/")),
    ("Acme Corp", CompanyRef(name="Acme Corp")),
    ("Acme Corp | acme.com", CompanyRef(domain="acme.com", name="Acme Corp")),
    ("acme.com, Acme Corp", CompanyRef(domain="acme.com", name="Acme Corp")),
    ("Acme Corp\tacme.com", CompanyRef(domain="acme.com", name="Acme Corp")),
    ("Smith, Jones & Co", CompanyRef(name="Smith, Jones & Co")),
    ("Yahoo!", CompanyRef(name="Yahoo!")),
    ("3M", CompanyRef(name="3M")),
    ("bücher.de", CompanyRef(domain="bücher.de")),
])
def test_lines(line: str, ref: CompanyRef) -> None:
    assert parse_line(line) == (ref, None)


@pytest.mark.parametrize("line", ["---", "!!!", "***", "gmail.com", "192.168.0.1",
                                  "https://127.0.0.1/", "co.uk", "x" * 201])
def test_garbage_lines(line: str) -> None:
    company, why = parse_line(line)
    assert company is None and why


def test_comments_and_blank_lines(tmp_path: Path) -> None:
    items = run(write(tmp_path, "# header\n\n   \nacme.com # main rival\n  # indented comment\n"
                                "C#Corp\n"))
    assert [(i.line, i.ref) for i in items] == [(4, CompanyRef(domain="acme.com")),
                                                (6, CompanyRef(name="C#Corp"))]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    items = run(write(tmp_path, "Société Générale\r\nacme.com\r\n".encode(encoding)))
    assert [i.ref for i in items] == [CompanyRef(name="Société Générale"),
                                      CompanyRef(domain="acme.com")]


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    assert run(write(tmp_path, "")) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        run(tmp_path / "nope.txt")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        items = run(write(Path(tmp), data))
    assert all(isinstance(i, Node | BadLine) for i in items)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_random_lines_never_crash(line: str) -> None:
    company, why = parse_line(line.strip() or "x")
    assert (company is None) != (why is None)
    if company is not None:
        assert company.domain or company.name
