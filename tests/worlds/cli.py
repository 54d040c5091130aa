"""`relgraph` as a real process against the test stores (the embedded one in a data dir, or the
test Neo4j of tests/conftest.py — never the user's NEO4J_*)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def relgraph(*args: str, data: Path, store: str = "memory", check: bool = True,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELGRAPH_STORE": store, "RELGRAPH_DATA_DIR": str(data),
           "COLUMNS": "200"}
    if store == "neo4j":
        env.update({"NEO4J_URI": os.environ["RELGRAPH_TEST_NEO4J_URI"],
                    "NEO4J_USER": os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j"),
                    "NEO4J_PASSWORD": os.environ["RELGRAPH_TEST_NEO4J_PASSWORD"]})
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, text=True,
                            capture_output=True, timeout=300, cwd=cwd or ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"relgraph {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result
