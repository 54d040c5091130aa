"""Trustworthy loads, through the real `relgraph` command: dates typed as the README shows them,
the wrong file refused, exit codes a script can rely on, empty answers that say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DEMO, ROOT
from tests.test_cli import relgraph

LINKEDIN = ROOT / "fixtures" / "linkedin" / "Connections.csv"


# --- dates: a date is the start of that day in --timezone, everywhere ---------------------

@pytest.mark.parametrize(("args", "moment"), [
    ([], "2024-11-30T00:00:00+00:00"),
    (["--timezone", "Europe/Paris"], "2024-11-29T23:00:00+00:00"),
])
def test_observed_at_takes_a_date(tmp_path: Path, args: list[str], moment: str) -> None:
    loaded = relgraph("load", "linkedin", str(LINKEDIN), "--owner", "me@example.com",
                      "--observed-at", "2024-11-30", *args, data=tmp_path / "data").stdout
    assert f"observed_at {moment}: from --observed-at" in loaded


def test_as_of_takes_a_date(tmp_path: Path) -> None:
    data = tmp_path / "data"
    relgraph("load", "graph", str(DEMO), data=data)
    ask = ("query", "readers", "--topic", "crm", "--concern", "churn", "--format", "json")
    by_date = json.loads(relgraph(*ask, "--as-of", "2026-11-01", data=data).stdout)
    by_instant = json.loads(relgraph(*ask, "--as-of", "2026-11-01T00:00:00Z", data=data).stdout)
    assert by_date == by_instant and len(by_date) == 3
    refused = relgraph(*ask, "--as-of", "11/01/2026", data=data, check=False)
    assert refused.returncode == 2 and "2024-11-30T08:00:00Z" in refused.stderr


def test_a_manifest_takes_a_toml_date(tmp_path: Path) -> None:
    (tmp_path / "world.toml").write_text(
        '[[load]]\nsource = "linkedin"\npaths = ["Connections.csv"]\nowner = "me@example.com"\n'
        'timezone = "Europe/Paris"\nobserved_at = 2026-12-01\n', encoding="utf-8")
    (tmp_path / "Connections.csv").write_bytes(LINKEDIN.read_bytes())
    loaded = relgraph("load", "--manifest", str(tmp_path / "world.toml"),
                      data=tmp_path / "data").stdout
    assert "observed_at 2026-11-30T23:00:00+00:00: from --observed-at" in loaded


def test_roundup_since_takes_a_date(tmp_path: Path) -> None:
    built = relgraph("roundup", "build", "--date", "2026-11-06", "--since", "2026-10-30",
                     data=tmp_path / "data").stdout
    assert "window 2026-10-30 00:00 UTC to" in built
