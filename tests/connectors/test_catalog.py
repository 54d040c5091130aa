"""The catalog reader: our content catalogue CSV -> Content nodes and tags."""

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

from connectors import catalog as module
from connectors.catalog import SOURCE, check_url, content_kind, read, split_topics
from connectors.csvio import MissingColumns
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.records import KeyRef, Node, Tag
from connectors.source import ReadContext, source
from graph.schema import CONTENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "catalog" / "catalog.csv"
HEADER = "url,title,kind,topics,published_at,author,summary"


def run(path: Path) -> list:
    return list(read(path, ReadContext("catalog")))


def write(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def nodes(items: list) -> dict[str, Node]:
    return {i.ref.key: i for i in items if isinstance(i, Node)}


def test_registered() -> None:
    assert source("catalog") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("url", "line", "kind", "published"), [
    ("https://www.acme.com/blog/cutting-churn?utm_source=newsletter", 2, "blog_post",
     datetime(2024, 1, 15, tzinfo=UTC)),
    ("https://www.acme.com/resources/state-of-crm-2024", 3, "white_paper",
     datetime(2024, 2, 1, 9, tzinfo=UTC)),
    ("https://www.acme.com/webinars/sso", 4, "webinar", datetime(2024, 3, 10, 17, tzinfo=UTC)),
    ("https://www.acme.com/customers/globex", 5, "case_study", None),
])
def test_fixture_rows(url: str, line: int, kind: str, published: datetime | None) -> None:
    node = nodes(run(FIXTURE))[url]
    assert node.ref == KeyRef("Content", url)  # raw: the store canonicalises
    assert (node.line, node.props["kind"], node.props.get("published_at")) == (line, kind,
                                                                               published)


def test_fixture_rejects() -> None:
    items = run(FIXTURE)
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [
        (6, "kind"), (7, "url"), (8, "published_at")]
    assert len(nodes(items)) == 4


def test_fixture_tags() -> None:
    tags = {i.ref.key: i for i in run(FIXTURE) if isinstance(i, Tag)}
    churn = tags["https://www.acme.com/blog/cutting-churn?utm_source=newsletter"]
    assert churn.text == ("Cutting churn in B2B SaaS\n"
                          "Five habits of teams that keep their customers.")
    assert churn.topics == ("churn", "retention")
    assert tags["https://www.acme.com/resources/state-of-crm-2024"].topics == ("CRM",
                                                                              "benchmarks")
    assert tags["https://www.acme.com/webinars/sso"].topics == ("security", "sso")


@pytest.mark.parametrize(("text", "kind"), [
    ("whitepaper", "white_paper"), ("White Paper", "white_paper"), ("white-paper", "white_paper"),
    ("blog", "blog_post"), ("Blog post", "blog_post"), ("ebook", "ebook"), ("E-Book", "ebook"),
    ("Case Studies", "case_study"), ("webinars", "webinar"), ("Podcast episode", "podcast"),
    ("newsletter", "newsletter_item"), ("video", "video"), ("article", "article"),
    *[(k, k) for k in sorted(CONTENT_KINDS)],
    ("brochure", None), ("", None),
])
def test_kinds(text: str, kind: str | None) -> None:
    assert content_kind(text) == kind


def test_unknown_kind_lists_the_allowed_ones(tmp_path: Path) -> None:
    items = run(write(tmp_path, f"{HEADER}\nhttps://a.com/x,X,flyer,,,,\n"))
    reason = items[0].reason
    assert "unknown kind 'flyer'" in reason
    assert all(k in reason for k in CONTENT_KINDS)


def test_empty_kind_is_left_unset(tmp_path: Path) -> None:
    items = run(write(tmp_path, f"{HEADER}\nhttps://a.com/x,X,,,,,\n"))
    assert "kind" not in items[0].props


@pytest.mark.parametrize(("cell", "topics"), [
    ("a; b", ("a", "b")), ("a|b|a", ("a", "b")), ("AI, ML", ("AI", "ML")),
    ("Sales, Marketing; CRM", ("Sales, Marketing", "CRM")), ("", ()),
])
def test_topics(cell: str, topics: tuple[str, ...]) -> None:
    assert split_topics(cell) == topics


@pytest.mark.parametrize(("url", "ok"), [
    ("https://acme.com/a", True), ("acme.com/blog", True), ("not a url", False),
    ("/relative", False), ("ftp://acme.com/x", False), ("javascript:alert(1)", False),
    ("https://localhost/x", False),
])
def test_urls(url: str, ok: bool) -> None:
    assert (check_url(url) is None) == ok


def test_aliases_semicolons_and_bom(tmp_path: Path) -> None:
    text = "Link;Name;Type;Tags;Published;Description\nhttps://a.com/p;Pod;Podcast;x;2024-05-01;S\n"
    items = run(write(tmp_path, text.encode("utf-8-sig")))
    node = nodes(items)["https://a.com/p"]
    assert node.props == {"title": "Pod", "kind": "podcast",
                          "published_at": datetime(2024, 5, 1, tzinfo=UTC), "summary": "S"}


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    text = f"{HEADER}\nhttps://a.com/c,Crème brûlée,blog,,,,\n"
    assert nodes(run(write(tmp_path, text.encode(encoding))))["https://a.com/c"].props[
        "title"] == "Crème brûlée"


def test_missing_url_column(tmp_path: Path) -> None:
    with pytest.raises(MissingColumns, match="url"):
        run(write(tmp_path, "title,kind\nX,blog\n"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, ""))


def test_row_without_url(tmp_path: Path) -> None:
    items = run(write(tmp_path, f"{HEADER}\n,X,blog,,,,\n"))
    assert [(i.line, i.field) for i in items] == [(2, "url")]

@pytest.mark.parametrize("data", [b"\\x00\\x00\\x01", b"\\x00a\\x00b\\x00"])
def test_dangling_utf16_byte_is_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, data))


def test_dangling_utf16_byte_after_rows(tmp_path: Path) -> None:
    data = f"{HEADER}\nhttps://a.com/x,X,blog,,,,\n".encode("utf-16-le") + b"x"
    items = run(write(tmp_path, data))
    assert isinstance(items[-1], BadLine) and "ends inside" in items[-1].reason
    assert len(items) > 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(ConnectorError):
        run(write(Path(tmp), data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.text(max_size=30), min_size=7, max_size=7), max_size=8))
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
    for item in items:
        if isinstance(item, Node):
            assert check_url(item.ref.key) is None
            assert item.props.get("kind", "article") in CONTENT_KINDS
