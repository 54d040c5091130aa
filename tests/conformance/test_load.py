"""The load pipeline over both stores: bad lines go to the reject file, the rest loads."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.pipeline import load_graph_file
from graph.store import GraphStore

LINES = [
    '{"node": "Company", "id": "acme.com", "name": "Acme"}',  # 1
    '{"node": "Person", "id": "ada@acme.com", "name": "Ada"}',  # 2
    "{not json",  # 3
    '{"node": "Planet", "id": "mars"}',  # 4
    '{"rel": "WORKS_AT", "from": "ada@acme.com", "to": "acme.com", "since": "soon"}',  # 5
    "",  # 6 blank: skipped
    "// a comment",  # 7
    '{"rel": "KNOWS", "from": "ada@acme.com", "to": "bob@acme.com"}',  # 8: Bob comes later
    '{"node": "Person", "id": "bob@acme.com"}',  # 9
    '{"rel": "WORKS_AT", "from": "ada@acme.com", "to": "globex.com"}',  # 10: unknown company
    '["a", "list"]',  # 11
    '{"node": "Person", "id": "jane@gmail.com", "email": 12}',  # 12: fine, 12 becomes "12"
]


def test_bad_lines_are_reported_with_file_line_and_reason(store: GraphStore,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    summary = load_graph_file(store, path, rejects_dir=tmp_path / "rejects", batch_size=2)
    assert (summary.nodes["Person"], summary.nodes["Company"]) == (3, 1)
    assert summary.relationships == {"KNOWS": 1}  # the WORKS_AT row was rejected
    assert summary.rejected == 5
    rejects = [json.loads(line) for line in summary.rejects_file.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [
        (3, None), (4, "node"), (11, None), (5, "since"), (10, "to")]
    assert all(r["file"] == str(path) for r in rejects)
    assert "not valid JSON" in rejects[0]["reason"]
    assert "unknown label 'Planet'" in rejects[1]["reason"]
    assert "no Company with key 'globex.com'" in rejects[4]["reason"]
    assert rejects[3]["record"] == {"from": "ada@acme.com", "to": "acme.com", "since": "soon"}
    assert summary.examples[0].startswith(f"{path}:3")
    counts = store.counts()
    assert counts.nodes["Person"] == 3 and counts.relationships == {"KNOWS": 1}


def test_a_clean_file_writes_no_reject_file(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text(LINES[0] + "\n", encoding="utf-8")
    summary = load_graph_file(store, path, rejects_dir=tmp_path / "rejects")
    assert summary.rejected == 0 and summary.rejects_file is None
    assert not (tmp_path / "rejects").exists()


def test_a_file_that_is_not_utf8(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"node": "Person", "id": "jos\u00e9@acme.com"}\n'.encode("latin-1")
                     + (LINES[1] + "\n").encode())
    summary = load_graph_file(store, path, rejects_dir=tmp_path / "rejects")
    assert summary.rejected == 1 and summary.nodes["Person"] == 1
    assert "not UTF-8" in summary.examples[0]
