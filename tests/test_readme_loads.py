"""Every `relgraph load` the README shows runs, as a `relgraph` process, on the fixture file of
that name (the README names files as a user has them; FIXTURES says which of ours each is), with
its optional arguments given. A README line without a fixture here fails the test, so an example
cannot be added that nobody ran."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.worlds.cli import ROOT, relgraph

README = ROOT / "README.md"
FIX = ROOT / "fixtures"
FIXTURES = {
    "maya/Connections.csv": FIX / "world/maya/Connections.csv",
    "hubspot-crm-exports-all-contacts-2026-11-01.csv":
        FIX / "world/hubspot/hubspot-crm-exports-all-contacts-2026-11-01.csv",
    "world.toml": FIX / "world/world.toml",
    "graph.jsonl": ROOT / "api/demo/graph.jsonl",
    "Connections.csv": FIX / "linkedin/Connections.csv",
    "hubspot-crm-exports-all-contacts-2024-03-06.csv":
        FIX / "hubspot/hubspot-crm-exports-all-contacts-2024-03-06.csv",
    "hubspot-crm-exports-all-companies-2024-03-06.csv":
        FIX / "hubspot/hubspot-crm-exports-all-companies-2024-03-06.csv",
    "report1710511200000.csv": FIX / "salesforce/report1710511200000.csv",
    "customers.csv": FIX / "csv/saas_accounts.csv",
    "customers.toml": FIX / "csv/saas_accounts.toml",
    "events.jsonl": FIX / "segment/events.jsonl",
    "orders_export.csv": FIX / "shopify/orders_export.csv",
    "payments.csv": FIX / "transactions/transactions.csv",
    "tickets.csv": FIX / "zendesk/tickets.csv",
    "call-notes.csv": FIX / "notes/call-notes.csv",
    "catalog.csv": FIX / "catalog/catalog.csv",
    "blog.xml": FIX / "feed/blog.xml",
    "activity.csv": FIX / "clicks/activity.csv",
    "Opened - March newsletter.csv": FIX / "clicks/mailchimp_opened_march.csv",
    "clicked-crm-guide.csv": FIX / "clicks/mailchimp_click_activity.csv",
    "funding-rounds.csv": FIX / "funding/funding-rounds.csv",
    "saaswire.xml": FIX / "news/company-news.xml",
    "google-alert-globex.xml": FIX / "news/google-alerts.xml",
    "competitors.txt": FIX / "competitors/competitors.txt",
    "All mail Including Spam and Trash.mbox": FIX / "mbox/takeout.mbox",
    "ada@ours.io.ics": FIX / "ics/ada-calendar.ics",
    "fixtures/curation/walkthrough/clicks.csv": FIX / "curation/walkthrough/clicks.csv",
}
_OPTIONAL = re.compile(r"\[([^\]]*)\]")


def _examples() -> list[tuple[int, str]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    return [(n, line) for n, line in enumerate(lines, 1) if line.startswith("relgraph load ")]


def _argv(line: str, tmp: Path) -> list[str]:
    """The example as arguments: its comment dropped, optional parts given (a "more files …"
    placeholder left out), file names made fixture paths."""
    text = line.partition("   # ")[0]
    text = _OPTIONAL.sub(lambda m: "" if "…" in m.group(1) else m.group(1), text)
    argv = shlex.split(text)[1:]
    out = []
    for arg in argv:
        if arg == "link.toml":  # the README's comment says what it holds: the clicked URL
            mapping = tmp / "link.toml"
            mapping.write_text(
                'url = "https://www.acme-analytics.com/white-papers/crm-2026.pdf"\n',
                encoding="utf-8")
            out.append(str(mapping))
        elif arg in FIXTURES:
            assert FIXTURES[arg].exists(), FIXTURES[arg]
            out.append(str(FIXTURES[arg]))
        else:
            assert not re.search(r"\.(csv|jsonl|xml|toml|mbox|ics|txt)$", arg), (
                f"README file {arg!r} has no fixture in FIXTURES")
            out.append(arg)
    return out


@pytest.mark.parametrize(("number", "line"), _examples(), ids=lambda v: str(v)[:60])
def test_readme_load_example_runs(number: int, line: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = relgraph(*_argv(line, tmp_path), data=data, check=False)
    assert result.returncode == 0, f"README line {number}: {line}\n{result.stdout}{result.stderr}"
    summaries = re.findall(r"read ([\d,]+) rows; wrote ([\d,]+) nodes", result.stdout)
    assert summaries, result.stdout
    assert all(int(rows.replace(",", "")) > 0 for rows, _ in summaries), result.stdout


def test_every_readme_example_file_is_known() -> None:
    assert len(_examples()) >= 20
