"""A person who changed jobs between two CRM exports, on both stores and in both load orders.

HubSpot keeps the contact's Record ID when marketing updates a mover's e-mail: the two
addresses are one person with a job history. A record reused for somebody else (another name)
stays two people. A source that lags (sales' CRM still lists the old job after the move) does
not undo the move. Files in the default-view layout HubSpot exports, rows unsorted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.pipeline import Loader, LoadSummary
from connectors.source import ReadContext, source
from graph.errors import NodeNotFound
from graph.questions.profile import PROFILE, ProfileQuery
from graph.store import GraphStore
from tests.conformance.helpers import assert_reopens_the_same, graph_dump

OCTOBER = datetime(2026, 10, 6, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 6, tzinfo=UTC)
LATER = datetime(2026, 12, 6, 20, tzinfo=UTC)
HEADER = ('"Record ID","First Name","Last Name","Email","Phone Number","Contact owner",'
          '"Company Name","Job Title","Lifecycle Stage","Create Date","Last Activity Date"')


def _hubspot(path: Path, rows: list[tuple[str, ...]]) -> Path:
    lines = [HEADER]
    for record, first, last, email, company, title in rows:
        lines.append(",".join(f'"{v}"' for v in (
            record, first, last, email, "+49 30 1234 5678", "Maya Chen", company, title,
            "Customer", "2025-04-09 21:18", "2026-09-03 16:02")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _files(tmp: Path) -> dict[str, tuple[Path, datetime]]:
    october = _hubspot(tmp / "hubspot-crm-exports-all-contacts-2026-10-06.csv", [
        ("3000365", "Ada", "Larsen", "ada.larsen@prismsoft.de", "Prismsoft GmbH", "CTO"),
        ("3000366", "Bo", "Ek", "bo.ek@prismsoft.de", "Prismsoft GmbH", "Analyst"),
        ("3000367", "Cy", "Moss", "cy.moss@prismsoft.de", "Prismsoft GmbH", "Engineer")])
    december = _hubspot(tmp / "hubspot-crm-exports-all-contacts-2026-12-06.csv", [
        ("3000367", "Cy", "Moss", "cy.moss@prismsoft.de", "Prismsoft GmbH", "Engineer"),
        # the record reused for Bo's successor: another person, not a move
        ("3000366", "Dee", "Hart", "dee.hart@prismsoft.de", "Prismsoft GmbH", "Analyst"),
        # Ada moved: a new company, a new e-mail, the same Record ID
        ("3000365", "Ada", "Larsen", "ada.larsen@atlasstack.co.uk", "Atlasstack", "CTO")])
    # Sales' copy, exported after marketing's, never heard of the move (its own id space).
    lagging = _hubspot(tmp / "hubspot-crm-exports-sales-portal-2026-12-06.csv", [
        ("77", "Ada", "Larsen", "ada.larsen@prismsoft.de", "Prismsoft GmbH", "CTO")])
    return {"october": (october, OCTOBER), "december": (december, DECEMBER),
            "lagging": (lagging, LATER)}


def _load(store: GraphStore, data: Path, path: Path, moment: datetime) -> LoadSummary:
    ctx = ReadContext("hubspot")
    ctx.observed_at = moment
    summary = Loader(store, data_dir=data, batch_size=2).run(source("hubspot"), [path], ctx)
    assert summary.rejected == 0, summary.examples
    return summary


def _unordered(props: dict[str, object]) -> dict[str, object]:
    """Properties with their lists as sets: which source or alias came first is load order."""
    return {k: sorted(v) if isinstance(v, list) else v for k, v in props.items()}


def _jobs(store: GraphStore, key: str) -> tuple[str, list[tuple[str, datetime | None]],
                                                  list[tuple[str, datetime | None]]]:
    profile = store.person_profile(key, as_of=datetime(2026, 12, 7, tzinfo=UTC))
    return (profile.person_id, [(j.company_id, j.since) for j in profile.current],
            [(j.company_id, j.until) for j in profile.past])


def test_a_record_whose_email_changed_is_one_person_with_a_job_history(
        store: GraphStore, tmp_path: Path) -> None:
    files = _files(tmp_path)
    data = tmp_path / "data"
    notes = [_load(store, data, *files[name]).notes for name in ("october", "december",
                                                                  "lagging")]
    assert any("record reused for somebody else" in n for n in notes[1])  # Bo's record
    assert not any("reused" in n for n in notes[0] + notes[2])
    kept = "ada.larsen@atlasstack.co.uk"  # the smaller address is the key, whichever came first
    for key in ("ada.larsen@prismsoft.de", kept, "hubspot:3000365"):
        assert _jobs(store, key) == (kept, [("atlasstack.co.uk", DECEMBER)],
                                     [("prismsoft.de", DECEMBER)])
    # the reused record: Bo and Dee are two people, each at Prismsoft
    assert _jobs(store, "bo.ek@prismsoft.de")[1] == [("prismsoft.de", None)]
    assert _jobs(store, "dee.hart@prismsoft.de")[1] == [("prismsoft.de", None)]
    counts = store.counts()
    assert counts.nodes["Person"] == 4  # Ada, Bo, Cy, Dee
    # loading the same files again changes nothing
    for name in ("october", "december", "lagging"):
        _load(store, data, *files[name])
    assert store.counts() == counts
    assert_reopens_the_same(store)


def test_the_mover_is_the_same_graph_in_every_load_order(store: GraphStore,
                                                          tmp_path: Path) -> None:
    files = _files(tmp_path)
    dumps = []
    for n, order in enumerate([("october", "december", "lagging"),
                               ("lagging", "december", "october"),
                               ("december", "lagging", "october")]):
        store.delete_all()
        for name in order:
            _load(store, tmp_path / f"data-{n}", *files[name])
        # Which of Bo and Dee holds their shared record id is the first loaded (both are
        # there either way); everything about Ada and the companies is the same.
        dumps.append(tuple({k: _unordered(props) for k, props in part.items()
                            if not any("bo.ek" in str(x) or "dee.hart" in str(x) for x in k)}
                           for part in graph_dump(store)))
        assert _jobs(store, "hubspot:3000365")[1] == [("atlasstack.co.uk", DECEMBER)]
    assert dumps[0] == dumps[1] == dumps[2]


def test_an_old_address_finds_the_person_on_the_apis_async_path(store: GraphStore,
                                                                tmp_path: Path) -> None:
    files = _files(tmp_path)
    for name in ("december", "october"):
        _load(store, tmp_path / "data", *files[name])

    async def ask(key: str) -> str:
        try:
            return (await store.ask_async(PROFILE, ProfileQuery(key))).person_id
        finally:
            await store.aclose()

    assert asyncio.run(ask("ada.larsen@prismsoft.de")) == "ada.larsen@atlasstack.co.uk"
    assert asyncio.run(ask("HubSpot:3000365")) == "ada.larsen@atlasstack.co.uk"
    with pytest.raises(NodeNotFound):
        asyncio.run(ask("nobody@prismsoft.de"))
