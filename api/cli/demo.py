"""`relgraph demo`: load the demo graph and ask it the standard questions."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

from api.cli.common import Format, opened_store, out
from api.cli.load import print_summary
from api.cli.query import print_companies, print_readers
from connectors.pipeline import load_graph_file
from graph.model import ReaderQuery
from graph.rows import parse_datetime
from graph.settings import get_settings

# Package data (pyproject.toml), so `relgraph demo` works from any install, not only a checkout.
DEMO_FILE = resources.files("api").joinpath("demo", "graph.jsonl")
DEMO_AS_OF = "2026-11-01T00:00:00Z"


def demo() -> None:
    """Load the demo graph into the configured store and ask it the standard questions."""
    settings = get_settings()
    with opened_store() as store, resources.as_file(DEMO_FILE) as demo_file:
        store.migrate()
        summary = load_graph_file(store, demo_file, rejects_dir=settings.rejects_dir,
                                  batch_size=settings.batch_size, source="demo")
        print_summary(summary)
        q = ReaderQuery(read_topic="crm", concern_topic="churn", read_window=timedelta(days=90),
                        concern_window=timedelta(days=30), as_of=parse_datetime(DEMO_AS_OF))
        out.rule("Which of our connections read about CRM (last 90 days) and raised a churn "
                 f"concern (last 30 days), as of {DEMO_AS_OF[:10]}?")
        print_readers(store.readers(q), Format.TABLE)
        out.rule("At which companies do we know such people?")
        print_companies(store.reader_companies(q), Format.TABLE)
    where = settings.graph_path if store.kind == "memory" else settings.neo4j_uri
    out.print(f"Store: {store.kind} ({where}). "
              "Try: relgraph query readers --topic crm --concern churn "
              f"--as-of {DEMO_AS_OF} --kind white_paper")
