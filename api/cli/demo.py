"""`relgraph demo`: load the demo graph and ask it the standard questions;
`relgraph demo world OUT_DIR`: write a generated world as the tools' export files (and, with
`--load`, load it through the connectors, run the analytics, draft this week's roundup from the
bundled sample feeds (demoworld/feeds.py) and print the headline answers)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from api.auth import KeyStore, Scope
from api.cli.common import Format, err, opened_store, out, parse_as_of
from api.cli.load import failure, print_summary, run_spec
from api.cli.query import print_companies, print_readers
from connectors.manifest import read_manifest
from connectors.pipeline import load_graph_file
from connectors.team import add_member
from curation.model import SourceKind
from graph.model import ReaderQuery
from graph.rows import parse_datetime
from graph.settings import get_settings
from graph.store import GraphStore

# Package data (pyproject.toml), so `relgraph demo` works from any install, not only a checkout.
DEMO_FILE = resources.files("api").joinpath("demo", "graph.jsonl")
DEMO_AS_OF = "2026-11-01T00:00:00Z"


app = typer.Typer(help="The demo: a small hand-made graph (`relgraph demo`), or a generated "
                       "world of real export files (`relgraph demo world OUT_DIR`).",
                  invoke_without_command=True)


@app.callback()
def demo_group(ctx: typer.Context) -> None:
    """Without a command: load the small demo graph and ask it the standard questions."""
    if ctx.invoked_subcommand is None:
        demo()


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


@app.command("world")
def world(
    out_dir: Annotated[Path, typer.Argument(help="where the export files go (created)",
                                            file_okay=False)],
    companies: Annotated[int, typer.Option(min=5, help="companies in the world (customers, "
                                           "prospects, competitors); ~5 people each")] = 120,
    seed: Annotated[int, typer.Option(help="the same seed writes the same files")] = 7,
    as_of: Annotated[str | None, typer.Option(
        help="the world's present (ISO 8601; default now): its latest events are minutes "
             "before it")] = None,
    load: Annotated[bool, typer.Option(
        "--load", help="then add the team, load the manifest into the configured store, run "
                       "the analytics and print the headline answers")] = False,
) -> None:
    """Write a seeded world as the files the tools export (LinkedIn, HubSpot, Salesforce,
    Segment, Stripe, Zendesk, Mailchimp, Crunchbase, Google Alerts, calendars, mailboxes) and
    its load manifest (manifest.toml); world.json says what was planted where."""
    from demoworld.world import generate

    moment = parse_as_of(as_of) if as_of else None
    with err.status("writing the world") as status:
        described = generate(out_dir, companies=companies, seed=seed, as_of=moment,
                             progress=lambda step: status.update(f"writing the world: {step}"))
    files = described["files"]
    out.print(f"wrote {len(files)} files to {out_dir} ({sum(files.values()):,} rows; "
              f"{described['people']:,} people at {companies:,} companies: "
              f"{described['customers']} customers, {described['churned']} churned, "
              f"{described['prospects']} prospects; about "
              f"{described['relationships_estimate_total']:,} relationships once loaded)")
    out.print(f"load it: relgraph load --manifest {out_dir / 'manifest.toml'} "
              f"(after `relgraph team add` for each row of {out_dir / 'team.csv'})")
    if load:
        load_world(out_dir)


def load_world(directory: Path) -> None:
    """The team, then every load of the manifest, one line each; then the headline answers."""
    settings = get_settings()
    specs = read_manifest(directory / "manifest.toml")
    for spec in specs:
        spec.context()
    failed = []
    with opened_store() as store:
        store.migrate()
        with (directory / "team.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                add_member(store, row["email"], name=row["name"], title=row["title"])
        for spec in specs:
            summary = run_spec(store, spec)
            nodes = sum(summary.created_nodes.values())
            rels = sum(summary.created_relationships.values())
            names = ", ".join(p.name for p in spec.paths)[:60]
            out.print(Text(f"loaded {summary.source:<12} {names}: "
                           f"{summary.rows:,} rows, {nodes:,} new nodes, {rels:,} new "
                           f"relationships, {summary.rejected:,} rejected"))
            why = failure(summary)
            if why is not None:
                failed.append(f"{summary.source}: {why}")
        counts = store.counts()
    out.print(f"the graph: {sum(counts.nodes.values()):,} nodes, "
              f"{sum(counts.relationships.values()):,} relationships")
    if failed:
        for why in failed:
            err.print(Text.assemble(("error: ", "red"), why))
        raise typer.Exit(1)
    headlines(directory, settings.data_dir)


def headlines(directory: Path, data_dir: Path) -> None:
    """What a customer-success team asks first, with the evidence."""
    from analytics.config import load_config
    from analytics.run import open_analysis

    settings = get_settings()
    config = load_config(directory / "analytics.toml")
    with opened_store() as store:
        run = open_analysis(store, data_dir=data_dir, as_of=None, config=config,
                            events_uri=settings.events_uri)
        names = run.names()
        out.rule("Today's outreach list (the first ten): who to write to, and why")
        for r in run.outreach(10):
            out.print(Text(f"{r.name or r.person_id} [{r.kind}]: {r.reason}"))
        out.rule("Accounts at risk (lowest health first)")
        for h in run.at_risk()[:8]:  # churned accounts are not at risk (analytics/health.py)
            out.print(Text(f"{names.get(h.customer_id, h.customer_id)}: {h.explain()}"))
        out.rule("When more activity is bad news")
        for x in run.anomalies(include_expected=False)[:12]:
            out.print(Text(f"{names.get(x.customer_id, x.customer_id)} [{x.kind}]: {x.text}"))
        drifting = [d for d in run.drift() if d.drifting]
        if drifting:
            out.rule("Drifting to competitors: their people are connecting with a rival's")
            for d in drifting[:6]:
                out.print(Text(f"{names.get(d.customer_id, d.customer_id)}: {d.text}"))
        count = run.count()
        out.print(f"customers active now: {count.total:,} ({count.subscription:,} "
                  f"subscriptions, {count.purchase:,} Solo buyers)")
        run.save()
        drafted = roundup(store, directory, data_dir)
    keys = KeyStore(settings.api_keys_path)
    for key in keys.list():
        if key.name == "demo screens" and key.revoked_at is None:
            keys.revoke(key.id)  # one demo key at a time
    _, token = keys.create(Scope.READ, "demo screens")
    out.rule("See it")
    out.print(f"relgraph serve, then open http://{settings.api_host}:{settings.api_port}/?key={token}"
              "  (a read key made for the demo; `relgraph apikey list` shows it)")
    if not drafted:
        raise typer.Exit(1)


def world_as_of(directory: Path) -> datetime:
    """The world's present, as world.json records it (now, for a directory without one)."""
    try:
        return datetime.fromisoformat(json.loads((directory / "world.json").read_text(
            encoding="utf-8"))["as_of"])
    except FileNotFoundError:
        return datetime.now(UTC).replace(second=0, microsecond=0)


def roundup(store: GraphStore, directory: Path, data_dir: Path, top: int = 3) -> bool:
    """This week's roundup draft from the sample feeds and the world's blog, fetched from a
    server on 127.0.0.1 for the while (demoworld/feeds.py); the top of its ranking, with the
    reasons. False (after one red line) when the curation failed."""
    from api.cli.roundup import db_path
    from curation.db import connect
    from curation.errors import CurationError
    from curation.fetch import Outcome
    from demoworld.feeds import draft_roundup

    out.rule("This week's roundup draft: sample feeds served on 127.0.0.1, fetched and ranked")
    blog = directory / "site" / "blog.xml"
    try:
        with connect(db_path()) as db:
            made = draft_roundup(db, store, as_of=world_as_of(directory), data_dir=data_dir,
                                 own_feed=blog if blog.is_file() else None)
    except CurationError as exc:
        err.print(Text.assemble(("error: ", "red"), f"roundup: {exc}"), soft_wrap=True)
        return False
    issue, items = made.issue, made.items
    if made.fetched is None:
        out.print(Text(f"already built by an earlier demo run ({issue.status.value}); "
                       "nothing fetched"))
    else:
        for feed in made.fetched.feeds:
            if feed.outcome is Outcome.FAILED:
                err.print(Text.assemble(("failed ", "red"), f"{feed.url}  {feed.message}"),
                          soft_wrap=True)
        out.print(Text(f"fetched {made.fetched.summary}"))
    picked = sum(i.picked for i in items)
    # the top of the ranking, and the best of each section the top does not reach
    chosen = {i.rank: i for i in items[:top]}
    for kind in SourceKind:
        best = next((i for i in items if i.picked and i.section is kind), None)
        if best is not None:
            chosen.setdefault(best.rank, best)
    out.print(Text.assemble((issue.id, "bold"), f"  {issue.title}: {len(items)} candidates, "
                            f"{picked} picked; the top {min(top, len(items))} and the best of "
                            "each section:"))
    for item in (chosen[rank] for rank in sorted(chosen)):
        parts = " + ".join(f"{r.name} {r.value:.2f}" for r in item.reasons)
        strongest = max(item.reasons, key=lambda r: r.value, default=None)
        # the strongest reason, up to its first topic: one line per story (not wrapped)
        why = f"; {strongest.name}: {strongest.why.split('; ')[0]}" if strongest else ""
        out.print(Text(f"#{item.rank} [{item.place}] {item.title} ({item.outlet or '?'})"),
                  soft_wrap=True)
        out.print(Text(f"    {item.score:.2f} = {parts}{why}", style="dim"), soft_wrap=True)
    send = "" if issue.frozen else ("; send it: relgraph roundup setup (your masthead), then "
                                    f"relgraph roundup publish {issue.id}")
    out.print(Text(f"read it: relgraph roundup show {issue.id}; relgraph roundup preview "
                   f"{issue.id} --format html -o issue.html{send}"))
    return True
