"""`relgraph roundup sources import FILE.opml`: the feed list every reader exports.

Feedly, Inoreader, NetNewsWire, Feedbin, The Old Reader … all export OPML: `<opml><body>` with
`<outline>` elements, folders nesting feeds. A feed is an outline with an `xmlUrl`; its name is
its `title`, else its `text`; `htmlUrl` (the site) is not needed. Folders may nest to any depth.

The kind of each feed (company, vendor or ours: the roundup section) comes from, first match:

1. a `relgraphKind` attribute on the feed's outline ("company", "vendor" or "ours"), else on the
   nearest folder above it that has one (`relgraphWeight="2"` sets a weight the same way);
2. the feed's OPML 2.0 `category` attribute ("/vendors,/crm": any category segment that names a
   kind, as in 3);
3. the name of the nearest enclosing folder that names a kind: a folder named with the word
   "vendor(s)" is vendor ("From the vendors", "CS & analytics vendors"); "company", "companies",
   "pontificator(s)" is company; "ours", "us", "our own", "own", "from us", "our blog" is ours;
4. else company.

So a reader's folders "Vendors" and "Ours" import as they read, and a folder like "Marketing"
falls back to company. A feed listed twice (in two folders) is imported once, the first time.

A file that is not OPML (not XML, another root element, no body, no feed at all) raises one
`OpmlError` naming the file and, for XML errors, the line; a single bad feed URL inside a good
file is skipped with a note and the rest imported.

A DOCTYPE (and so any entity, internal or external) is refused, whatever the file's encoding:
no reader's export has one, and a DTD is how an XML file expands a few bytes into gigabytes
("billion laughs") or reads a local file or URL into itself (an external entity). The check is
defusedxml's, made by the XML parser on the decoded document; a byte pattern such as `<!ENTITY`
would miss the same declaration written in UTF-16 or UTF-32. (Expat reads UTF-8, UTF-16 and
the 8-bit encodings itself; a UTF-32 file, which it cannot read, is decoded here first.)

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "feedly.opml"
    >>> _ = p.write_text('''<?xml version="1.0" encoding="UTF-8"?>
    ... <opml version="1.0"><head><title>Feedly</title></head><body>
    ...   <outline text="CS vendors" title="CS vendors">
    ...     <outline type="rss" text="Acme blog" xmlUrl="https://acme.example/feed"/>
    ...   </outline>
    ...   <outline type="rss" title="Tunguz" xmlUrl="https://tomtunguz.example/index.xml"/>
    ...   <outline text="Ours" relgraphKind="ours" relgraphWeight="2">
    ...     <outline text="Our blog" xmlUrl="https://us.example/rss"/>
    ...   </outline>
    ... </body></opml>''')
    >>> [(f.url, f.name, f.kind.value, f.weight) for f in read_opml(p).feeds]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('https://acme.example/feed', 'Acme blog', 'vendor', None),
     ('https://tomtunguz.example/index.xml', 'Tunguz', 'company', None),
     ('https://us.example/rss', 'Our blog', 'ours', 2.0)]
"""

from __future__ import annotations

import codecs
import re
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from curation.errors import CurationError
from curation.model import FeedSource, SourceKind
from curation.sources import (
    BadSource,
    check_url,
    check_weight,
    feed_key,
    parse_kind,
    save_source,
    write_sources,
)
from graph.store import GraphStore

KIND_ATTRIBUTE = "relgraphKind"
WEIGHT_ATTRIBUTE = "relgraphWeight"
MAX_OPML_BYTES = 32 << 20

_WORD = re.compile(r"\w+")
_VENDOR_WORDS = frozenset({"vendor", "vendors"})
_COMPANY_WORDS = frozenset({"company", "companies", "pontificator", "pontificators"})
_OURS_NAMES = frozenset({"ours", "us", "our own", "own", "from us", "our blog", "our feeds",
                         "our own feeds", "our blogs"})


# How a UTF-32 document starts (a byte-order mark, else "<" in four bytes), XML 1.0 Appendix F.
# The 32-bit marks go first: FF FE 00 00 starts with UTF-16's FF FE.
_UTF32_STARTS = ((codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF32_LE, "utf-32"),
                 (b"\0\0\0<", "utf-32-be"), (b"<\0\0\0", "utf-32-le"))


class OpmlError(CurationError, ValueError):
    """A file that cannot be imported as OPML (names the file, and the line for XML errors)."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    name: str | None
    kind: SourceKind
    weight: float | None


@dataclass(slots=True)
class OpmlFile:
    feeds: list[OpmlFeed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # outlines skipped, and why


@dataclass(slots=True)
class ImportResult:
    added: list[FeedSource] = field(default_factory=list)
    updated: list[FeedSource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kind_of_name(name: str | None) -> SourceKind | None:
    """The kind a folder or category name says, if it says one.

    >>> kind_of_name("From the Customer Success & Analytics vendors"), kind_of_name("Ours")
    (<SourceKind.VENDOR: 'vendor'>, <SourceKind.OURS: 'ours'>)
    >>> kind_of_name("Companies and pontificators"), kind_of_name("Marketing") is None
    (<SourceKind.COMPANY: 'company'>, True)
    """
    if not name:
        return None
    text = " ".join(_WORD.findall(name.lower()))
    words = set(text.split())
    if text in _OURS_NAMES:
        return SourceKind.OURS
    if words & _VENDOR_WORDS:
        return SourceKind.VENDOR
    if words & _COMPANY_WORDS:
        return SourceKind.COMPANY
    return None


def _attr(outline: ET.Element, name: str) -> str | None:
    """An attribute by name, case-insensitively and whatever its namespace prefix."""
    wanted = name.lower()
    for key, value in outline.attrib.items():
        local = key.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if local == wanted and value.strip():
            return value.strip()
    return None


def _name(outline: ET.Element) -> str | None:
    for key in ("title", "text"):
        value = _attr(outline, key)
        if value:
            return " ".join(value.split())
    return None


def _category_kind(outline: ET.Element) -> SourceKind | None:
    for category in (_attr(outline, "category") or "").split(","):
        for segment in category.split("/"):
            kind = kind_of_name(segment)
            if kind is not None:
                return kind
    return None


@dataclass(frozen=True, slots=True)
class _Folder:
    kind: SourceKind | None  # from a relgraphKind attribute
    named: SourceKind | None  # from its name
    weight: float | None


def _parse(path: Path) -> ET.Element:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OpmlError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"{path}: {len(data):,} bytes is more than an OPML feed list has "
                        f"(at most {MAX_OPML_BYTES:,})")
    if not data.strip():
        raise OpmlError(f"{path}: the file is empty, not an OPML export")
    document: bytes | str = data
    encoding = next((name for start, name in _UTF32_STARTS if data.startswith(start)), None)
    if encoding is not None:  # text for expat: it then ignores the declared encoding
        try:
            document = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise OpmlError(f"{path}: not an OPML file: broken {encoding.upper()} at byte "
                            f"{exc.start}") from None
    try:
        root: ET.Element = SafeET.fromstring(document, forbid_dtd=True, forbid_entities=True,
                                             forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise OpmlError(f"{path}: OPML files may not declare a DOCTYPE or entities (no "
                        "reader's export does); refused") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise OpmlError(f"{path}: not an OPML file: XML error at line {line}, column "
                        f"{column + 1} ({str(exc).split(':')[0]})") from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag.lower() != "opml":
        hint = " (is it a feed rather than a reader's export?)" if tag in ("rss", "feed", "RDF") \
            else ""
        raise OpmlError(f"{path}: the root element is <{tag}>, not <opml>{hint}")
    return root


def read_opml(path: Path) -> OpmlFile:
    """The feeds of an OPML file with their kinds (see the module docstring)."""
    path = Path(path)
    root = _parse(path)
    body = next((child for child in root if child.tag.rsplit("}", 1)[-1].lower() == "body"), None)
    if body is None:
        raise OpmlError(f"{path}: the OPML file has no <body>, so no feeds")
    result = OpmlFile()
    seen: set[str] = set()
    outlines = 0

    def walk(element: ET.Element, folders: tuple[_Folder, ...]) -> None:
        nonlocal outlines
        for outline in element:
            if outline.tag.rsplit("}", 1)[-1].lower() != "outline":
                continue
            outlines += 1
            name = _name(outline)
            weight_text = _attr(outline, WEIGHT_ATTRIBUTE)
            try:
                own_kind = parse_kind(_attr(outline, KIND_ATTRIBUTE) or "") \
                    if _attr(outline, KIND_ATTRIBUTE) else None
                weight = check_weight(float(weight_text)) if weight_text else None
            except (BadSource, ValueError) as exc:
                result.notes.append(f"outline {name or '(unnamed)'!r} skipped: {exc}")
                continue
            url = _attr(outline, "xmlUrl")
            if url is None:  # a folder
                walk(outline, (*folders, _Folder(own_kind, kind_of_name(name), weight)))
                continue
            try:
                url = check_url(url)
                key = feed_key(url)
            except BadSource as exc:
                result.notes.append(f"feed {name or url!r} skipped: {exc}")
                continue
            if key in seen:
                result.notes.append(f"feed {url} is listed more than once: imported once")
                continue
            seen.add(key)
            kind = own_kind or next((f.kind for f in reversed(folders) if f.kind), None) \
                or _category_kind(outline) \
                or next((f.named for f in reversed(folders) if f.named), None) \
                or SourceKind.COMPANY
            if weight is None:
                weight = next((f.weight for f in reversed(folders) if f.weight is not None),
                              None)
            result.feeds.append(OpmlFeed(url, name, kind, weight))
            if len(outline):  # some readers nest feeds under feeds
                walk(outline, folders)

    walk(body, ())
    if not result.feeds:
        what = f"{outlines} outline(s) but none with an xmlUrl" if outlines else "no outline"
        raise OpmlError(f"{path}: no feed to import ({what})"
                        + (f"; {'; '.join(result.notes[:3])}" if result.notes else ""))
    return result


def import_opml(db: sqlite3.Connection, store: GraphStore, path: Path, *,
                data_dir: Path) -> ImportResult:
    """Add (or update) every feed of the file, then write their Source nodes in one go."""
    opml = read_opml(path)
    result = ImportResult(notes=list(opml.notes))
    for feed in opml.feeds:
        saved = save_source(db, feed.url, kind=feed.kind, name=feed.name, weight=feed.weight)
        (result.added if saved.created else result.updated).append(saved.source)
    write_sources(store, [*result.added, *result.updated], data_dir=data_dir)
    return result


__all__ = ["KIND_ATTRIBUTE", "WEIGHT_ATTRIBUTE", "ImportResult", "OpmlError", "OpmlFeed",
           "OpmlFile", "import_opml", "kind_of_name", "read_opml"]
