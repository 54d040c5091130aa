"""The feed list and its commands: add, import, list, remove (and their one-line errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.roundup import app
from curation.db import connect
from curation.errors import NotFound
from curation.model import SourceKind
from curation.sources import BadSource, list_sources, remove_source, save_source, source_records
from graph.settings import get_settings

FEEDLY = Path(__file__).resolve().parents[2] / "fixtures" / "curation" / "feeds" / "feedly.opml"


def test_add_update_and_remove(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as db:
        added = save_source(db, "https://Blog.Example.com/feed", kind="vendor", name=" Blog  X ",
                            weight=2.5)
        assert added.created and added.source.name == "Blog X"
        again = save_source(db, "https://blog.example.com/feed?utm_source=rss", kind="company")
        assert not again.created
        (source,) = list_sources(db)
        assert (source.url, source.kind, source.name, source.weight) == (
            "https://Blog.Example.com/feed", SourceKind.COMPANY, "Blog X", 2.5)
        assert remove_source(db, "https://blog.example.com/feed").url == source.url
        assert list_sources(db) == []
        with pytest.raises(NotFound, match="no feed source"):
            remove_source(db, "https://blog.example.com/feed")


@pytest.mark.parametrize(("url", "kind", "weight", "message"), [
    ("ftp://x.example/feed", "company", None, "give an http:// or https:// address"),
    ("blog.example.com/feed", "company", None, "give an http:// or https:// address"),
    ("https://localhost/feed", "company", None, "is not a feed URL"),
    ("https://x.example/feed", "partner", None, "kind 'partner': use one of company, vendor, ours"),
    ("https://x.example/feed", "company", 0.0, "weight 0: give a number from 0.1 to 10"),
    ("https://x.example/feed", "company", 11.0, "weight 11"),
])
def test_bad_sources_are_refused(tmp_path: Path, url: str, kind: str, weight: float | None,
                                 message: str) -> None:
    with connect(tmp_path / "c.sqlite") as db, pytest.raises(BadSource, match=message):
        save_source(db, url, kind=kind, weight=weight)


def test_source_nodes_carry_the_graph_kind() -> None:
    from curation.model import FeedSource

    records = source_records([FeedSource("https://a.example/f", SourceKind.OURS, "Us"),
                              FeedSource("https://b.example/f", SourceKind.COMPANY)])
    assert [dict(r.props) for r in records] == [  # type: ignore[union-attr]
        {"kind": "own", "name": "Us"}, {"kind": "pontificator"}]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("RELGRAPH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RELGRAPH_STORE", "memory")
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_the_commands(data_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["sources", "import", str(FEEDLY)])
    assert result.exit_code == 0, result.output
    assert "5 added, 0 already listed (updated), 2 notes" in result.output
    result = runner.invoke(app, ["sources", "add", "https://new.example/rss", "--kind", "ours",
                                 "--name", "New", "--weight", "2"])
    assert result.exit_code == 0 and "added https://new.example/rss (ours, weight 2, New)" in \
        result.output
    result = runner.invoke(app, ["sources", "list", "--format", "json"])
    listed = json.loads(result.output)
    assert len(listed) == 6 and {s["kind"] for s in listed} == {"company", "vendor", "ours"}
    result = runner.invoke(app, ["sources", "list", "--format", "csv"])
    assert result.output.splitlines()[0] == "kind,weight,name,url,moved_to,last_fetched," \
                                            "last_status"
    result = runner.invoke(app, ["sources", "remove", "https://new.example/rss"])
    assert result.exit_code == 0 and "removed https://new.example/rss" in result.output
    assert (data_dir / "curation.sqlite").exists() and (data_dir / "graph.sqlite").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["sources", "remove", "https://nope.example/rss"], "error: no feed source"),
    (["sources", "add", "nope", "--kind", "vendor"], "error: 'nope' is not a feed URL"),
    (["sources", "add", "https://x.example/f", "--kind", "company", "--weight", "50"],
     "error: weight 50"),
    (["fetch"], "error: no feed to fetch"),
])
def test_command_errors_are_one_line(data_dir: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_a_bad_opml_file_from_the_command(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "x.opml"
    bad.write_text("<rss/>")
    result = CliRunner().invoke(app, ["sources", "import", str(bad)])
    assert result.exit_code == 1 and "the root element is <rss>, not <opml>" in result.output
