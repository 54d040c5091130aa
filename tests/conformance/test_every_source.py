"""Every SOURCE loads its fixture files through the pipeline, on both stores, with exactly the
rejects the fixtures were written to contain, and a second load changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.pipeline import Loader
from connectors.records import PersonRef
from connectors.source import SOURCES, ReadContext, source
from connectors.team import add_member
from graph.rows import parse_datetime
from graph.store import GraphStore
from tests.conftest import ROOT

FIX = ROOT / "fixtures"
# source -> (files, options, expected rejects, a node label the load must have written)
CASES: dict[str, tuple[list[str], dict[str, Any], int | None, str | None]] = {
    "linkedin": (["linkedin/Connections.csv"], {"owner": "maya@relgraph.io"}, 3, "Person"),
    "hubspot": (["hubspot/hubspot-crm-exports-all-companies-2024-03-06.csv",
                 "hubspot/hubspot-crm-exports-all-contacts-2024-03-06.csv"], {}, 5, "Customer"),
    "salesforce": (["salesforce/report1710511200000.csv", "salesforce/report1710511260000.csv"],
                   {}, None, "Company"),
    "csv": (["csv/telco_churn.csv"], {"mapping": "csv/telco_churn.toml"}, None, "Customer"),
    "segment": (["segment/events.jsonl"], {}, 1, "Event"),
    "shopify": (["shopify/orders_export.csv"], {}, 1, "Customer"),  # a formula as e-mail
    "transactions": (["transactions/transactions.csv"], {}, None, "Customer"),
    "zendesk": (["zendesk/tickets.csv"], {}, None, "Concern"),
    "notes": (["notes/call-notes.csv"], {}, 4, "Concern"),
    "catalog": (["catalog/catalog.csv"], {}, 3, "Content"),
    "feed": (["feed/blog.xml"], {}, 2, "Content"),
    # clicks on pages the graph does not know yet: only the event log grows (READ once the
    # catalogue names them, see test_world)
    "clicks": (["clicks/activity.csv"], {}, 4, None),
    "funding": (["funding/funding-rounds.csv"], {}, 3, "Trigger"),
    "news": (["news/company-news.xml"], {}, 1, "Trigger"),
    "competitors": (["competitors/competitors.txt"], {}, 2, "Company"),
    "mbox": (["mbox/takeout.mbox"], {"owner": "ada@ours.io"}, 2, "Person"),
    "ics": (["ics/ada-calendar.ics"], {"owner": "ada@ours.io"}, 2, "Person"),
    "graph": (["../api/demo/graph.jsonl"], {}, 0, "Concern"),
}


def test_every_source_has_a_case() -> None:
    assert sorted(CASES) == sorted(SOURCES)


def _load(store: GraphStore, data: Path, name: str) -> Any:
    files, options, _, _ = CASES[name]
    ctx = ReadContext(name)
    if "owner" in options:
        ctx.owner = PersonRef(email=options["owner"])
    if "mapping" in options:
        import tomllib

        ctx.mapping = tomllib.loads((FIX / options["mapping"]).read_text(encoding="utf-8"))
    if "observed_at" in options:
        ctx.observed_at = parse_datetime(options["observed_at"])
    return Loader(store, data_dir=data, batch_size=5).run(source(name), [FIX / f for f in files],
                                                          ctx)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fixture_loads_and_reloads(store: GraphStore, tmp_path: Path, name: str) -> None:
    add_member(store, "maya@relgraph.io")
    _, _, rejects, label = CASES[name]
    first = _load(store, tmp_path / "data", name)
    if rejects is not None:
        assert first.rejected == rejects, first.examples
    if label is None:
        assert first.events_added > 0
    else:
        assert store.counts().nodes[label] > 0 and first.loaded > 0
    counts = store.counts()
    again = _load(store, tmp_path / "data", name)
    assert store.counts() == counts
    assert (again.rejected, again.events_added, again.proposed) == (first.rejected, 0, 0)
