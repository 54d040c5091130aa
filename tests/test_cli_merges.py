"""`relgraph merges` as real processes, on each store: the list reads for people and companies
alike, a proposal a later export made stale is refused with the reason (exit 1) and listed as
stale, a company's approval says its account went with it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINKEDIN = ('Notes:\n"When exporting your connection data, you may notice that some of the email '
            'addresses are missing."\n\n'
            "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n")
HUBSPOT = ('"Record ID","First Name","Last Name","Email","Job Title","Company Name",'
           '"Website URL","Lifecycle Stage","Create Date","Last Modified Date"\n'
           '"52","Raj","Patel","raj@globex.com","VP Sales","Globex","globex.com","Lead",'
           '"2026-01-10 08:00","2026-10-28 17:45"\n'
           # a lone customer whose work e-mail spells nothing of the company's name
           '"400","Al","Pha","al@goog.example","Dev","Alphabet Holdings","","Customer",'
           '"2025-01-10 09:00","2026-10-30 16:45"\n')
RAJ = "linkedin:https://www.linkedin.com/in/rajp"


@pytest.fixture(params=["memory", "neo4j"])
def relgraph(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "RELGRAPH_STORE": request.param,
           "RELGRAPH_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}
    if request.param == "neo4j":  # the test server (tests/conftest.py), never the user's NEO4J_*
        request.getfixturevalue("neo4j_store").delete_all()  # skips, or fails under CI=true
        env.update({"NEO4J_URI": os.environ["RELGRAPH_TEST_NEO4J_URI"],
                    "NEO4J_USER": os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j"),
                    "NEO4J_PASSWORD": os.environ["RELGRAPH_TEST_NEO4J_PASSWORD"]})

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"relgraph {' '.join(args)} failed:\n{result.stdout}"
                                 f"{result.stderr}")
        return result

    return run


def test_merges_from_proposal_to_decision(relgraph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def file(name: str, text: str) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return str(path)

    relgraph("team", "add", "maya@relgraph.io", "--name", "Maya Chen")
    relgraph("load", "linkedin", file("oct/Connections.csv", LINKEDIN + (
        "Raj,Patel,https://www.linkedin.com/in/rajp,,Globex,VP Sales,01 Oct 2026\n")),
        "--owner", "maya@relgraph.io")
    loaded = relgraph("load", "hubspot", file("hubspot-crm-exports-contacts-2026-11-02.csv",
                                              HUBSPOT)).stdout
    assert "proposed merges 2 (see `relgraph merges list`)" in loaded
    listed = json.loads(relgraph("merges", "list", "--format", "json").stdout)
    assert [(m["id"], m["label"], m["keep"], m["drop"]) for m in listed] == [
        (1, "Person", "raj@globex.com", RAJ), (2, "Company", "goog.example", "alphabet-holdings")]
    table = relgraph("merges", "list").stdout
    assert "Raj Patel / Raj Patel at globex.com (same company, similar name)" in table
    company_row = next(line for line in table.splitlines() if "alphabet-holdings" in line)
    assert "Company" in company_row and "people: 1" in company_row
    assert "(one work e-mail pairs the name with the domain)" in company_row

    # Maya's next export shows Raj's own address: proposal 1 no longer joins one person.
    relgraph("load", "linkedin", file("nov/Connections.csv", LINKEDIN + (
        "Raj,Patel,https://www.linkedin.com/in/rajp,raj@patel.family,Globex,VP Sales,"
        "01 Oct 2026\n")), "--owner", "maya@relgraph.io")
    refused = relgraph("merges", "approve", "1", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert " ".join(refused.stderr.split()) == (
        f"error: merge 1 is stale: {RAJ} was merged into raj@patel.family since it was "
        "proposed, and raj@globex.com and raj@patel.family are two e-mail addresses, so two "
        "people; nothing merged")
    stale = relgraph("merges", "list", "--status", "stale").stdout
    assert "stale: " in stale and "raj@patel.family" in stale
    assert json.loads(relgraph("merges", "list", "--format", "json").stdout)[0]["id"] == 2

    approved = relgraph("merges", "approve", "2").stdout
    assert " ".join(approved.split()) == (
        "merged alphabet-holdings into goog.example: its account company:alphabet-holdings was "
        "folded into company:goog.example")
    info = relgraph("store", "info").stdout
    assert re.search(r"node\s+│\s+Customer\s+│\s+1\s", info)  # one account, not two
    assert relgraph("merges", "list").stdout.strip() == "No proposed merges."
