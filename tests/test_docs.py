"""The README must name every CLI command and every connector, and the two newcomer commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer.main

from api.cli import app
from connectors.source import SOURCES
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer, prefix: str = "relgraph") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []
    for name, cmd in click_group.commands.items():  # type: ignore[attr-defined]
        if hasattr(cmd, "commands"):
            names += [f"{prefix} {name} {sub}" for sub in cmd.commands]
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [c for c in _commands(app) if c not in README]
    assert not missing, f"README does not mention: {missing}"


def test_the_two_newcomer_commands_are_in_the_readme() -> None:
    assert "make demo" in README and "make test" in README


def test_every_source_is_in_the_readme() -> None:
    """Each SOURCE of `relgraph load` (a reader module in connectors/) has its README section."""
    missing = []
    for name, module in SOURCES.items():
        path = ROOT / (module.replace(".", "/") + ".py")
        if not path.exists():
            missing.append(f"{name} (registered, but {module} does not exist)")
        elif f"connectors/{path.name}" not in README or f"relgraph load {name}" not in README:
            missing.append(name)
        elif name != "graph" and not (ROOT / "docs" / "sources" / f"{name}.md").exists():
            missing.append(f"{name} (no docs/sources/{name}.md)")
    assert not missing, f"README does not describe sources: {missing}"


def test_the_readme_source_section_is_generated_from_docs_sources() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_sources.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_readme_query_examples_print_what_it_says_on_the_demo(tmp_path: Path) -> None:
    """The `relgraph query` lines of the README, run on `relgraph demo` as written (what they
    print does not depend on the day the test runs: each gives --as-of)."""
    import re
    import shlex

    from tests.test_cli import relgraph

    section = README[README.index("relgraph query readers --topic crm --concern churn --kind"):]
    commands = [line for line in section.split("```")[0].splitlines() if line.strip()]
    assert [c.split()[2] for c in commands] == ["readers", "companies", "profile"]
    data = tmp_path / "data"
    relgraph("demo", data=data)
    printed = []
    for command in commands:
        args = shlex.split(command.split(">")[0])[1:]
        assert "--as-of" in args, command  # an example without it changes with the date
        printed.append(relgraph(*args, data=data).stdout)
    readers, companies, profile = printed
    assert "Ada Lovelace" in readers and "Raj Patel" in readers and "Zoë" not in readers
    assert "The CRM Playbook for" in readers
    csv_block = re.search(r"the second writes\s+```text\n(.*?)```", README, re.S)
    assert csv_block is not None and companies == csv_block.group(1)
    assert "works at Initech as Support Manager" in profile and "Globex" not in profile
    said = re.search(r"`Nobody matches: (.*?) …`", README, re.S)
    assert said is not None
    undated = relgraph(*shlex.split(commands[0])[1:-2], data=data)  # now: after the demo's data
    assert " ".join(said.group(1).split()) in " ".join(undated.stdout.split())
