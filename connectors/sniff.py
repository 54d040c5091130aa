"""What a file really is, from its first bytes: a binary format by its magic bytes, a kind of
text (a feed, JSON Lines, an mailbox …), and which tool's export a header comes from.

A person who runs `relgraph load linkedin` on a HubSpot export, or on the .xlsx they opened it
in, should hear that in one line, not read "no Connected On" or a screen of mojibake. Each
reader's `Source` declares the format it reads and the headers (`Header`) that identify its
files; `connectors.source.Source.read` asks this module before the reader opens anything.

    >>> binary_kind(b"\\x89PNG\\r\\n\\x1a\\n...")
    'a PNG image'
    >>> text_kind('<?xml version="1.0"?>\\n<rss version="2.0">')
    'feed'
    >>> Header("a LinkedIn Connections.csv", ("First Name",), ("Connected On",)).matches(
    ...     names("First Name,Last Name,URL,Connected On"))
    True
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.errors import ConnectorError

HEAD = 1 << 16  # bytes read to decide
_CONTROL_SHARE = 0.05  # text has next to no control characters; random bytes about 11%
_DELIMITERS = (",", ";", "\t", "|")
_HEADER_LINES = 50  # a preamble (LinkedIn's "Notes:") comes before the header


class WrongFile(ConnectorError, ValueError):
    """A file of another kind than the source reads (an image, a workbook, another tool's
    export): one clear error before anything is read or loaded."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}. Nothing was loaded.")


@dataclass(frozen=True, slots=True, init=False)
class Header:
    """Columns (or JSON keys) that together identify one kind of file: each group must be
    present, by any of its names (matched after trimming and case-folding)."""

    what: str  # "a HubSpot contacts export"
    groups: tuple[frozenset[str], ...]

    def __init__(self, what: str, *groups: str | tuple[str, ...]) -> None:
        object.__setattr__(self, "what", what)
        object.__setattr__(self, "groups", tuple(
            frozenset(n.casefold() for n in ((g,) if isinstance(g, str) else g))
            for g in groups))

    def matches(self, found: frozenset[str]) -> bool:
        return all(group & found for group in self.groups)

    def fit(self, found: frozenset[str]) -> tuple[int, int]:
        """How specific a match is: the groups it needs, then the columns it recognises."""
        return len(self.groups), sum(len(group & found) for group in self.groups)


def names(line: str) -> frozenset[str]:
    """A header line's column names, trimmed and case-folded (delimiter sniffed)."""
    delimiter = max(_DELIMITERS, key=line.count)
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return frozenset()
    return frozenset(c.strip().strip('"').strip().casefold() for c in cells if c.strip())


# --- binary formats ---------------------------------------------------------------------------

GZIP = "a gzip-compressed file"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel or Word file (.xls/.doc)"),
    (b"\x1f\x8b", GZIP),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_IN_ZIP: tuple[tuple[bytes, str], ...] = (  # what an Office or OpenDocument ZIP holds early on
    (b"xl/", "an Excel workbook (.xlsx)"),
    (b"word/", "a Word document (.docx)"),
    (b"ppt/", "a PowerPoint file (.pptx)"),
    (b"opendocument.spreadsheet", "an OpenDocument spreadsheet (.ods)"),
    (b"opendocument.text", "an OpenDocument text (.odt)"),
)
_SPREADSHEETS = ("(.xlsx)", "(.xls/.doc)", "(.ods)")
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1a")  # \x1a: DOS end of file


def binary_kind(head: bytes) -> str | None:
    """What a file is when it is not text ("a PNG image", "an Excel workbook (.xlsx)",
    "binary data"), from its first bytes; None for text (UTF-16 included)."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith(_ZIP):
        return next((what for marker, what in _IN_ZIP if marker in head), "a ZIP archive")
    sample = head[:8192]
    if not sample:
        return None
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or sample.count(b"\x00") > len(sample) // 4:
        return _utf16_binary(sample)
    controls = sum(1 for b in sample if (b < 0x20 and b not in _TEXT_CONTROLS) or b == 0x7F)
    return "binary data" if controls > _CONTROL_SHARE * len(sample) else None


def _utf16_binary(sample: bytes) -> str | None:
    """UTF-16 text has a NUL in every other byte; random bytes with many NULs are not text."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec, body = "utf-16", sample
    else:
        codec = "utf-16-be" if sample[0::2].count(0) > sample[1::2].count(0) else "utf-16-le"
        body = sample
    text = body[:len(body) - len(body) % 2].decode(codec, errors="replace")
    controls = sum(1 for ch in text if (ch < " " and ch not in "\t\n\r\f") or ch == "\ufffd")
    return "binary data" if controls > _CONTROL_SHARE * max(len(text), 1) else None


def advice(what: str, expected: str) -> str:
    """What to do with a binary file instead of loading it."""
    if what.endswith(_SPREADSHEETS):
        return f"open it in the spreadsheet and save or export it as {expected} (UTF-8)"
    if what in (GZIP, "an xz-compressed file"):
        return "decompress it first"
    if what in ("a ZIP archive", "a 7-Zip archive", "a RAR archive"):
        return "unpack it and load the file inside"
    return f"export it as {expected}"


# --- kinds of text ----------------------------------------------------------------------------

TEXT_KINDS = {
    "feed": "an RSS/Atom feed",
    "xml": "an XML file",
    "html": "an HTML page",
    "json": "JSON Lines",
    "mbox": "an mbox mailbox",
    "ics": "an iCalendar (.ics) file",
}
_MBOX_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ", re.MULTILINE)


def text_kind(text: str) -> str | None:
    """A key of `TEXT_KINDS` for text that is plainly one of them; None for anything else
    (CSV, a list of names …)."""
    start = text.lstrip("\ufeff \t\r\n")[:4096]
    lowered = start[:512].lower()
    if lowered.startswith("<"):
        if lowered.startswith(("<!doctype html", "<html")):
            return "html"
        if re.search(r"<(rss|feed|rdf:rdf)\b", start.lower()):
            return "feed"
        return "html" if "<html" in lowered else "xml"
    if start.startswith(("{", "[")):
        return "json"
    if start.startswith("BEGIN:VCALENDAR"):
        return "ics"
    if re.match(r"From \S+", start) and _MBOX_HEADER.search(start):
        return "mbox"
    return None


def header_lines(text: str) -> Iterator[frozenset[str]]:
    """The column names of each line that could be a CSV header (preamble lines included)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > _HEADER_LINES:
            return
        if line.strip():
            yield names(line)


def json_lines(text: str) -> Iterator[str]:
    """The first lines of a JSON Lines text that are not blank or `//` comments."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > _HEADER_LINES:
            return
        stripped = line.strip().lstrip("\ufeff")
        if stripped and not stripped.startswith("//"):
            yield stripped


def looks_tabular(text: str) -> bool:
    """Text whose first lines all hold the same number (two or more) of one delimiter: a CSV
    table, not a list of names."""
    lines = [line for line in text.splitlines()[:_HEADER_LINES]
             if line.strip() and not line.lstrip().startswith("#")][:5]
    if len(lines) < 2:
        return False
    return any(len({line.count(d) for line in lines}) == 1 and lines[0].count(d) >= 2
               for d in _DELIMITERS)
