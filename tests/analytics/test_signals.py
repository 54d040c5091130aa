"""Activity, health, anomalies, onboarding and cohorts on small worlds worked out by hand, on
both stores (the accounts come from the store's ACCOUNTS question; the events from the log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.activity import accounts_activity, people_activity
from analytics.anomalies import anomalies
from analytics.cohorts import cohorts
from analytics.config import load_config
from analytics.health import health
from analytics.onboarding import onboarding
from analytics.outreach import outreach
from graph.store import GraphStore
from tests.analytics.worlds import AS_OF, Builder, at, daily, steady


@pytest.fixture
def b(store: GraphStore, tmp_path: Path) -> Builder:
    return Builder(store, tmp_path)


def test_activity_and_health_of_a_steady_account(b: Builder) -> None:
    steady(b)
    b.build()
    world = b.world()
    a = accounts_activity(world)["steady.io"]
    assert (a.logins, a.active_days, a.dau, a.wau, a.mau, a.engaged_people) == (56, 28, 2, 2, 2, 2)
    # 56 logins and the report (a key feature is activity too) in 4 weeks; 168 logins and the
    # shared dashboard in the 12 before
    assert a.recent_rate == 57 / 4 and a.baseline_rate == 169 / 12
    assert a.trend == pytest.approx((57 / 4) / (169 / 12))
    assert a.key_features == ("dashboard_shared", "report_created")
    assert (a.spend_recent, a.spend_baseline, a.billing_events, a.mrr) == (500.0, 500.0, 4, 500.0)
    assert a.weekly == (2,) * 16
    (h,) = health(world)
    parts = {c.name: c for c in h.components}
    assert {n: c.value for n, c in parts.items()} == {
        "activity": 1.0, "spend": 1.0, "adoption": 0.5, "concerns": 1.0, "breadth": 0.4}
    # 100 × (0.30·1 + 0.15·1 + 0.20·0.5 + 0.20·1 + 0.15·0.4) = 81
    assert h.score == 81.0 and h.status == "healthy"
    assert parts["concerns"].detail == "0 open concerns"  # the solved one is not open
    people = people_activity(world)
    assert people["ann@steady.io"].logins == 28 and people["ann@steady.io"].customer_id == \
        "steady.io"


def test_health_falls_with_open_concerns_and_silence(b: Builder) -> None:
    b.customer("worried.io", status="active")
    kim = b.person("kim@worried.io", "worried.io")
    daily(b, "login", kim, range(28, 112))  # active in the baseline weeks only
    for n, day in enumerate((3, 10, 40)):  # two open in the 90 days, one older than 90
        b.concern(f"w{n}", kim, at(day if day < 40 else 95), status="open")
    b.build()
    (h,) = health(b.world())
    parts = {c.name: c for c in h.components}
    assert parts["activity"].value == 0.0 and parts["breadth"].value == 0.0
    assert parts["concerns"].value == pytest.approx(1 - 2 / 3, abs=1e-4)
    assert parts["spend"].value is None and parts["spend"].weight == 0.0  # no billing: unscored
    assert parts["adoption"].value == 0.0
    # weights over the scored ones: activity .3, adoption .2, concerns .2, breadth .15 → /0.85
    assert h.score == pytest.approx(100 * 0.2 * (1 / 3) / 0.85, abs=0.05)
    assert h.status == "at risk"


def test_an_export_burst_the_week_before_churn(b: Builder) -> None:
    b.customer("exporter.io", status="active", churned_at=AS_OF + timedelta(days=3))
    eve = b.person("eve@exporter.io", "exporter.io")
    daily(b, "login", eve, range(112))
    for k in range(1, 16):  # one export a week, weeks 1..15
        b.event("data_exported", at(7 * k + 3), eve)
    for n in range(20):  # twenty in week 0: 20x its normal
        b.event("data_exported", at(2, hours=9 + n * 0.1), eve)
    b.build()
    found = [x for x in anomalies(b.world()) if x.kind == "export_burst"]
    (burst,) = found
    assert burst.customer_id == "exporter.io"
    assert burst.numbers == {"exports": 20, "normal": 1.0, "ratio": 20.0,
                             "week_ending": "2026-11-01"}
    assert "20 exports" in burst.text and "20x" in burst.text


def test_pricing_visits_and_confused_clicking(b: Builder) -> None:
    b.customer("shopper.io")
    pat = b.person("pat@shopper.io", "shopper.io")
    for day in (1, 3, 5):
        b.event("pricing_viewed", at(day), pat)
    b.event("page_viewed", at(9), pat, url="https://app.example.com/billing")
    b.event("pricing_viewed", at(20), pat)  # outside the 14 days
    b.event("page_viewed", at(2), pat, url="https://app.example.com/home")  # not pricing
    b.event("page_viewed", at(2), pat,  # content about pricing is not the pricing page
            url="https://www.example.com/blog/pricing-page-teardown")
    b.event("page_viewed", at(2), pat, url="https://www.example.com/accounts-payable-tips")
    b.customer("maze.io")
    zed = b.person("zed@maze.io", "maze.io")
    for day in (2, 5, 9):  # three sessions of 30 clicks in 10 minutes, no key feature
        for n in range(30):
            b.event("page_viewed", at(day) + timedelta(seconds=20 * n), zed,
                    url=f"https://app.example.com/p{n}")
    for n in range(30):  # reaches a key feature: not confused
        b.event("report_created" if n == 29 else "page_viewed",
                at(12) + timedelta(seconds=20 * n), zed)
    for n in range(30):  # thirty clicks over 29 minutes: not short
        b.event("page_viewed", at(15) + timedelta(seconds=60 * n), zed)
    b.build()
    found = {(x.customer_id, x.kind): x for x in anomalies(b.world())}
    assert found[("shopper.io", "pricing_visits")].numbers == {
        "views": 4, "people": 1, "last": "2026-10-30"}  # day 1: the 30th at noon
    confused = found[("maze.io", "confused_clicking")]
    assert confused.numbers == {"sessions": 3, "events": 90, "people": ["zed@maze.io"]}
    assert ("shopper.io", "confused_clicking") not in found


def test_a_seasonal_account_quiet_in_march_is_not_flagged(b: Builder, tmp_path: Path) -> None:
    march = datetime(2026, 3, 31, tzinfo=UTC)
    for domain, plan in (("snow.io", "Holiday"), ("quitter.io", "Pro")):
        b.customer(domain, plan=plan, status="active")
        who = b.person(f"sam@{domain}", domain)
        for day in range(28, 112):
            b.event("login", at(day, base=march), who)
        b.event("login", at(3, base=march), who)
    b.build()
    config_file = tmp_path / "seasons.toml"
    config_file.write_text('[[anomalies.seasonal]]\nmatch = { plan = "holiday" }\n'
                           'quiet_months = [3]\n')
    config = load_config(config_file)
    world = b.world(as_of=march, config=config)
    quiet = {x.customer_id: x for x in anomalies(world) if x.kind == "gone_quiet"}
    assert quiet["snow.io"].expected and "seasonal" in quiet["snow.io"].text
    assert not quiet["quitter.io"].expected
    assert quiet["quitter.io"].numbers == {"share": round((1 / 4) / (84 / 12), 3)}
    flagged = [x.customer_id for x in anomalies(world, include_expected=False)]
    assert flagged == ["quitter.io"]
    healths = {h.customer_id: h for h in health(world)}
    snow = {c.name: c for c in healths["snow.io"].components}
    assert snow["activity"].value is None and "seasonal" in snow["activity"].detail
    assert healths["snow.io"].score > healths["quitter.io"].score
    # in April the same account is not in its quiet season: its silence counts
    april = b.world(as_of=datetime(2026, 4, 30, tzinfo=UTC), config=config)
    assert {c.name: c.value for c in health(april)[0].components}["activity"] == 0.0


def test_onboarding_setup_time_logins_and_stalls(b: Builder) -> None:
    b.customer("quick.io")
    q = b.person("q@quick.io", "quick.io")
    b.event("sign_up", at(10), q)
    for day in range(10, 3, -1):  # seven logins in week 1, an hour after each noon
        b.event("login", at(day, hours=13), q)
    b.event("setup_completed", at(8), q)
    b.event("report_created", at(6), q)
    b.customer("newbie.io")
    n = b.person("n@newbie.io", "newbie.io")
    b.event("sign_up", at(20), n)
    b.event("login", at(19), n)
    b.event("login", at(12), n)
    b.customer("legacy.io", started=AS_OF - timedelta(days=400))  # no events at all
    b.build()
    found = {o.customer_id: o for o in onboarding(b.world())}
    quick = found["quick.io"]
    assert quick.signup_from == "sign-up event" and quick.days_to_setup == 2.0
    assert quick.logins_per_week == (7, None, None, None)  # week 2 has not ended
    assert quick.key_features == ("report_created",) and not quick.stalled
    newbie = found["newbie.io"]
    assert newbie.stalled and newbie.setup_completed is None
    assert newbie.logins_per_week == (1, 1, None, None)
    assert "stalled" in newbie.text
    legacy = found["legacy.io"]  # 400 days ago: past onboarding, not stalled
    assert legacy.signup_from == "started field" and not legacy.stalled
    assert "past onboarding" in legacy.text


def test_a_cohort_table_cell_by_cell(b: Builder) -> None:
    months = {"a1": (7, 8, 9, 10), "a2": (7, 8), "a3": (7,), "b1": (8, 9, 10),
              "b2": (8, 10), "c1": (9,)}
    signed = {"a": 7, "b": 8, "c": 9}
    for name, active in months.items():
        domain = f"{name}.io"
        b.customer(domain)
        who = b.person(f"x@{domain}", domain)
        b.event("sign_up", datetime(2026, signed[name[0]], 3, 10, tzinfo=UTC), who)
        for month in active:
            b.event("login", datetime(2026, month, 15, 10, tzinfo=UTC), who)
    b.build()
    table = cohorts(b.world(), period="month", periods=6)
    rows = {r.cohort: r for r in table.rows}
    assert list(rows) == ["2026-07", "2026-08", "2026-09"]
    # November begins at as_of itself: not begun before it, so empty, as December
    assert rows["2026-07"].size == 3 and rows["2026-07"].active == (3, 2, 1, 1, None, None)
    assert rows["2026-08"].size == 2 and rows["2026-08"].active == (2, 1, 2, None, None, None)
    assert rows["2026-09"].size == 1 and rows["2026-09"].active == (1, 0, None, None, None, None)
    later = cohorts(b.world(as_of=datetime(2026, 11, 2, tzinfo=UTC)), period="month",
                    periods=6)
    assert {r.cohort: r.active for r in later.rows}["2026-07"] == (3, 2, 1, 1, 0, None)
    assert rows["2026-07"].share[:4] == (1.0, round(2 / 3, 4), round(1 / 3, 4), round(1 / 3, 4))
    by_login = cohorts(b.world(), period="month", periods=6, active="sign_up")
    assert {r.cohort: r.active[:2] for r in by_login.rows}["2026-07"] == (3, 0)
    weekly = cohorts(b.world(), period="week", periods=2)
    assert sum(r.size for r in weekly.rows) == 6 and weekly.rows[0].cohort == "2026-06-29"


def test_an_account_that_churned_is_not_quiet_nor_on_the_outreach_list(b: Builder) -> None:
    """Quiet because it left: a churned account's silence is churn, not an anomaly, and its
    people are not on today's list; one that churns only after the moment asked about is."""
    for domain, left in (("gone.io", at(40)), ("later.io", at(-30)), ("still.io", None)):
        b.customer(domain, status="churned" if left else "active", churned_at=left)
        who = b.person(f"sam@{domain}", domain)
        for day in range(42, 112):
            b.event("login", at(day), who)
    b.build()
    world = b.world()
    quiet = {x.customer_id for x in anomalies(world) if x.kind == "gone_quiet"}
    assert quiet == {"later.io", "still.io"}
    listed = {r.customer_id for r in outreach(world, size=10)}
    assert "gone.io" not in listed and {"later.io", "still.io"} <= listed
