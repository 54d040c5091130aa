"""GraphiQL in a real Chromium with the network cut off from everything but this machine: the
page, its scripts and its styles all come from the server, and a query runs."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
QUERY = '{ person(id: "ada@acme.com") { name } }'


def colours(path: Path) -> int:
    with Image.open(path) as shot:
        found = shot.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(found or ())


def test_graphiql_runs_a_query_offline(live_server: LiveServer, page: object,
                                       tmp_path: Path) -> None:
    from playwright.sync_api import Page, Route, expect

    assert isinstance(page, Page)
    asked: list[str] = []
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOOPBACK or f"[{host}]" in LOOPBACK:
            asked.append(url)
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_loopback)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(live_server.signin_url("/graphql"))
    assert urlsplit(page.url).path == "/graphql" and "key=" not in page.url  # signed in
    editor = page.locator(".graphiql-query-editor .CodeMirror").first
    expect(editor).to_be_visible(timeout=15_000)
    # CodeMirror 5 keeps its text in the instance; typing would add its auto-closed brackets
    editor.evaluate("(el, q) => el.CodeMirror.setValue(q)", QUERY)
    page.locator("button.graphiql-execute-button").click()
    result = page.locator(".graphiql-response .CodeMirror")
    expect(result).to_contain_text("Ada Lovelace", timeout=15_000)
    answer = json.loads(result.evaluate("el => el.CodeMirror.getValue()"))
    assert answer == {"data": {"person": {"name": "Ada Lovelace"}}}

    # The docs explorer knows the schema (from /graphql/schema.graphql: no introspection)
    page.get_by_role("button", name="Show Documentation Explorer").click()
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query", timeout=5_000)
    expect(page.get_by_role("link", name="Download the schema (SDL)")).to_have_attribute(
        "href", "/graphql/schema.graphql")

    shot = tmp_path / "graphiql.png"
    page.screenshot(path=str(shot))
    assert colours(shot) > 50, "the GraphiQL screenshot is (nearly) blank"
    assert not refused, f"the page asked other hosts: {refused}"
    assert any(u.endswith("/static/vendor/graphiql.min.js") for u in asked)
    assert not errors, errors
