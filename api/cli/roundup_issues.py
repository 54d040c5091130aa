"""`relgraph roundup build|edit|show|preview|schedule|unschedule|publish|list`: the editorial
commands of the weekly roundup, added to the group of `api/cli/roundup.py`.

Issues are named by id (`roundup-2026-11-27`, printed by `build`) or `latest`; their items by
their number in the ranking, their URL, or a part of the URL that names one item. Every edit
records who made it: `--by NAME`, else $USER.
"""

from __future__ import annotations

import json
import sys
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from api.cli.common import (
    MOMENT_HELP,
    Format,
    FormatOpt,
    err,
    opened_store,
    out,
    parse_as_of,
    plain,
    write_csv,
)
from api.cli.roundup import app, curation_db, curation_errors
from connectors.tagging import Taxonomy, default_taxonomy, load_taxonomy
from curation import issues
from curation.draft import build as build_issue
from curation.errors import CurationError
from curation.issues import Issue, Item
from curation.model import SourceKind
from curation.render import MAIL, SITE, default_templates_dir, load_masthead, templates_dir
from curation.render import Format as RenderFormat
from curation.render import preview as render
from graph.settings import get_settings

edit_app = typer.Typer(
    help="Edit a draft or scheduled issue: `relgraph roundup edit ISSUE pick|drop|move|blurb|"
         "verdict|intro …`. Items are named by number, URL or a unique part of the URL.",
    no_args_is_help=True)
app.add_typer(edit_app, name="edit")

ByOpt = Annotated[str | None, typer.Option("--by", help="who makes the change (default: $USER)")]
IssueArg = Annotated[str, typer.Argument(
    metavar="ISSUE", help="the issue's id (as `build` prints it) or latest")]
ItemArg = Annotated[str, typer.Argument(
    metavar="ITEM", help="the item: its number in the ranking, its URL, or a part of the URL")]
TemplatesOpt = Annotated[Path | None, typer.Option(
    "--templates", help="templates directory (default: $RELGRAPH_ROUNDUP_TEMPLATES; then the "
                        "shipped ones)", file_okay=False)]


def _moment(text: str, option: str) -> datetime:
    moment = parse_as_of(text, option=option)
    assert moment is not None
    return moment


def _taxonomy() -> Taxonomy:
    path = get_settings().taxonomy
    return load_taxonomy(path) if path else default_taxonomy()


def _who(by: str | None) -> str:
    return by.strip() if by and by.strip() else issues.who_default()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _status(issue: Issue) -> str:
    if issue.scheduled_at is not None and issue.status.value == "scheduled":
        return f"scheduled for {_when(issue.scheduled_at)}"
    if issue.published_at is not None:
        return f"published {_when(issue.published_at)}"
    return issue.status.value


def _ranking(rows: list[Item]) -> Table:
    table = Table(show_lines=True)
    for column, style in (("#", "bold"), ("score", None), ("in the issue", None),
                          ("story", None), ("why", "dim")):
        table.add_column(column, style=style, overflow="fold")
    for item in rows:
        place = Text(item.place, style="green" if item.picked else "dim")
        story = Text.assemble((item.title, "bold"), "\n", item.content_id, "\n",
                              (f"{item.outlet or ''}{' · ' if item.outlet else ''}"
                               f"{item.published_at:%Y-%m-%d}", "dim"))
        why = "\n".join(f"{r.name} {r.value:+.2f}: {r.why}" for r in item.reasons)
        table.add_row(str(item.rank), f"{item.score:.2f}", place, story, Text(why))
    return table


@app.command("build")
def build(
    on: Annotated[str | None, typer.Option(
        "--date", help="the issue's date, YYYY-MM-DD (default today)")] = None,
    since: Annotated[str | None, typer.Option(
        help=f"start of the window: {MOMENT_HELP} (default: end of the last published issue's "
             "window, or 7 days before the date)")] = None,
    by: ByOpt = None,
    templates: TemplatesOpt = None,
) -> None:
    """Draft a new issue: prints its id and every candidate ranked, with its reasons.

    The window's candidates (fetched entries, one per story), ranked by relevance, freshness,
    source weight and what our contacts and customers read and worry about; the best of each
    section picked, each with a drafted blurb and verdict."""
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(f"{on!r}: use YYYY-MM-DD", param_hint="--date") from None
    start = _moment(since, "--since") if since else None
    settings = get_settings()
    with curation_db() as db, opened_store() as store:
        masthead = load_masthead(templates_dir(templates))
        made = build_issue(db, store, day=day, since=start, who=_who(by), name=masthead.name,
                           intro=masthead.intro, taxonomy=_taxonomy(),
                           data_dir=settings.data_dir)
    issue = made.issue
    picked = sum(i.picked for i in made.items)
    out.print(Text.assemble("draft ", (issue.id, "bold"), f"  {issue.title}"), highlight=False)
    out.print(f"window {_when(issue.since)} to {_when(issue.until)}: {len(made.items)} "
              f"candidates, {picked} picked", highlight=False)
    out.print(_ranking(list(made.items)))
    out.print(f"next: `relgraph roundup preview {issue.id} --format html -o issue.html`, "
              f"`relgraph roundup edit {issue.id} pick|drop|move|blurb|verdict|intro …`, or "
              f"`relgraph roundup discard {issue.id}`", highlight=False)


@app.command("discard")
def discard(issue_ref: IssueArg) -> None:
    """Delete a draft: its items, edits and history go, and its id is free for the next build
    of that day. A published issue cannot be discarded; a scheduled one is unscheduled first."""
    with curation_db() as db:
        gone = issues.discard(db, issue_ref)
    out.print(Text.assemble("discarded ", (gone.id, "bold"), f"  {gone.title}"),
              highlight=False)


@app.command("show")
def show(
    issue_ref: IssueArg,
    history: Annotated[bool, typer.Option("--history", help="also every edit")] = False,
) -> None:
    """An issue as it stands: its sections, the candidates left out, its history."""
    with curation_db() as db:
        issue = issues.get(db, issue_ref)
        every = issues.items(db, issue.id)
        by_section = issues.sections(db, issue.id)
        edits = issues.history(db, issue.id)
    masthead = load_masthead(templates_dir(None))
    out.print(Text.assemble((issue.id, "bold"), f"  {issue.title}  [{_status(issue)}]"),
              highlight=False)
    for kind in SourceKind:
        out.print(Text(f"\n{masthead.section_title(kind)}", style="bold"))
        if not by_section[kind]:
            out.print(Text("  (nothing picked)", style="dim"))
        for item in by_section[kind]:
            out.print(Text.assemble(f"  {item.position}. ", (item.title, "bold"),
                                    f"  [#{item.rank}] ", (item.verdict, "green")))
            out.print(Text(f"     {item.blurb}", style="dim"))
    left = [i for i in every if not i.picked]
    if left:
        out.print(Text("\nNot picked", style="bold"))
        for item in left:
            out.print(Text(f"  #{item.rank} {item.score:.2f} {item.section.value:<7} "
                           f"{item.title}  {item.content_id}"))
    if history:
        out.print(Text("\nHistory", style="bold"))
        for e in edits:
            target = f" {e.target}" if e.target else ""
            change = (f": {e.before!r} -> {e.after!r}" if e.before is not None
                      else f": {e.after}" if e.after else "")
            out.print(Text(f"  {_when(e.at)}  {e.who}  {e.action}{target}{change}"))


@edit_app.callback()
def edit(ctx: typer.Context, issue_ref: IssueArg) -> None:
    """Edit an issue (drafts and scheduled ones; a published issue is frozen)."""
    ctx.obj = issue_ref


def _issue_of(ctx: typer.Context) -> str:
    assert ctx.parent is not None
    return str(ctx.parent.obj)


def _said(item: Item, what: str) -> None:
    out.print(Text(f"{what}: #{item.rank} {item.title} ({item.place})"), highlight=False)


@edit_app.command("pick")
def edit_pick(
    ctx: typer.Context, item: ItemArg,
    section: Annotated[SourceKind | None, typer.Option(
        help="company, vendor or ours (default: the section of its source)")] = None,
    by: ByOpt = None,
) -> None:
    """Put a candidate in the issue, at the end of its section."""
    with curation_db() as db:
        _said(issues.pick(db, _issue_of(ctx), item, section=section, who=_who(by)), "picked")


@edit_app.command("drop")
def edit_drop(ctx: typer.Context, item: ItemArg, by: ByOpt = None) -> None:
    """Take an item out of the issue (it stays a candidate)."""
    with curation_db() as db:
        _said(issues.drop(db, _issue_of(ctx), item, who=_who(by)), "dropped")


@edit_app.command("move")
def edit_move(
    ctx: typer.Context, item: ItemArg,
    to: Annotated[int, typer.Option("--to", help="its new position in the section, from 1")],
    section: Annotated[SourceKind | None, typer.Option(
        help="move it to this section (company, vendor or ours)")] = None,
    by: ByOpt = None,
) -> None:
    """Move a picked item to another position (or section)."""
    with curation_db() as db:
        _said(issues.move(db, _issue_of(ctx), item, to, section=section, who=_who(by)), "moved")


@edit_app.command("blurb")
def edit_blurb(ctx: typer.Context, item: ItemArg,
               text: Annotated[str, typer.Argument(help="the new blurb")],
               by: ByOpt = None) -> None:
    """Rewrite an item's blurb."""
    with curation_db() as db:
        _said(issues.set_blurb(db, _issue_of(ctx), item, text, who=_who(by)), "blurb set")


@edit_app.command("verdict")
def edit_verdict(ctx: typer.Context, item: ItemArg,
                 text: Annotated[str, typer.Argument(help='e.g. "Read it." or "Love it."')],
                 by: ByOpt = None) -> None:
    """Change an item's verdict."""
    with curation_db() as db:
        _said(issues.set_verdict(db, _issue_of(ctx), item, text, who=_who(by)), "verdict set")


@edit_app.command("intro")
def edit_intro(ctx: typer.Context,
               text: Annotated[str, typer.Argument(
                   help="the welcome (blank lines separate paragraphs)")],
               by: ByOpt = None) -> None:
    """Rewrite the issue's welcome."""
    with curation_db() as db:
        issue = issues.set_intro(db, _issue_of(ctx), text, who=_who(by))
    out.print(Text(f"intro set for {issue.id}"))


@app.command("preview")
def preview(
    issue_ref: IssueArg,
    fmt: Annotated[RenderFormat, typer.Option("--format", help="md, html, text or eml")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="write to this file (default: stdout)", dir_okay=False)] = None,
    templates: TemplatesOpt = None,
) -> None:
    """An issue as it would be sent: md, html (the e-mail), text, or the .eml.

    The .eml is the whole multipart message (plain text and HTML), as the sending tool takes
    it."""
    with curation_db() as db:
        rendered = render(db, issue_ref, fmt, templates)
    data = rendered if isinstance(rendered, bytes) else rendered.encode("utf-8")
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    out.print(Text(f"wrote {output} ({len(data):,} bytes)"))


@app.command("schedule")
def schedule(
    issue_ref: IssueArg,
    at: Annotated[str, typer.Option("--at", help=f"when it goes out: {MOMENT_HELP}")],
    by: ByOpt = None,
) -> None:
    """Schedule a draft, or re-schedule; `publish --due` publishes what is due."""
    moment = _moment(at, "--at")
    with curation_db() as db:
        issue = issues.schedule(db, issue_ref, moment, who=_who(by))
    out.print(Text(f"{issue.id} {_status(issue)}"))


@app.command("unschedule")
def unschedule(issue_ref: IssueArg, by: ByOpt = None) -> None:
    """Pull a scheduled issue back to draft."""
    with curation_db() as db:
        issue = issues.unschedule(db, issue_ref, who=_who(by))
    out.print(Text(f"{issue.id} is a draft again"))


@app.command("setup")
def setup(
    name: Annotated[str, typer.Option(prompt="The roundup's name (issue titles)",
                                      help="the roundup's name: issue titles are "
                                           "'<name> – Friday, November 27th'")],
    organisation: Annotated[str, typer.Option(prompt="Your organisation",
                                              help="who publishes it (the brand line)")],
    sender: Annotated[str, typer.Option(prompt="From: address (Name <address>)",
                                        help="the e-mail's From:, e.g. 'Ada <news@acme.com>'")],
    curator: Annotated[str, typer.Option(help="who signs the picks (default: nobody)")] = "",
    site_url: Annotated[str, typer.Option(help="your site (the footer links it)")] = "",
    intro: Annotated[str | None, typer.Option(help="each issue's opening paragraph")] = None,
    templates: TemplatesOpt = None,
) -> None:
    """Set the roundup's masthead: asks what it cannot guess (or take the options), writes
    roundup.toml into the templates directory (RELGRAPH_ROUNDUP_TEMPLATES, else
    <data dir>/roundup/templates), and keeps keys that file already has. `publish` refuses
    the shipped sample until this is done."""
    from email.utils import parseaddr

    if not parseaddr(sender)[1] or "@" not in parseaddr(sender)[1]:
        raise typer.BadParameter(f"{sender!r} is not an e-mail address", param_hint="--sender")
    where = templates_dir(templates) or default_templates_dir()
    where.mkdir(parents=True, exist_ok=True)
    path = where / "roundup.toml"
    values = {"name": name, "organisation": organisation, "sender": sender,
              "recipient": f"{organisation or name} readers <{parseaddr(sender)[1]}>",
              "curator": curator, "signature": curator.split(" ")[0] if curator else "",
              "site_url": site_url, "archive_url": site_url.rstrip("/") + "/roundup/"
              if site_url else "", "unsubscribe": f"mailto:{parseaddr(sender)[1]}?subject="
              "unsubscribe", "footer": f"You get this e-mail because you signed up for "
              f"{name}." if not organisation else "You get this e-mail because you signed "
              f"up for the {organisation} roundup."}
    if intro is not None:
        values["intro"] = intro
    before: dict[str, Any] = {}
    if path.is_file():
        with curation_errors():
            load_masthead(where)  # refuse to build on a file that does not read
        before = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    merged = {**{k: v for k, v in before.items() if k != "sections"}, **values}
    lines = ["# The roundup's masthead, by `relgraph roundup setup` (edit freely: the shipped",
             "# curation/templates/roundup.toml lists every key).",
             *[f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in merged.items()]]
    if before.get("sections"):
        lines += ["", "[sections]", *[f"{k} = {json.dumps(v, ensure_ascii=False)}"
                                      for k, v in before["sections"].items()]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with curation_errors():
        load_masthead(where)
    out.print(Text(f"masthead written to {path}: `relgraph roundup preview ISSUE` shows it; "
                   "`publish` sends it"))


@app.command("publish")
def publish(
    issue_ref: Annotated[str | None, typer.Argument(
        metavar="[ISSUE]", help="the issue's id or latest (or --due)")] = None,
    due: Annotated[bool, typer.Option(
        "--due", help="publish every scheduled issue whose time has come (for cron)")] = False,
    by: ByOpt = None,
    templates: TemplatesOpt = None,
) -> None:
    """Publish now: into the graph, the archive and the feed; then frozen.

    The graph gets a Roundup node that FEATURES each story's Content; the archive page, the
    index, the Atom feed and the .eml are written under the data dir (roundup/site,
    roundup/mail)."""
    if (issue_ref is None) == (not due):
        raise typer.BadParameter("give an ISSUE or --due (not both)")
    settings = get_settings()
    with curation_errors():
        masthead = load_masthead(templates_dir(templates))
    if not masthead.configured:
        err.print(Text.assemble(("error: ", "red"), "the roundup's masthead is the shipped "
                                "sample (no sender, no organisation, no signature of yours): "
                                "run `relgraph roundup setup` first, or put a roundup.toml in "
                                "RELGRAPH_ROUNDUP_TEMPLATES; nothing was published"),
                  soft_wrap=True)
        raise typer.Exit(1)
    with curation_db() as db, opened_store() as store:
        refs = [i.id for i in issues.due(db, issues.now_utc())] if due else [issue_ref or ""]
        if due and not refs:
            out.print("Nothing is due.")
        for ref in refs:
            done = issues.publish(db, store, ref, data_dir=settings.data_dir, who=_who(by),
                                  taxonomy=_taxonomy(), templates=templates)
            stories = sum(len(v) for v in issues.sections(db, done.issue.id).values())
            out.print(Text.assemble("published ", (done.issue.id, "bold"),
                                    f": {stories} stories; graph: {done.nodes} nodes, "
                                    f"{done.relationships} relationships"), highlight=False)
            site = settings.data_dir / SITE
            out.print(Text(f"  archive {site / (done.issue.id + '.html')}\n"
                           f"  index   {site / 'index.html'}\n"
                           f"  feed    {site / 'feed.atom'}\n"
                           f"  e-mail  {settings.data_dir / MAIL / (done.issue.id + '.eml')}"))


@app.command("list")
def list_(fmt: FormatOpt = Format.TABLE) -> None:
    """Every issue, newest first: status, window, stories picked."""
    with curation_db() as db:
        found = [(i, sum(len(v) for v in issues.sections(db, i.id).values()))
                 for i in issues.list_issues(db)]
    if fmt is Format.JSON:
        typer.echo(json.dumps([{**plain(i), "date": i.date.isoformat(), "picked": n}
                               for i, n in found], indent=2, ensure_ascii=False))
        return
    columns = ["id", "status", "date", "picked", "window", "title"]
    rows = [[i.id, _status(i), i.date.isoformat(), str(n),
             f"{_when(i.since)} - {_when(i.until)}", i.title] for i, n in found]
    if fmt is Format.CSV:
        write_csv(columns, rows)
        return
    if not found:
        out.print("No issue yet: `relgraph roundup build`.")
        return
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out.print(table)


__all__ = ["CurationError", "app", "edit_app"]
