"""Trustworthy loads, through the real `relgraph` command: dates typed as the README shows them,
the wrong file refused, exit codes a script can rely on, empty answers that say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.memory_store import MemoryStore
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
    # nothing fetched: no draft, and the refusal names the window the date opened
    built = relgraph("roundup", "build", "--date", "2026-11-06", "--since", "2026-10-30",
                     data=tmp_path / "data", check=False)
    assert built.returncode == 1
    assert "no candidate from 2026-10-30 00:00 to 2026-11-07 00:00 UTC" in built.stderr


# --- snapshot moments: the best column the file has, else the day in its name -------------

DEFAULT_VIEW = (  # HubSpot's default contacts view: no Last Modified Date
    '"Record ID","First Name","Last Name","Email","Phone Number","Company Name","Job Title",'
    '"Lifecycle Stage","Create Date","Last Activity Date"\n'
    '"51","Ada","Lovelace","ada@acme.example","","Acme","CTO","Customer","2022-11-03 10:15",'
    '"2024-03-04 16:45"\n')


def test_hubspot_default_view_loads_and_says_which_moment(tmp_path: Path) -> None:
    p = tmp_path / "hubspot-crm-exports-all-contacts-2024-03-06.csv"
    p.write_text(DEFAULT_VIEW, encoding="utf-8")
    loaded = relgraph("load", "hubspot", str(p), "--timezone", "Europe/Paris",
                      data=tmp_path / "data").stdout
    assert "rejected 0" in loaded
    assert ("observed_at 2024-03-04T15:45:00+00:00: the latest Last Activity Date in "
            f"{p.name} (it has no Last Modified Date; pass --observed-at to set it)") in loaded
    undated = tmp_path / "hubspot-crm-exports-my-view-2024-03-06.csv"
    undated.write_text('"Record ID","Email"\n"51","ada@acme.example"\n', encoding="utf-8")
    named = relgraph("load", "hubspot", str(undated), "--timezone", "Europe/Paris",
                     data=tmp_path / "data").stdout
    assert "observed_at 2024-03-05T23:00:00+00:00: the start of 2024-03-06 (Europe/Paris), the " \
           f"date in the file name {undated.name}" in named
    nameless = tmp_path / "contacts.csv"
    nameless.write_text('"Record ID","Email"\n"51","ada@acme.example"\n', encoding="utf-8")
    refused = relgraph("load", "hubspot", str(nameless), data=tmp_path / "data", check=False)
    assert refused.returncode == 1 and "--observed-at 2024-03-06" in refused.stderr


# --- the wrong file: one clear line before anything loads ---------------------------------

def one_line(text: str) -> str:
    return " ".join(text.split())


def test_the_wrong_file_is_named_and_nothing_loads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    contacts = ROOT / "fixtures" / "hubspot" / "hubspot-crm-exports-all-contacts-2024-03-06.csv"
    wrong = relgraph("load", "linkedin", str(contacts), "--owner", "me@example.com", data=data,
                     check=False)
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert ("this is not a LinkedIn Connections.csv (it looks like a HubSpot contacts export; "
            "`relgraph load hubspot` reads it). Nothing was loaded.") in one_line(wrong.stderr)
    assert "Connected On" not in wrong.stderr and "Traceback" not in wrong.stderr
    workbook = tmp_path / "contacts.xlsx"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"\x00" * 12
                         + b"[Content_Types].xml" + bytes(range(256)) + b"xl/workbook.xml")
    refused = relgraph("load", "hubspot", str(workbook), data=data, check=False)
    assert refused.returncode == 1
    assert ("not a CSV file (it looks like an Excel workbook (.xlsx)); open it in the "
            "spreadsheet and save or export it as CSV (UTF-8)") in one_line(refused.stderr)
    assert len(refused.stderr.splitlines()) <= 3  # one message, not a screen of mojibake
    noise = tmp_path / "export.csv"
    noise.write_bytes(bytes(range(256)) * 16)
    catalog = ROOT / "fixtures" / "catalog" / "catalog.csv"
    both = relgraph("load", "catalog", str(catalog), str(noise), data=data, check=False)
    assert both.returncode == 1 and "it looks like binary data" in one_line(both.stderr)
    written = MemoryStore(data / "graph.sqlite").counts()  # the good file was not loaded either
    assert sum(written.nodes.values()) == 0 and written.relationships == {}


# --- exit codes a script can rely on ---------------------------------------------------------

def test_a_load_that_reads_nothing_fails(tmp_path: Path) -> None:
    header_only = tmp_path / "catalog.csv"
    header_only.write_text("url,title,kind,topics\n", encoding="utf-8")
    result = relgraph("load", "catalog", str(header_only), data=tmp_path / "data", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "nothing was read from catalog.csv" in one_line(result.stderr)


def test_a_load_whose_every_row_is_rejected_fails(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"node": "Person"}\n{"node": "Person", "id": "not an e-mail"}\n'
                   '{"rel": "KNOWS"}\n', encoding="utf-8")
    result = relgraph("load", "graph", str(bad), data=data, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "every row of bad.jsonl was rejected (3 rows): nothing was loaded" in one_line(
        result.stderr)
    some = tmp_path / "some.jsonl"
    some.write_text('{"node": "Person", "id": "a@b.com"}\n{"node": "Person"}\n', encoding="utf-8")
    assert relgraph("load", "graph", str(some), data=data, check=False).returncode == 0
    assert relgraph("load", "graph", "--strict", str(some), data=data,
                    check=False).returncode == 1  # --strict: any reject fails


def test_a_manifest_goes_on_but_fails_when_one_load_read_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("url,title\n", encoding="utf-8")
    (tmp_path / "g.jsonl").write_text('{"node": "Topic", "id": "crm"}\n', encoding="utf-8")
    (tmp_path / "m.toml").write_text(
        '[[load]]\nsource = "catalog"\npaths = ["empty.csv"]\n\n'
        '[[load]]\nsource = "graph"\npaths = ["g.jsonl"]\n', encoding="utf-8")
    result = relgraph("load", "--manifest", str(tmp_path / "m.toml"), data=tmp_path / "data",
                      check=False)
    assert result.returncode == 1 and "graph (g.jsonl): read 1 row" in result.stdout
    assert "nothing was read from empty.csv" in one_line(result.stderr)


@pytest.mark.parametrize("owner", ["maya", "maya@", "linkedin:someone", " "])
def test_a_bad_owner_is_refused_before_anything_is_written(tmp_path: Path, owner: str) -> None:
    data = tmp_path / "data"
    result = relgraph("load", "linkedin", str(LINKEDIN), "--owner", owner, data=data,
                      check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"--owner {owner!r} is not an e-mail address" in one_line(result.stderr)
    assert not (data / "graph.sqlite").exists() or sum(
        MemoryStore(data / "graph.sqlite").counts().nodes.values()) == 0


def test_roundup_fetch_exits_1_when_a_feed_failed(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.curation.feedserver import FeedServer, Route
    from tests.curation.test_fetch import RSS

    monkeypatch.setenv("RELGRAPH_FEEDS_ALLOW_HOSTS", "127.0.0.1")  # inherited by the processes
    data = tmp_path / "data"
    with FeedServer({"/good": Route(RSS), "/bad": Route(b"oops", status=500)}) as server:
        relgraph("roundup", "sources", "add", server.url("/good"), "--kind", "company",
                 data=data)
        ok = relgraph("roundup", "fetch", "--timeout", "2", data=data, check=False)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        relgraph("roundup", "sources", "add", server.url("/bad"), "--kind", "company",
                 data=data)
        failed = relgraph("roundup", "fetch", "--timeout", "2", data=data, check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 failed" in failed.stdout and "failed    " in failed.stdout


# --- empty answers say why ------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo") / "data"
    relgraph("demo", data=data)
    return data


def test_an_unknown_topic_says_did_you_mean(demo: Path) -> None:
    for args, message in (
            (("--topic", "crmm", "--concern", "churn"),
             "unknown topic 'crmm' (--topic): did you mean crm?"),
            (("--topic", "crm", "--concern", "chrun"),
             "unknown topic 'chrun' (--concern): did you mean churn?")):
        for question in ("readers", "companies"):
            result = relgraph("query", question, *args, "--as-of", "2026-11-01", data=demo,
                              check=False)
            assert result.returncode == 1 and message in one_line(result.stderr), result


def test_a_synonym_asks_about_its_topic(demo: Path) -> None:
    result = relgraph("query", "readers", "--topic", "customer relationship management",
                      "--concern", "churn", "--as-of", "2026-11-01", "--format", "json",
                      data=demo)
    assert len(json.loads(result.stdout)) == 3


@pytest.mark.parametrize(("as_of", "why"), [
    ("2020-01-01", "--as-of 2020-01-01 is before the first read about crm (2026-04-02 10:00 UTC)"),
    ("2030-01-01", "the last concern about churn (2026-10-28 09:12 UTC) is more than 30d before "
                   "--as-of 2030-01-01: give an earlier --as-of or a wider --concern-window"),
])
def test_an_empty_answer_says_why(demo: Path, as_of: str, why: str) -> None:
    table = relgraph("query", "readers", "--topic", "crm", "--concern", "churn", "--as-of", as_of,
                     data=demo).stdout
    assert one_line(table).startswith("Nobody matches: ") and why in one_line(table)
    as_csv = relgraph("query", "companies", "--topic", "crm", "--concern", "churn", "--as-of",
                      as_of, "--format", "csv", data=demo)
    assert as_csv.stdout == "company,name,people,person_ids\n"  # still what a program reads
    assert why in one_line(as_csv.stderr)


def test_an_empty_answer_with_evidence_in_the_windows(demo: Path) -> None:
    table = relgraph("query", "readers", "--topic", "crm", "--concern", "churn", "--as-of",
                     "2026-11-01", "--kind", "video", data=demo).stdout
    assert "Nobody matches: the windows hold reads about crm and concerns about churn, but no " \
           "connection of our team did both (reading video content)" in one_line(table)
