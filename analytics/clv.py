"""Customer lifetime value for businesses whose customers buy when they like (signal 11).

A customer of a shop never tells it that they have left: they simply stop buying. The BG/NBD
model (Fader, Hardie and Lee 2005, "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2)) reads each customer's history as three numbers,
frequency x (repeat purchases), recency t_x (time from the first to the last purchase) and age T
(time from the first purchase to the end of the calibration period), and gives

* the probability that the customer is still "alive" (still buying), and
* the number of purchases to expect from them over the next t time units (the paper's eq. 10),

from four population parameters fitted by maximum likelihood. The Gamma-Gamma model (Fader,
Hardie and Lee 2005, "RFM and CLV: using iso-value curves for customer base analysis", Journal
of Marketing Research 42(4), and Fader and Hardie's note "The Gamma-Gamma model of monetary
value") then shrinks each repeat buyer's mean spend towards the population's, so that one large
order does not make a customer look rich. Expected value = expected purchases over the horizon x
expected spend per purchase (undiscounted).

Conventions, because each changes the numbers:

* A purchase is a UTC calendar day with at least one order: several orders on one day are one
  purchase whose spend is the day's total (as in the CDNOW data the papers use), so frequency is
  the number of distinct purchase days after the first one.
* Only orders at or before ``calibration_end`` count; the end is inclusive.
* Recency and T are in a time unit (``TIME_UNITS``: days per unit); T runs from the first
  purchase day (UTC midnight) to ``calibration_end`` itself.
* Mean spend (``monetary_value``) is taken over the repeat purchase days only, leaving out the
  first purchase day as Fader, Hardie and Lee do; it is NaN for a one-time buyer.

Why not the ``lifetimes`` package, which implements these models: it is unmaintained (its last
release, 0.11.3, is from July 2020), it drags in autograd and dill, and it already breaks on a
current environment: its dataset loader imports ``pkg_resources``, which setuptools 81+ no
longer ships, and nobody will fix the next pandas or numpy removal either. The models need only
a vectorised log-likelihood (``scipy.special.gammaln``, with the Beta functions written as Gamma
ratios), a maximum-likelihood fit over log-parameters with ``scipy.optimize.minimize`` and the
Gaussian hypergeometric function ``scipy.special.hyp2f1``: the small amount of code below. The
tests reproduce the published CDNOW estimates with it, on the data that ships inside the
``lifetimes`` wheel (read as a zip file, never imported).
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize
from scipy.special import expit, gammaln, hyp2f1

__all__ = [
    "MIN_CUSTOMERS",
    "TIME_UNITS",
    "BgNbd",
    "ClvResult",
    "CustomerValue",
    "GammaGamma",
    "bgnbd_log_likelihood",
    "bgnbd_standard_errors",
    "chart",
    "clv",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_standard_errors",
    "probability_alive",
    "summarise",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ArrayLike = npt.ArrayLike

TIME_UNITS: dict[str, float] = {"day": 1, "week": 7, "month": 30.4375}  # days per unit
"""Days per time unit. A month is the mean Gregorian month (365.25 / 12 days), so that twelve
months make a year whatever the calendar does."""

MIN_CUSTOMERS = 10
"""Fewest customers a fit accepts. Four (BG/NBD) or three (Gamma-Gamma) population parameters
from a handful of customers are noise, and a clear refusal beats a number nobody should trust.
It is a floor, not a guarantee: bgnbd_standard_errors tells whether a fit is precise enough."""

_LOG_BOUND = 25.0
"""Log-parameters are clipped to [-25, 25] inside the objectives so that a wild optimiser step
yields a large finite value rather than an overflow (e^25 ~ 7e10 is far outside any sane fit)."""

_EDGE = _LOG_BOUND - 5.0
"""A fitted log-parameter beyond +/-20 (e^20 ~ 5e8) has run to the edge of the parameter space:
the likelihood kept improving towards a degenerate limit (nobody leaves, every spend equal)."""

_A_NEAR_ONE = 1e-4
"""Eq. 10 divides by (a - 1) and multiplies by a factor that also vanishes at a = 1; within this
distance of 1 the expectation is interpolated between a = 1 -/+ this (it is smooth in a)."""


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class BgNbd:
    """Fitted BG/NBD population parameters: purchase rates ~ Gamma(shape r, rate alpha) per time
    unit, drop-out probability after each repeat purchase ~ Beta(a, b). ``log_likelihood`` is the
    total (unpenalised) log-likelihood of the calibration data, to compare fits on the same data."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, slots=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend parameters: a customer's spend per purchase ~ Gamma(p, nu) with
    nu ~ Gamma(q, v) across customers; population mean spend per purchase is p v / (q - 1)."""

    p: float
    q: float
    v: float


@dataclass(frozen=True, slots=True)
class CustomerValue:
    """One customer's history (in the result's time unit) and what the models expect of them."""

    id: str
    frequency: int
    recency: float
    T: float
    monetary: float | None
    expected_purchases: float  # over the horizon
    p_alive: float
    expected_value: float | None  # expected purchases x expected spend; None without spend model


@dataclass(frozen=True, slots=True)
class ClvResult:
    """The fitted models, every customer's value, and what a person should know about them."""

    model: BgNbd
    spend: GammaGamma | None
    customers: list[CustomerValue]
    calibration_end: datetime
    time_unit: str
    horizon: float
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: NaN spend becomes null, the calibration end an ISO 8601 string."""
        return {
            "model": {
                "r": self.model.r,
                "alpha": self.model.alpha,
                "a": self.model.a,
                "b": self.model.b,
            },
            "spend": None
            if self.spend is None
            else {"p": self.spend.p, "q": self.spend.q, "v": self.spend.v},
            "customers": [
                {
                    "id": c.id,
                    "frequency": c.frequency,
                    "recency": c.recency,
                    "T": c.T,
                    "expected_purchases": c.expected_purchases,
                    "probability_alive": c.p_alive,
                    "expected_value": c.expected_value,
                    "monetary": c.monetary,
                }
                for c in self.customers
            ],
            "calibration_end": self.calibration_end.isoformat(),
            "time_unit": self.time_unit,
            "horizon": self.horizon,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------------
# From transactions to (frequency, recency, T, monetary_value)


def _days_per_unit(time_unit: str) -> float:
    try:
        return float(TIME_UNITS[time_unit])
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown time_unit {time_unit!r}: use one of {', '.join(sorted(TIME_UNITS))}"
        ) from None


def _utc_end(calibration_end: datetime) -> pd.Timestamp:
    """The calibration end as a UTC timestamp; a naive datetime is refused, because guessing its
    zone would silently move purchases in or out of the calibration period."""
    if not isinstance(calibration_end, datetime):
        raise ValueError(
            f"calibration_end must be a timezone-aware datetime, not {type(calibration_end)!r}"
        )
    if calibration_end.tzinfo is None or calibration_end.utcoffset() is None:
        raise ValueError(
            "calibration_end is a naive datetime: give it a timezone (e.g. tzinfo=timezone.utc)"
        )
    return pd.Timestamp(calibration_end).tz_convert("UTC")


def _utc_times(at: pd.Series) -> pd.Series:
    """The ``at`` column as UTC timestamps, refusing naive ones for the same reason as above."""
    if isinstance(at.dtype, pd.DatetimeTZDtype):
        return at.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(at.dtype):
        raise ValueError(
            "transactions column 'at' holds naive datetimes: localise them first "
            "(e.g. df['at'].dt.tz_localize('UTC')), days are counted in UTC"
        )
    values = at.dropna()
    if not all(isinstance(v, datetime) for v in values):
        raise ValueError(
            "transactions column 'at' must hold timezone-aware datetimes, "
            f"found dtype {at.dtype}"
        )
    if any(v.tzinfo is None or v.utcoffset() is None for v in values):
        raise ValueError(
            "transactions column 'at' holds naive datetimes: give every purchase a timezone"
        )
    return pd.to_datetime(at, utc=True)


def _summarise(
    transactions: pd.DataFrame, *, calibration_end: datetime, time_unit: str
) -> tuple[pd.DataFrame, list[str]]:
    """`summarise`, also returning notes on the rows and customers it left out and why."""
    days_per_unit = _days_per_unit(time_unit)
    end = _utc_end(calibration_end)
    if not isinstance(transactions, pd.DataFrame):
        raise ValueError(f"transactions must be a pandas DataFrame, not {type(transactions)!r}")
    missing = [c for c in ("customer", "at") if c not in transactions.columns]
    if missing:
        raise ValueError(
            f"transactions lacks column(s) {missing}: expected customer, at (and amount)"
        )
    if transactions.empty:
        raise ValueError("transactions is empty: there is no purchase to summarise")

    notes: list[str] = []
    at = _utc_times(transactions["at"])
    amount = (
        pd.to_numeric(transactions["amount"], errors="coerce").astype(float)
        if "amount" in transactions.columns
        else pd.Series(np.nan, index=transactions.index, dtype=float)
    )
    if "amount" not in transactions.columns:
        notes.append("transactions have no 'amount' column: no spend, so no spend model")
    frame = pd.DataFrame({"customer": transactions["customer"], "at": at, "amount": amount})
    unusable = frame["customer"].isna() | frame["at"].isna()
    if unusable.any():
        notes.append(f"{int(unusable.sum())} transaction(s) without a customer or a time ignored")
        frame = frame[~unusable]
    frame = frame.assign(customer=frame["customer"].astype(str))

    late = frame["at"] > end
    if late.any():
        everyone = frame["customer"].nunique()
        frame_in = frame[~late]
        only_late = everyone - frame_in["customer"].nunique()
        notes.append(
            f"{int(late.sum())} transaction(s) after the calibration end "
            f"{end.isoformat()} ignored"
            + (
                f"; {only_late} customer(s) who first bought after it are left out "
                "(they have no history to score yet)"
                if only_late
                else ""
            )
        )
        frame = frame_in
    if frame.empty:
        raise ValueError(
            f"no purchase at or before the calibration end {end.isoformat()}: nothing to summarise"
        )

    frame = frame.assign(day=frame["at"].dt.floor("D"))
    keys = [frame["customer"], frame["day"]]
    spend = frame["amount"].groupby(keys).sum(min_count=1)
    unknown = frame["amount"].isna().groupby(keys).any()
    # A day with an order of unknown amount has an unknown total: NaN, rather than an undercount.
    spend = spend.where(~unknown)
    days = spend.rename("spend").reset_index()
    days.columns = pd.Index(["customer", "day", "spend"])

    by_customer = days.groupby("customer", sort=True)
    first = by_customer["day"].min()
    last = by_customer["day"].max()
    frequency = by_customer.size() - 1
    one_day = pd.Timedelta(days=1)
    recency = (last - first) / one_day / days_per_unit
    age = (end - first) / one_day / days_per_unit

    repeat = days[days["day"] > days["customer"].map(first)]
    monetary = repeat.groupby("customer")["spend"].mean().reindex(first.index)
    unknown_repeat = int(repeat["spend"].isna().sum())
    if unknown_repeat and "amount" in transactions.columns:
        notes.append(
            f"{unknown_repeat} repeat purchase day(s) with a missing amount left out of mean spend"
        )

    summary = pd.DataFrame(
        {
            "frequency": frequency.astype("int64"),
            "recency": recency.astype(float),
            "T": age.astype(float),
            "monetary_value": monetary.astype(float),
        },
        index=pd.Index(first.index.astype(str), name="customer"),
    )
    return summary, notes


def summarise(
    transactions: pd.DataFrame, *, calibration_end: datetime, time_unit: str = "week"
) -> pd.DataFrame:
    """One row per customer (index ``customer``) with the numbers the models read.

    ``transactions`` has columns ``customer`` (str), ``at`` (timezone-aware datetime) and
    ``amount`` (float, may be NaN). Only orders at or before ``calibration_end`` count; days are
    UTC calendar days and several orders on one day are one purchase. Columns:

    * ``frequency``: distinct purchase days after the first one (repeat purchases);
    * ``recency``: first to last purchase day, in ``time_unit``;
    * ``T``: first purchase day (UTC midnight) to ``calibration_end``, in ``time_unit``;
    * ``monetary_value``: mean spend per repeat purchase day (the first day left out, as Fader,
      Hardie and Lee do, since the first purchase is often unlike the rest); NaN when frequency
      is 0. A day with an order of unknown amount has an unknown total and is left out of the
      mean.

    Raises ValueError for an empty table, missing columns, naive datetimes, an unknown time unit
    or no purchase at all by the calibration end.
    """
    summary, _ = _summarise(transactions, calibration_end=calibration_end, time_unit=time_unit)
    return summary


# --------------------------------------------------------------------------------------------
# BG/NBD


def _as_float(values: ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _checked_history(summary: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    """frequency, recency, T as float arrays, after checking they can be a BG/NBD history."""
    if not isinstance(summary, pd.DataFrame):
        raise ValueError(f"summary must be a pandas DataFrame, not {type(summary)!r}")
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks column(s) {missing}: use summarise() to build it")
    x = _as_float(summary["frequency"])
    t_x = _as_float(summary["recency"])
    age = _as_float(summary["T"])
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(age).all()):
        raise ValueError("summary has missing or infinite frequency, recency or T")
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("frequency must be a whole number of repeat purchases, >= 0")
    if (t_x < 0).any() or (t_x > age + 1e-9).any():
        raise ValueError("recency must satisfy 0 <= recency <= T for every customer")
    return x, t_x, age


def bgnbd_log_likelihood(
    params: Sequence[float] | FloatArray, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Each customer's BG/NBD log-likelihood at params (r, alpha, a, b): FHL 2005, eq. 6.

    L = B(a, b+x)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)),

    summed in log space with logaddexp so that neither term under- or overflows. The Beta
    ratios are written with gammaln (B(a, b+x)/B(a, b) = G(b+x) G(a+b) / (G(b) G(a+b+x)) and
    B(a+1, b+x-1) = B(a, b+x) a/(b+x-1)), which is several times faster than betaln and is what
    the fit evaluates thousands of times.
    """
    x, t_x, age = _as_float(frequency), _as_float(recency), _as_float(T)
    counts, which = np.unique(x, return_inverse=True)
    return _bgnbd_ll(params, counts, which.reshape(x.shape), x, t_x, age)


def _bgnbd_ll(params: Sequence[float] | FloatArray, counts: FloatArray, which: IntArray,
              x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
    """bgnbd_log_likelihood with the purchase counts' distinct values given (`counts`, and
    `which` of them each customer has): the gamma-function terms depend on params and x only,
    and a few dozen distinct counts stand for thousands of customers, so they are computed on
    those and indexed (the same numbers, a third of the fit's time)."""
    r, alpha, a, b = (float(v) for v in params)
    log_beta_ratio = gammaln(b + counts) - gammaln(b) + gammaln(a + b) - gammaln(a + b + counts)
    x_safe = np.maximum(counts, 1.0)  # the second term exists only for x > 0: keep log's arg > 0
    per_count = gammaln(r + counts) - gammaln(r) + r * np.log(alpha) + log_beta_ratio
    drop_count = np.log(a) - np.log(b + x_safe - 1.0)
    common = per_count[which]
    alive = -(r + x) * np.log(alpha + age)
    dropped = drop_count[which] - (r + x) * np.log(alpha + t_x)
    dropped = np.where(x > 0, dropped, -np.inf)
    return np.asarray(common + np.logaddexp(alive, dropped), dtype=np.float64)


def _minimise(
    objective: Callable[[FloatArray], float], starts: Sequence[FloatArray]
) -> FloatArray | None:
    """Best log-parameters over several starts, or None when no start gets a finite objective.

    A loose Nelder-Mead from every start (robust to the very different scales of the
    parameters and to a poor start) picks the basin; from the best of those a tight Nelder-Mead
    and then BFGS polish the optimum to well below the precision anyone reports (a normal fit
    needs a few hundred evaluations a stage; the caps only stop a run towards a degenerate
    limit, which is returned unpolished for the caller to flag).
    """
    coarse = [
        optimize.minimize(
            objective, start, method="Nelder-Mead",
            options={"xatol": 1e-4, "fatol": 1e-10, "maxiter": 2_000, "maxfev": 4_000},
        )
        for start in starts
    ]
    finite = [result for result in coarse if math.isfinite(float(result.fun))]
    if not finite:
        return None
    best = min(finite, key=lambda result: float(result.fun))
    if np.any(np.abs(best.x) > _EDGE):
        # Running off to a degenerate limit: polishing would only crawl further along the ridge.
        return np.asarray(best.x, dtype=np.float64)
    tight = optimize.minimize(
        objective, best.x, method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 4_000, "maxfev": 8_000},
    )
    polished = optimize.minimize(objective, tight.x, method="BFGS", options={"gtol": 1e-10})
    candidates = [c for c in (polished, tight, best) if math.isfinite(float(c.fun))]
    return np.asarray(min(candidates, key=lambda c: float(c.fun)).x, dtype=np.float64)


def _numerical_hessian(
    f: Callable[[FloatArray], float], at: FloatArray, step: float = 1e-4
) -> FloatArray:
    """Central-difference Hessian of f at a point (for standard errors; f is smooth there)."""
    n = at.size
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i = np.zeros(n)
            e_j = np.zeros(n)
            e_i[i] = step
            e_j[j] = step
            value = (
                f(at + e_i + e_j) - f(at + e_i - e_j) - f(at - e_i + e_j) + f(at - e_i - e_j)
            ) / (4 * step * step)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def fit_bgnbd(summary: pd.DataFrame, *, penalizer: float = 0.0) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for a summary (columns frequency, recency, T).

    The optimiser works on log-parameters, so every parameter stays positive without bounds.
    ``penalizer`` adds penalizer x (r^2 + alpha^2 + a^2 + b^2) to the mean negative
    log-likelihood (the convention of ``lifetimes``), which pulls a fit on thin data away from
    degenerate, huge parameters; 0 gives the plain maximum-likelihood estimate. Several starting
    points are tried (one scaled to the data's purchase rate), because the likelihood surface is
    flat along some ridges and one start can stall.

    Raises ValueError with fewer than MIN_CUSTOMERS customers, when nobody bought twice (the
    drop-out process is then not identified: r goes to 0) or when no start converges.
    """
    x, t_x, age = _checked_history(summary)
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be a finite number >= 0, not {penalizer!r}")
    if x.size < MIN_CUSTOMERS:
        raise ValueError(
            f"too few customers to fit BG/NBD: {x.size}, need at least {MIN_CUSTOMERS}"
        )
    if not (x > 0).any():
        raise ValueError(
            "no repeat purchases: no customer bought on a second day before the calibration "
            "end, so BG/NBD cannot tell how often customers buy or when they leave"
        )

    # Customers with the same history have the same likelihood: fit on the distinct histories,
    # weighted by how many customers share each (one-time buyers of one week are one row).
    histories, counts = np.unique(np.column_stack([x, t_x, age]), axis=0, return_counts=True)
    ux, ut_x, uage = histories[:, 0], histories[:, 1], histories[:, 2]
    weights = counts / x.size
    distinct, which = np.unique(ux, return_inverse=True)

    def objective(log_params: FloatArray) -> float:
        params = np.exp(np.clip(log_params, -_LOG_BOUND, _LOG_BOUND))
        ll = _bgnbd_ll(params, distinct, which, ux, ut_x, uage)
        value = float(-(weights @ ll) + penalizer * float(np.sum(params**2)))
        return value if math.isfinite(value) else 1e300

    mean_age = max(float(age.mean()), 1e-9)
    rate = max(float(x.mean()) / mean_age, 1e-9)  # repeat purchases per unit, across customers
    starts = [
        np.log([1.0, 1.0 / rate, 1.0, 1.0]),  # Gamma(1, alpha) with the data's mean rate
        np.log([0.5, 0.5 / rate, 0.5, 2.0]),
        np.zeros(4),
        np.log([0.1, 0.1, 0.1, 0.1]),  # lifetimes' default start
    ]
    best = _minimise(objective, starts)
    if best is None:
        raise ValueError("the BG/NBD fit did not converge from any starting point")
    r, alpha, a, b = (float(v) for v in np.exp(np.clip(best, -_LOG_BOUND, _LOG_BOUND)))
    total = float(bgnbd_log_likelihood((r, alpha, a, b), x, t_x, age).sum())
    return BgNbd(r=r, alpha=alpha, a=a, b=b, log_likelihood=total)


def _standard_errors(
    log_likelihood: Callable[[FloatArray], FloatArray],
    estimate: Sequence[float],
    names: Sequence[str],
) -> dict[str, float]:
    """Asymptotic standard errors from the observed information: the Hessian of the total
    negative log-likelihood over log-parameters (where the surface is closest to quadratic),
    inverted and mapped back by the delta method, se(p) = p se(log p)."""
    centre = np.log(np.asarray(estimate, dtype=np.float64))

    def negative_ll(log_params: FloatArray) -> float:
        return float(-log_likelihood(np.exp(log_params)).sum())

    covariance = np.linalg.inv(_numerical_hessian(negative_ll, centre))
    errors = np.exp(centre) * np.sqrt(np.diag(covariance))
    return dict(zip(names, (float(e) for e in errors), strict=True))


def bgnbd_standard_errors(model: BgNbd, summary: pd.DataFrame) -> dict[str, float]:
    """Standard errors of the BG/NBD estimates {r, alpha, a, b} on the data they were fitted on.

    Useful to judge whether two fits differ, or how far a fit may fairly be from the truth.
    """
    x, t_x, age = _checked_history(summary)
    return _standard_errors(
        lambda params: bgnbd_log_likelihood(params, x, t_x, age),
        (model.r, model.alpha, model.a, model.b),
        ("r", "alpha", "a", "b"),
    )


def probability_alive(
    model: BgNbd, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(still alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    Computed as expit(-log of the second term), so it neither overflows for a long silence nor
    loses precision near 1. Inputs broadcast; the result is at least 1-d. A one-time buyer
    (x = 0) is alive with probability 1: in BG/NBD a customer can only drop out right after a
    repeat purchase (a model assumption, not evidence).
    """
    x, t_x, age = _as_float(frequency), _as_float(recency), _as_float(T)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x_safe = np.maximum(x, 1.0)
    log_odds_dead = (
        np.log(a)
        - np.log(b + x_safe - 1.0)
        + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
    )
    return np.atleast_1d(np.asarray(np.where(x > 0, expit(-log_odds_dead), 1.0), dtype=np.float64))


def _log_hyp2f1(a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """log 2F1(a, b; c; z) for 0 <= z < 1, falling back to Euler's transformation
    2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) where the direct value is not finite
    (large arguments; the case that gives BG/NBD's "#NUM!" in spreadsheets)."""
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
        found = np.where(np.isfinite(direct), direct, euler)
        if not np.isfinite(found).all():  # scipy gives NaN for both with a huge a (r + x
            # after a fit ran to the edge) and a tiny z: sum the series itself
            found = np.where(np.isfinite(found), found, _log_hyp2f1_series(a, b, c, z))
    return np.asarray(found, dtype=np.float64)


def _log_hyp2f1_series(a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray,
                       terms: int = 100_000) -> FloatArray:
    """log 2F1 by its power series, term by term (each the last times (a+n)(b+n)z/((c+n)(n+1))),
    scaled as it goes so that nothing overflows; NaN where it has not converged."""
    a, b, c, z = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(a, b, c, z))
    log_scale = np.zeros(a.shape)
    term = np.ones(a.shape)
    total = np.ones(a.shape)
    done = ~(np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & (z >= 0) & (z < 1))
    for n in range(terms):
        if done.all():
            break
        term = np.where(done, 0.0, term * (a + n) * (b + n) * z / ((c + n) * (n + 1.0)))
        total = total + term
        done = done | (np.abs(term) <= 1e-16 * np.abs(total))
        big = total > 1e250
        if big.any():  # rescale: keep log_scale + log(total) the value
            log_scale = np.where(big, log_scale + np.log(total), log_scale)
            term = np.where(big, term / total, term)
            total = np.where(big, 1.0, total)
    converged = done & np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & (z >= 0) & (z < 1)
    return np.where(converged, log_scale + np.log(total), np.nan)


def _expected_purchases_at(
    r: float, alpha: float, a: float, b: float, t: float,
    x: FloatArray, t_x: FloatArray, age: FloatArray,
) -> FloatArray:
    """Eq. 10 for one value of a (see expected_purchases)."""
    z = t / (alpha + age + t)
    log_f = (r + x) * (np.log(alpha + age) - np.log(alpha + age + t)) + _log_hyp2f1(
        r + x, b + x, a + b + x - 1.0, z
    )
    numerator = (a + b + x - 1.0) / (a - 1.0) * -np.expm1(log_f)  # 1 - F without cancellation
    x_safe = np.maximum(x, 1.0)
    log_odds_dead = (
        np.log(a)
        - np.log(b + x_safe - 1.0)
        + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
    )
    denominator = 1.0 + np.where(x > 0, np.exp(np.minimum(log_odds_dead, 700.0)), 0.0)
    return np.asarray(numerator / denominator, dtype=np.float64)


def expected_purchases(
    model: BgNbd, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases over the next t time units given the history: FHL 2005, eq. 10.

    E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
                          2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] / (1 + [x>0] a/(b+x-1)
                          ((alpha+T)/(alpha+t_x))^(r+x)).

    The bracket is computed as -expm1(log F), with 2F1 via scipy.special.hyp2f1 (Euler's
    transformation where that overflows). Inputs broadcast; the result is at least 1-d, one
    value per customer. At a = 1 both (a - 1) and the bracket vanish; near it
    the expectation is interpolated linearly between a = 1 -/+ 1e-4.
    """
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"t must be a finite number of time units >= 0, not {t!r}")
    x, t_x, age = np.broadcast_arrays(_as_float(frequency), _as_float(recency), _as_float(T))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    if t == 0:
        return np.atleast_1d(np.zeros(x.shape, dtype=np.float64))
    if abs(a - 1.0) < _A_NEAR_ONE:
        low = _expected_purchases_at(r, alpha, 1.0 - _A_NEAR_ONE, b, t, x, t_x, age)
        high = _expected_purchases_at(r, alpha, 1.0 + _A_NEAR_ONE, b, t, x, t_x, age)
        weight = (a - (1.0 - _A_NEAR_ONE)) / (2 * _A_NEAR_ONE)
        return np.atleast_1d(np.asarray((1 - weight) * low + weight * high, dtype=np.float64))
    return np.atleast_1d(_expected_purchases_at(r, alpha, a, b, t, x, t_x, age))


# --------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_log_likelihood(
    params: Sequence[float] | FloatArray, frequency: ArrayLike, monetary: ArrayLike
) -> FloatArray:
    """Each repeat buyer's Gamma-Gamma log-likelihood of their mean spend m over x purchases:

    f(m | p, q, v, x) = G(px+q) / (G(px) G(q)) v^q m^(px-1) x^(px) / (v + m x)^(px+q).
    """
    p, q, v = (float(value) for value in params)
    x, m = _as_float(frequency), _as_float(monetary)
    return np.asarray(
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1.0) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + m * x),
        dtype=np.float64,
    )


def _spend_rows(summary: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    if "frequency" not in summary.columns or "monetary_value" not in summary.columns:
        raise ValueError("summary lacks frequency or monetary_value: use summarise() to build it")
    x = _as_float(summary["frequency"])
    m = _as_float(summary["monetary_value"])
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    return x[usable], m[usable]


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters on the repeat buyers with a positive mean spend
    (the model's spend is a Gamma variable, so zero or negative means are outside it).

    The model assumes spend per purchase is independent of how often a customer buys; `clv`
    reports the correlation so a person can check. Raises ValueError with fewer than
    MIN_CUSTOMERS usable customers, or when the fit does not converge (e.g. every mean spend the
    same, where the spread parameters run off to infinity).
    """
    x, m = _spend_rows(summary)
    if x.size < MIN_CUSTOMERS:
        raise ValueError(
            f"too few repeat buyers with a positive mean spend to fit Gamma-Gamma: {x.size}, "
            f"need at least {MIN_CUSTOMERS}"
        )

    def objective(log_params: FloatArray) -> float:
        params = np.exp(np.clip(log_params, -_LOG_BOUND, _LOG_BOUND))
        value = float(-gamma_gamma_log_likelihood(params, x, m).mean())
        return value if math.isfinite(value) else 1e300

    mean_spend = float(m.mean())
    starts = [
        np.log([1.0, 2.0, mean_spend]),  # population mean p v / (q - 1) = the observed mean
        np.log([5.0, 3.0, mean_spend / 2.5]),
        np.zeros(3),
    ]
    best = _minimise(objective, starts)
    if best is None or np.any(np.abs(best) > _EDGE):
        raise ValueError(
            "the Gamma-Gamma fit did not converge (spend too uniform or too few repeat buyers)"
        )
    p, q, v = (float(value) for value in np.exp(best))
    return GammaGamma(p=p, q=q, v=v)


def gamma_gamma_standard_errors(spend: GammaGamma, summary: pd.DataFrame) -> dict[str, float]:
    """Standard errors of the Gamma-Gamma estimates {p, q, v}, on the customers it was fitted on
    (repeat buyers with a positive mean spend)."""
    x, m = _spend_rows(summary)
    return _standard_errors(
        lambda params: gamma_gamma_log_likelihood(params, x, m),
        (spend.p, spend.q, spend.v),
        ("p", "q", "v"),
    )


def expected_spend(spend: GammaGamma, frequency: ArrayLike, monetary: ArrayLike) -> FloatArray:
    """Expected spend per purchase given x purchases with mean spend m (the Gamma-Gamma note):

    E[M | p, q, v, m, x] = (v + m x) p / (p x + q - 1)
                         = w p v / (q - 1) + (1 - w) m,  w = (q - 1) / (p x + q - 1),

    a weighted mean of the population mean and the customer's own: the more purchases, the more
    their own mean counts. Customers with no usable spend (x = 0, NaN, or a mean <= 0, which the
    model cannot hold) get the population mean p v / (q - 1), the model's answer for a customer
    it knows nothing about; that is infinite when q <= 1. The result is at least 1-d.
    """
    x, m = np.broadcast_arrays(_as_float(frequency), _as_float(monetary))
    p, q, v = spend.p, spend.q, spend.v
    population = p * v / (q - 1.0) if q > 1.0 else math.inf
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    with np.errstate(all="ignore"):
        own = (v + np.where(usable, m, 0.0) * x) * p / (p * x + q - 1.0)
    return np.atleast_1d(np.asarray(np.where(usable, own, population), dtype=np.float64))


# --------------------------------------------------------------------------------------------
# End to end


def clv(
    transactions: pd.DataFrame,
    *,
    calibration_end: datetime,
    time_unit: str = "week",
    horizon: float = 52.0,
) -> ClvResult:
    """Fit BG/NBD (and Gamma-Gamma where spend allows) and value every customer.

    ``horizon`` is in ``time_unit``s. Customers are sorted by expected value (expected
    purchases when there is no spend model) descending, then by id. A failed or unusable spend
    fit does not stop the run: it is reported in ``notes`` and ``expected_value`` is None.
    """
    if not (isinstance(horizon, int | float) and math.isfinite(horizon) and horizon > 0):
        raise ValueError(f"horizon must be a positive number of time units, not {horizon!r}")
    summary, notes = _summarise(
        transactions, calibration_end=calibration_end, time_unit=time_unit
    )
    model = fit_bgnbd(summary)
    edge = [
        name
        for name, value in (("r", model.r), ("alpha", model.alpha), ("a", model.a), ("b", model.b))
        if abs(math.log(value)) > _EDGE
    ]
    if edge:
        notes.append(
            f"BG/NBD parameter(s) {', '.join(edge)} ran to the edge of the parameter space: the "
            "data cannot pin them down (too short a period, or hardly anyone leaving); "
            "fit_bgnbd's penalizer can help"
        )

    spend: GammaGamma | None = None
    try:
        spend = fit_gamma_gamma(summary)
    except ValueError as error:
        notes.append(f"no spend model: {error}")
    if spend is not None and spend.q <= 1.0:
        notes.append(
            f"no spend model: Gamma-Gamma q = {spend.q:.3g} <= 1 makes the population mean "
            "spend infinite, so expected values would be meaningless"
        )
        spend = None

    x = summary["frequency"].to_numpy(dtype=np.float64)
    t_x = summary["recency"].to_numpy(dtype=np.float64)
    age = summary["T"].to_numpy(dtype=np.float64)
    m = summary["monetary_value"].to_numpy(dtype=np.float64)
    purchases = expected_purchases(model, horizon, x, t_x, age)
    alive = probability_alive(model, x, t_x, age)
    values: FloatArray | None = None
    if spend is not None:
        values = purchases * expected_spend(spend, x, m)
        repeat = (x > 0) & np.isfinite(m) & (m > 0)
        nonpositive = int(((x > 0) & np.isfinite(m) & (m <= 0)).sum())
        if nonpositive:
            notes.append(
                f"{nonpositive} repeat buyer(s) with a mean spend <= 0 (refunds?) valued at the "
                "population mean spend, as Gamma-Gamma cannot hold their spend"
            )
        if repeat.sum() >= 3 and np.ptp(x[repeat]) > 0 and np.ptp(m[repeat]) > 0:
            correlation = float(np.corrcoef(x[repeat], m[repeat])[0, 1])
            notes.append(
                f"correlation of purchase frequency and mean spend among repeat buyers: "
                f"{correlation:.2f} (Gamma-Gamma assumes none; "
                f"{'fine' if abs(correlation) < 0.3 else 'too strong, treat values with care'})"
            )
    one_timers = int((x == 0).sum())
    if one_timers:
        notes.append(
            f"{one_timers} of {x.size} customer(s) bought on one day only: BG/NBD holds them "
            "alive (probability 1) until they buy again, by assumption, not evidence"
        )

    customers = [
        CustomerValue(
            id=str(customer),
            frequency=int(x[i]),
            recency=float(t_x[i]),
            T=float(age[i]),
            monetary=None if math.isnan(m[i]) else float(m[i]),
            expected_purchases=float(purchases[i]),
            p_alive=float(alive[i]),
            expected_value=None if values is None else float(values[i]),
        )
        for i, customer in enumerate(summary.index)
    ]
    if values is None:
        customers.sort(key=lambda c: (-c.expected_purchases, c.id))
    else:
        customers.sort(key=lambda c: (-(c.expected_value or 0.0), c.id))
    return ClvResult(
        model=model,
        spend=spend,
        customers=customers,
        calibration_end=calibration_end,
        time_unit=time_unit,
        horizon=float(horizon),
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# Chart


def chart(result: ClvResult, path: pathlib.Path) -> pathlib.Path:
    """A PNG for a person: how value is spread over customers, and who is still buying.

    Three panels: the distribution of expected value (expected purchases without a spend model)
    over the horizon; how much of the total the top customers hold; and probability alive, with
    one-time buyers (alive by assumption) stacked apart from repeat buyers (alive by evidence).
    Drawn on an Agg canvas directly, so it needs no display and leaves pyplot's global state and
    backend alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    if not result.customers:
        raise ValueError("the result has no customers to chart")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    unit = result.time_unit
    horizon = f"{result.horizon:g} {unit}{'' if result.horizon == 1 else 's'}"
    with_value = result.spend is not None and all(
        c.expected_value is not None for c in result.customers
    )
    if with_value:
        amounts = np.array([c.expected_value or 0.0 for c in result.customers])
        what = "expected value"
        axis_label = f"expected value over the next {horizon} (amounts' currency)"
    else:
        amounts = np.array([c.expected_purchases for c in result.customers])
        what = "expected purchases"
        axis_label = f"expected purchases over the next {horizon}"
    alive = np.array([c.p_alive for c in result.customers])
    one_time = np.array([c.frequency == 0 for c in result.customers])

    figure = Figure(figsize=(15, 5.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(
        f"Customer lifetime value (BG/NBD{' + Gamma-Gamma' if with_value else ''}): "
        f"{len(amounts):,} customers, calibration end "
        f"{result.calibration_end.strftime('%Y-%m-%d')}, horizon {horizon}",
        fontsize=13,
    )
    left, middle, right = figure.subplots(1, 3)

    top = float(np.quantile(amounts, 0.99)) if amounts.size > 1 else float(amounts.max())
    top = top if top > 0 else float(amounts.max()) or 1.0
    shown = np.clip(amounts, 0.0, top)
    clipped = int((amounts > top).sum())
    left.hist(
        shown, bins=40, range=(0.0, top), color="#3b75af", edgecolor="white",
        label=f"customers ({clipped:,} above {top:,.3g} in the last bar)" if clipped else None,
    )
    mean, median = float(amounts.mean()), float(np.median(amounts))
    left.axvline(mean, color="#c0392b", linestyle="--", label=f"mean {mean:,.2f}")
    left.axvline(median, color="#2c3e50", linestyle=":", label=f"median {median:,.2f}")
    left.set_yscale("log")
    left.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    left.set_title(f"Distribution of {what} per customer")
    left.set_xlabel(axis_label)
    left.set_ylabel("customers (log scale)")
    left.legend(frameon=False)

    ranked = np.sort(amounts)[::-1]
    total = float(ranked.sum())
    share = np.cumsum(ranked) / total if total > 0 else np.zeros_like(ranked)
    customers_share = np.arange(1, ranked.size + 1) / ranked.size
    middle.plot(
        np.concatenate([[0.0], customers_share]), np.concatenate([[0.0], share]),
        color="#3b75af",
    )
    middle.plot([0, 1], [0, 1], color="grey", linestyle=":", label="every customer equal")
    for fraction in (0.1, 0.2):
        k = max(1, int(round(fraction * ranked.size)))
        middle.plot(customers_share[k - 1], share[k - 1], "o", color="#c0392b")
        middle.annotate(
            f"top {fraction:.0%} hold {share[k - 1]:.0%}",
            (customers_share[k - 1], share[k - 1]),
            textcoords="offset points", xytext=(10, -14),
        )
    middle.set_title(f"Concentration of {what}")
    middle.set_xlabel(f"share of customers, ranked by {what}")
    middle.set_ylabel(f"share of total {what}")
    middle.xaxis.set_major_formatter(PercentFormatter(1.0))
    middle.yaxis.set_major_formatter(PercentFormatter(1.0))
    middle.set_xlim(0, 1)
    middle.set_ylim(0, 1.02)
    middle.legend(frameon=False, loc="lower right")

    bins = np.linspace(0.0, 1.0, 21)
    right.hist(
        [alive[~one_time], alive[one_time]],
        bins=bins,
        stacked=True,
        color=["#3b75af", "#b8c9dd"],
        edgecolor="white",
        label=[
            f"repeat buyers ({int((~one_time).sum()):,})",
            f"one-time buyers, alive by assumption ({int(one_time.sum()):,})",
        ],
    )
    right.set_title("Probability each customer is still buying")
    right.set_xlabel("probability alive at the calibration end")
    right.set_ylabel("customers")
    right.xaxis.set_major_formatter(PercentFormatter(1.0))
    right.legend(frameon=False, loc="upper left")

    for axes in (left, middle, right):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", alpha=0.3)
    figure.savefig(path, format="png")
    return path
