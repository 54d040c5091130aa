"""`relgraph analyze …`: the customer-success analytics (analytics/), as tables, JSON or CSV, and
PNG charts where a person would rather look. Every command answers for `--as-of` (default: the
start of the current hour) from the data dir's cache when nothing was loaded since."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from analytics.config import load_config
from api.cli.common import (
    AsOfOpt,
    Format,
    FormatOpt,
    err,
    opened_store,
    out,
    parse_as_of,
    plain,
    write_csv,
)
from graph.settings import get_settings

if TYPE_CHECKING:  # the analytics (Ibis, pandas, scikit-learn) load only for `analyze`
    from analytics.run import Analysis

app = typer.Typer(help="Customer-success analytics: health, risk, anomalies, onboarding, "
                       "cohorts, value and today's outreach.", no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="an analytics TOML over the shipped one (RELGRAPH_ANALYTICS_CONFIG)")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="also draw it into this PNG")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="compute again, ignore the cache")]


@contextmanager
def analysis(as_of: str | None, config: Path | None, no_cache: bool = False
             ) -> Iterator[Analysis]:
    from analytics.run import open_analysis

    settings = get_settings()
    chosen = load_config(config or settings.analytics_config)
    with opened_store() as store:
        run = open_analysis(store, data_dir=settings.data_dir, as_of=parse_as_of(as_of),
                            config=chosen, events_uri=settings.events_uri,
                            cache=not no_cache)
        yield run
        run.save()


def emit(fmt: Format, header: Sequence[str], rows: Sequence[Sequence[Any]],
         records: Any, *, title: str | None = None) -> None:
    """One answer in the chosen format: a rich table, JSON (`records`), or CSV."""
    if fmt is Format.JSON:
        print(json.dumps(plain(records), indent=2, default=str))
    elif fmt is Format.CSV:
        write_csv(list(header), rows)
    else:
        table = Table(title=title, title_justify="left")
        for col in header:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)


def _said(path: Path | None, draw: Callable[[Path], Path]) -> None:
    if path is not None:
        err.print(f"chart: {draw(path)}", highlight=False)


def _f(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@app.command("health")
def analyze_health(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                   chart: ChartOpt = None, config: ConfigOpt = None,
                   status: Annotated[str | None, typer.Option(
                       "--status", help="only: at-risk, watch, healthy or churned")] = None,
                   no_cache: NoCacheOpt = False) -> None:
    """Health 0–100 per customer, lowest first, with the components that made it."""
    with analysis(as_of, config, no_cache) as run:
        found = run.health()
        names = run.names()
        if status:
            wanted = status.replace("-", " ").lower()
            found = [h for h in found if h.status == wanted]
        cfg = run.config.health
        if chart is not None:
            from analytics.charts import health_chart

            _said(chart, lambda p: health_chart(run.health(), p, at_risk=cfg.at_risk,
                                                healthy=cfg.healthy))
    comps = ("activity", "spend", "adoption", "concerns", "breadth")
    rows = [[h.customer_id, names.get(h.customer_id), f"{h.score:.0f}", h.status,
             *(_f({c.name: c.value for c in h.components}.get(n)) for n in comps)]
            for h in found]
    emit(fmt, ["customer", "name", "score", "status", *comps], rows,
         [{"customer": h.customer_id, "name": names.get(h.customer_id), "score": h.score,
           "status": h.status, "components": [asdict(c) for c in h.components]}
          for h in found], title=f"Health at {run.as_of:%Y-%m-%d %H:%M} UTC")


@app.command("anomalies")
def analyze_anomalies(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                      config: ConfigOpt = None,
                      everything: Annotated[bool, typer.Option(
                          "--all", help="also expected quiet seasons")] = False,
                      no_cache: NoCacheOpt = False) -> None:
    """When more activity is bad news: export bursts, pricing visits, confused clicking, and
    going quiet out of season."""
    with analysis(as_of, config, no_cache) as run:
        found = run.anomalies(include_expected=everything)
        names = run.names()
    emit(fmt, ["customer", "name", "kind", "what"],
         [[a.customer_id, names.get(a.customer_id), a.kind + (" (expected)" if a.expected
                                                              else ""), a.text]
          for a in found],
         [{"customer": a.customer_id, "name": names.get(a.customer_id), "kind": a.kind,
           "text": a.text, "numbers": a.numbers, "expected": a.expected} for a in found],
         title=f"Anomalies at {run.as_of:%Y-%m-%d %H:%M} UTC")


@app.command("onboarding")
def analyze_onboarding(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                       config: ConfigOpt = None,
                       stalled: Annotated[bool, typer.Option(
                           "--stalled", help="only the stalled ones")] = False,
                       no_cache: NoCacheOpt = False) -> None:
    """Sign-up to setup, logins in the first weeks, key features reached, stalls."""
    with analysis(as_of, config, no_cache) as run:
        found = [o for o in run.onboarding() if o.stalled or not stalled]
        names = run.names()
    rows = [[o.customer_id, names.get(o.customer_id),
             o.signed_up.date().isoformat() if o.signed_up else "",
             o.setup_completed.date().isoformat() if o.setup_completed else "",
             "" if o.days_to_setup is None else f"{o.days_to_setup:g}",
             " ".join("-" if n is None else str(n) for n in o.logins_per_week),
             ", ".join(o.key_features), "yes" if o.stalled else "", o.text] for o in found]
    emit(fmt, ["customer", "name", "signed up", "set up", "days", "logins/week",
               "key features", "stalled", "what"], rows,
         [{"customer": o.customer_id, "name": names.get(o.customer_id),
           **{k: v for k, v in asdict(o).items() if k != "customer_id"}} for o in found],
         title=f"Onboarding at {run.as_of:%Y-%m-%d %H:%M} UTC")


@app.command("cohorts")
def analyze_cohorts(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                    chart: ChartOpt = None, config: ConfigOpt = None,
                    period: Annotated[str | None, typer.Option(
                        "--period", help="week or month")] = None,
                    active: Annotated[str | None, typer.Option(
                        "--active", help="any (activity) or an event type, e.g. login")] = None,
                    periods: Annotated[int | None, typer.Option(
                        "--periods", min=1, max=60)] = None,
                    no_cache: NoCacheOpt = False) -> None:
    """Sign-up week or month × periods since: the share of each cohort active."""
    if period is not None and period not in ("week", "month"):
        raise typer.BadParameter("week or month", param_hint="--period")
    with analysis(as_of, config, no_cache) as run:
        table = run.cohorts(period, active, periods)
        if chart is not None:
            from analytics.charts import cohort_chart

            _said(chart, lambda p: cohort_chart(table, p))
    width = max((len(r.share) for r in table.rows), default=0)
    emit(fmt, ["cohort", "size", *(f"{table.period} {k}" for k in range(width))],
         [[r.cohort, r.size, *("" if s is None else f"{s:.0%}" for s in r.share)]
          for r in table.rows],
         {"period": table.period, "active": table.active,
          "rows": [asdict(r) for r in table.rows]},
         title=f"Cohorts by sign-up {table.period} (active: {table.active})")


@app.command("count")
def analyze_count(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                  config: ConfigOpt = None,
                  window: Annotated[int | None, typer.Option(
                      "--window", min=1, help="days (default: each kind's own window)")] = None,
                  no_cache: NoCacheOpt = False) -> None:
    """How many customers do we have: active in a window, each counted once."""
    with analysis(as_of, config, no_cache) as run:
        c = run.count(window)
    facts = {"active customers": c.total, "subscription": c.subscription,
             "purchase": c.purchase, "customer records behind them": c.customer_records,
             "records counted once (same account)": c.merged, "inactive": c.inactive,
             **{f"from {k}": v for k, v in c.by_source.items()}}
    emit(fmt, ["what", "customers"], [[k, v] for k, v in facts.items()],
         {k: v for k, v in asdict(c).items()}, title=f"Customers at {c.as_of:%Y-%m-%d}")


@app.command("revenue")
def analyze_revenue(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                    chart: ChartOpt = None, config: ConfigOpt = None,
                    months: Annotated[int, typer.Option("--months", min=1, max=600)] = 36,
                    growth: Annotated[float, typer.Option(
                        "--growth", help="annual growth rate, e.g. 0.5")] = 0.0,
                    churn: Annotated[float | None, typer.Option(
                        "--churn", help="annual churn rate, e.g. 0.3 (default: the last 12 "
                                        "months' rate)")] = None,
                    mrr: Annotated[float | None, typer.Option(
                        "--mrr", help="starting MRR (default: the customers' MRR now)")] = None,
                    convention: Annotated[str, typer.Option(
                        "--convention", help="monthly or annual")] = "monthly",
                    no_cache: NoCacheOpt = False) -> None:
    """MRR over N months with and without churn, and the revenue churn took."""
    from analytics.revenue import churn_loss, project

    with analysis(as_of, config, no_cache) as run:
        loss = churn_loss(run.world)
    rate = churn if churn is not None else (loss.annual_rate or 0.0)
    start = mrr if mrr is not None else loss.mrr_now
    try:
        p = project(start, months=months, growth=growth, churn=rate, convention=convention)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if chart is not None:
        from analytics.charts import revenue_chart

        _said(chart, lambda path: revenue_chart([p], path))
    if fmt is not Format.JSON:
        err.print(p.text, highlight=False)
        err.print(f"churned in the last 12 months: {len(loss.customers)} customers, "
                  f"MRR {loss.mrr_lost:,.2f}", highlight=False)
    emit(fmt, ["month", "without churn", "with churn", "lost"],
         [[m.month, f"{m.without_churn:,.0f}", f"{m.with_churn:,.0f}", f"{m.lost:,.0f}"]
          for m in p.months],
         {"mrr": p.mrr, "growth": p.growth, "churn": p.churn, "convention": p.convention,
          "lowered_by": p.lowered_by, "revenue_lost": p.revenue_lost, "text": p.text,
          "months": [{"month": m.month, "without_churn": m.without_churn,
                      "with_churn": m.with_churn, "lost": m.lost} for m in p.months],
          "churned": {"customers": list(loss.customers), "mrr_lost": loss.mrr_lost,
                      "annual_rate": loss.annual_rate, "since": loss.since}})


@app.command("churn")
def analyze_churn(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                  chart: ChartOpt = None, config: ConfigOpt = None,
                  features: Annotated[str | None, typer.Option(
                      "--features", help="comma-separated columns to use (default: all)")] = None,
                  report: Annotated[bool, typer.Option(
                      "--report", help="print the model card as Markdown")] = False,
                  no_cache: NoCacheOpt = False) -> None:
    """An interpretable churn model: held-out AUC beside baselines, calibration, and each
    account's probability with its top factors."""
    from analytics.churn import calibration_chart
    from analytics.churn import report as model_card

    chosen = tuple(f.strip() for f in features.split(",") if f.strip()) if features else None
    with analysis(as_of, config, no_cache) as run:
        try:
            model = run.churn(chosen)
        except ValueError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
    _said(chart, lambda p: calibration_chart(model, p))
    if report:
        print(model_card(model))
        return
    if fmt is Format.JSON:
        print(json.dumps(model.to_json(), indent=2, default=str))
        return
    err.print(f"held-out ROC AUC {model.auc:.3f} against {model.baseline_auc:.3f} for the best "
              f"baseline; split {model.split} (train {model.n_train}, test {model.n_test})",
              highlight=False)
    emit(fmt, ["customer", "probability", "top factors"],
         [[a.id, f"{a.probability:.2f}", "; ".join(f.text for f in a.factors)]
          for a in model.accounts], None, title=f"Churn risk: {model.definition}")


@app.command("levels")
def analyze_levels(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                   config: ConfigOpt = None, no_cache: NoCacheOpt = False) -> None:
    """The relationship level of each customer (trusted adviser … commodity) and the rule."""
    with analysis(as_of, config, no_cache) as run:
        found = run.levels()
        names = run.names()
    emit(fmt, ["customer", "name", "level", "rule"],
         [[x.customer_id, names.get(x.customer_id), x.level, x.rule] for x in found],
         [{"customer": x.customer_id, "name": names.get(x.customer_id),
           **{k: v for k, v in asdict(x).items() if k != "customer_id"}} for x in found])


@app.command("drift")
def analyze_drift(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                  config: ConfigOpt = None,
                  since: Annotated[str | None, typer.Option(
                      "--since", help="the recent window's start (default: [drift] "
                                      "recent_days before --as-of)")] = None,
                  everyone: Annotated[bool, typer.Option(
                      "--all", help="every customer with a new connection")] = False,
                  no_cache: NoCacheOpt = False) -> None:
    """Customers whose people suddenly connect to many people at competitors."""
    with analysis(as_of, config, no_cache) as run:
        found = run.drift(parse_as_of(since, option="--since"), everyone=everyone)
        names = run.names()
    emit(fmt, ["customer", "name", "new", "expected", "ratio", "what"],
         [[d.customer_id, names.get(d.customer_id), d.new, f"{d.expected:.1f}",
           f"{d.ratio:.1f}", d.text] for d in found],
         [{"customer": d.customer_id, "name": names.get(d.customer_id),
           **{k: v for k, v in asdict(d).items() if k != "customer_id"}} for d in found])


@app.command("clv")
def analyze_clv(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                chart: ChartOpt = None, config: ConfigOpt = None,
                calibration_end: Annotated[str | None, typer.Option(
                    "--calibration-end", help="fit on purchases up to this date "
                                              "(default --as-of)")] = None,
                time_unit: Annotated[str, typer.Option(
                    "--time-unit", help="day, week or month")] = "week",
                horizon: Annotated[float, typer.Option(
                    "--horizon", min=0, help="time units to predict over")] = 52.0,
                no_cache: NoCacheOpt = False) -> None:
    """Customer lifetime value for purchase businesses: BG/NBD and Gamma-Gamma."""
    from analytics.clv import TIME_UNITS
    from analytics.clv import chart as clv_chart

    if time_unit not in TIME_UNITS:
        raise typer.BadParameter(f"one of {', '.join(TIME_UNITS)}", param_hint="--time-unit")
    end = parse_as_of(calibration_end, option="--calibration-end")
    with analysis(as_of, config, no_cache) as run:
        try:
            result = run.clv(calibration_end=end, time_unit=time_unit, horizon=horizon)
        except ValueError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
    _said(chart, lambda p: clv_chart(result, p))
    if fmt is Format.JSON:
        print(json.dumps(result.to_json(), indent=2, default=str))
        return
    m = result.model
    err.print(f"BG/NBD r={m.r:.3f} alpha={m.alpha:.3f} a={m.a:.3f} b={m.b:.3f}"
              + (f"; Gamma-Gamma p={result.spend.p:.2f} q={result.spend.q:.2f} "
                 f"v={result.spend.v:.2f}" if result.spend else ""), highlight=False)
    emit(fmt, ["customer", "frequency", "recency", "T", "expected purchases", "p alive",
               "expected value"],
         [[c.id, c.frequency, f"{c.recency:.1f}", f"{c.T:.1f}", f"{c.expected_purchases:.2f}",
           f"{c.p_alive:.2f}", "" if c.expected_value is None else f"{c.expected_value:,.2f}"]
          for c in result.customers], None,
         title=f"Lifetime value over {horizon:g} {time_unit}s")


@app.command("surge")
def analyze_surge(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                  config: ConfigOpt = None,
                  company: Annotated[str | None, typer.Option(
                      "--company", help="one company (its key: a domain)")] = None,
                  everyone: Annotated[bool, typer.Option(
                      "--all", help="every company and topic read recently")] = False,
                  no_cache: NoCacheOpt = False) -> None:
    """Topic surge (intent): reading in the last weeks against the company's normal (50)."""
    with analysis(as_of, config, no_cache) as run:
        found = run.surge(company, everyone=everyone)
    emit(fmt, ["company", "name", "topic", "intent", "recent", "before", "people", "surging"],
         [[s.company_id, s.company_name, s.topic, f"{s.intent:.0f}", s.recent_reads,
           s.baseline_reads, s.recent_people, "yes" if s.surging else ""] for s in found],
         [asdict(s) for s in found])


@app.command("outreach")
def analyze_outreach(as_of: AsOfOpt = None, fmt: FormatOpt = Format.TABLE,
                     config: ConfigOpt = None,
                     size: Annotated[int | None, typer.Option(
                         "--size", min=1, max=500, help="how many people (default 20)")] = None,
                     no_cache: NoCacheOpt = False) -> None:
    """Today's outreach list: the people to write to today, each with its reason."""
    with analysis(as_of, config, no_cache) as run:
        found = run.outreach(size)
    emit(fmt, ["person", "name", "customer", "why"],
         [[r.person_id, r.name, r.company or r.customer_id, r.reason] for r in found],
         [asdict(r) for r in found],
         title=f"Write to these {len(found)} people today ({run.as_of:%Y-%m-%d})")


__all__ = ["app"]
