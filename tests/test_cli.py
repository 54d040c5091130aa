"""The `relgraph` command, run as a real process against the embedded store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graph.memory_store import MemoryStore
from tests.conftest import DEMO, ROOT

WORLD = ROOT / "fixtures" / "world" / "world.toml"


def relgraph(*args: str, data: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELGRAPH_STORE": "memory", "RELGRAPH_DATA_DIR": str(data),
           "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"relgraph {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def test_init_load_info_and_questions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = relgraph("init", data=data).stdout
    assert "ready" in first and f"created the embedded graph {data}" in first.replace("\n", "")
    assert "created created" not in first
    assert "created" not in relgraph("init", data=data).stdout  # made already: nothing to say
    loaded = relgraph("load", "graph", str(DEMO), data=data).stdout
    assert ("read 70 rows; wrote 27 nodes (27 new) and 43 relationships (43 new); rejected 0"
            in loaded)
    again = relgraph("load", "graph", str(DEMO), data=data).stdout
    assert "read 70 rows; wrote 0 nodes (0 new) and 0 relationships (0 new)" in again
    assert "nothing changed" in again
    info = relgraph("store", "info", data=data).stdout
    assert re.search(r"node\s+│\s+Person\s+│\s+9", info)
    readers = json.loads(relgraph("query", "readers", "--topic", "CRM", "--concern", "churn",
                                  "--as-of", "2026-11-01T00:00:00Z", "--format", "json",
                                  data=data).stdout)
    assert [r["person_id"] for r in readers] == ["zoë@acme.com", "ada@acme.com", "raj@globex.com"]
    assert readers[1]["concerns"][0]["at"] == "2026-10-20T15:00:00Z"
    csv_out = relgraph("query", "companies", "--topic", "crm", "--concern", "churn",
                       "--as-of", "2026-11-01T00:00:00Z", "--format", "csv", data=data).stdout
    assert csv_out.splitlines()[:3] == [
        "company,name,people,person_ids",
        "acme.com,Acme Corp,2,ada@acme.com; zoë@acme.com",
        "globex.com,Globex,1,raj@globex.com",
    ]
    profile = relgraph("query", "profile", "raj@globex.com", "--as-of", "2026-11-01T00:00:00Z",
                       data=data).stdout
    assert "works at Globex as Director of Support" in profile
    assert "worked at Initech until 2026-06-30" in profile
    as_json = json.loads(relgraph("query", "profile", "raj@globex.com", "--format", "json",
                                  data=data).stdout)
    assert as_json["current"][0]["company_id"] == "globex.com"
    refused = relgraph("query", "profile", "raj@globex.com", "--format", "csv", data=data,
                       check=False)
    assert refused.returncode == 2 and "--format table or json" in refused.stderr


def test_demo_prints_the_answer(tmp_path: Path) -> None:
    text = relgraph("demo", data=tmp_path / "data").stdout
    for who in ("Zoë Brontë", "Ada Lovelace", "Raj Patel", "Acme Corp (acme.com)"):
        assert who in text
    assert "Li Wei" not in text  # her churn concern is older than 30 days


def test_rejects_are_reported_and_strict_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"node": "Person", "id": "a@b.com"}\n{"node": "Person"}\n', encoding="utf-8")
    data = tmp_path / "data"
    result = relgraph("load", "graph", str(bad), data=data)
    assert "rejected 1" in result.stdout and f"{bad}:2: field 'id': is required" in result.stdout
    assert len(list((data / "rejects").glob("graph-bad.jsonl.*.rejects.jsonl"))) == 1
    assert relgraph("load", "graph", "--strict", str(bad), data=data, check=False).returncode == 1


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    relgraph("init", data=data)
    result = relgraph("query", "profile", "ghost@nowhere.org", data=data, check=False)
    assert result.returncode == 1
    assert "error: no Person with key 'ghost@nowhere.org'" in result.stderr
    assert "Traceback" not in result.stderr
    for side in ("graph.sqlite-wal", "graph.sqlite-shm"):
        (data / side).unlink(missing_ok=True)
    (data / "graph.sqlite").write_bytes(b"garbage" * 1000)
    broken = relgraph("store", "info", data=data, check=False)
    assert broken.returncode == 1 and "is unusable" in broken.stderr


def test_neo4j_without_a_password_fails_early(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update({"RELGRAPH_STORE": "neo4j", "RELGRAPH_DATA_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "-m", "api.cli", "store", "info"], cwd=tmp_path,
                            env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert result.returncode == 1 and "needs NEO4J_PASSWORD" in result.stderr


def test_a_world_from_export_files_through_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    relgraph("team", "add", "maya@relgraph.io", "--name", "Maya Chen", data=data)
    relgraph("team", "add", "tom@relgraph.io", data=data)
    loaded = relgraph("load", "--manifest", str(WORLD), "--strict", data=data).stdout
    assert "zendesk (zendesk-tickets.csv): read 5 rows" in loaded  # five tickets
    assert "events: 10 added to the event log, 0 already there" in loaded
    assert "proposed merges 1 (see `relgraph merges list`)" in loaded
    listed = json.loads(relgraph("merges", "list", "--format", "json", data=data).stdout)
    assert [(m["id"], m["keep"], m["status"]) for m in listed] == [
        (1, "rajpatel@gmail.com", "proposed")]
    assert "merged linkedin:" in relgraph("merges", "approve", "1", data=data).stdout
    again = relgraph("merges", "approve", "1", data=data, check=False)
    assert again.returncode == 1 and "already approved" in again.stderr
    readers = json.loads(relgraph("query", "readers", "--topic", "CRM", "--concern", "churn",
                                  "--as-of", "2026-11-01T00:00:00Z", "--format", "json",
                                  data=data).stdout)
    assert [r["person_id"] for r in readers] == ["zoe@acme.com", "rajpatel@gmail.com",
                                                 "ada@acme.com"]
    reloaded = relgraph("load", "segment", str(WORLD.parent / "segment-events.jsonl"),
                        data=data).stdout
    assert "events: 0 added to the event log, 10 already there" in reloaded


def test_load_errors_are_clear_and_load_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    no_owner = relgraph("load", "linkedin", str(WORLD.parent / "maya" / "Connections.csv"),
                        data=data, check=False)
    assert no_owner.returncode == 1 and "needs --owner EMAIL" in no_owner.stderr
    good = WORLD.parent / "catalog.csv"
    missing = tmp_path / "contacts.csv"
    missing.write_text("Name,Phone\nAda,123\n", encoding="utf-8")
    both = relgraph("load", "catalog", str(good), str(missing), data=data, check=False)
    assert both.returncode == 1 and "required column(s) 'url'" in both.stderr
    assert "Traceback" not in both.stderr
    written = MemoryStore(data / "graph.sqlite").counts()  # the good file was not loaded either
    assert sum(written.nodes.values()) == 0 and written.relationships == {}
    bad_zone = relgraph("load", "clicks", str(WORLD.parent / "newsletter-clicks.csv"),
                        "--timezone", "Mars/Olympus", data=data, check=False)
    assert bad_zone.returncode == 1 and "unknown time zone 'Mars/Olympus'" in bad_zone.stderr


def test_topics_test_shows_what_matched(tmp_path: Path) -> None:
    shown = relgraph("topics", "test", "Churn risk: the CRM's renewals are in doubt",
                     data=tmp_path).stdout
    assert "churn" in shown and "crm" in shown and "renewal" in shown


@pytest.mark.parametrize("command", [[], ["init"], ["store", "info"], ["load"], ["load", "graph"],
                                     ["load", "linkedin"], ["load", "csv"], ["team", "add"],
                                     ["merges", "list"], ["merges", "approve"],
                                     ["topics", "test"], ["query", "readers"],
                                     ["query", "companies"], ["query", "profile"], ["demo"]])
def test_help_everywhere(command: list[str], tmp_path: Path) -> None:
    result = relgraph(*command, "--help", data=tmp_path)
    assert "Usage:" in result.stdout


def test_the_load_help_names_the_manifests_tables(tmp_path: Path) -> None:
    """Rich markup once ate `[[load]]` from the help, leaving "a TOML file of [] entries"."""
    assert "a TOML file of [[load]] entries" in relgraph("load", "--help", data=tmp_path).stdout


def test_serve_on_a_taken_port_says_only_that(tmp_path: Path) -> None:
    """It used to log "API ready" and then fail to bind: now one line, exit 1, nothing started."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = relgraph("serve", "--port", str(port), data=tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is taken (Address already in use); "
        "stop what holds it, or choose another with --port or RELGRAPH_API_PORT"]
    assert "API ready" not in result.stdout + result.stderr and not result.stdout


def test_piped_output_is_never_wrapped_at_80_columns(tmp_path: Path) -> None:
    """No terminal and no COLUMNS (a pipe, a CI log): a summary stays on one line (grep finds
    it) and a table's cells are not broken; section rules stay 80 wide."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env.update(RELGRAPH_STORE="memory", RELGRAPH_DATA_DIR=str(tmp_path / "data"))

    def piped(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=True).stdout

    loaded = piped("load", "graph", str(DEMO)).splitlines()
    assert loaded[0] == ("graph (graph.jsonl): read 70 rows; wrote 27 nodes (27 new) and 43 "
                         "relationships (43 new); rejected 0")  # 101 characters, one line
    shown = piped("demo").splitlines()
    rules = [x for x in shown if x.startswith("─")]
    assert len(rules) == 2 and all(len(x) == 80 for x in rules)
    table = shown[shown.index(rules[0]) + 1:shown.index(rules[1])]
    assert table[0].startswith("┏") and table[-1].startswith("└")
    assert len({len(x) for x in table}) == 1 and len(table[0]) > 80  # its natural width
    assert any("Zoë Brontë" in x and "Acme Corp (Head of Operations)" in x for x in table)
