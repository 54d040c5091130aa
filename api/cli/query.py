"""`relgraph query …`: the standard questions, as tables, JSON or CSV."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import (
    AsOfOpt,
    Format,
    FormatOpt,
    day,
    opened_store,
    out,
    parse_as_of,
    parse_window,
    plain,
    write_csv,
)
from graph.model import CompanyMatch, ReaderMatch, ReaderQuery

app = typer.Typer(help="Ask the graph the standard questions.", no_args_is_help=True)

TopicOpt = Annotated[str, typer.Option("--topic", help="topic read about, e.g. crm")]
ConcernOpt = Annotated[str, typer.Option("--concern", help="topic of the concern, e.g. churn")]
PersonOpt = Annotated[str | None, typer.Option(
    "--person", help="whose connections (e-mail or source:id); default: anyone on our team")]
KindOpt = Annotated[str | None, typer.Option("--kind", help="only content of this kind")]
ReadWindowOpt = Annotated[str, typer.Option("--read-window", help="e.g. 90d")]
ConcernWindowOpt = Annotated[str, typer.Option("--concern-window", help="e.g. 30d")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=1000)]


def reader_query(topic: str, concern: str, person: str | None, kind: str | None,
                 read_window: str, concern_window: str, as_of: str | None,
                 limit: int) -> ReaderQuery:
    return ReaderQuery(read_topic=topic, concern_topic=concern, person=person, content_kind=kind,
                       read_window=parse_window(read_window),
                       concern_window=parse_window(concern_window),
                       as_of=parse_as_of(as_of), limit=limit)


def print_readers(matches: list[ReaderMatch], fmt: Format) -> None:
    if fmt is Format.JSON:
        out.print_json(data=plain(matches))
        return
    if fmt is Format.CSV:
        write_csv(["person", "name", "companies", "known_by", "read", "concerns"], (
            [m.person_id, m.name or "", "; ".join(c.company_id for c in m.companies),
             "; ".join(m.via), "; ".join(r.content_id for r in m.reads),
             " | ".join(f"{day(c.at)} {c.text}" for c in m.concerns)]
            for m in matches))
        return
    if not matches:
        out.print("Nobody matches.")
        return
    table = Table(show_lines=True)
    for col in ("person", "works at", "known by", "read", "concern raised"):
        table.add_column(col)
    for m in matches:
        table.add_row(
            f"{m.name or ''}\n{m.person_id}",
            "\n".join(f"{c.name or c.company_id}" + (f" ({c.title})" if c.title else "")
                      for c in m.companies) or "-",
            "\n".join(m.via),
            "\n".join(f"{day(r.last_at)} {r.title or r.content_id} [{r.kind or '?'}]"
                      for r in m.reads),
            "\n".join(f"{day(c.at)} {c.channel or ''}: {c.text}" for c in m.concerns),
        )
    out.print(table)


def print_companies(matches: list[CompanyMatch], fmt: Format) -> None:
    if fmt is Format.JSON:
        out.print_json(data=plain(matches))
        return
    if fmt is Format.CSV:
        write_csv(["company", "name", "people", "person_ids"], (
            [c.company_id, c.name or "", c.people, "; ".join(c.person_ids)] for c in matches))
        return
    if not matches:
        out.print("No company matches.")
        return
    table = Table()
    for col in ("company", "people", "who"):
        table.add_column(col)
    for c in matches:
        table.add_row(f"{c.name or ''} ({c.company_id})", str(c.people), ", ".join(c.person_ids))
    out.print(table)


@app.command("readers")
def query_readers(topic: TopicOpt, concern: ConcernOpt, person: PersonOpt = None,
                  kind: KindOpt = None, read_window: ReadWindowOpt = "90d",
                  concern_window: ConcernWindowOpt = "30d", as_of: AsOfOpt = None,
                  limit: LimitOpt = 100, fmt: FormatOpt = Format.TABLE) -> None:
    """Connections who read about TOPIC and recently raised a CONCERN, with the evidence."""
    q = reader_query(topic, concern, person, kind, read_window, concern_window, as_of, limit)
    with opened_store() as store:
        print_readers(store.readers(q), fmt)


@app.command("companies")
def query_companies(topic: TopicOpt, concern: ConcernOpt, person: PersonOpt = None,
                    kind: KindOpt = None, read_window: ReadWindowOpt = "90d",
                    concern_window: ConcernWindowOpt = "30d", as_of: AsOfOpt = None,
                    limit: LimitOpt = 100, fmt: FormatOpt = Format.TABLE) -> None:
    """Companies ranked by how many such connections work there now."""
    q = reader_query(topic, concern, person, kind, read_window, concern_window, as_of, limit)
    with opened_store() as store:
        print_companies(store.reader_companies(q), fmt)


@app.command("profile")
def query_profile(
    person: Annotated[str, typer.Argument(help="e-mail or source:id")],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """A person's employers, connections, topics read and concerns raised."""
    if fmt is Format.CSV:
        raise typer.BadParameter("a profile is not a table: use --format table or json",
                                 param_hint="--format")
    with opened_store() as store:
        profile = store.person_profile(person, as_of=parse_as_of(as_of))
    if fmt is Format.JSON:
        out.print_json(data=plain(profile))
        return
    out.print(f"[bold]{profile.name or profile.person_id}[/] <{profile.person_id}>, "
              f"{profile.connections} connections")
    for job in profile.current:
        out.print(f"  works at {job.name or job.company_id}"
                  + (f" as {job.title}" if job.title else "")
                  + (f" since {day(job.since)}" if job.since else ""))
    for job in profile.past:
        out.print(f"  worked at {job.name or job.company_id} until {day(job.until)}")
    for t in profile.topics:
        out.print(f"  read about {t.name or t.topic_id}: {t.reads}x, {t.contents} items, "
                  f"last {day(t.last_at)}")
    for c in profile.concerns:
        out.print(f"  raised {day(c.at)} ({', '.join(c.topics) or 'no topic'}): {c.text}")
