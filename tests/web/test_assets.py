"""The browser assets are this package's own files, built from npm's pinned versions, and no page
the server sends points a browser at another host."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.web import static_dir
from api.web.signin import COOKIE
from graph.memory_store import MemoryStore
from tests.api.conftest import api_settings, make_tokens
from tests.conftest import ROOT

BASE = "http://relgraph.test"
VENDOR = static_dir() / "vendor"
# file: the least size a real bundle has (an empty or truncated copy fails)
BUNDLES = {"react.production.min.js": 5_000, "react-dom.production.min.js": 100_000,
           "graphiql.min.js": 1_000_000, "graphiql.min.css": 50_000,
           "cytoscape.min.js": 200_000, "swagger-ui-bundle.js": 500_000,
           "swagger-ui.css": 50_000}
PACKAGES = ("react", "react-dom", "graphiql", "graphql", "cytoscape", "swagger-ui-dist")
HOST = re.compile(r"""https?://([A-Za-z0-9.-]+(?::\d+)?)""", re.I)
ELSEWHERE = re.compile(r"""^\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.I)  # https://x, //x, ws://x
ATTRIBUTE = re.compile(r"""\b(?:src|href|action|content)\s*=\s*["']([^"']*)["']""", re.I)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def lock() -> dict[str, str]:
    """package -> version, as frontend/package-lock.json pins it."""
    packages = json.loads((ROOT / "frontend" / "package-lock.json").read_text())["packages"]
    return {name: packages[f"node_modules/{name}"]["version"] for name in PACKAGES}


def test_the_front_end_packages_are_pinned_exactly() -> None:
    declared = json.loads((ROOT / "frontend" / "package.json").read_text())["dependencies"]
    assert set(declared) == set(PACKAGES)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in declared.values()), declared
    assert lock() == declared


@pytest.mark.parametrize(("name", "least"), sorted(BUNDLES.items()))
def test_the_vendor_files_are_built(name: str, least: int) -> None:
    path = VENDOR / name
    assert path.is_file(), f"{path} is missing: run scripts/build-assets (make install does)"
    assert path.stat().st_size >= least


def test_versions_names_each_package_and_each_files_digest() -> None:
    lines = (VENDOR / "VERSIONS.txt").read_text().splitlines()
    assert {f"{name}@{version}" for name, version in lock().items()} <= set(lines)
    digests = {name: digest for digest, name in (line.split("  ", 1) for line in lines
                                                 if "  " in line)}
    assert set(BUNDLES) <= set(digests)
    for name, digest in digests.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_our_own_page_files_name_no_host() -> None:
    for path in static_dir().rglob("*"):
        if path.is_file() and "vendor" not in path.relative_to(static_dir()).parts and \
                path.suffix in (".js", ".css", ".html"):
            assert not HOST.search(path.read_text()), path


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    store = MemoryStore(tmp_path / "graph.sqlite")
    settings = api_settings(tmp_path)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http, make_tokens(settings)["read"]
    store.close()


# the pages a browser opens first; the screens' own (/people/…) are the screens' tests'
PAGES = ("/signin", "/graphql", "/docs", "/")


@pytest.mark.anyio
async def test_no_page_points_the_browser_at_another_host(
        client: tuple[httpx.AsyncClient, str]) -> None:
    http, token = client
    seen = []
    for path in PAGES:
        for headers in ({"Accept": "text/html"},
                        {"Accept": "text/html", "Cookie": f"{COOKIE}={token}"}):
            http.cookies.clear()
            response = await http.get(path, headers=headers)
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            seen.append(path)
            hosts = {m.group(1) for m in HOST.finditer(response.text)}
            assert hosts <= {"relgraph.test"}, (path, hosts)
            for value in ATTRIBUTE.findall(response.text):
                assert not ELSEWHERE.match(value), (path, value)
            policy = response.headers.get("content-security-policy", "")
            assert not HOST.search(policy), (path, policy)
    assert {"/graphql", "/signin", "/docs"} <= set(seen)
