"""Reject files: every rejected line kept, whatever else is loaded at the same moment."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.pipeline import RejectWriter, load_graph_file
from graph.memory_store import MemoryStore


def test_two_inputs_with_one_name_loaded_at_once_keep_both_reject_files(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects"
    writers = [RejectWriter(rejects, tmp_path / d / "export.jsonl") for d in ("a", "b", "c")]
    for w in writers:  # the same name and, as far as the clock's resolution goes, one instant
        w.stem = writers[0].stem
    for i, w in enumerate(writers):
        w.add(f"{i}/export.jsonl", i + 1, "id", f"reason {i}")
    for w in writers:
        w.close()
    paths = [w.path for w in writers]
    assert len(set(paths)) == 3 and all(p.exists() for p in paths)
    assert [json.loads(p.read_text())["reason"] for p in paths] == [
        "reason 0", "reason 1", "reason 2"]


def test_loads_of_same_named_files_in_one_second_each_keep_their_rejects(tmp_path: Path) -> None:
    store = MemoryStore(None)
    rejects = tmp_path / "rejects"
    summaries = []
    for name in ("monday", "tuesday"):
        path = tmp_path / name / "contacts.jsonl"
        path.parent.mkdir()
        path.write_text(f'{{"node": "Person", "id": "not an e-mail {name}"}}\n', encoding="utf-8")
        summaries.append(load_graph_file(store, path, rejects_dir=rejects))
    files = sorted(rejects.iterdir())
    assert len(files) == 2
    assert {s.rejects_file for s in summaries} == set(files)
    lines = [json.loads(f.read_text()) for f in files]
    assert {Path(r["file"]).parent.name for r in lines} == {"monday", "tuesday"}
