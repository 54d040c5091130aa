"""The wrong file is refused before anything is read, in one line that says what it looks like:
another tool's export (by its header), another kind of text (a feed, JSON Lines, a mailbox), or
not text at all (a PNG, an .xlsx workbook, random bytes). Every source is given every other
source's fixture, and the binary files, and must still read its own files."""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from pathlib import Path

import pytest

from connectors import hubspot
from connectors.errors import ConnectorError
from connectors.manifest import read_manifest
from connectors.records import PersonRef
from connectors.sniff import WrongFile, binary_kind, text_kind
from connectors.source import SOURCES, ReadContext, check_file, source
from tests.conftest import ROOT

FIX = ROOT / "fixtures"
FIXTURES = {name: sorted(p for p in (FIX / name).iterdir() if p.suffix not in (".toml", ".md"))
            for name in SOURCES if (FIX / name).is_dir()}
FIXTURES["csv"] = sorted((FIX / "csv").glob("*.csv"))
UNRECOGNISABLE = {FIX / "csv" / "telco_churn.csv", FIX / "csv" / "saas_accounts.csv",
                  FIX / "competitors" / "competitors.txt"}  # no tool's header: readers decide
EMPTY = FIX / "feed" / "empty.xml"
SAME_FORMAT = {frozenset({"feed", "news"})}  # both read RSS/Atom: each reads the other's feeds
TELCO_MAPPING = FIX / "csv" / "telco_churn.toml"


def context(name: str) -> ReadContext:
    import tomllib
    return ReadContext(name, owner=PersonRef(email="me@ours.io"),
                       mapping=tomllib.loads(TELCO_MAPPING.read_text(encoding="utf-8")))


CROSS = [(target, owner, path) for target in SOURCES for owner, paths in FIXTURES.items()
         for path in paths
         if owner != target and path != EMPTY and frozenset({owner, target}) not in SAME_FORMAT]


@pytest.mark.parametrize(("target", "owner", "path"), CROSS,
                         ids=[f"{t}<-{p.parent.name}/{p.name}" for t, _, p in CROSS])
def test_each_source_refuses_every_other_sources_file(target: str, owner: str,
                                                      path: Path) -> None:
    src = source(target)
    with pytest.raises(ConnectorError) as caught:
        next(src.read(path, context(target)))
    if path in UNRECOGNISABLE or (target == "csv" and path.suffix == ".csv"):
        return  # the reader's own clear error (missing columns, not a feed …)
    assert isinstance(caught.value, WrongFile), caught.value
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and message.endswith("Nothing was loaded.")
    assert "it looks like" in message


def test_the_issue_s_own_example() -> None:
    contacts = FIX / "hubspot" / "hubspot-crm-exports-all-contacts-2024-03-06.csv"
    with pytest.raises(WrongFile) as caught:
        source("linkedin").read(contacts, context("linkedin"))
    assert str(caught.value) == (
        f"{contacts}: this is not a LinkedIn Connections.csv (it looks like a HubSpot contacts "
        "export; `relgraph load hubspot` reads it). Nothing was loaded.")


OWN = [(owner, path) for owner, paths in FIXTURES.items() for path in paths] + [
    (spec.source, p) for spec in read_manifest(FIX / "world" / "world.toml") for p in spec.paths]


@pytest.mark.parametrize(("owner", "path"), OWN, ids=[f"{o}:{p.name}" for o, p in OWN])
def test_each_source_still_reads_its_own_files(owner: str, path: Path) -> None:
    check_file(source(owner), path)


# --- not text at all ------------------------------------------------------------------------

def xlsx() -> bytes:
    """A workbook in the layout Excel writes (Office Open XML in a ZIP)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("docProps/app.xml", "<Properties/>")
        z.writestr("xl/workbook.xml", "<workbook><sheets><sheet name='contacts'/></sheets>"
                   "</workbook>")
        z.writestr("xl/sharedStrings.xml", "<sst><si><t>Record ID</t></si><si><t>Email</t>"
                   "</si></sst>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>")
    return buffer.getvalue()


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


SAVE_AS = "open it in the spreadsheet and save or export it as"
BINARIES = {
    "contacts.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
                     "a PNG image", "export it as"),
    "photo.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(200), "a JPEG image", "export it as"),
    "contacts.xlsx": (xlsx(), "an Excel workbook (.xlsx)", SAVE_AS),
    "contacts.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
                     "an old Excel or Word file (.xls/.doc)", SAVE_AS),
    "notes.docx": (docx(), "a Word document (.docx)", "export it as"),
    "report.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document", "export it as"),
    "random.bin": (random.Random(7).randbytes(4096), "binary data", "export it as"),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("binary", sorted(BINARIES))
def test_binary_files_are_named_not_read(tmp_path: Path, name: str, binary: str) -> None:
    data, what, advice = BINARIES[binary]
    path = tmp_path / binary
    path.write_bytes(data)
    with pytest.raises(WrongFile) as caught:
        source(name).read(path, context(name))
    message = str(caught.value)
    assert f"(it looks like {what}); {advice}" in message, message
    assert message.count("\n") == 0 and "\ufffd" not in message and "\\x" not in message


def test_gzip_is_refused_where_it_is_not_read_and_read_where_it_is(tmp_path: Path) -> None:
    events = FIX / "segment" / "events.jsonl"
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(events.read_bytes()))
    check_file(source("segment"), packed)  # Segment's S3 destination writes .gz
    with pytest.raises(WrongFile, match=r"looks like a gzip-compressed file\); decompress it"):
        check_file(source("graph"), packed)
    csv_gz = tmp_path / "contacts.csv.gz"
    csv_gz.write_bytes(gzip.compress(b"Record ID,Email\n1,a@x.example\n"))
    with pytest.raises(WrongFile, match="decompress it first"):
        check_file(source("hubspot"), csv_gz)


def test_a_csv_reader_refuses_binary_even_when_called_directly(tmp_path: Path) -> None:
    path = tmp_path / "hubspot-crm-exports-all-contacts-2024-03-06.xlsx"
    path.write_bytes(xlsx())
    with pytest.raises(WrongFile, match=r"not a CSV file \(it looks like an Excel workbook"):
        next(hubspot.read(path, ReadContext("hubspot")))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "cp1252"])
def test_text_in_any_encoding_is_text(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes('"Record ID","Email","Last Modified Date"\n"1","zoë@x.example",'
                     '"2024-01-01 10:00"\n'.encode(encoding))
    check_file(source("hubspot"), path)
    assert binary_kind(path.read_bytes()) is None


@pytest.mark.parametrize(("text", "kind"), [
    ('<?xml version="1.0"?>\n<rss version="2.0">', "feed"),
    ("<feed xmlns='http://www.w3.org/2005/Atom'>", "feed"),
    ("<!DOCTYPE html>\n<html>", "html"),
    ('{"type": "track"}\n', "json"),
    ("BEGIN:VCALENDAR\r\nVERSION:2.0", "ics"),
    ("From ada@x.example Mon Jan  8 09:15:00 2024\nSubject: hi\n", "mbox"),
    ("From,To,Subject\nada@x,bob@y,hi\n", None),
    ("url,title\nhttps://x.example,X\n", None),
])
def test_text_kinds(text: str, kind: str | None) -> None:
    assert text_kind(text) == kind
