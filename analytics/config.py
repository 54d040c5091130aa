"""What the analytics count, from TOML: the shipped `analytics/default.toml`, with a file of the
user's over it (`RELGRAPH_ANALYTICS_CONFIG`, or `relgraph analyze … --config FILE`), key by key.
A key the shipped file does not have is refused with the keys it could have meant, so a typo
never silently changes nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from graph.errors import GraphError


class ConfigError(GraphError, ValueError):
    """An analytics configuration that cannot be used (names the file and the key)."""


@dataclass(frozen=True, slots=True)
class Activity:
    events: tuple[str, ...]
    key_features: tuple[str, ...]
    billing_events: tuple[str, ...]
    refund_events: tuple[str, ...]
    baseline_weeks: int
    recent_weeks: int


@dataclass(frozen=True, slots=True)
class Health:
    weights: dict[str, float]
    concerns_at_zero: int
    breadth_at_full: int
    at_risk: float
    healthy: float

    def normalised(self) -> dict[str, float]:
        total = sum(self.weights.values())
        return {k: v / total for k, v in self.weights.items()}


@dataclass(frozen=True, slots=True)
class Seasonal:
    quiet_months: tuple[int, ...]
    customers: tuple[str, ...] = ()
    match: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Anomalies:
    export_events: tuple[str, ...]
    export_ratio: float
    export_min: int
    pricing_events: tuple[str, ...]
    pricing_urls: tuple[str, ...]
    pricing_visits: int
    pricing_days: int
    session_gap_minutes: float
    confused_events: int
    confused_minutes: float
    confused_sessions: int
    quiet_ratio: float
    seasonal: tuple[Seasonal, ...] = ()


@dataclass(frozen=True, slots=True)
class Onboarding:
    signup_events: tuple[str, ...]
    setup_event: str
    weeks: int
    stall_days: int
    horizon_days: int


@dataclass(frozen=True, slots=True)
class Cohorts:
    period: str
    periods: int
    active: str


@dataclass(frozen=True, slots=True)
class Customers:
    billing_cycle_days: int
    purchase_months: int


@dataclass(frozen=True, slots=True)
class Churn:
    inactive_days: int


@dataclass(frozen=True, slots=True)
class Levels:
    strategic_topics: tuple[str, ...]
    broken_topics: tuple[str, ...]
    senior_titles: tuple[str, ...]
    reads_days: int


@dataclass(frozen=True, slots=True)
class Drift:
    recent_days: int
    baseline_days: int
    min_new: int
    ratio: float


@dataclass(frozen=True, slots=True)
class Surge:
    recent_weeks: int
    baseline_weeks: int
    min_people: int
    surging: float


@dataclass(frozen=True, slots=True)
class Outreach:
    size: int
    new_days: int


@dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    activity: Activity
    health: Health
    anomalies: Anomalies
    onboarding: Onboarding
    cohorts: Cohorts
    customers: Customers
    churn: Churn
    levels: Levels
    drift: Drift
    surge: Surge
    outreach: Outreach
    path: Path | None = None  # the user's file, if any


_CLASSES = {"activity": Activity, "health": Health, "anomalies": Anomalies,
            "onboarding": Onboarding, "cohorts": Cohorts, "customers": Customers,
            "churn": Churn, "levels": Levels, "drift": Drift, "surge": Surge,
            "outreach": Outreach}


def _defaults() -> dict[str, Any]:
    text = resources.files("analytics").joinpath("default.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], extra: dict[str, Any], where: str, origin: str) -> None:
    for key, value in extra.items():
        if key == "seasonal" and where == "anomalies":
            base[key] = value
            continue
        if key not in base:
            known = ", ".join(sorted(base)) or "none"
            raise ConfigError(f"{origin}: [{where}] has no key {key!r} (known: {known})")
        if isinstance(base[key], dict) and isinstance(value, dict) and key != "weights":
            _merge(base[key], value, f"{where}.{key}", origin)
        else:
            base[key] = value


def _tuples(section: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def load_config(path: Path | None = None) -> AnalyticsConfig:
    """The shipped configuration, with `path`'s keys over it."""
    data = _defaults()
    if path is not None:
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the analytics configuration: "
                              f"{exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for section, values in user.items():
            if section not in data or not isinstance(values, dict):
                raise ConfigError(f"{path}: no section [{section}] (known: "
                                  f"{', '.join(sorted(data))})")
            _merge(data[section], values, section, str(path))
    sections: dict[str, Any] = {}
    for name, cls in _CLASSES.items():
        values = _tuples(data[name])
        if name == "anomalies":
            values["seasonal"] = tuple(_seasonal(s, path) for s in data[name].get("seasonal", ()))
        if name == "health":
            weights = {str(k): float(v) for k, v in values["weights"].items()}
            unknown = set(weights) - {"activity", "spend", "adoption", "concerns", "breadth"}
            if unknown or not weights or any(w < 0 for w in weights.values()) \
                    or sum(weights.values()) <= 0:
                raise ConfigError(f"{path or 'default.toml'}: [health] weights are the "
                                  "non-negative weights of activity, spend, adoption, concerns "
                                  f"and breadth, got {values['weights']}")
            values["weights"] = weights
        try:
            sections[name] = cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{path or 'default.toml'}: [{name}]: {exc}") from None
    config = AnalyticsConfig(**sections, path=path)
    _check(config, path)
    return config


def _seasonal(entry: Any, path: Path | None) -> Seasonal:
    if not isinstance(entry, dict) or "quiet_months" not in entry:
        raise ConfigError(f"{path}: each [[anomalies.seasonal]] names quiet_months and either "
                          "customers or match")
    months = tuple(int(m) for m in entry["quiet_months"])
    if not months or any(not 1 <= m <= 12 for m in months):
        raise ConfigError(f"{path}: quiet_months are month numbers 1..12, got {months}")
    extra = set(entry) - {"quiet_months", "customers", "match"}
    if extra:
        raise ConfigError(f"{path}: [[anomalies.seasonal]] has no key {sorted(extra)[0]!r}")
    return Seasonal(months, tuple(entry.get("customers", ())), dict(entry.get("match", {})))


def _check(config: AnalyticsConfig, path: Path | None) -> None:
    where = path or "default.toml"
    if config.cohorts.period not in ("week", "month"):
        raise ConfigError(f"{where}: [cohorts] period is week or month, "
                          f"got {config.cohorts.period!r}")
    for name, value in (("activity.baseline_weeks", config.activity.baseline_weeks),
                        ("activity.recent_weeks", config.activity.recent_weeks),
                        ("onboarding.weeks", config.onboarding.weeks),
                        ("cohorts.periods", config.cohorts.periods),
                        ("surge.recent_weeks", config.surge.recent_weeks),
                        ("surge.baseline_weeks", config.surge.baseline_weeks),
                        ("outreach.size", config.outreach.size)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: {name} is a whole number of at least 1, got {value!r}")


__all__ = ["Activity", "AnalyticsConfig", "Anomalies", "Churn", "Cohorts", "ConfigError",
           "Customers", "Drift", "Health", "Levels", "Onboarding", "Outreach", "Seasonal",
           "Surge", "load_config"]
