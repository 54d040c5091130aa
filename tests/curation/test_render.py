"""Rendering: golden Markdown, HTML and text of a fixed issue; the .eml parses back with both
parts; the Atom feed parses; templates and masthead the editor overrides; and the archive page
as headless Chromium draws it.

Golden files live in tests/curation/golden/; after a deliberate change of the templates,
rewrite them with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/curation/test_render.py`
and read the diff."""

from __future__ import annotations

import email
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import feedparser
import pytest

from curation import issues
from curation.errors import CurationError
from curation.render import TEMPLATES_ENV, Format, Renderer, preview, write_site
from graph import keys
from graph.settings import get_settings
from tests.curation.roundup_fixtures import NOW, built, curation_db

GOLDEN = Path(__file__).parent / "golden"
ISSUE = "roundup-2026-11-27"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")


MASTHEAD = Path(__file__).parent / "masthead"  # an editor's roundup.toml (the shipped one is
                                              # neutral, and publishing refuses it)


@pytest.fixture(autouse=True)
def editors_masthead(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(TEMPLATES_ENV, str(MASTHEAD))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with curation_db(tmp_path) as db:
        built(db)
        yield db


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize(("fmt", "name"), [(Format.MD, "issue.md"), (Format.HTML, "issue.html"),
                                           (Format.TEXT, "issue.txt")])
def test_golden(db: sqlite3.Connection, fmt: Format, name: str) -> None:
    rendered = preview(db, ISSUE, fmt)
    assert isinstance(rendered, str)
    golden(name, rendered)


def test_html_email_is_a_600px_table_layout_with_inlined_css(db: sqlite3.Connection) -> None:
    html = preview(db, ISSUE, Format.HTML)
    assert isinstance(html, str)
    assert re.search(r'<table class="container" role="presentation" [^>]*width="600"', html)
    assert "<div" not in html.split("</div>", 1)[1]  # only the hidden preheader is a div
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and styles[0].strip().startswith("@media")  # the rest is inlined
    assert re.search(r'class="container"[^>]*style="[^"]*width: 600px;', html)
    links = re.findall(r'<h3[^>]*><a href="([^"]+)"', html)
    assert len(links) == 7
    for link in links:
        link = link.replace("&amp;", "&")
        assert "utm_campaign=roundup-2026-11-27" in link and "utm_medium=email" in link
        assert keys.canonical_url(link) == keys.canonical_url(link.split("?")[0])


def test_eml_parses_back_with_both_parts(db: sqlite3.Connection) -> None:
    raw = preview(db, ISSUE, Format.EML)
    assert isinstance(raw, bytes)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322 line limit
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == "What's new in Customer Success – Friday, November 27th"
    assert msg["From"] == "Maya Chen <roundup@relgraph.io>"
    assert msg["Message-ID"] == "<roundup-2026-11-27@relgraph.io>"
    assert msg["List-Unsubscribe"] == "<mailto:roundup@relgraph.io?subject=unsubscribe>"
    assert msg["Date"] == "Fri, 27 Nov 2026 00:00:00 +0000"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == preview(db, ISSUE, Format.TEXT)
    assert html.get_content().replace("\r\n", "\n") == preview(db, ISSUE, Format.HTML)
    # A scheduled issue is dated when it goes out.
    issues.schedule(db, ISSUE, NOW.replace(hour=8), who="x", now=NOW)
    again = email.message_from_bytes(preview(db, ISSUE, Format.EML),  # type: ignore[arg-type]
                                     policy=policy.default)
    assert again["Date"] == "Fri, 27 Nov 2026 08:00:00 +0000"


def test_values_are_escaped_for_each_format(db: sqlite3.Connection) -> None:
    nasty = 'Fish & <b>chips</b> [1] *now* "quoted"'
    db.execute("UPDATE item_details SET title = ? WHERE content_id LIKE '%churn-signals'",
               (nasty,))
    issues.set_blurb(db, ISSUE, "churn-signals", "<script>alert(1)</script> & more.", who="x")
    html = preview(db, ISSUE, Format.HTML)
    assert isinstance(html, str)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in html
    assert "Fish &amp; &lt;b&gt;chips&lt;/b&gt; [1] *now* \"quoted\"</a>" in html
    md = preview(db, ISSUE, Format.MD)
    assert isinstance(md, str)
    assert "### [Fish & \\<b\\>chips\\</b\\> \\[1\\] \\*now\\* \"quoted\"](https://" in md
    assert "\\<script\\>alert(1)\\</script\\> & more." in md
    assert nasty in preview(db, ISSUE, Format.TEXT)  # type: ignore[operator]


def test_the_editor_overrides_templates_and_masthead(db: sqlite3.Connection,
                                                    tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "roundup.toml").write_text('name = "Churn Digest"\ncurator = "Ben"\n'
                                       'curator_title = "Editor"\norganisation = "Acme"\n'
                                       '[sections]\nvendor = "From the tool makers"\n')
    (mine / "issue.md.j2").write_text("{{ masthead.curator }}: {% for s in issue.sections %}"
                                      "{{ s.title }}={{ s.items | length }};{% endfor %}\n")
    assert preview(db, ISSUE, Format.MD, templates=mine) == (
        "Ben: From the companies and commentators=3;From the tool makers=3;"
        "From us=1;")  # trim_blocks: no newline after a block tag; the shipped sections else
    text = preview(db, ISSUE, Format.TEXT, templates=mine)
    assert isinstance(text, str)
    assert "– Ben, Editor at Acme" in text  # the shipped text template, my masthead
    assert "FROM THE TOOL MAKERS" in text
    # The setting (environment variable or .env) names the same directory.
    os.environ[TEMPLATES_ENV] = str(mine)
    get_settings.cache_clear()
    try:
        assert Renderer().masthead.name == "Churn Digest"
    finally:
        del os.environ[TEMPLATES_ENV]
        get_settings.cache_clear()


@pytest.mark.parametrize(("files", "message"), [
    ({"roundup.toml": "nmae = 'typo'\n"}, "unknown key.*nmae"),
    ({"roundup.toml": "name = 3\n"}, "name: each must be a string"),
    ({"roundup.toml": "[sections]\nothers = 'x'\n"}, "sections.others"),
    ({"roundup.toml": "name = \n"}, "cannot read the roundup's masthead"),
    ({"issue.md.j2": "{% for x in %}\n"}, r"template .*issue.md.j2:1"),
    ({"issue.md.j2": "{{ issue.no_such_thing }}\n"}, "no_such_thing"),
])
def test_broken_overrides_are_one_clear_error(db: sqlite3.Connection, tmp_path: Path,
                                              files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(CurationError, match=message):
        preview(db, ISSUE, Format.MD, templates=tmp_path)


def test_missing_templates_directory(db: sqlite3.Connection, tmp_path: Path) -> None:
    with pytest.raises(CurationError, match="does not exist"):
        preview(db, ISSUE, Format.MD, templates=tmp_path / "nope")


def published_site(db: sqlite3.Connection, data: Path) -> Path:
    db.execute("UPDATE issues SET status = 'published', published_at = ? WHERE id = ?",
               (NOW.isoformat(), ISSUE))
    later = NOW.replace(day=28)
    second = built(db, day=later.date(), now=later).issue
    issues.pick(db, second.id, "1", who="x")  # the one story left: off topic, not picked
    db.execute("UPDATE issues SET status = 'published', published_at = ? WHERE id = ?",
               (later.isoformat(), second.id))
    write_site(db, data)
    return data / "roundup" / "site"


def test_atom_feed_and_index_list_published_issues_newest_first(
        db: sqlite3.Connection, tmp_path: Path) -> None:
    site = published_site(db, tmp_path)
    root = ET.parse(site / "feed.atom").getroot()
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    feed = feedparser.parse(str(site / "feed.atom"))
    assert not feed.bozo and feed.version == "atom10"
    assert [e.link for e in feed.entries] == [
        "https://relgraph.io/roundup/roundup-2026-11-28.html",
        "https://relgraph.io/roundup/roundup-2026-11-27.html"]
    body = feed.entries[1].content[0].value
    assert "The Churn Signals Hiding in Your Support Queue</a>" in body
    assert "utm_medium=feed" in body
    index = (site / "index.html").read_text()
    assert index.index("roundup-2026-11-28.html") < index.index("roundup-2026-11-27.html")
    page = (site / "roundup-2026-11-27.html").read_text()
    assert 'href="roundup-2026-11-28.html" rel="next"' in page and 'rel="prev"' not in page
    assert "utm_medium=web" in page
    assert sorted(p.name for p in (tmp_path / "roundup" / "mail").iterdir()) == [
        "roundup-2026-11-27.eml", "roundup-2026-11-28.eml"]


# --- headless Chromium ----------------------------------------------------------------------------

def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing; skipped only when that cannot
    be done and CI is not "true"."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True,
                       timeout=900, check=False)
        found = shutil.which("chromium")
    if found is None:
        reason = "headless Chromium is not installed and could not be (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the archive page must be checked in Chromium here (CI=true): {reason}")
        pytest.skip(reason)
    return found


def run_chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="relgraph-chromium-") as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               *args], capture_output=True, timeout=120, check=False)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_colours(data: bytes) -> int:
    """How many distinct byte values the image data holds (1 or 2 for a blank page)."""
    pos, chunks = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return len(set(zlib.decompress(b"".join(chunks))))


def test_archive_page_in_headless_chromium(db: sqlite3.Connection, tmp_path: Path) -> None:
    site = published_site(db, tmp_path / "data")
    page = (site / "roundup-2026-11-27.html").as_uri()
    dom = run_chromium("--dump-dom", page)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    text = dom.stdout.decode()
    assert "<h1>What's new in Customer Success – Friday, November 27th</h1>" in text
    assert text.count('<article class="item">') == 7
    shot = tmp_path / "archive.png"
    result = run_chromium(f"--screenshot={shot}", "--window-size=1200,1600", page)
    assert result.returncode == 0 and shot.exists(), result.stderr.decode(errors="replace")
    data = shot.read_bytes()
    assert len(data) > 10_000
    assert png_size(data) == (1200, 1600)
    assert png_colours(data) > 50  # text was drawn, not a blank page
    index = run_chromium("--dump-dom", (site / "index.html").as_uri())
    assert index.stdout.decode().count("<li>") == 2


def test_publishing_a_newer_issue_links_the_older_page_to_it(db: sqlite3.Connection,
                                                            tmp_path: Path) -> None:
    from graph.memory_store import MemoryStore

    store = MemoryStore(tmp_path / "graph.sqlite")
    issues.publish(db, store, ISSUE, data_dir=tmp_path, who="x", now=NOW)
    site = tmp_path / "roundup" / "site"
    assert 'rel="next"' not in (site / f"{ISSUE}.html").read_text()
    later = NOW.replace(day=28)
    second = built(db, store, day=later.date(), now=later).issue
    issues.pick(db, second.id, "1", who="x")
    done = issues.publish(db, store, second.id, data_dir=tmp_path, who="x", now=later)
    assert sorted(p.name for p in done.files) == [
        "feed.atom", "index.html", f"{ISSUE}.html", "roundup-2026-11-28.eml",
        "roundup-2026-11-28.html"]
    assert 'href="roundup-2026-11-28.html" rel="next"' in (site / f"{ISSUE}.html").read_text()
    store.close()
