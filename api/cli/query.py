"""`relgraph query …`: the standard questions, as tables, JSON or CSV."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import (
    AsOfOpt,
    Format,
    FormatOpt,
    day,
    err,
    opened_store,
    out,
    parse_as_of,
    parse_window,
    plain,
    write_csv,
)
from api.topics import asked_topic, unknown_topic
from connectors.tagging import Taxonomy, load_taxonomy
from graph.model import CompanyMatch, QueryError, ReaderMatch, ReaderQuery
from graph.questions.evidence import EVIDENCE, Evidence, EvidenceQuery, Span
from graph.settings import get_settings
from graph.store import GraphStore

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
                 limit: int, taxonomy: Taxonomy | None = None) -> ReaderQuery:
    """The question as typed: a topic's name or synonym asks about its topic (`api.topics`)."""
    return ReaderQuery(read_topic=_key(topic, taxonomy), concern_topic=_key(concern, taxonomy),
                       person=person, content_kind=kind,
                       read_window=parse_window(read_window),
                       concern_window=parse_window(concern_window),
                       as_of=parse_as_of(as_of), limit=limit)


def _key(text: str, taxonomy: Taxonomy | None) -> str:
    return asked_topic(text, taxonomy) if taxonomy is not None else text


def why_nobody(store: GraphStore, q: ReaderQuery, typed: tuple[str, str],
               taxonomy: Taxonomy, as_of_given: bool) -> str:
    """Why a reader question found nobody, asked only then: an unknown topic is an error (with
    the nearest known ones); else the evidence's time span says whether --as-of lies before or
    after all of it; else the windows hold evidence, just not from the same connection."""
    asked = q.resolved()
    evidence = store.ask(EVIDENCE, EvidenceQuery(asked.read_topic, asked.concern_topic))
    problems = [p for text, option in zip(typed, ("--topic", "--concern"), strict=True)
                if (p := unknown_topic(text, option, taxonomy, evidence.topics)) is not None]
    if problems:
        raise QueryError("; ".join(problems))
    return why_empty(asked, evidence, as_of_given)


def why_empty(q: ReaderQuery, evidence: Evidence, as_of_given: bool) -> str:
    """The words for an empty answer of the resolved question `q` (see `why_nobody`)."""
    assert q.as_of is not None
    when = f"--as-of {_moment(q.as_of)}" if as_of_given else f"now ({_moment(q.as_of)})"
    reasons = [r for r in (
        _span_reason(f"read about {q.read_topic}", evidence.reads, q.read_window,
                     "--read-window", when, q.as_of),
        _span_reason(f"concern about {q.concern_topic}", evidence.concerns, q.concern_window,
                     "--concern-window", when, q.as_of)) if r]
    if reasons:
        return "; ".join(reasons)
    whose = f"connection of {q.person}" if q.person else "connection of our team"
    kind = f" (reading {q.content_kind} content)" if q.content_kind else ""
    return (f"the windows hold reads about {q.read_topic} and concerns about "
            f"{q.concern_topic}, but no {whose} did both{kind}")


def _span_reason(what: str, span: Span, window: timedelta, option: str, when: str,
                 as_of: datetime) -> str | None:
    if span.first is None or span.last is None:
        return f"the graph holds no {what}" + ("" if span.exists else " (no such topic yet)")
    if as_of < span.first:
        return f"{when} is before the first {what} ({_moment(span.first)})"
    if span.last < as_of - window:
        return (f"the last {what} ({_moment(span.last)}) is more than {_span(window)} before "
                f"{when}: give an earlier --as-of or a wider {option}")
    return None


def _moment(moment: datetime) -> str:
    return (moment.strftime("%Y-%m-%d") if moment.time() == time() and moment.utcoffset() ==
            timedelta(0) else moment.strftime("%Y-%m-%d %H:%M UTC"))


def _span(window: timedelta) -> str:
    if window % timedelta(days=1) == timedelta(0):
        return f"{window.days}d"
    return f"{int(window.total_seconds() // 3600)}h"


def print_nobody(fmt: Format, none: str, why: str | None) -> None:
    """An empty answer: in a table, the sentence; in JSON or CSV (read by programs) the output
    stays what it was and the sentence goes to stderr."""
    if fmt is Format.TABLE:
        out.print(f"{none}: {why}." if why else f"{none}.", highlight=False)
    elif why:
        err.print(f"note: {none.lower()}: {why}.", highlight=False)


def print_readers(matches: list[ReaderMatch], fmt: Format, why: str | None = None) -> None:
    if not matches:
        print_nobody(fmt, "Nobody matches", why)
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


def print_companies(matches: list[CompanyMatch], fmt: Format, why: str | None = None) -> None:
    if not matches:
        print_nobody(fmt, "No company matches", why)
    if fmt is Format.JSON:
        out.print_json(data=plain(matches))
        return
    if fmt is Format.CSV:
        write_csv(["company", "name", "people", "person_ids"], (
            [c.company_id, c.name or "", c.people, "; ".join(c.person_ids)] for c in matches))
        return
    if not matches:
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
    taxonomy = load_taxonomy(get_settings().taxonomy)
    q = reader_query(topic, concern, person, kind, read_window, concern_window, as_of, limit,
                     taxonomy)
    with opened_store() as store:
        matches = store.readers(q)
        why = (why_nobody(store, q, (topic, concern), taxonomy, as_of is not None)
               if not matches else None)
    print_readers(matches, fmt, why)


@app.command("companies")
def query_companies(topic: TopicOpt, concern: ConcernOpt, person: PersonOpt = None,
                    kind: KindOpt = None, read_window: ReadWindowOpt = "90d",
                    concern_window: ConcernWindowOpt = "30d", as_of: AsOfOpt = None,
                    limit: LimitOpt = 100, fmt: FormatOpt = Format.TABLE) -> None:
    """Companies ranked by how many such connections work there now."""
    taxonomy = load_taxonomy(get_settings().taxonomy)
    q = reader_query(topic, concern, person, kind, read_window, concern_window, as_of, limit,
                     taxonomy)
    with opened_store() as store:
        matches = store.reader_companies(q)
        why = (why_nobody(store, q, (topic, concern), taxonomy, as_of is not None)
               if not matches else None)
    print_companies(matches, fmt, why)


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
