"""A load's summary counts what the file and the graph hold (both stores): rows read are the
file's rows, nodes and relationships written are the distinct ones created or changed, and a
second load of the same file writes nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

from connectors.pipeline import Loader, LoadSummary
from connectors.records import PersonRef
from connectors.source import ReadContext, source
from graph.store import GraphStore
from tests.conftest import ROOT
from tests.worlds.tools import LINKEDIN_HEADER, LINKEDIN_NOTES

FIX = ROOT / "fixtures"


def _connections(tmp: Path) -> Path:
    rows = [
        "Ada,Lovelace,https://www.linkedin.com/in/ada-l,ada@apex.co,Apex Systems,CTO,12 Oct 2025",
        "Ben,Okafor,https://www.linkedin.com/in/ben-o,,Apex Systems,Engineer,15 Jun 2025",
        "Cy,Lee,https://www.linkedin.com/in/cy-lee,,Globex,VP,03 Mar 2024",
        "Di,Ray,https://www.linkedin.com/in/di-ray,di@globex.com,Globex,CFO,03 Mar 2024",
        "Ed,Fox,https://www.linkedin.com/in/ed-fox,,Initech,Analyst,01 Jan 2024",
        "Flo,Ng,https://www.linkedin.com/in/flo-ng,,,,01 Feb 2024",
    ]
    path = tmp / "Connections.csv"
    path.write_text(LINKEDIN_NOTES + ",".join(LINKEDIN_HEADER) + "\r\n" + "\r\n".join(rows)
                    + "\r\n", encoding="utf-8")
    return path


def _linkedin(store: GraphStore, data: Path, path: Path) -> LoadSummary:
    ctx = ReadContext("linkedin", owner=PersonRef(email="maya@relgraph.io"))
    return Loader(store, data_dir=data, batch_size=4).run(source("linkedin"), [path], ctx)


def test_a_six_row_connections_file_counts_six_rows(store: GraphStore, tmp_path: Path) -> None:
    path = _connections(tmp_path)
    summary = _linkedin(store, tmp_path / "data", path)
    assert (summary.rows, summary.rejected) == (6, 0)
    # Everything is new: what the summary says it wrote is what the store holds.
    counts = store.counts()
    assert dict(summary.nodes) == {k: v for k, v in counts.nodes.items() if v}
    assert dict(summary.relationships) == {k: v for k, v in counts.relationships.items() if v}
    assert summary.created_nodes == summary.nodes
    again = _linkedin(store, tmp_path / "data", path)
    assert (again.rows, dict(again.nodes), dict(again.relationships)) == (6, {}, {})
    assert store.counts() == counts


def test_a_customer_table_counts_its_rows_once(store: GraphStore, tmp_path: Path) -> None:
    table = FIX / "csv" / "telco_churn.csv"
    rows = len(table.read_text(encoding="utf-8").splitlines()) - 1
    ctx = ReadContext("csv", mapping=tomllib.loads(
        (FIX / "csv" / "telco_churn.toml").read_text(encoding="utf-8")))
    summary = Loader(store, data_dir=tmp_path / "data", batch_size=3).run(
        source("csv"), [table], ctx)
    assert summary.rows == rows
    good = rows - summary.rejected  # the fixture holds bad rows: they write nothing
    assert summary.rejected and good > 0
    assert dict(summary.nodes) == {"Person": good, "Customer": good}
    assert dict(summary.relationships) == {"ACCOUNT_OF": good}
    again = Loader(store, data_dir=tmp_path / "data", batch_size=3).run(
        source("csv"), [table], ctx)
    assert (again.rows, dict(again.nodes), dict(again.relationships)) == (rows, {}, {})


def test_one_changed_row_is_one_changed_node(store: GraphStore, tmp_path: Path) -> None:
    path = _connections(tmp_path)
    _linkedin(store, tmp_path / "data", path)
    text = path.read_text(encoding="utf-8").replace("Globex,CFO", "Globex,COO")
    path.write_text(text, encoding="utf-8")
    again = _linkedin(store, tmp_path / "data", path)
    assert dict(again.nodes) == {"Person": 1}  # Di's title
    assert dict(again.relationships) == {"WORKS_AT": 1}
    assert (dict(again.created_nodes), dict(again.created_relationships)) == ({}, {})
