"""Churn: an interpretable model of who is likely to leave, and why.

`fit_churn` takes one row per account with a churned flag (non-renewal, or no activity for N
days: the caller builds the table and says what churn means) and any columns describing the
accounts: numbers, categories, flags. It works as well on a plain customer table with no events
at all (a Telco-style table of attributes and a Churn column).

What it does, in order:

1. Chooses the inputs: every column but the id, the label and the time column (or the ones
   named). Columns with one value, id-like columns (unique per row), columns whose names look
   like leakage (``churned_at``, ``cancelled_at`` …), dates and free text are dropped, each
   with a note. Text that is really numbers (a blank-padded ``TotalCharges``) becomes numbers.
2. Splits: by time when a time column is given and has enough distinct dates (train on the
   earliest accounts, test on the later ones, cut at a date boundary), else stratified.
3. Fits, on the training part only, a scikit-learn Pipeline: a ColumnTransformer (numbers:
   training median for the missing ones plus a "<name> missing" indicator, standardised;
   categories: one-hot on every level, levels rarer than 1% pooled as "other") and an L2
   logistic regression (lbfgs, C=1). Evaluates on the held-out part: ROC AUC beside the
   majority-class and best-single-feature baselines, calibration in quantile bins.
4. Refits the same pipeline on all rows and scores every account, with the factors that move
   its risk most: each original column's contribution in log-odds relative to the average
   account, ``sum(coef * (encoded value - mean encoded value))`` over its encoded columns.

`report` renders the model card in Markdown, `calibration_chart` draws the calibration plot.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

__all__ = [
    "AccountRisk",
    "ChurnResult",
    "Factor",
    "auc_standard_error",
    "calibration_chart",
    "fit_churn",
    "report",
]

MIN_ROWS = 20  # fewer accounts than this cannot be split and evaluated honestly
MIN_PER_CLASS = 5  # each class needs a few accounts on both sides of the split
RARE_LEVEL = 0.01  # category levels rarer than this share of the fit rows are pooled as "other"
MAX_LEVELS = 30  # a category with more common levels than this is dropped (too many levels)
MAX_ITER = 5000
TOL = 1e-8  # tight: a column's level weights only settle to their L2 optimum (mean zero) late
LEAK_AUC = 0.98  # one column that alone separates the classes this well is suspicious
MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "other"

_JSON_KEYS = (
    "auc", "baseline_auc", "baselines", "split", "split_detail", "n_train", "n_test",
    "churn_rate", "features", "coefficients", "intercept", "calibration", "accounts",
    "definition", "notes",
)


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Factor:
    """One column's push on an account's risk: `contribution` in log-odds relative to the
    average account (positive raises the risk), `text` the same in words."""

    feature: str
    value: object
    contribution: float
    text: str


@dataclass(frozen=True, slots=True)
class AccountRisk:
    """An account's churn probability (model refit on all rows) and its top factors by
    |contribution|, those that raise the risk first."""

    id: str
    probability: float
    factors: list[Factor]


@dataclass(frozen=True, slots=True)
class ChurnResult:
    auc: float
    baseline_auc: float
    baselines: list[dict]
    split: str
    split_detail: str
    n_train: int
    n_test: int
    churn_rate: float
    features: list[str]
    coefficients: list[dict]
    intercept: float
    calibration: list[dict]
    accounts: list[AccountRisk]
    definition: str
    notes: list[str]

    def to_json(self) -> dict:
        """Exactly the documented keys, plain Python values only (json.dumps-able)."""
        out: dict[str, Any] = {
            "auc": float(self.auc),
            "baseline_auc": float(self.baseline_auc),
            "baselines": [{k: _plain(v) for k, v in b.items()} for b in self.baselines],
            "split": str(self.split),
            "split_detail": str(self.split_detail),
            "n_train": int(self.n_train),
            "n_test": int(self.n_test),
            "churn_rate": float(self.churn_rate),
            "features": [str(f) for f in self.features],
            "coefficients": [
                {"feature": str(c["feature"]), "coefficient": float(c["coefficient"])}
                for c in self.coefficients
            ],
            "intercept": float(self.intercept),
            "calibration": [
                {"predicted": float(b["predicted"]), "observed": float(b["observed"]),
                 "n": int(b["n"])}
                for b in self.calibration
            ],
            "accounts": [
                {
                    "id": str(a.id),
                    "probability": float(a.probability),
                    "factors": [
                        {"feature": str(f.feature), "value": _plain(f.value),
                         "contribution": float(f.contribution), "text": str(f.text)}
                        for f in a.factors
                    ],
                }
                for a in self.accounts
            ],
            "definition": str(self.definition),
            "notes": [str(n) for n in self.notes],
        }
        assert tuple(out) == _JSON_KEYS
        return out


# --------------------------------------------------------------------------------------------
# Columns: what each input is, decided once on the whole table (no label is looked at)


@dataclass(slots=True)
class _Column:
    name: str  # as in the table (str)
    kind: str  # "number" or "category"
    binary: bool = False  # a number with at most two distinct values
    median: float = math.nan  # of the whole table, for the words ("the usual 29")
    std: float = math.nan


_LEAK_PATTERNS = (
    re.compile(r"churn"),
    re.compile(
        r"(^|_)(cancel\w*|terminat\w*|deactivat\w*|unsubscrib\w*|end|ended|clos(e|ed|ing)|lost"
        r"|exit(ed)?|delet(e|ed|ion)|renew\w*|non_?renew\w*|left)"
        r"_(at|on|date|time|timestamp|ts|reason|flag|status|outcome)$"
    ),
    re.compile(
        r"^(is_|has_|did_|was_)?(cancel|cancell?ed|terminated|deactivated|renewed|renew"
        r"|unsubscribed|exited|deleted)$"
    ),
)
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|identifier|email|e_mail)$")
_NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return re.sub(r"[^0-9a-z]+", "_", s.lower()).strip("_")


def _looks_like_leakage(name: str) -> bool:
    snake = _snake(name)
    return any(p.search(snake) for p in _LEAK_PATTERNS)


def _words(name: str) -> str:
    """A column's name in plain words: "MonthlyCharges" → "monthly charges", "open_tickets" →
    "open tickets", "customerID" → "customer ID"."""
    s = re.sub(r"[_\-.]+", " ", name)
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", s)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", s)
    words = [w if (w.isupper() and len(w) > 1) else w.lower() for w in s.split()]
    return " ".join(words) or name


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _numeric_text(s: pd.Series) -> pd.Series | None:
    """Text that is really numbers (blanks and NA tokens allowed) as floats, else None."""
    numbers: list[float] = []
    seen = False
    for v in s.to_numpy(dtype=object):
        text = "" if _is_missing(v) else str(v).strip()
        if text.lower() in _NA_TOKENS:
            numbers.append(math.nan)
            continue
        try:
            number = float(text)
        except ValueError:
            return None
        numbers.append(number)
        seen = True
    return pd.Series(numbers, index=s.index, dtype="float64") if seen else None


def _prepare(
    table: pd.DataFrame, candidates: list[str], explicit: bool, notes: list[str]
) -> tuple[pd.DataFrame, list[_Column]]:
    """The cleaned inputs (floats for numbers, Python str for categories, "(missing)" for
    missing levels) and what each one is. Drops what cannot or must not be used, with notes."""
    n = len(table)
    clean: dict[str, pd.Series] = {}
    columns: list[_Column] = []
    dropped: dict[str, list[str]] = {}

    def drop(reason: str, name: str) -> None:
        dropped.setdefault(reason, []).append(name)

    for name in candidates:
        s = table[name]
        if _looks_like_leakage(name):
            if not explicit:
                drop("its name looks like leakage (recorded at or after the churn)", name)
                continue
            notes.append(f"{name}: kept because it was asked for, but its name looks like "
                         "leakage (recorded at or after the churn?); check it is known in "
                         "advance")
        if ptypes.is_bool_dtype(s.dtype):
            kind = "category"
            values: pd.Series = s.astype("object").map(
                lambda v: MISSING_LEVEL if _is_missing(v) else str(bool(v)))
        elif ptypes.is_datetime64_any_dtype(s.dtype):
            drop("dates are not used directly (derive a number, e.g. days since)", name)
            continue
        elif ptypes.is_timedelta64_dtype(s.dtype):
            kind = "number"
            values = s.dt.total_seconds() / 86_400.0
            notes.append(f"{name}: durations converted to days")
        elif ptypes.is_numeric_dtype(s.dtype):
            kind = "number"
            values = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            as_numbers = _numeric_text(s)
            if as_numbers is not None:
                kind = "number"
                values = as_numbers
                k = int(as_numbers.isna().sum()) - int(s.isna().sum())
                blanks = f" ({k:,} blank values read as missing)" if k > 0 else ""
                notes.append(f"{name}: text that looks numeric converted to numbers{blanks}")
            else:
                kind = "category"
                values = s.astype("object").map(
                    lambda v: MISSING_LEVEL if _is_missing(v) or str(v).strip() == ""
                    else str(v))
        if kind == "number":
            arr = values.to_numpy(dtype="float64", na_value=np.nan)
            inf = ~np.isfinite(arr) & ~np.isnan(arr)
            if inf.any():
                notes.append(f"{name}: {int(inf.sum()):,} infinite values read as missing")
                arr = np.where(inf, np.nan, arr)
            values = pd.Series(arr, index=table.index)
            present = values.dropna()
            distinct = int(present.nunique())
            if distinct <= 1:
                drop("one value only", name)
                continue
            integral = bool(np.all(np.equal(np.mod(present.to_numpy(), 1), 0)))
            unique = distinct == len(present) == n
            if (_ID_NAME.search(_snake(name)) and distinct >= 0.9 * n) or (
                    unique and integral and _consecutive(present.to_numpy())):
                drop("id-like (a different value on nearly every row)", name)
                continue
            col = _Column(name, "number", binary=distinct <= 2,
                          median=float(present.median()), std=float(present.std(ddof=0)))
        else:
            real = values[values != MISSING_LEVEL]
            distinct = int(real.nunique())
            if int(values.nunique()) <= 1:
                drop("one value only", name)
                continue
            if (distinct == len(real) == n) or (
                    _ID_NAME.search(_snake(name)) and distinct >= 0.9 * n):
                drop("id-like (a different value on nearly every row)", name)
                continue
            shares = values.value_counts(normalize=True)
            common = int((shares >= RARE_LEVEL).sum())
            if distinct > 0.5 * n or common > MAX_LEVELS or common == 0:
                drop(f"too many levels ({distinct:,} distinct)", name)
                continue
            col = _Column(name, "category")
        clean[name] = values
        columns.append(col)

    for reason, names in dropped.items():
        notes.append(f"dropped {', '.join(names)}: {reason}")
    frame = pd.DataFrame(clean, index=table.index) if clean else pd.DataFrame(index=table.index)
    for col in columns:
        if col.kind == "category":
            frame[col.name] = frame[col.name].astype("object")
    return frame, columns


def _consecutive(values: np.ndarray) -> bool:
    v = np.sort(values)
    return bool(len(v) > 1 and np.all(np.diff(v) == 1))


# --------------------------------------------------------------------------------------------
# The label


_TRUE = frozenset({"yes", "y", "true", "t", "1", "1.0", "churned", "churn"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "0.0", "active", "retained", "not churned"})


def _parse_label(s: pd.Series, name: str) -> np.ndarray:
    missing = int(s.isna().sum())
    if missing:
        raise ValueError(f"label {name!r} has {missing:,} missing values; every account needs "
                         "a churned flag (drop or resolve those rows first)")
    if ptypes.is_bool_dtype(s.dtype):
        return s.astype(bool).to_numpy().astype(int)
    if ptypes.is_numeric_dtype(s.dtype):
        found = sorted({float(v) for v in pd.unique(s)})
        if set(found) <= {0.0, 1.0}:
            return s.to_numpy(dtype="float64").astype(int)
        raise ValueError(f"label {name!r} must be 0/1, bool, Yes/No, true/false or "
                         f"churned/active; found the numbers {found[:6]}")
    text = s.astype("object").map(lambda v: str(v).strip().lower())
    y = text.map(lambda v: 1 if v in _TRUE else (0 if v in _FALSE else -1)).to_numpy()
    if (y < 0).any():
        bad = sorted({str(v) for v in s[y < 0]})[:6]
        raise ValueError(f"label {name!r} must be bool, 0/1, Yes/No, true/false or "
                         f"churned/active; cannot read {bad}")
    return y.astype(int)


# --------------------------------------------------------------------------------------------
# The split


def _fmt_time(t: Any) -> str:
    if isinstance(t, pd.Timestamp):
        return str(t.date()) if t == t.normalize() else t.isoformat()
    return _fmt_num(float(t))


def _split(
    y: np.ndarray,
    times: pd.Series | None,
    time_name: str | None,
    test_size: float,
    random_state: int,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(train positions, test positions, "time" | "stratified", detail)."""
    n = len(y)
    if times is not None and time_name is not None:
        reason = None
        if ptypes.is_numeric_dtype(times.dtype) and not ptypes.is_bool_dtype(times.dtype):
            t = pd.to_numeric(times, errors="coerce")
        elif ptypes.is_datetime64_any_dtype(times.dtype):
            t = times
        else:
            t = pd.to_datetime(times, errors="coerce", format="mixed")
        bad = int(t.isna().sum())
        if bad:
            reason = f"{bad:,} rows have no usable {time_name}"
        else:
            found = _time_cut(t, y, test_size)
            if isinstance(found, str):
                reason = found
            else:
                train, test, cut, last = found
                detail = (f"trained on accounts with {time_name} before {_fmt_time(cut)} "
                          f"(n={len(train):,}), tested on the later ones (n={len(test):,}, "
                          f"{_fmt_time(cut)} to {_fmt_time(last)})")
                notes.append(
                    f"time split: churn rate {y[train].mean():.1%} in the training part, "
                    f"{y[test].mean():.1%} in the test part")
                return train, test, "time", detail
        notes.append(f"no time split on {time_name}: {reason}; split stratified instead")
    idx = np.arange(n)
    train, test = train_test_split(idx, test_size=test_size, stratify=y,
                                   random_state=random_state)
    train, test = np.sort(train), np.sort(test)
    pct = round(100 * (1 - test_size))
    return train, test, "stratified", f"stratified {pct}/{100 - pct}, seed {random_state}"


def _time_cut(
    t: pd.Series, y: np.ndarray, test_size: float
) -> tuple[np.ndarray, np.ndarray, Any, Any] | str:
    """Train on the rows before a date boundary (about 1 - test_size of them), test on the
    rest; both sides must hold both classes. A reason string when no boundary will do."""
    n = len(y)
    tv = t.reset_index(drop=True)
    distinct = np.sort(tv.unique())
    if len(distinct) < 2:
        return "one distinct date only"
    counts = tv.value_counts().reindex(distinct).to_numpy()
    cum = np.cumsum(counts)  # rows at or before distinct[k]
    target = (1 - test_size) * n
    best: list[tuple[float, int]] = sorted(
        (abs(cum[k] - target), k) for k in range(len(distinct) - 1))
    for gap, k in best:
        if gap > 0.15 * n:
            break
        before = (tv <= distinct[k]).to_numpy()
        train, test = np.flatnonzero(before), np.flatnonzero(~before)
        if len(train) < MIN_PER_CLASS * 2 or len(test) < MIN_PER_CLASS:
            continue
        if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
            continue
        return train, test, tv.iloc[test].min(), tv.iloc[test].max()
    return ("no date boundary near a "
            f"{round(100 * (1 - test_size))}/{round(100 * test_size)} cut leaves both classes "
            "on both sides")


# --------------------------------------------------------------------------------------------
# The model


@dataclass(slots=True)
class _Fitted:
    pipeline: Pipeline
    names: list[str]  # encoded columns
    groups: list[int]  # for each encoded column, the index of its original column
    frequent: dict[str, set[str]]  # category column → its levels that were not pooled

    @property
    def model(self) -> LogisticRegression:
        return self.pipeline.named_steps["model"]

    def encode(self, x: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline.named_steps["encode"].transform(x), dtype="float64")

    def proba(self, x: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(x)[:, 1], dtype="float64")


def _fit(x: pd.DataFrame, y: np.ndarray, columns: list[_Column], notes: list[str]) -> _Fitted:
    transformers: list[tuple[str, Any, list[str]]] = []
    plan: list[tuple[str, int, _Column]] = []  # (role, column index, column)
    for i, col in enumerate(columns):
        if col.kind == "number":
            transformers.append((f"n{i}", Pipeline([
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]), [col.name]))
            plan.append(("number", i, col))
            if bool(x[col.name].isna().any()):
                transformers.append((f"m{i}", MissingIndicator(features="all"), [col.name]))
                plan.append(("missing", i, col))
        else:
            transformers.append((f"c{i}", OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=RARE_LEVEL,
                sparse_output=False, dtype=np.float64), [col.name]))
            plan.append(("category", i, col))
    encode = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0,
                               verbose_feature_names_out=False)
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=MAX_ITER, tol=TOL,
                               class_weight=None)
    pipeline = Pipeline([("encode", encode), ("model", model)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(x, y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append(f"the logistic regression did not fully converge in {MAX_ITER} "
                     "iterations; coefficients are approximate")
    names: list[str] = []
    groups: list[int] = []
    frequent: dict[str, set[str]] = {}
    fitted = encode.named_transformers_
    for (role, i, col), (tname, _, _) in zip(plan, transformers, strict=True):
        if role == "number":
            names.append(col.name)
            groups.append(i)
        elif role == "missing":
            names.append(f"{col.name} missing")
            groups.append(i)
        else:
            enc: OneHotEncoder = fitted[tname]
            cats = [str(c) for c in enc.categories_[0]]
            infrequent = enc.infrequent_categories_[0]
            rare = set() if infrequent is None else {str(c) for c in infrequent}
            kept = [c for c in cats if c not in rare]
            frequent[col.name] = set(kept)
            level_names = [f"{col.name}={c}" for c in kept]
            if rare:
                other = OTHER_LEVEL if OTHER_LEVEL not in kept else f"{OTHER_LEVEL} (rare levels)"
                level_names.append(f"{col.name}={other}")
            names.extend(level_names)
            groups.extend([i] * len(level_names))
    width = int(np.asarray(model.coef_).shape[1])
    if width != len(names):  # pragma: no cover - a change in scikit-learn's layout
        raise RuntimeError(f"encoded {width} columns but named {len(names)}")
    return _Fitted(pipeline, names, groups, frequent)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982) standard error of an ROC AUC from n_pos positives and n_neg
    negatives (e.g. ≈0.015 for AUC 0.8 with 250 churners among 1,000 test accounts)."""
    if n_pos < 1 or n_neg < 1:
        return math.nan
    a = min(max(auc, 1e-9), 1 - 1e-9)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (
        n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _calibration(y: np.ndarray, p: np.ndarray) -> list[dict]:
    """Quantile bins of the predicted probability (up to 10, about ≥10 accounts each, ties
    kept together, no empty bin): mean predicted, observed churn rate, size."""
    n = len(p)
    q = min(10, max(1, n // 10))
    if q == 1 or np.unique(p).size == 1:
        codes = np.zeros(n, dtype=int)
    else:
        codes = np.asarray(pd.qcut(p, q=q, labels=False, duplicates="drop"), dtype=int)
    out = []
    for code in np.unique(codes):
        m = codes == code
        out.append({"predicted": float(p[m].mean()), "observed": float(y[m].mean()),
                    "n": int(m.sum())})
    return out


# --------------------------------------------------------------------------------------------
# Words


def _fmt_num(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if abs(v - round(v)) < 1e-9 and abs(v) < 1e15:
        return f"{int(round(v)):,}"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.2g}"


def _plain(v: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN/NA → None, times as ISO text."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if not math.isfinite(f) else f
    if isinstance(v, str):
        return v
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return str(v)


def _direction(c: float) -> str:
    if c > 0:
        return "raises the risk"
    if c < 0:
        return "lowers the risk"
    return "leaves the risk unchanged"


def _factor_text(col: _Column, value: Any, frequent: set[str] | None, c: float) -> str:
    w = _words(col.name)
    if col.kind == "number":
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{w} not recorded ({_direction(c)})"
        v = float(value)
        if col.binary:
            return f"{w} is {_fmt_num(v)} ({_direction(c)})"
        where = ""
        if col.std > 0 and math.isfinite(col.median):
            z = (v - col.median) / col.std
            if abs(z) < 0.25:
                where = f", close to the usual {_fmt_num(col.median)}"
            else:
                side = "below" if z < 0 else "above"
                far = "far " if abs(z) >= 1 else ""
                where = f", {far}{side} the usual {_fmt_num(col.median)}"
        return f"{w} of {_fmt_num(v)}{where} ({_direction(c)})"
    level = str(value)
    if level == MISSING_LEVEL:
        return f"{w} not recorded ({_direction(c)})"
    rare = " (a rare value, counted as other)" if frequent is not None and (
        level not in frequent) else ""
    return f"{w} is {level}{rare} ({_direction(c)})"


# --------------------------------------------------------------------------------------------
# The entry point


def fit_churn(
    table: pd.DataFrame,
    *,
    id_column: str = "id",
    label: str = "churned",
    time_column: str | None = None,
    features: Sequence[str] | None = None,
    definition: str = "the churned flag",
    test_size: float = 0.25,
    random_state: int = 0,
    top_factors: int = 3,
) -> ChurnResult:
    """Fit, evaluate (held out) and explain a logistic-regression churn model on one row per
    account. See the module's docstring for what happens to each column."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, not {type(table).__name__}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, not {test_size}")
    if top_factors < 0:
        raise ValueError("top_factors must be 0 or more")
    table = table.copy()
    table.columns = [str(c) for c in table.columns]
    if table.columns.duplicated().any():
        dup = sorted(set(table.columns[table.columns.duplicated()]))
        raise ValueError(f"duplicate column names: {dup}")
    if label not in table.columns:
        raise ValueError(f"no label column {label!r}; columns: {list(table.columns)}")
    if time_column is not None and time_column not in table.columns:
        raise ValueError(f"no time column {time_column!r}; columns: {list(table.columns)}")
    notes: list[str] = []

    n = len(table)
    if n < MIN_ROWS:
        raise ValueError(f"{n} accounts is too few to fit and evaluate a churn model "
                         f"(need at least {MIN_ROWS})")
    held_out = math.ceil(test_size * n)
    if held_out < 2 or n - held_out < 2:
        raise ValueError(f"test_size {test_size} leaves {held_out} of {n} accounts to test; "
                         "both parts need at least 2")
    y = _parse_label(table[label], label)
    positives = int(y.sum())
    if positives == 0 or positives == n:
        only = "churned" if positives else "not churned"
        raise ValueError(f"label {label!r} has one class only (every account is {only}); a "
                         "churn model needs both churned and retained accounts")
    if min(positives, n - positives) < MIN_PER_CLASS:
        raise ValueError(f"label {label!r} has only {min(positives, n - positives)} accounts "
                         f"of one class; need at least {MIN_PER_CLASS} of each to split and "
                         "evaluate")

    if id_column in table.columns:
        ids = table[id_column].map(lambda v: "" if v is None else str(v))
        if ids.duplicated().any():
            notes.append(f"id column {id_column!r} has {int(ids.duplicated().sum()):,} "
                         "repeated ids; every row is scored as its own account")
        notes.append(f"{id_column}: the id column, names the accounts (not an input)")
    else:
        ids = pd.Series([str(i) for i in table.index])
        notes.append(f"no id column {id_column!r}: accounts are named by their row index")
    ids = ids.reset_index(drop=True)
    table = table.reset_index(drop=True)
    reserved = {id_column, label} | ({time_column} if time_column else set())
    available = [c for c in table.columns if c not in reserved]
    if features is None:
        candidates = available
        explicit = False
    else:
        wanted = [str(f) for f in features]
        unknown = [f for f in wanted if f not in available]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; available: {available}")
        candidates = list(dict.fromkeys(wanted))
        explicit = True
    if not candidates:
        raise ValueError(f"no feature columns to use; available: {available}")
    x, columns = _prepare(table, candidates, explicit, notes)
    if not columns:
        raise ValueError("no usable feature columns left after dropping: " + "; ".join(notes))

    for col in columns:
        k = int(x[col.name].isna().sum()) if col.kind == "number" else int(
            (x[col.name] == MISSING_LEVEL).sum())
        if k and col.kind == "number":
            notes.append(f"{col.name}: {k:,} missing values imputed with the training median, "
                         f"with a \"{col.name} missing\" indicator")
        elif k:
            notes.append(f"{col.name}: {k:,} missing values kept as their own level "
                         f"\"{MISSING_LEVEL}\"")

    times = table[time_column] if time_column else None
    train, test, split, split_detail = _split(y, times, time_column, test_size, random_state,
                                              notes)
    x_train, x_test = x.iloc[train], x.iloc[test]
    y_train, y_test = y[train], y[test]

    # Evaluation: everything fitted on the training part only.
    fitted = _fit(x_train, y_train, columns, notes)
    p_test = fitted.proba(x_test)
    auc = _auc(y_test, p_test)

    majority = int(y_train.mean() >= 0.5)
    baselines: list[dict] = [{
        "name": "majority class",
        "auc": 0.5,
        "accuracy": float((y_test == majority).mean()),
    }]
    singles: list[tuple[float, str, float]] = []
    for col in columns:
        one = _fit(x_train[[col.name]], y_train, [col], [])
        p1 = one.proba(x_test[[col.name]])
        singles.append((_auc(y_test, p1), col.name, float(((p1 >= 0.5) == y_test).mean())))
    best_auc, best_name, best_acc = max(singles, key=lambda s: s[0])
    baselines.append({"name": f"best single feature: {best_name}", "auc": best_auc,
                      "accuracy": best_acc})
    baseline_auc = max(0.5, best_auc)
    for a1, name, _ in singles:
        if a1 >= LEAK_AUC:
            notes.append(f"{name} alone separates churned from retained accounts almost "
                         f"perfectly (held-out AUC {a1:.3f}): check it is known before the "
                         "churn and not a consequence of it")
    calibration = _calibration(y_test, p_test)

    # Account scores: the same pipeline refit on all rows.
    final = _fit(x, y, columns, notes)
    coef = np.asarray(final.model.coef_[0], dtype="float64")
    intercept = float(final.model.intercept_[0])
    encoded = final.encode(x)
    centred = (encoded - encoded.mean(axis=0)) * coef
    membership = np.zeros((len(final.names), len(columns)))
    membership[np.arange(len(final.names)), final.groups] = 1.0
    contributions = centred @ membership  # accounts × original columns
    probability = final.proba(x)

    k = min(top_factors, len(columns))
    order = np.argsort(-probability, kind="stable")
    cleaned = [x[col.name].to_numpy(dtype=object) for col in columns]
    originals = [table[col.name].to_numpy(dtype=object) for col in columns]
    accounts: list[AccountRisk] = []
    for r in order:
        row = [float(v) for v in contributions[r]]
        chosen = [int(j) for j in np.argsort(-np.abs(contributions[r]), kind="stable")[:k]]
        top = sorted(chosen, key=lambda j: (row[j] <= 0, -abs(row[j])))
        factors = []
        for j in top:
            col = columns[j]
            raw = cleaned[j][r]
            value: Any
            if col.kind == "number":
                value = None if pd.isna(raw) else _plain(float(raw))
            elif raw == MISSING_LEVEL:
                value = None
            else:
                original = originals[j][r]
                value = bool(original) if isinstance(original, (bool, np.bool_)) else str(raw)
            c = float(row[j])
            factors.append(Factor(col.name, value, c, _factor_text(
                col, value if col.kind == "number" else raw, final.frequent.get(col.name), c)))
        accounts.append(AccountRisk(str(ids.iat[r]), float(probability[r]), factors))

    pairs = sorted(zip(final.names, (float(b) for b in coef), strict=True),
                   key=lambda nb: -abs(nb[1]))
    coefficients = [{"feature": name, "coefficient": b} for name, b in pairs]

    rate = positives / n
    notes.append(f"class balance: {positives:,} churned of {n:,} ({rate:.1%}); classes are not "
                 "reweighted, so probabilities are on this base rate")
    if min(rate, 1 - rate) < 0.1:
        notes.append("one class is rare (under 10%): the AUC is noisier than the row count "
                     "suggests and probabilities stay small")
    pooled = [f"{c.name} ({len(set(x[c.name]) - final.frequent[c.name])})" for c in columns
              if c.kind == "category" and set(x[c.name]) - final.frequent[c.name]]
    if pooled:
        notes.append(f"levels rarer than {RARE_LEVEL:.0%} pooled as \"{OTHER_LEVEL}\": "
                     + ", ".join(pooled))
    notes.append(f"account probabilities and factors come from the model refit on all {n:,} "
                 "rows after evaluation (in-sample for those accounts); the AUC and the "
                 "calibration come from the model fitted on the training part only")

    return ChurnResult(
        auc=auc,
        baseline_auc=float(baseline_auc),
        baselines=baselines,
        split=split,
        split_detail=split_detail,
        n_train=len(train),
        n_test=len(test),
        churn_rate=float(rate),
        features=list(final.names),
        coefficients=coefficients,
        intercept=intercept,
        calibration=calibration,
        accounts=accounts,
        definition=definition,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# The model card


def _md(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _test_counts(result: ChurnResult) -> tuple[int, int]:
    pos = int(round(sum(b["observed"] * b["n"] for b in result.calibration)))
    return pos, result.n_test - pos


def _wilson(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _is_indicator(name: str, features: Sequence[str]) -> bool:
    return "=" in name or (name.endswith(" missing") and name[: -len(" missing")] in features)


def _coefficient_words(name: str, b: float, features: Sequence[str]) -> str:
    strength = ("barely " if abs(b) < 0.05 else "slightly " if abs(b) < 0.2 else
                "strongly " if abs(b) >= 0.7 else "")
    direction = f"{strength}{_direction(b)}"
    odds = f"odds ×{math.exp(b):.2f}"
    if "=" in name:
        col, level = name.split("=", 1)
        return f"{_words(col)} is {level}: {direction} ({odds} against its average level)"
    if name.endswith(" missing") and name[: -len(" missing")] in features:
        return f"{_words(name[: -len(' missing')])} not recorded: {direction} ({odds})"
    return f"higher {_words(name)}: {direction} ({odds} per standard deviation)"


def report(result: ChurnResult) -> str:
    """The model card, in Markdown."""
    n = len(result.accounts)
    pos, neg = _test_counts(result)
    se = auc_standard_error(result.auc, pos, neg)
    lines: list[str] = ["# Churn model card", ""]
    lines += ["## What churn means", "", f"Churn here is {result.definition}.", ""]
    lines += [
        "## Data", "",
        f"- {n:,} accounts, churn rate {result.churn_rate:.1%}",
        f"- split: {'by time, ' if result.split == 'time' else ''}{result.split_detail}; "
        f"{result.n_train:,} accounts to train, {result.n_test:,} held out to test ({pos:,} "
        "of them churned)",
        f"- {len(result.features)} model inputs after encoding: numbers standardised "
        "(coefficients per standard deviation), categories one-hot on every level (0/1), "
        "missing numbers imputed with the training median plus a \"missing\" indicator",
        "- model: logistic regression (L2, C=1), fitted on the training part for the "
        "evaluation and refit on all rows for the coefficients and the account scores", "",
    ]
    diff = result.auc - result.baseline_auc
    if math.isfinite(se) and diff > 2 * se:
        verdict = (f"The model ranks churners {diff:+.3f} AUC better than the best baseline, "
                   f"more than twice the AUC's standard error (≈{se:.3f}, Hanley–McNeil).")
    elif math.isfinite(se):
        verdict = (f"The model is {diff:+.3f} AUC from the best baseline, within about twice "
                   f"the AUC's standard error (≈{se:.3f}): it is not clearly better than "
                   "its best single input.")
    else:
        verdict = f"The model is {diff:+.3f} AUC from the best baseline."
    lines += ["## How well it predicts (held out)", "",
              "| | held-out ROC AUC | accuracy |", "|---|---:|---:|",
              f"| **logistic regression** | **{result.auc:.3f}** | |"]
    for b in result.baselines:
        acc = f"{b['accuracy']:.3f}" if b.get("accuracy") is not None else ""
        lines.append(f"| {_md(b['name'])} | {b['auc']:.3f} | {acc} |")
    lines += ["", verdict, ""]

    top = result.coefficients[:15]
    lines += [
        "## What drives it", "",
        f"The {len(top)} largest of {len(result.coefficients)} coefficients (log-odds; "
        f"intercept {result.intercept:+.3f}). For a number: the change in log-odds per "
        "standard deviation. For a category level: its weight when an account has that "
        "level; L2 regularisation centres a column's level weights on zero, so each is "
        "relative to the column's average level, and two levels compare by the difference of "
        "their weights.", "",
        "| feature | coefficient | in words |", "|---|---:|---|",
    ]
    for c in top:
        lines.append(f"| {_md(c['feature'])} | {c['coefficient']:+.3f} | "
                     f"{_md(_coefficient_words(c['feature'], c['coefficient'], result.features))}"
                     " |")
    lines.append("")

    lines += ["## Calibration (held out)", "",
              "Accounts in quantile bins of their predicted probability; observed is the share "
              "that churned (95% Wilson interval).", "",
              "| bin | predicted | observed | 95% interval | n |", "|---:|---:|---:|---|---:|"]
    for i, b in enumerate(result.calibration, 1):
        lo, hi = _wilson(b["observed"], b["n"])
        lines.append(f"| {i} | {b['predicted']:.3f} | {b['observed']:.3f} | "
                     f"{lo:.3f}–{hi:.3f} | {b['n']:,} |")
    lines.append("")

    lines += ["## The 10 riskiest accounts", "",
              "Scores from the model refit on all rows; factors are each column's push in "
              "log-odds against the average account.", "",
              "| # | account | probability | why |", "|---:|---|---:|---|"]
    for i, a in enumerate(result.accounts[:10], 1):
        why = "; ".join(f"{f.text} [{f.contribution:+.2f}]" for f in a.factors)
        lines.append(f"| {i} | {_md(a.id)} | {a.probability:.1%} | {_md(why)} |")
    lines.append("")

    lines += [
        "## Caveats", "",
        "- Logistic regression is linear in its inputs: each number pushes the log-odds in "
        "one direction at a constant rate, and there are no interactions unless a column "
        "encodes one.",
        "- The coefficients describe correlation, not cause: changing an input for an account "
        "will not necessarily change its risk.",
        "- The account scores come from the model refit on all rows after evaluation, so they "
        "are in-sample for those accounts; the held-out AUC and calibration describe the model "
        "fitted on the training part.",
    ]
    if result.split == "stratified":
        lines.append("- The split is stratified, not by time: the test accounts come from the "
                     "same period as the training ones, so the AUC may be optimistic for the "
                     "future.")
    lines.append("")
    if result.notes:
        lines += ["## Notes", ""] + [f"- {_md(note)}" for note in result.notes] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The calibration chart


def calibration_chart(result: ChurnResult, path: Path) -> Path:
    """Predicted against observed churn on the held-out accounts, with the diagonal, 95%
    intervals and the size of every bin. A PNG at `path` (matplotlib, Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bins = result.calibration
    pred = np.array([b["predicted"] for b in bins], dtype=float)
    obs = np.array([b["observed"] for b in bins], dtype=float)
    sizes = np.array([b["n"] for b in bins], dtype=int)
    intervals = [_wilson(o, int(s)) for o, s in zip(obs, sizes, strict=True)]
    lo = np.array([a for a, _ in intervals])
    hi = np.array([b for _, b in intervals])
    top = float(max(pred.max(initial=0), hi.max(initial=0)))
    lim = min(1.0, math.ceil((top + 0.05) * 10) / 10)

    blue, light, grey = "#1f5a99", "#8fb3da", "#9a9a9a"
    fig = Figure(figsize=(6.4, 7.9), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[4.2, 1])
    ax = fig.add_subplot(grid[0])
    bar_ax = fig.add_subplot(grid[1], sharex=ax)
    ax.plot([0, lim], [0, lim], linestyle="--", color=grey, linewidth=1,
            label="perfectly calibrated")
    ax.errorbar(pred, obs, yerr=[obs - lo, hi - obs], fmt="none", ecolor=light,
                elinewidth=1.3, capsize=3, zorder=2, label="95% interval (Wilson)")
    area = 25 + 125 * sizes / max(int(sizes.max(initial=1)), 1)
    ax.plot(pred, obs, color=blue, linewidth=1.4, zorder=3)
    ax.scatter(pred, obs, s=area, color=blue, edgecolor="white", linewidth=0.8, zorder=4,
               label="bin of accounts (area ∝ size)")
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_ylabel("observed churn rate in the bin")
    ax.grid(True, color="#e6e6e6", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(f"Calibration on {result.n_test:,} held-out accounts ({result.split} split)\n"
                 f"held-out AUC {result.auc:.3f}, best baseline {result.baseline_auc:.3f}",
                 fontsize=10)
    ax.tick_params(labelbottom=False)

    gaps = np.diff(np.sort(pred))
    width = lim / 40 if not len(gaps) else float(np.clip(0.8 * gaps.min(), lim / 120, lim / 40))
    bar_ax.bar(pred, sizes, width=width, color=light, edgecolor=blue, linewidth=0.6)
    if len(gaps) == 0 or gaps.min() > lim / 22:  # room to label every bar
        for px, s in zip(pred, sizes, strict=True):
            bar_ax.annotate(f"{s:,}", (px, s), textcoords="offset points", xytext=(0, 2),
                            ha="center", fontsize=7, color="#444444")
    bar_ax.set_ylim(0, sizes.max(initial=1) * 1.3)
    bar_ax.set_xlim(0, lim)
    bar_ax.set_xlabel("predicted churn probability (mean of the bin)")
    bar_ax.set_ylabel("accounts")
    bar_ax.grid(True, axis="y", color="#e6e6e6", linewidth=0.6)
    for a in (ax, bar_ax):
        a.spines[["top", "right"]].set_visible(False)
    fig.savefig(path, format="png")
    return path
