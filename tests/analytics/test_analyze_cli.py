"""`relgraph analyze …` as real processes on both stores, on one world per store worked out by
hand: every command in every format, the fixed JSON shapes of `churn` and `clv` that users script
against, the charts, the cache (a second run answers from it, a load makes the next one
recompute) and the errors of a bad option.

The world (AS_OF 2026-11-01; `at(d)` is noon d days before):
- steady.io: two people logging in daily for 16 weeks, two of four key features, an invoice of
  500 every 30 days, one concern solved: health 81, healthy (as in test_signals.py).
- exporter.io: a login a day, one export a week, then twenty in the last week: an export burst.
- newbie.io: a sign-up event 20 days ago, two logins, no setup: stalled. quick.io: a sign-up 10
  days ago and setup two days later: not stalled.
- c00.io … c79.io: subscriptions started 100 + 3·i days ago, MRR 100 + 10·(i mod 5). Every
  third (i mod 3 = 0) churns: it logged in only every sixth day and not at all in the 60 days
  to AS_OF (the churn table's "went quiet"); every sixth (i mod 6 = 0) is also flagged churned,
  20 days ago. The others log in every other day up to AS_OF.
- shop:01 … shop:30: person customers with purchases on distinct days; shop:01 bought once
  (300 days ago), shop:30 only 400 and more days ago (lapsed, no longer counted).

So `count` is 4 + 66 subscriptions (the 14 flagged churned are not) + 29 purchase customers =
99, with 15 inactive.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from graph.memory_store import MemoryStore
from graph.store import GraphStore
from tests.analytics.worlds import AS_OF, Builder, at, daily, steady
from tests.worlds.cli import relgraph

DATE = AS_OF.date().isoformat()
COMMANDS = ("health", "anomalies", "onboarding", "cohorts", "count", "revenue", "churn",
            "levels", "drift", "clv", "surge", "outreach")
CAL_END = "2026-08-01"
CLV_OPTIONS = ("--calibration-end", CAL_END, "--time-unit", "week", "--horizon", "26")
REVENUE_OPTIONS = ("--mrr", "100000", "--growth", "0.5", "--churn", "0.3", "--months", "36")
CHARTED = ("health", "cohorts", "revenue", "churn", "clv")
CHURNERS = [i for i in range(80) if i % 3 == 0]
FLAGGED = [i for i in range(80) if i % 6 == 0]
BAD = [  # (arguments, what the error names)
    (("analyze", "health", "--as-of", "not-a-date"), "--as-of"),
    (("analyze", "count", "--as-of", DATE, "--format", "xml"), "--format"),
    (("analyze", "clv", "--as-of", DATE, "--time-unit", "fortnight"), "--time-unit"),
    (("analyze", "cohorts", "--as-of", DATE, "--period", "year"), "--period"),
]


def _mrr(i: int) -> float:
    return 100.0 + 10 * (i % 5)


def make_world(b: Builder) -> None:
    steady(b)

    b.customer("exporter.io", plan="pro", status="active")
    eve = b.person("eve@exporter.io", "exporter.io")
    daily(b, "login", eve, range(112))
    for k in range(1, 16):
        b.event("data_exported", at(7 * k + 3), eve)
    for n in range(20):
        b.event("data_exported", at(2, hours=9 + n * 0.1), eve)

    b.customer("newbie.io", status="trial")
    new = b.person("n@newbie.io", "newbie.io")
    b.event("sign_up", at(20), new)
    b.event("login", at(19), new)
    b.event("login", at(12), new)
    b.customer("quick.io", status="trial")
    q = b.person("q@quick.io", "quick.io")
    b.event("sign_up", at(10), q)
    for day in range(10, 3, -1):
        b.event("login", at(day, hours=13), q)
    b.event("setup_completed", at(8), q)
    b.event("report_created", at(6), q)

    for i in range(80):
        domain = f"c{i:02d}.io"
        props: dict[str, Any] = {"plan": ("team", "pro")[i % 2], "mrr": _mrr(i),
                                 "started": AS_OF - timedelta(days=100 + 3 * i)}
        if i in FLAGGED:
            props.update(status="churned", churned=True, churned_at=AS_OF - timedelta(days=20))
        else:
            props["status"] = "active"
        b.customer(domain, **props)
        who = b.person(f"u@{domain}", domain)
        quiet = i in CHURNERS
        daily(b, "login", who, range(61 + i % 6, 160, 6) if quiet
              else range(i % 2, 160, 2 if i % 7 else 4))

    rng = random.Random(7)
    for k in range(1, 31):
        cid, email = f"shop:{k:02d}", f"s{k:02d}@inbox.io"
        b.person_customer(cid, email)
        if k == 1:
            bought = [300]
        elif k == 30:
            bought = [400, 450, 500]
        else:
            bought = sorted(rng.sample(range(10, 360), rng.randint(2, 8)), reverse=True)
        for day in bought:
            b.event("purchase", at(day), email, account=cid,
                    amount=round(rng.uniform(20, 80), 2))


@dataclass
class Env:
    kind: str
    data: Path
    charts: Path
    out: dict[tuple[str, str], Any]  # (command, format) -> CompletedProcess

    def run(self, *args: str, check: bool = True) -> Any:
        return relgraph(*args, data=self.data, store=self.kind, check=check)


def _options(command: str) -> tuple[str, ...]:
    return {"clv": CLV_OPTIONS, "revenue": REVENUE_OPTIONS}.get(command, ())


def _all_runs(env: Env, charts: Path) -> None:
    """Every command in every format, two processes at a time; the charted commands draw
    their chart in the JSON run."""
    jobs = []
    for command in COMMANDS:
        for fmt in ("json", "csv", "table"):
            args = ["analyze", command, "--as-of", DATE, "--format", fmt, *_options(command)]
            if fmt == "json" and command in CHARTED:
                args += ["--chart", str(charts / f"{command}.png")]
            elif fmt != "json":
                # computed afresh: cheaper than unpickling a cache that holds the churn model
                # (scikit-learn) in every process; the JSON runs use the cache
                args.append("--no-cache")
            jobs.append(((command, fmt), args))
    jobs.append((("churn", "report"), ["analyze", "churn", "--as-of", DATE, "--report"]))
    jobs.append((("onboarding", "stalled"), ["analyze", "onboarding", "--as-of", DATE,
                                             "--stalled", "--format", "csv"]))
    jobs += [(("error", str(n)), list(args)) for n, (args, _) in enumerate(BAD)]
    first = [j for j in jobs if j[0][1] == "json"]
    with ThreadPoolExecutor(2) as pool:
        for key, result in zip([k for k, _ in first],
                               pool.map(lambda j: env.run(*j[1], check=False), first),
                               strict=True):
            env.out[key] = result
        rest = [j for j in jobs if j[0][1] != "json"]
        for key, result in zip([k for k, _ in rest],
                               pool.map(lambda j: env.run(*j[1], check=False), rest),
                               strict=True):
            env.out[key] = result


@pytest.fixture(scope="module", params=["memory", "neo4j"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Env]:
    base = tmp_path_factory.mktemp(f"analyze-{request.param}")
    data = base / "data"
    store: GraphStore
    if request.param == "memory":
        store = MemoryStore(data / "graph.sqlite")
    else:
        store = request.getfixturevalue("neo4j_store")
        store.delete_all()
    b = Builder(store, data)
    make_world(b)
    b.build()
    if request.param == "memory":
        store.close()  # the processes open it afresh
    e = Env(request.param, data, base / "charts", {})
    e.charts.mkdir()
    _all_runs(e, e.charts)
    yield e


def _ok(env: Env, command: str, fmt: str) -> str:
    result = env.out[(command, fmt)]
    assert result.returncode == 0, (
        f"{env.kind}: relgraph analyze {command} --format {fmt} exited {result.returncode}:\n"
        f"{result.stdout}{result.stderr}")
    assert "Traceback" not in result.stderr
    return str(result.stdout)


def _json(env: Env, command: str) -> Any:
    return json.loads(_ok(env, command, "json"))


# --- 1. every command, every format --------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_every_format(env: Env, command: str) -> None:
    assert isinstance(_json(env, command), dict | list)
    rows = list(csv.reader(io.StringIO(_ok(env, command, "csv"))))
    assert rows and rows[0] and all(cell.strip() for cell in rows[0]), rows[:1]
    assert len({len(r) for r in rows}) == 1  # every row as wide as the header
    assert _ok(env, command, "table").strip()


def test_the_count_by_hand(env: Env) -> None:
    c = _json(env, "count")
    assert (c["total"], c["subscription"], c["purchase"]) == (99, 70, 29)
    assert (c["customer_records"], c["merged"], c["inactive"]) == (99, 0, 15)
    assert c["as_of"].startswith(DATE)
    assert "c00.io" not in c["customers"] and "c03.io" in c["customers"]  # flagged / quiet
    rows = {r[0]: r[1] for r in csv.reader(io.StringIO(_ok(env, "count", "csv")))}
    assert rows["active customers"] == "99"


def test_health_anomalies_and_onboarding_by_hand(env: Env) -> None:
    health = {h["customer"]: h for h in _json(env, "health")}
    assert len(health) == 114
    assert health["steady.io"]["score"] == 81.0 and health["steady.io"]["status"] == "healthy"
    assert {c["name"]: c["value"] for c in health["steady.io"]["components"]} == {
        "activity": 1.0, "spend": 1.0, "adoption": 0.5, "concerns": 1.0, "breadth": 0.4}
    scores = [h["score"] for h in _json(env, "health")]
    assert scores == sorted(scores)  # lowest first
    table = _ok(env, "health", "table")
    assert "steady.io" in table and "healthy" in table

    bursts = [a for a in _json(env, "anomalies") if a["kind"] == "export_burst"]
    assert [(a["customer"], a["numbers"]) for a in bursts] == [
        ("exporter.io", {"exports": 20, "normal": 1.0, "ratio": 20.0,
                         "week_ending": "2026-11-01"})]

    starts = {o["customer"]: o for o in _json(env, "onboarding")}
    newbie = starts["newbie.io"]
    assert newbie["stalled"] and newbie["signup_from"] == "sign-up event"
    assert newbie["setup_completed"] is None and newbie["logins_per_week"] == [1, 1, None, None]
    assert not starts["quick.io"]["stalled"] and starts["quick.io"]["days_to_setup"] == 2.0
    assert sorted(c for c, o in starts.items() if o["stalled"]) == ["newbie.io"]
    stalled = _ok(env, "onboarding", "stalled")
    assert [r[0] for r in csv.reader(io.StringIO(stalled))] == ["customer", "newbie.io"]


def test_revenue_projection_for_given_rates(env: Env) -> None:
    r = _json(env, "revenue")
    assert (r["mrr"], r["growth"], r["churn"], r["convention"]) == (100000.0, 0.5, 0.3,
                                                                    "monthly")
    assert len(r["months"]) == 36
    last = r["months"][-1]
    assert last["without_churn"] == pytest.approx(100_000 * (1 + 0.5 / 12) ** 36)
    assert last["with_churn"] == pytest.approx(100_000 * (1 + 0.2 / 12) ** 36)
    assert r["lowered_by"] == pytest.approx(0.583, abs=0.001)
    # the churn of the last 12 months: the flagged ones, 20 days ago
    assert r["churned"]["customers"] == [f"c{i:02d}.io" for i in FLAGGED]
    assert r["churned"]["mrr_lost"] == pytest.approx(sum(_mrr(i) for i in FLAGGED))
    rows = list(csv.reader(io.StringIO(_ok(env, "revenue", "csv"))))
    assert rows[0] == ["month", "without churn", "with churn", "lost"] and len(rows) == 37


def test_cohorts_and_the_rest_answer_for_the_moment(env: Env) -> None:
    cohorts = _json(env, "cohorts")
    assert cohorts["period"] == "month" and cohorts["rows"]
    assert sum(r["size"] for r in cohorts["rows"]) == 84  # 80 started fields, 2 sign-ups …
    levels = {x["customer"]: x["level"] for x in _json(env, "levels")}
    assert set(levels) >= {"steady.io", "c01.io"}
    assert _json(env, "drift") == [] and _json(env, "surge") == []
    reach = _json(env, "outreach")
    assert 0 < len(reach) <= 20 and all(r["reason"] for r in reach)


# --- 2. churn ------------------------------------------------------------------------------


def test_churn_json_has_the_documented_shape(env: Env) -> None:
    m = _json(env, "churn")
    for key in ("auc", "baseline_auc"):
        assert isinstance(m[key], float) and 0.0 <= m[key] <= 1.0
    assert m["split"] in ("time", "stratified")
    assert isinstance(m["n_train"], int) and isinstance(m["n_test"], int)
    assert m["n_train"] > 0 and m["n_test"] > 0
    assert m["features"] and all(isinstance(f, str) for f in m["features"])
    assert m["coefficients"] and all(
        set(c) == {"feature", "coefficient"} and isinstance(c["feature"], str)
        and isinstance(c["coefficient"], float) for c in m["coefficients"])
    assert m["calibration"] and all(
        set(c) == {"predicted", "observed", "n"} and isinstance(c["n"], int)
        and 0 <= c["predicted"] <= 1 and 0 <= c["observed"] <= 1 for c in m["calibration"])
    accounts = {a["id"]: a for a in m["accounts"]}
    assert all(0 <= a["probability"] <= 1 and isinstance(a["factors"], list)
               and all({"feature", "text", "contribution"} <= set(f) for f in a["factors"])
               for a in accounts.values())
    assert len(accounts) == 114 and "c00.io" in accounts  # it churned after the cutoff
    # the mechanism is plain: the quiet ones score above the busy ones
    quiet = [accounts[f"c{i:02d}.io"]["probability"] for i in CHURNERS if f"c{i:02d}.io" in
             accounts]
    busy = [accounts[f"c{i:02d}.io"]["probability"] for i in range(80) if i not in CHURNERS]
    assert sum(quiet) / len(quiet) > sum(busy) / len(busy)
    assert m["auc"] > 0.7


def test_churn_report_is_markdown(env: Env) -> None:
    card = _ok(env, "churn", "report")
    assert card.startswith("# Churn model card")
    assert "## What churn means" in card and "|---|" in card


# --- 3. clv --------------------------------------------------------------------------------


def test_clv_json_has_the_documented_shape(env: Env) -> None:
    r = _json(env, "clv")
    assert set(r["model"]) == {"r", "alpha", "a", "b"} and all(
        isinstance(v, float) and v > 0 for v in r["model"].values())
    assert set(r["spend"]) == {"p", "q", "v"}
    assert r["time_unit"] == "week" and r["horizon"] == 26.0
    assert r["calibration_end"].startswith(CAL_END)
    customers = {c["id"]: c for c in r["customers"]}
    for c in customers.values():
        assert {"frequency", "recency", "T", "expected_purchases", "probability_alive",
                "expected_value"} <= set(c)
        assert 0.0 <= c["probability_alive"] <= 1.0
        assert c["expected_purchases"] >= 0 and 0 <= c["recency"] <= c["T"]
    once = customers["shop:01"]  # one purchase, 300 days before AS_OF
    assert once["frequency"] == 0 and once["recency"] == 0
    first = AS_OF - timedelta(days=300)
    assert once["T"] == pytest.approx((AS_OF.replace(month=8) - first).days / 7, abs=0.15)
    assert all(c.startswith("shop:") for c in customers)  # the subscriptions buy nothing


# --- 4. charts -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", CHARTED)
def test_charts_are_pngs(env: Env, command: str) -> None:
    _ok(env, command, "json")
    path = env.charts / f"{command}.png"
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1024
    assert f"chart: {path}" in env.out[(command, "json")].stderr


# --- 6. errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "says"), [(n, says) for n, (_, says) in enumerate(BAD)])
def test_a_bad_option_is_a_clear_error(env: Env, n: int, says: str) -> None:
    result = env.out[("error", str(n))]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and says in result.stderr, result.stderr


# --- 5. the cache (last: it loads into the world) ------------------------------------------


def test_a_second_run_reads_the_cache_and_a_load_recomputes(env: Env, tmp_path: Path) -> None:
    moment = "2026-10-31T06:00:00Z"  # a moment the runs above did not ask about
    cache = env.data / "analytics-cache"

    def count() -> tuple[dict[str, Any], dict[str, int]]:
        out = env.run("analyze", "count", "--as-of", moment, "--format", "json")
        return json.loads(out.stdout), {p.name: p.stat().st_mtime_ns
                                        for p in cache.glob("*.pickle")}

    first, files = count()
    assert first["total"] == 99
    again, files_again = count()
    assert again == first
    assert files_again == files  # answered from the cache: nothing computed, nothing written
    late = tmp_path / "late.jsonl"
    late.write_text("\n".join(json.dumps(x) for x in (
        {"node": "Company", "id": "late.io", "name": "Late", "customer": True},
        {"node": "Customer", "id": "late.io", "status": "active", "plan": "team"},
        {"rel": "ACCOUNT_OF", "from": "late.io", "to": "late.io", "to_label": "Company"},
    )) + "\n")
    env.run("load", "graph", str(late))
    after, files_after = count()
    assert after["total"] == 100 and "late.io" in after["customers"]
    assert set(files_after) - set(files)  # a new key: computed again
