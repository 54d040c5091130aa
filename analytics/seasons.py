"""Seasonal products: some accounts are expected to go quiet in some months (a tax tool in
summer, a holiday shop in spring). A configured cadence ([[anomalies.seasonal]]) names them, by
id or by a customer field (plan, status, or an attribute of the customer table), and their quiet
months; in those months going quiet is neither an anomaly nor a fall in health.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from analytics.config import Seasonal
from graph.questions.accounts import Account


def _fields(account: Account) -> dict[str, Any]:
    fields = dict(account.properties)
    attributes = fields.get("attributes")
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            attributes = None
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            fields.setdefault(key, value)
    return fields


def matches(entry: Seasonal, account: Account) -> bool:
    if account.customer_id in entry.customers or (
            account.account_id is not None and account.account_id in entry.customers):
        return True
    if not entry.match:
        return False
    fields = _fields(account)
    return all(str(fields.get(k, "")).casefold() == str(v).casefold()
               for k, v in entry.match.items())


def quiet_season(entries: Iterable[Seasonal], account: Account, at: datetime) -> str | None:
    """Why `at` is an expected quiet time for this account, or None."""
    for entry in entries:
        if at.month in entry.quiet_months and matches(entry, account):
            months = ", ".join(calendar.month_name[m] for m in entry.quiet_months)
            return f"a quiet season of a seasonal product ({months})"
    return None


__all__ = ["matches", "quiet_season"]
