"""Reading CSV files as tools really export them, one row at a time.

Handled here once for every CSV reader:
- encodings: UTF-8 (with or without BOM), UTF-16 (BOM, or detected from NUL bytes), and legacy
  Windows-1252/Latin-1 when the file is not UTF-8; a row that cannot be decoded is a `BadLine`;
- delimiters: `,` `;` tab `|`, sniffed from the header line;
- a preamble before the header (LinkedIn's "Notes:" lines): the header is the first line that
  holds the columns the reader expects;
- duplicate header names: a column the reader uses that appears twice is one clear error before
  anything loads; duplicates it does not use are ignored;
- missing required columns: one clear error (`MissingColumns`) before any row is read;
- empty files: a clear error; huge fields: the row is a `BadLine`, the rest loads;
- a file that is not text (a PNG, an .xlsx workbook, random bytes): one `WrongFile` error
  naming what it looks like (`connectors.sniff`), before any row is read;
- formula strings (`=cmd|' /C calc'!A0`): kept as inert text, never evaluated; `csv_safe`
  neutralises them when we write CSV for spreadsheets.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.csv"
    >>> text = "Notes:\\n\\"hi\\"\\n\\nEmail;Name\\nada@x.com;Ada\\n"
    >>> _ = p.write_bytes(text.encode("utf-8-sig"))
    >>> f = CsvFile(p, required=("Email",), optional=("Name",))
    >>> [(row.line, row["Email"], row.get("Name")) for row in f.rows()]
    [(5, 'ada@x.com', 'Ada')]
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.sniff import WrongFile, advice, binary_kind

MAX_FIELD = 1 << 20  # 1 MiB of text in one cell: more is a rejected row, not a load failure
_SAMPLE = 1 << 16
_DELIMITERS = (",", ";", "\t", "|")
_PREAMBLE_LINES = 50
csv.field_size_limit(MAX_FIELD * 16)  # the csv module's own cap sits above ours


class MissingColumns(ConnectorError, ValueError):
    def __init__(self, path: Path | str, missing: Iterable[str], found: Iterable[str]) -> None:
        self.path = str(path)
        self.missing = tuple(missing)
        super().__init__(
            f"{path}: required column(s) {', '.join(map(repr, self.missing))} not found; the "
            f"header has {', '.join(map(repr, found)) or 'no columns'}. Nothing was loaded."
        )


class DuplicateColumn(ConnectorError, ValueError):
    def __init__(self, path: Path | str, name: str, positions: list[int]) -> None:
        self.path = str(path)
        super().__init__(
            f"{path}: column {name!r} appears {len(positions)} times (columns "
            f"{', '.join(str(p + 1) for p in positions)}); it is used, so which one is meant is "
            "unclear. Rename one in the file. Nothing was loaded."
        )


def detect_encoding(head: bytes) -> str:
    """The codec of a file from its first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head and head.count(b"\x00") > len(head) // 4:  # UTF-16 without a BOM
        even_nuls = head[0::2].count(b"\x00")
        return "utf-16-be" if even_nuls > head[1::2].count(b"\x00") else "utf-16-le"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the sample's end
            return "utf-8"
        return "cp1252"


def _decoded_lines(text: io.TextIOWrapper, path: Path, encoding: str
                   ) -> Iterator[tuple[int, str]]:
    """Numbered lines; a decoding failure (UTF-16 cut mid-character) is a clear file error."""
    try:
        yield from enumerate(text, start=1)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"it is not valid {encoding} text ({exc.reason})") from None


def csv_safe(value: object) -> str:
    """Text for a CSV cell that spreadsheets will not run as a formula (OWASP's advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: the 1-based line it starts on and its cells by column name."""

    line: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")

    def get(self, column: str, default: str | None = None) -> str | None:
        value = self.cells.get(column)
        return value if value not in (None, "") else default


class CsvFile:
    """A CSV export, opened lazily: `rows()` streams `Row`s and `BadLine`s.

    `required` columns must be in the header (else `MissingColumns`); `optional` ones are used
    when present. Column names match after trimming and case-folding; each accepts aliases
    (`required=(("Email", "E-mail Address"),)`): the first alias found wins and rows are keyed
    by the first name given."""

    def __init__(self, path: Path | str, *, required: Iterable[str | tuple[str, ...]] = (),
                 optional: Iterable[str | tuple[str, ...]] = ()) -> None:
        self.path = Path(path)
        self.required = [(c,) if isinstance(c, str) else tuple(c) for c in required]
        self.optional = [(c,) if isinstance(c, str) else tuple(c) for c in optional]
        try:
            with self.path.open("rb") as f:
                head = f.read(_SAMPLE)
        except OSError as exc:
            raise UnreadableFile(self.path, exc.strerror or str(exc)) from None
        if not head.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
            raise UnreadableFile(self.path, "it is empty: there is nothing to load")
        binary = binary_kind(head)
        if binary is not None:  # one clear line, never a screen of mojibake or "no column"
            raise WrongFile(self.path, f"not a CSV file (it looks like {binary}); "
                                       f"{advice(binary, 'CSV')}")
        self.encoding = detect_encoding(head)
        self.header_line, self.header, self.delimiter = self._find_header()
        self.columns = self._columns()

    def _text(self) -> io.TextIOWrapper:
        # surrogateescape: a stray byte becomes a marker we report per row, not a crash.
        return io.TextIOWrapper(self.path.open("rb"), encoding=self.encoding,
                                errors="surrogateescape", newline="")

    def _find_header(self) -> tuple[int, list[str], str]:
        wanted = {a.casefold() for group in self.required + self.optional for a in group}
        first: tuple[int, list[str], str] | None = None
        with self._text() as text:
            for number, line in _decoded_lines(text, self.path, self.encoding):
                if number > _PREAMBLE_LINES:
                    break
                if not line.strip():
                    continue
                delimiter = max(_DELIMITERS, key=line.count)
                cells = [c.strip().strip('"').strip() for c in next(csv.reader([line],
                                                                              delimiter=delimiter))]
                if first is None and len(cells) > 1:
                    first = (number, cells, delimiter)
                if not wanted or len(wanted & {c.casefold() for c in cells}) >= min(
                        2, len(wanted)):
                    return number, cells, delimiter
        if first is None:
            raise UnreadableFile(self.path, "no header line with several columns was found")
        return first

    def _columns(self) -> dict[str, int]:
        """Reader's column name -> position in the file."""
        positions: dict[str, list[int]] = {}
        for i, name in enumerate(self.header):
            positions.setdefault(name.casefold(), []).append(i)
        chosen: dict[str, int] = {}
        missing = []
        for group, needed in [(g, True) for g in self.required] + [(g, False)
                                                                    for g in self.optional]:
            for alias in group:
                found = positions.get(alias.casefold())
                if found is None:
                    continue
                if len(found) > 1:
                    raise DuplicateColumn(self.path, self.header[found[0]], found)
                chosen[group[0]] = found[0]
                break
            else:
                if needed:
                    missing.append(group[0])
        if missing:
            raise MissingColumns(self.path, missing, self.header)
        return chosen

    def has(self, column: str) -> bool:
        return column in self.columns

    def rows(self) -> Iterator[Row | BadLine]:
        """Data rows after the header; blank lines skipped; bad rows as `BadLine`s."""
        with self._text() as text:
            for _ in range(self.header_line):
                text.readline()
            reader = csv.reader(text, delimiter=self.delimiter)
            width = len(self.header)
            while True:
                start = reader.line_num + self.header_line + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:  # UTF-16 cut mid-character: nothing follows
                    yield BadLine(self.path, start, None, f"the file ends inside a "
                                  f"{self.encoding} character ({exc.reason})")
                    return
                except csv.Error as exc:
                    yield BadLine(self.path, start, None, f"not valid CSV ({exc})")
                    continue
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > width and any(c.strip() for c in cells[width:]):
                    yield BadLine(self.path, start, None,
                                  f"{len(cells)} fields where the header has {width}")
                    continue
                bad = self._bad_cell(cells)
                if bad is not None:
                    yield BadLine(self.path, start, *bad)
                    continue
                yield Row(start, {name: cells[i].strip() if i < len(cells) else ""
                                  for name, i in self.columns.items()})

    def _bad_cell(self, cells: list[str]) -> tuple[str, str] | None:
        try:  # one C-speed check per row; look cell by cell only when something is wrong
            "".join(cells).encode("utf-8")
            if max(map(len, cells)) <= MAX_FIELD:
                return None
        except UnicodeEncodeError:
            pass
        for i, cell in enumerate(cells):
            name = self.header[i] if i < len(self.header) else f"column {i + 1}"
            if len(cell) > MAX_FIELD:
                return name, f"{len(cell):,} characters in one field (limit {MAX_FIELD:,})"
            try:
                cell.encode("utf-8")
            except UnicodeEncodeError:
                return name, f"bytes that are not {self.encoding} text"
        return None
