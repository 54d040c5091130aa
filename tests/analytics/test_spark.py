"""The signals' tables on a local Spark equal DuckDB's, on one small world read by both engines.

Every table in analytics/ is one Ibis expression meant to run unchanged on DuckDB (the default)
and on Spark (a log too big for one machine). Nothing else checks that the two compile the same:
a function one backend lacks, integer division, a time zone or a window frame would otherwise
only show on a cluster. So the same world (the same store, the same Parquet parts) is read by
`Engine.duckdb()` and by `Engine.spark(session)` on a `local[2]` Spark, and each table and each
signal's final dataclasses are compared value by value.

Needs pyspark and Java (17): without them the file is skipped with the reason, except in CI
(`CI=true`), where it must run and fails instead.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from analytics.activity import (
    account_totals,
    accounts_activity,
    key_features_used,
    people_activity,
    spend,
    weekly_active,
)
from analytics.anomalies import anomalies, pricing_views, sessions, weekly_exports
from analytics.cohorts import _month_index, _week_index, cohort_activity, cohorts
from analytics.config import load_config
from analytics.engine import Engine
from analytics.onboarding import onboarding, signups
from analytics.world import World
from graph.memory_store import MemoryStore
from tests.analytics.worlds import AS_OF, Builder, at, daily


def _unavailable(reason: str) -> None:
    """Skip with the reason, but fail in CI: there the Spark leg must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the Spark parity test must run here (CI=true): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark for the whole run (starting one costs ~15 s)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _unavailable("pyspark is not installed (pip install -e '.[test]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("no Java found (java on PATH or JAVA_HOME): Spark needs Java 17")
    try:
        session = (SparkSession.builder
                   .master("local[2]")
                   .appName("relgraph-spark-parity")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.ui.showConsoleProgress", "false")
                   .getOrCreate())
    except Exception as exc:  # the JVM did not start: Java missing, too old, no memory …
        _unavailable(f"a local Spark did not start: {exc}")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _world(b: Builder) -> None:
    """Accounts that make every table non-empty, with the edges the engines could differ on:
    a sign-up 30 minutes before a month ends (time zones), amounts as numbers and as strings,
    a refund, events with no account, an event after as_of, sub-second times."""
    # steady: two people every day for 16 weeks, two key features, invoices, a purchase, a refund
    b.customer("steady.io", plan="pro", mrr=500.0, status="active")
    ann = b.person("ann@steady.io", "steady.io", title="CTO", known=0.8)
    bob = b.person("bob@steady.io", "steady.io")
    # half seconds: DuckDB rounds them to the even second, Spark must too
    b.event("sign_up", datetime(2026, 7, 3, 10, 0, 0, 500_000, tzinfo=UTC), ann)
    b.event("setup_completed", datetime(2026, 7, 5, 16, 30, tzinfo=UTC), ann)
    daily(b, "login", ann, range(112))
    daily(b, "login", bob, range(112))
    b.event("report_created", at(10), ann)
    b.event("feature_used", at(50), ann, feature="dashboard_shared")
    b.event("feature_used", at(3), bob, feature="search_saved")
    for day in (5, 35, 65, 95):
        b.event("invoice_paid", at(day), None, account="steady.io", amount=500)
    b.event("purchase", at(20), bob, total="99.90")
    b.event("refund", at(8), None, account="steady.io", amount=25.5)
    # exporter: one export a week, then twenty in the last week
    b.customer("exporter.io", status="active")
    eve = b.person("eve@exporter.io", "exporter.io")
    b.event("sign_up", datetime(2026, 8, 4, 9, 0, 1, 500_000, tzinfo=UTC), eve)
    daily(b, "login", eve, range(0, 112, 2))
    for k in range(1, 16):
        b.event("data_exported", at(7 * k + 3), eve)
    for n in range(20):
        b.event("data_exported", at(2, hours=9 + n * 0.1), eve)
    b.event("payment_succeeded", at(40), None, account="exporter.io", revenue=120)
    # shopper: pricing views (events and a /billing page), signed up by its `started` field
    b.customer("shopper.io", started=datetime(2026, 9, 14, 8, tzinfo=UTC))
    pat = b.person("pat@shopper.io", "shopper.io")
    daily(b, "login", pat, range(0, 40, 3))
    for day in (1, 3, 5):
        b.event("pricing_viewed", at(day) + timedelta(seconds=day + 0.5), pat)
    b.event("page_viewed", at(9), pat, url="https://app.example.com/billing/plans")
    b.event("page_viewed", at(4), pat, url="https://app.example.com/home")
    b.event("pricing_viewed", at(20), pat)  # outside the 14 days
    # maze: three confused sessions (30 clicks in 10 minutes, sub-second times), one that
    # reaches a key feature, one too long; signed up 20 days ago and never set up: stalled
    b.customer("maze.io")
    zed = b.person("zed@maze.io", "maze.io")
    kit = b.person("kit@maze.io", "maze.io")
    b.event("sign_up", at(20, hours=10), zed)
    for day in (2, 5, 9):
        for n in range(30):
            b.event("page_viewed", at(day) + timedelta(seconds=20 * n, microseconds=600_000),
                    zed, url=f"https://app.example.com/p{n}")
    for n in range(30):
        b.event("report_created" if n == 29 else "page_viewed",
                at(12) + timedelta(seconds=20 * n), kit)
    for n in range(30):
        b.event("page_viewed", at(15) + timedelta(seconds=60 * n), zed)
    daily(b, "login", zed, range(0, 19, 4))
    daily(b, "login", kit, range(1, 14, 6))
    # a person's own (B2C) account: signed up 30 minutes before October began (UTC)
    b.person_customer("p-lee", "lee@gmail.com", plan="personal")
    b.event("sign_up", datetime(2026, 9, 30, 23, 30, tzinfo=UTC), "lee@gmail.com")
    b.event("login", datetime(2026, 9, 30, 23, 45, tzinfo=UTC), "lee@gmail.com")
    daily(b, "login", "lee@gmail.com", range(0, 30, 5))
    b.event("feature_used", at(7), "lee@gmail.com", feature="invite_sent")
    b.event("setup_completed", datetime(2026, 10, 2, 7, tzinfo=UTC), "lee@gmail.com")
    # quiet: active in the baseline weeks only (gone quiet)
    b.customer("quiet.io")
    sue = b.person("sue@quiet.io", "quiet.io")
    b.event("trial_started", datetime(2026, 7, 20, 12, tzinfo=UTC), sue)
    daily(b, "login", sue, range(30, 100))
    b.event("login", at(3), sue)
    # legacy: no events at all, signed up long ago
    b.customer("legacy.io", started=AS_OF - timedelta(days=400))
    # events no account is credited with, and one after as_of
    b.event("login", at(1), "ghost@nowhere.io")
    b.event("pricing_viewed", at(2), "ghost@nowhere.io")
    b.event("login", AS_OF + timedelta(seconds=0, microseconds=500_000), ann)
    b.event("login", AS_OF + timedelta(hours=3), ann)


@pytest.fixture(scope="module")
def worlds(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[World, World]:
    """The same world (store and log) read by DuckDB and by Spark."""
    root = tmp_path_factory.mktemp("spark-world")
    b = Builder(MemoryStore(root / "graph.sqlite"), root)
    _world(b)
    b.build()
    config = load_config()
    return (b.world(config=config, engine=Engine.duckdb()),
            b.world(config=config, engine=Engine.spark(spark)))


# -- comparing ------------------------------------------------------------------------------------

def _value(v: Any) -> Any:
    """One cell as a plain, comparable Python value: numbers as float (NaN as None), times as
    epoch seconds, arrays as sorted tuples."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | datetime):
        moment = pd.Timestamp(v)
        if moment.tzinfo is None:
            moment = moment.tz_localize("UTC")
        return moment.timestamp()
    if isinstance(v, str):
        return v
    if hasattr(v, "__len__") and not isinstance(v, dict):
        return tuple(sorted((_value(x) for x in v), key=repr))
    if isinstance(v, bool):
        return float(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return None if math.isnan(f) else f


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    columns = sorted(frame.columns)
    rows = [tuple(_value(v) for v in r) for r in frame[columns].itertuples(index=False)]
    return sorted(rows, key=lambda r: tuple((x is None, repr(x)) for x in r))


def _approx(x: Any) -> Any:
    """`x` with every float wrapped in pytest.approx, through dicts, lists and tuples."""
    if isinstance(x, float):
        return pytest.approx(x, rel=1e-9, abs=1e-9)
    if isinstance(x, dict):
        return {k: _approx(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_approx(v) for v in x)
    return x


def _same_frames(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert not duck.empty, "the world makes no rows for this table: the comparison is vacuous"
    assert sorted(duck.columns) == sorted(spark.columns)
    assert len(spark) == len(duck)
    expected, found = _rows(duck), _rows(spark)
    for k, (want, got) in enumerate(zip(expected, found, strict=True)):
        assert got == _approx(want), f"row {k} differs"


def _plain(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_plain(v) for v in x)
    return x


def _same_objects(duck: Any, spark: Any) -> None:
    assert duck, "the signal found nothing in the world: the comparison is vacuous"
    assert _plain(spark) == _approx(_plain(duck))


def _signup_index(world: World, period: str) -> pd.DataFrame:
    start = signups(world)
    index = _month_index if period == "month" else _week_index
    return start.assign(index=[index(int(s)) for s in start["signup"]])


TABLES: dict[str, Callable[[World], pd.DataFrame]] = {
    "account_totals": account_totals,
    "weekly_active": lambda w: weekly_active(w, 16),
    "key_features_used": key_features_used,
    "spend": spend,
    "weekly_exports": weekly_exports,
    "pricing_views": pricing_views,
    "sessions": sessions,
    "signups": signups,
    "cohort_activity_month": lambda w: cohort_activity(w, _signup_index(w, "month"), "month",
                                                       "any"),
    "cohort_activity_week": lambda w: cohort_activity(w, _signup_index(w, "week"), "week",
                                                      "login"),
}


def _on_both(name: str, compute: Callable[[World], Any],
             worlds: tuple[World, World]) -> tuple[Any, Any]:
    """`compute` on DuckDB's world and on Spark's, each timed (shown with -s)."""
    duck, spark = worlds
    started = time.perf_counter()
    d = compute(duck)
    middle = time.perf_counter()
    s = compute(spark)
    print(name, f"duck {middle - started:.2f}s spark {time.perf_counter() - middle:.2f}s")
    return d, s


@pytest.mark.parametrize("name", list(TABLES))
def test_a_table_is_the_same_on_spark(name: str, worlds: tuple[World, World]) -> None:
    _same_frames(*_on_both(name, TABLES[name], worlds))


SIGNALS: dict[str, Callable[[World], Any]] = {
    "accounts_activity": accounts_activity,
    "people_activity": people_activity,
    "anomalies": anomalies,
    "cohorts_month": lambda w: cohorts(w, period="month", periods=6),
    "cohorts_week": lambda w: cohorts(w, period="week", periods=8, active="login"),
    "onboarding": onboarding,
}


@pytest.mark.parametrize("name", list(SIGNALS))
def test_a_signal_is_the_same_on_spark(name: str, worlds: tuple[World, World]) -> None:
    _same_objects(*_on_both(name, SIGNALS[name], worlds))
