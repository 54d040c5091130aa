"""OPML import: what Feedly and other readers export, with kinds from attributes, categories and
folder names; a bad file is one clear error."""

from __future__ import annotations

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
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>', "declares XML entities"),
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
