"""The churn model on a plain customer table: a Telco-layout CSV (the real header names and value
vocabularies of the public IBM Telco churn table) loaded with `relgraph load csv --mapping
fixtures/csv/telco_churn_all.toml` as a real process, on both stores, with no event log at all;
then `relgraph analyze churn` (JSON, --report, --chart) as real processes.

The table is generated (seeded) with a known mechanism: a month-to-month contract, fibre optic,
paying by electronic check and a short tenure raise the log-odds of churn; gender, partner,
dependents, the streaming columns and a few others are pure noise. Eleven-odd new customers
(tenure 0) have a blank TotalCharges, as in the real table."""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.worlds.cli import ROOT, relgraph

MAPPING = ROOT / "fixtures" / "csv" / "telco_churn_all.toml"
ROWS = 600
SEED = 20240630
MARGIN = 0.03  # the held-out AUC must beat every baseline by at least this much

HEADER = ["customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
          "PhoneService", "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup",
          "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies", "Contract",
          "PaperlessBilling", "PaymentMethod", "MonthlyCharges", "TotalCharges", "Churn"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]
INTERNET = ["DSL", "Fiber optic", "No"]
PAYMENTS = ["Electronic check", "Mailed check", "Bank transfer (automatic)",
            "Credit card (automatic)"]
ADDONS = ["OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
          "StreamingMovies"]


def _customer_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        cid = f"{rng.randrange(10_000):04d}-" + "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(5))
        if cid not in taken:
            taken.add(cid)
            return cid


def make_table(path: Path, rows: int = ROWS, seed: int = SEED) -> list[dict[str, str]]:
    """A Telco-layout CSV of `rows` customers, in shuffled order; returns the rows."""
    rng = random.Random(seed)
    taken: set[str] = set()
    out = []
    for _ in range(rows):
        contract = rng.choices(CONTRACTS, weights=[55, 21, 24])[0]
        internet = rng.choices(INTERNET, weights=[34, 44, 22])[0]
        payment = rng.choices(PAYMENTS, weights=[34, 23, 22, 21])[0]
        tenure = 0 if rng.random() < 0.02 else rng.randint(1, 72)
        phone = rng.random() < 0.9
        row = {
            "customerID": _customer_id(rng, taken),
            "gender": rng.choice(["Female", "Male"]),
            "SeniorCitizen": "1" if rng.random() < 0.16 else "0",
            "Partner": rng.choice(["Yes", "No"]),
            "Dependents": "Yes" if rng.random() < 0.3 else "No",
            "tenure": str(tenure),
            "PhoneService": "Yes" if phone else "No",
            "MultipleLines": rng.choice(["Yes", "No"]) if phone else "No phone service",
            "InternetService": internet,
            "Contract": contract,
            "PaperlessBilling": rng.choice(["Yes", "No"]),
            "PaymentMethod": payment,
        }
        for addon in ADDONS:
            row[addon] = "No internet service" if internet == "No" else rng.choice(["Yes", "No"])
        monthly = (20.0 + (5.0 if phone else 0.0)
                   + {"DSL": 25.0, "Fiber optic": 50.0, "No": 0.0}[internet]
                   + 5.0 * sum(row[a] == "Yes" for a in ADDONS) + rng.uniform(-3, 3))
        row["MonthlyCharges"] = f"{monthly:.2f}"
        # blank for the new customers, as in the real table (a single space)
        row["TotalCharges"] = " " if tenure == 0 else \
            f"{tenure * monthly * rng.uniform(0.95, 1.05):.2f}".rstrip("0").rstrip(".")
        # the mechanism: log-odds of churn
        z = (-2.0 + 1.6 * (contract == "Month-to-month") + 0.9 * (internet == "Fiber optic")
             + 0.8 * (payment == "Electronic check") - 1.4 * (tenure - 32) / 24
             + rng.gauss(0, 0.5))
        row["Churn"] = "Yes" if rng.random() < 1 / (1 + math.exp(-z)) else "No"
        out.append(row)
    rng.shuffle(out)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    return out


@dataclass
class Run:
    kind: str
    rows: list[dict[str, str]]
    load: Any
    model: dict[str, Any]
    report: str
    chart: Path


_RUNS: dict[str, Run] = {}  # one load and model per store, made when first asked for


def _run(kind: str, request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Run:
    if kind in _RUNS:
        return _RUNS[kind]
    base = tmp_path_factory.mktemp(f"churn-csv-{kind}")
    if kind == "neo4j":
        request.getfixturevalue("neo4j_store").delete_all()  # an empty database, as the others
    table = base / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    rows = make_table(table)
    data = base / "data"
    load = relgraph("load", "csv", str(table), "--mapping", str(MAPPING), data=data, store=kind)
    chart = base / "churn-calibration.png"
    model = json.loads(relgraph("analyze", "churn", "--format", "json", "--chart", str(chart),
                                data=data, store=kind).stdout)
    report = relgraph("analyze", "churn", "--report", data=data, store=kind).stdout
    _RUNS[kind] = Run(kind, rows, load, model, report, chart)
    return _RUNS[kind]


@pytest.fixture(params=["memory", "neo4j"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(request.param, request, tmp_path_factory)


def test_the_table_loads_whole_with_no_events(run: Run) -> None:
    out = " ".join((run.load.stdout + run.load.stderr).split())
    assert f"read {ROWS} rows" in out and f"Customer {ROWS}" in out, out
    assert "rejected 0" in out, out  # a blank TotalCharges is a missing total, not a bad row
    assert not list((Path(run.chart).parent / "data" / "events").glob("*.parquet"))


def test_the_json_has_every_documented_key(run: Run) -> None:
    m = run.model
    for key in ("auc", "baseline_auc", "split", "n_train", "n_test", "features",
                "coefficients", "calibration", "accounts"):
        assert key in m, key
    assert isinstance(m["auc"], float) and isinstance(m["baseline_auc"], float)
    assert isinstance(m["n_train"], int) and isinstance(m["n_test"], int)
    assert m["features"] and all(isinstance(f, str) for f in m["features"])
    assert all(set(c) == {"feature", "coefficient"} for c in m["coefficients"])
    assert all(set(c) == {"predicted", "observed", "n"} for c in m["calibration"])
    # no dates in the table: nothing to split by time on
    assert m["split"] == "stratified"
    assert m["n_train"] + m["n_test"] == ROWS
    assert sum(c["n"] for c in m["calibration"]) == m["n_test"]
    assert all(0 <= c["predicted"] <= 1 and 0 <= c["observed"] <= 1 for c in m["calibration"])


def test_the_model_beats_its_baselines(run: Run) -> None:
    m = run.model
    assert m["auc"] >= m["baseline_auc"] + MARGIN
    others = [b["auc"] for b in m.get("baselines", []) if isinstance(b.get("auc"), float)]
    assert others, m.get("baselines")
    for other in others:  # the majority class (0.5) and the best single feature
        assert m["auc"] >= other + MARGIN, m["baselines"]
    assert 0.5 in others or any(abs(a - 0.5) < 1e-12 for a in others)


def _coef(m: dict[str, Any], prefix: str, contains: str = "") -> list[float]:
    return [c["coefficient"] for c in m["coefficients"]
            if c["feature"].lower().startswith(prefix) and contains.lower() in
            c["feature"].lower()]


def test_the_mechanism_is_what_the_model_learns(run: Run) -> None:
    m = run.model
    by_size = sorted(m["coefficients"], key=lambda c: -abs(c["coefficient"]))
    strongest = {c["feature"].lower() for c in by_size[:10]}
    # each mechanism column is among the strongest, with the right sign
    for prefix, level, sign in (("contract", "month-to-month", 1), ("internet_service",
                                "fiber optic", 1), ("payment_method", "electronic check", 1)):
        found = [c for c in by_size[:10] if c["feature"].lower().startswith(prefix)
                 and level in c["feature"].lower()]
        assert found and all(sign * c["coefficient"] > 0 for c in found), (prefix, by_size[:10])
    assert any(f.startswith("tenure") for f in strongest), by_size[:10]
    assert all(c < 0 for c in _coef(m, "tenure_months") if c), by_size[:10]
    # the noise columns are weaker than every mechanism level
    mechanism = min(abs(c) for c in (_coef(m, "contract", "month-to-month")
                                     + _coef(m, "internet_service", "fiber optic")
                                     + _coef(m, "payment_method", "electronic check")))
    for noise in ("gender", "partner", "streaming_tv", "paperless_billing"):
        assert all(abs(c) < mechanism for c in _coef(m, noise)), (noise, by_size)


def test_every_account_has_a_probability_and_its_factors_in_words(run: Run) -> None:
    accounts = run.model["accounts"]
    assert len(accounts) == ROWS
    ids = {r["customerID"] for r in run.rows}
    assert {a["id"].rsplit(":", 1)[-1] for a in accounts} == ids
    for a in accounts:
        assert 0.0 <= a["probability"] <= 1.0
        assert a["factors"], a
        for f in a["factors"]:  # in words: "contract is Month-to-month (raises the risk)"
            assert f["feature"].replace("_", " ") in f["text"], f
            assert ("raises the risk" in f["text"]) == (f["contribution"] > 0), f
    churned = {r["customerID"] for r in run.rows if r["Churn"] == "Yes"}
    p = {a["id"].rsplit(":", 1)[-1]: a["probability"] for a in accounts}
    yes = [p[i] for i in churned]
    no = [p[i] for i in ids - churned]
    assert sum(yes) / len(yes) > sum(no) / len(no)


def test_the_report_is_markdown_with_the_auc(run: Run) -> None:
    card = run.report
    assert card.startswith("# Churn model card")
    assert "|---|" in card
    assert f"{run.model['auc']:.3f}" in card or f"{run.model['auc']:.2f}" in card


def test_the_chart_is_a_png(run: Run) -> None:
    data = run.chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_both_stores_give_the_same_model(request: pytest.FixtureRequest,
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    memory = _run("memory", request, tmp_path_factory).model
    neo4j = _run("neo4j", request, tmp_path_factory).model
    assert abs(memory["auc"] - neo4j["auc"]) <= 1e-9
    assert abs(memory["baseline_auc"] - neo4j["baseline_auc"]) <= 1e-9
    assert (memory["n_train"], memory["n_test"]) == (neo4j["n_train"], neo4j["n_test"])
    assert {a["id"]: round(a["probability"], 9) for a in memory["accounts"]} == \
        {a["id"]: round(a["probability"], 9) for a in neo4j["accounts"]}
