"""The package as a user installs it: a built wheel, not this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import ROOT

SKIP = shutil.ignore_patterns(".git", ".venv", ".neo4j", "data", "build", "*.egg-info",
                              "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache",
                              "node_modules")


def test_relgraph_demo_runs_from_a_non_editable_install(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=SKIP)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(wheels),
                    str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("relgraph-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    # -S: no site processing, so this checkout's editable install cannot shadow the wheel; the
    # dependencies come from this environment's site-packages, named explicitly.
    env = {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}",
           "RELGRAPH_STORE": "memory", "RELGRAPH_DATA_DIR": str(tmp_path / "data"),
           "COLUMNS": "200"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-S", "-c",
         "import api.cli, sys; print(api.cli.__file__, file=sys.stderr); api.cli.main()", "demo"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stderr  # the installed wheel ran, not the checkout
    assert "read 70 rows" in result.stdout and "Ada Lovelace" in result.stdout
    # the pages' files are package data: GraphiQL and the sign-in work from the wheel
    web = target / "api" / "web" / "static"
    for name in ("vendor/graphiql.min.js", "vendor/cytoscape.min.js", "vendor/VERSIONS.txt",
                 "graphiql/page.js", "signin.css"):
        assert (web / name).is_file(), name
