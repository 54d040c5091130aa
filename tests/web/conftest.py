"""The pages' tests: a real `relgraph serve` in a subprocess and Debian's headless Chromium.

Fixtures:
    chromium_path          Debian's chromium (`shutil.which("chromium")`); the test skips
                           without one, and fails instead under CI=true. No browser is ever
                           downloaded (no `playwright install`).
    browser                one Playwright Chromium per test module
    page                   a fresh context and page per test (closed after it)
    live_server_factory    live_server_factory(load) -> LiveServer: a server on the embedded
                           store in a fresh data dir, after `load(data_dir, env)` filled it
                           (None: an empty graph); stopped at the end of the test
    live_server            a server on the demo graph (api/demo/graph.jsonl, what `relgraph
                           demo` loads)

Playwright's sync API keeps its own event loop running in this thread while a browser is open:
browser tests are plain (not async) functions, and a module that has them holds no async
(anyio) tests — the browser closes when its module ends, so other modules' async tests run.
Tests that use `browser` (or `page`) get the `browser` marker.

A LiveServer has `.url` (http://127.0.0.1:PORT), `.data_dir`, `.env` (the server's environment:
`subprocess.run([sys.executable, "-m", "api.cli", "load", …], env=server.env)` loads into the
same data dir while it runs), `.read_key` and `.admin_key`, and `.log` (its output).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.api.conftest import api_settings, make_tokens, serve_process
from tests.conftest import DEMO, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Loader = Callable[[Path, dict[str, str]], None]


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    read_key: str
    admin_key: str
    log: Path

    def signin_url(self, path: str = "/", key: str | None = None) -> str:
        """`path` with `?key=` (the read key unless told), which signs a browser in."""
        separator = "&" if "?" in path else "?"
        return f"{self.url}{path}{separator}key={key or self.read_key}"


def relgraph(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run `relgraph ARGS` in the server's environment; its output, or the test fails."""
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env,
                            cwd=env["RELGRAPH_DATA_DIR"], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"relgraph {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def load_demo_graph(data_dir: Path, env: dict[str, str]) -> None:
    """The demo graph (27 nodes: Acme, Globex, Ada Lovelace …), as `relgraph demo` loads it."""
    relgraph(env, "load", "graph", str(DEMO))


def server_env(data_dir: Path) -> dict[str, str]:
    """A server's environment on the embedded store in `data_dir`, none of this shell's
    RELGRAPH_ or NEO4J_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELGRAPH_", "NEO4J_"))}
    env.update({"RELGRAPH_DATA_DIR": str(data_dir), "RELGRAPH_STORE": "memory",
                "RELGRAPH_FEED_POLL": "0.05", "RELGRAPH_LOG_LEVEL": "warning",
                "RELGRAPH_API_RATE": "0", "PYTHONPATH": str(ROOT)})
    return env


@contextmanager
def serving(data_dir: Path, load: Loader | None) -> Iterator[LiveServer]:
    """`relgraph serve` on a free port in `data_dir`, after `load` filled it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir)
    if load is not None:
        load(data_dir, env)
    tokens = make_tokens(api_settings(data_dir))
    with serve_process(data_dir, env) as (url, _, log):
        yield LiveServer(url, data_dir, env, tokens["read"], tokens["admin"], log)


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[[Loader | None], LiveServer]]:
    with ExitStack() as servers:
        made = 0

        def start(load: Loader | None = None) -> LiveServer:
            nonlocal made
            made += 1
            return servers.enter_context(serving(tmp_path / f"server-{made}", load))

        yield start


@pytest.fixture
def live_server(live_server_factory: Callable[[Loader | None], LiveServer]) -> LiveServer:
    return live_server_factory(load_demo_graph)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "no chromium here (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run on CI: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=args,
                                              headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that drives Chromium is a `browser` test (`-m "not browser"` leaves them)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
