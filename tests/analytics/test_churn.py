"""The churn model (analytics/churn.py) on tables whose churn mechanism is known.

Two generators, each with a fixed numpy seed: a product-usage table (contract, tenure, monthly
charges, support tickets, an irrelevant noise column, a noisy logit) and a Telco-shaped
customer table (the public dataset's columns, TotalCharges as text with blanks, "Yes"/"No"
Churn). No threshold here is tuned to what one dataset happens to give: margins are stated in
units of the AUC's standard error (Hanley–McNeil, ≈0.015 at ~1,000 test accounts with a
quarter churning), and the true drivers are read off the generator, not the fit.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from analytics.churn import (
    AccountRisk,
    ChurnResult,
    Factor,
    _split,
    auc_standard_error,
    calibration_chart,
    fit_churn,
    report,
)

JSON_KEYS = {
    "auc", "baseline_auc", "baselines", "split", "split_detail", "n_train", "n_test",
    "churn_rate", "features", "coefficients", "intercept", "calibration", "accounts",
    "definition", "notes",
}


# --------------------------------------------------------------------------------------------
# Generators


def usage_accounts(n: int = 4000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Accounts whose churn depends on contract, tenure, monthly charges and support tickets
    through a logit with Gaussian noise; `noise` has no part in it. Returns the table and the
    noise-free true logit (the best any model of these columns could rank by)."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], size=n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(1, 73, size=n)
    charges = np.round(rng.uniform(20, 120, size=n), 2)
    tickets = rng.poisson(1.5, size=n)
    noise = rng.normal(0, 1, size=n)
    contract_effect = np.select(
        [contract == "month-to-month", contract == "one-year"], [0.9, -0.2], default=-1.0)
    logit = (-0.6 + contract_effect - 0.035 * (tenure - 36) + 0.02 * (charges - 70)
             + 0.35 * (tickets - 1.5))
    noisy = logit + rng.normal(0, 0.8, size=n)
    churned = rng.random(n) < 1 / (1 + np.exp(-noisy))
    table = pd.DataFrame({
        "id": [f"acct-{i:05d}" for i in range(n)],
        "contract": contract,
        "tenure_months": tenure,
        "monthly_charges": charges,
        "support_tickets": tickets,
        "noise": noise,
        "churned": churned,
    })
    return table, logit


def telco_customers(n: int = 7043, seed: int = 11) -> pd.DataFrame:
    """A table shaped like the public Telco churn data: month-to-month contracts, short tenure,
    electronic checks and fibre raise churn; TotalCharges is text, blank (" ") for new
    customers as in the original; Churn is "Yes"/"No"."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    ids = [f"{rng.integers(1000, 9999)}-{''.join(rng.choice(letters, 5))}-{i}"
           for i in range(n)]
    contract = rng.choice(["Month-to-month", "One year", "Two year"], size=n,
                          p=[0.55, 0.21, 0.24])
    long_contract = contract != "Month-to-month"
    tenure = np.where(long_contract, rng.integers(0, 73, size=n),
                      np.minimum(rng.geometric(1 / 16, size=n) - 1, 72))
    internet = rng.choice(["DSL", "Fiber optic", "No"], size=n, p=[0.34, 0.44, 0.22])
    monthly = np.round(np.select([internet == "Fiber optic", internet == "DSL"],
                                 [rng.uniform(70, 118, n), rng.uniform(25, 90, n)],
                                 default=rng.uniform(18, 26, n)), 2)
    total = np.round(monthly * tenure * rng.uniform(0.95, 1.05, n), 2)
    total_text = np.where(tenure == 0, " ", total.astype(str))
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)",
                          "Credit card (automatic)"], size=n, p=[0.34, 0.23, 0.22, 0.21])
    senior = (rng.random(n) < 0.16).astype(int)
    logit = (-1.6
             + np.select([contract == "Month-to-month", contract == "One year"], [1.2, -0.3],
                         default=-1.3)
             - 0.035 * tenure
             + 0.55 * (payment == "Electronic check")
             + 0.45 * (internet == "Fiber optic")
             + 0.3 * senior
             + rng.normal(0, 0.5, n))
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    return pd.DataFrame({
        "customerID": ids,
        "gender": rng.choice(["Female", "Male"], size=n),
        "SeniorCitizen": senior,
        "Partner": rng.choice(["Yes", "No"], size=n, p=[0.48, 0.52]),
        "Dependents": rng.choice(["Yes", "No"], size=n, p=[0.3, 0.7]),
        "tenure": tenure,
        "PhoneService": rng.choice(["Yes", "No"], size=n, p=[0.9, 0.1]),
        "InternetService": internet,
        "Contract": contract,
        "PaperlessBilling": rng.choice(["Yes", "No"], size=n, p=[0.59, 0.41]),
        "PaymentMethod": payment,
        "MonthlyCharges": monthly,
        "TotalCharges": total_text,
        "Churn": churn,
    })


def held_out_churners(result: ChurnResult) -> int:
    """Churned accounts in the test part, read off the calibration table (which covers it)."""
    return int(round(sum(b["observed"] * b["n"] for b in result.calibration)))


def coef(result: ChurnResult, feature: str) -> float:
    return next(c["coefficient"] for c in result.coefficients if c["feature"] == feature)


@pytest.fixture(scope="module")
def usage() -> tuple[pd.DataFrame, np.ndarray, ChurnResult]:
    table, logit = usage_accounts()
    return table, logit, fit_churn(table, definition="not renewing at the end of the term")


@pytest.fixture(scope="module")
def telco() -> tuple[pd.DataFrame, ChurnResult]:
    table = telco_customers()
    return table, fit_churn(table, label="Churn", definition="left within the last month")


# --------------------------------------------------------------------------------------------
# 1. A known mechanism


def test_model_beats_the_baselines_by_more_than_its_noise(usage):
    table, logit, result = usage
    assert result.split == "stratified" and result.n_train + result.n_test == len(table)
    pos = held_out_churners(result)
    se = auc_standard_error(result.auc, pos, result.n_test - pos)
    # n_test = 1,000 with ~44% churning: the AUC's standard error (Hanley–McNeil) is about
    # 0.015, so a margin of 0.03, and at least two standard errors, is not a lucky draw of the
    # test accounts (and both AUCs are on the same accounts, which narrows their difference's
    # error further).
    assert 0.01 < se < 0.025
    margin = max(0.03, 2 * se)
    assert result.baselines[0]["name"] == "majority class" and result.baselines[0]["auc"] == 0.5
    assert result.baselines[1]["name"].startswith("best single feature: ")
    assert result.baseline_auc == max(0.5, result.baselines[1]["auc"])
    assert result.auc >= 0.5 + margin
    assert result.auc >= result.baseline_auc + margin
    # … and it gets close to the best ranking possible from these columns: the noise-free
    # logit of the generator, scored on the same test accounts (only the logit noise and the
    # finite sample keep the model below it).
    from sklearn.metrics import roc_auc_score

    y = table["churned"].to_numpy().astype(int)
    _, test, _, _ = _split(y, None, None, 0.25, 0, [])
    oracle = roc_auc_score(y[test], logit[test])
    assert result.auc >= oracle - 2 * se
    assert result.auc <= oracle + 2 * se


def test_true_drivers_have_the_right_signs_and_noise_is_small(usage):
    _, _, result = usage
    assert coef(result, "tenure_months") < 0
    assert coef(result, "monthly_charges") > 0
    assert coef(result, "support_tickets") > 0
    assert coef(result, "contract=month-to-month") > 0
    assert coef(result, "contract=month-to-month") > coef(result, "contract=one-year") > coef(
        result, "contract=two-year")
    # A standardised coefficient's standard error here is about 1/sqrt(n·p·(1-p)) ≈ 0.03; the
    # weakest true driver moves the log-odds by ~0.4 per standard deviation.
    drivers = [abs(coef(result, f)) for f in ("tenure_months", "monthly_charges",
                                              "support_tickets")]
    assert abs(coef(result, "noise")) < 0.25 * min(drivers)
    assert result.coefficients[-1]["feature"] == "noise"
    magnitudes = [abs(c["coefficient"]) for c in result.coefficients]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert set(result.features) == {
        "contract=month-to-month", "contract=one-year", "contract=two-year", "tenure_months",
        "monthly_charges", "support_tickets", "noise"}


def test_calibration_rises_with_the_prediction_and_covers_the_test_set(usage):
    _, _, result = usage
    bins = result.calibration
    assert 2 <= len(bins) <= 10 and all(b["n"] > 0 for b in bins)
    assert sum(b["n"] for b in bins) == result.n_test
    predicted = [b["predicted"] for b in bins]
    observed = [b["observed"] for b in bins]
    assert predicted == sorted(predicted)
    # Mostly monotone: with 100 accounts a bin, a bin's observed rate has a standard error of
    # ~0.05 (~0.07 for the difference of two), while neighbouring bins' predictions differ by
    # ~0.08: neighbours may swap, but rarely, and a drop of 0.1 would be ~2.5 SE of noise.
    drops = [a - b for a, b in zip(observed, observed[1:], strict=False) if b < a]
    assert len(drops) <= 2 and all(d < 0.1 for d in drops)
    # The riskiest bin churns far more than the safest: by more than 4 standard errors.
    first, last = bins[0], bins[-1]
    spread_se = math.sqrt(sum(b["observed"] * (1 - b["observed"]) / b["n"] for b in (first, last)))
    assert last["observed"] - first["observed"] > 4 * spread_se
    # Calibrated in the mean: the predicted and observed test churn rates agree within ~2 SE.
    mean_pred = sum(b["predicted"] * b["n"] for b in bins) / result.n_test
    mean_obs = sum(b["observed"] * b["n"] for b in bins) / result.n_test
    assert abs(mean_pred - mean_obs) < 2 * math.sqrt(0.25 / result.n_test) + 0.01


def test_factors_are_contributions_against_the_average_account(usage):
    table, _, _ = usage
    result = fit_churn(table, top_factors=10)
    assert len(result.accounts) == len(table)
    probabilities = [a.probability for a in result.accounts]
    assert probabilities == sorted(probabilities, reverse=True)
    assert {a.id for a in result.accounts} == set(table["id"])
    # logit(p) = (the average account's logit) + the sum of every column's contribution.
    offsets = []
    for a in result.accounts[::97]:
        assert len(a.factors) == 5  # all five columns
        offsets.append(math.log(a.probability / (1 - a.probability))
                       - sum(f.contribution for f in a.factors))
    assert max(offsets) - min(offsets) < 1e-6
    for a in result.accounts[:50]:
        signs = [f.contribution > 0 for f in a.factors]
        assert signs == sorted(signs, reverse=True)  # those that raise the risk first
        raising = [abs(f.contribution) for f in a.factors if f.contribution > 0]
        assert raising == sorted(raising, reverse=True)
        for f in a.factors:
            assert f.text.endswith("(raises the risk)" if f.contribution > 0
                                   else "(lowers the risk)")
    riskiest = result.accounts[0]
    top = riskiest.factors[0]
    assert top.contribution > 0 and top.feature in set(table.columns)
    assert re.match(r"^(contract is \S+|tenure months of [\d,]+|monthly charges of [\d.,]+"
                    r"|support tickets of \d+)", top.text), top.text


# --------------------------------------------------------------------------------------------
# 2. A Telco-shaped table, no events at all


def test_telco_table_fits_and_explains_itself(telco):
    table, result = telco
    assert result.churn_rate == pytest.approx((table["Churn"] == "Yes").mean())
    assert len(result.accounts) == len(table) == result.n_train + result.n_test
    assert not any(f.startswith("customerID") for f in result.features)
    assert any("customerID" in n and "id-like" in n for n in result.notes), result.notes
    assert "TotalCharges" in result.features and "TotalCharges missing" in result.features
    assert any(n.startswith("TotalCharges: text that looks numeric converted") for n in
               result.notes)
    blanks = int((table["TotalCharges"] == " ").sum())
    assert any(f"TotalCharges: {blanks:,} missing values imputed" in n for n in result.notes)
    assert "Contract=Month-to-month" in result.features and "SeniorCitizen" in result.features
    assert coef(result, "Contract=Month-to-month") > coef(result, "Contract=Two year")
    assert coef(result, "PaymentMethod=Electronic check") > 0
    pos = held_out_churners(result)
    se = auc_standard_error(result.auc, pos, result.n_test - pos)
    assert result.auc > result.baseline_auc + 2 * se

    # The riskiest month-to-month account with a short tenure: its top factor is its contract
    # or its tenure (the two strongest causes in the generator).
    short = set(np.flatnonzero((table["Contract"] == "Month-to-month") & (table["tenure"] <= 3)))
    assert short
    # No "id" column here (customerID is dropped as id-like): accounts are named by row.
    account = next(a for a in result.accounts if int(a.id) in short)
    top = account.factors[0]
    assert top.feature in {"Contract", "tenure"}, account
    assert "contract" in top.text or "tenure" in top.text
    assert top.text.endswith("(raises the risk)")


def test_telco_with_its_id_column_names_the_accounts(telco):
    table, _ = telco
    result = fit_churn(table.head(1500), id_column="customerID", label="Churn",
                       features=["Contract", "tenure", "PaymentMethod", "TotalCharges"])
    assert {a.id for a in result.accounts} == set(table["customerID"].head(1500))
    assert any(n.startswith("customerID: the id column") for n in result.notes)


def test_report_is_a_model_card(telco):
    _, result = telco
    card = report(result)
    assert card.startswith("# Churn model card")
    for heading in ("## What churn means", "## Data", "## How well it predicts (held out)",
                    "## What drives it", "## Calibration (held out)",
                    "## The 10 riskiest accounts", "## Caveats"):
        assert heading in card
    assert "left within the last month" in card
    assert f"**{result.auc:.3f}**" in card
    for b in result.baselines:
        assert f"| {b['name']} | {b['auc']:.3f} |" in card
    assert result.split_detail in card and "stratified 75/25, seed 0" in card
    assert "| feature | coefficient | in words |" in card
    table_rows = re.findall(r"^\| (.+?) \| ([+-]\d+\.\d{3}) \| (.+) \|$", card, re.M)
    assert len(table_rows) == 15
    assert table_rows[0][0] == result.coefficients[0]["feature"].replace("|", "\\|")
    assert all(("raises the risk" in r[2]) == (float(r[1]) > 0) for r in table_rows)
    assert "linear in its inputs" in card and "correlation, not cause" in card
    assert "refit on all rows" in card
    assert card.count("\n| ") >= 15 + len(result.calibration) + 10


# --------------------------------------------------------------------------------------------
# 3. The split


def dated(table: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 365, size=len(table))
    return table.assign(observed_at=pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"))


def test_time_split_trains_on_the_past_and_tests_on_the_future(usage):
    table, _, _ = usage
    table = dated(table)
    result = fit_churn(table, time_column="observed_at")
    assert result.split == "time"
    assert "observed_at" not in result.features
    found = re.search(r"before (\d{4}-\d{2}-\d{2})", result.split_detail)
    assert found, result.split_detail
    cut = pd.Timestamp(found.group(1))
    assert result.n_train == int((table["observed_at"] < cut).sum())
    assert result.n_test == int((table["observed_at"] >= cut).sum())
    assert abs(result.n_train / len(table) - 0.75) < 0.05
    # The split itself: every test row is later than every train row.
    y = table["churned"].to_numpy().astype(int)
    train, test, kind, _ = _split(y, table["observed_at"], "observed_at", 0.25, 0, [])
    assert kind == "time"
    assert table["observed_at"].iloc[test].min() > table["observed_at"].iloc[train].max()
    assert set(y[train]) == set(y[test]) == {0, 1}
    assert len(train) == result.n_train
    # Dates as text work too.
    as_text = fit_churn(table.assign(observed_at=table["observed_at"].dt.strftime("%Y-%m-%d")),
                        time_column="observed_at")
    assert as_text.split == "time" and as_text.n_train == result.n_train


def test_without_enough_dates_the_split_is_stratified(usage):
    table, _, _ = usage
    result = fit_churn(table)
    assert result.split == "stratified" and result.split_detail == "stratified 75/25, seed 0"
    test_churned = held_out_churners(result)
    train_churned = round(result.churn_rate * len(table)) - test_churned
    assert 0 < test_churned < result.n_test and 0 < train_churned < result.n_train
    assert abs(test_churned / result.n_test - result.churn_rate) < 0.01  # stratified
    one_date = fit_churn(table.assign(observed_at=pd.Timestamp("2024-05-01")),
                         time_column="observed_at")
    assert one_date.split == "stratified"
    assert any("no time split on observed_at: one distinct date only" in n
               for n in one_date.notes)


# --------------------------------------------------------------------------------------------
# 4. Choosing the inputs, and refusing what cannot be modelled


def test_features_restrict_the_model(usage):
    table, _, _ = usage
    result = fit_churn(table, features=["tenure_months", "contract"])
    assert set(result.features) == {"tenure_months", "contract=month-to-month",
                                    "contract=one-year", "contract=two-year"}
    assert {f.feature for a in result.accounts for f in a.factors} <= {"tenure_months",
                                                                        "contract"}
    with pytest.raises(ValueError, match=r"unknown feature\(s\) \['tenure'\]") as err:
        fit_churn(table, features=["tenure", "contract"])
    for name in ("contract", "tenure_months", "monthly_charges", "support_tickets", "noise"):
        assert name in str(err.value)
    with pytest.raises(ValueError, match="unknown feature"):
        fit_churn(table, features=["churned"])  # the label is not an input


def test_labels_in_every_spelling_and_refusals(usage):
    table, _, _ = usage
    small = table.head(400)
    flags = small["churned"].to_numpy()
    reference = fit_churn(small)
    spellings = {
        "0/1": flags.astype(int),
        "Yes/No": np.where(flags, "Yes", "No"),
        "true/false": np.where(flags, "true", "false"),
        "churned/active": np.where(flags, "churned", "active"),
        "object bools": pd.Series(flags, dtype=object),
    }
    for name, values in spellings.items():
        other = fit_churn(small.assign(churned=values))
        assert other.auc == pytest.approx(reference.auc), name
        assert other.churn_rate == pytest.approx(reference.churn_rate), name
    with pytest.raises(ValueError, match="cannot read"):
        fit_churn(small.assign(churned=np.where(flags, "Yes", "maybe")))
    with pytest.raises(ValueError, match="must be 0/1"):
        fit_churn(small.assign(churned=np.where(flags, 2, 0)))
    with pytest.raises(ValueError, match="one class only"):
        fit_churn(small.assign(churned=False))
    with pytest.raises(ValueError, match="too few"):
        fit_churn(small.head(12))
    with pytest.raises(ValueError, match="missing values"):
        fit_churn(small.assign(churned=pd.Series(flags, dtype=object).where(
            np.arange(len(small)) != 3, None)))
    with pytest.raises(ValueError, match="no label column"):
        fit_churn(small, label="Churn")


def test_leakage_ids_and_constants_are_dropped_with_a_note(usage):
    table, _, _ = usage
    rng = np.random.default_rng(5)
    churned = table["churned"].to_numpy()
    leaky = table.assign(
        churned_at=pd.Series(pd.Timestamp("2024-06-01") + pd.to_timedelta(
            rng.integers(0, 90, len(table)), "D")).where(churned),
        churn_reason=np.where(churned, "price", ""),
        cancellation_date=pd.Series("2024-07-01", index=table.index).where(churned),
        account_number=np.arange(len(table)) + 100_000,
        region="EU",
        signup_channel=rng.choice(["web", "sales"], len(table)),
        auto_renew=rng.random(len(table)) < 0.5,
    )
    result = fit_churn(leaky)
    notes = "\n".join(result.notes)
    for name in ("churned_at", "churn_reason", "cancellation_date"):
        assert not any(f.startswith(name) for f in result.features)
    leak_note = next(n for n in result.notes if "looks like leakage" in n)
    assert leak_note.startswith("dropped churned_at, churn_reason, cancellation_date: ")
    assert "auto_renew=True" in result.features  # known in advance: not a leak by its name
    assert re.search(r"dropped account_number: id-like", notes)
    assert re.search(r"dropped region: one value only", notes)
    assert "signup_channel=web" in result.features
    # Asked for by name, a leakage-looking column is kept, with a warning; the perfect leak is
    # then flagged by its single-feature AUC.
    asked = fit_churn(leaky.assign(churn_flag_copy=churned.astype(int)),
                      features=["tenure_months", "churn_flag_copy"])
    assert "churn_flag_copy" in asked.features
    assert any("churn_flag_copy: kept because it was asked for" in n for n in asked.notes)
    assert any(n.startswith("churn_flag_copy alone separates") for n in asked.notes)


def test_missing_numbers_get_the_median_and_an_indicator(usage):
    table, _, _ = usage
    rng = np.random.default_rng(9)
    holes = table.assign(
        monthly_charges=table["monthly_charges"].where(rng.random(len(table)) > 0.1),
        contract=table["contract"].where(rng.random(len(table)) > 0.05),
        plan=rng.choice(["basic", "pro", "legacy"], len(table), p=[0.6, 0.395, 0.005]),
    )
    result = fit_churn(holes)
    assert "monthly_charges missing" in result.features
    assert "contract=(missing)" in result.features
    assert "plan=other" in result.features and "plan=legacy" not in result.features
    assert any('pooled as "other": plan (1)' in n for n in result.notes)
    assert math.isfinite(result.auc) and result.auc > 0.6
    missing = next(a for a in result.accounts
                   if any(f.feature == "monthly_charges" and f.value is None for f in a.factors))
    text = next(f.text for f in missing.factors if f.feature == "monthly_charges")
    assert text.startswith("monthly charges not recorded")


# --------------------------------------------------------------------------------------------
# 5. Serialisation and the chart


def test_to_json_round_trips_with_exactly_the_documented_keys(telco):
    _, result = telco
    data = result.to_json()
    assert set(data) == JSON_KEYS
    again = json.loads(json.dumps(data, allow_nan=False))
    assert again == data
    first = data["accounts"][0]
    assert set(first) == {"id", "probability", "factors"}
    assert set(first["factors"][0]) == {"feature", "value", "contribution", "text"}
    assert isinstance(result.accounts[0], AccountRisk)
    assert isinstance(result.accounts[0].factors[0], Factor)
    assert len(data["accounts"]) == len(result.accounts)
    assert set(data["coefficients"][0]) == {"feature", "coefficient"}
    assert set(data["calibration"][0]) == {"predicted", "observed", "n"}


def test_calibration_chart_writes_a_png(usage, tmp_path):
    _, _, result = usage
    out = calibration_chart(result, tmp_path / "charts" / "churn_calibration.png")
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
