"""The customer count, relationship levels, competitor drift, topic surge, the outreach list and
the revenue projection, on small worlds worked out by hand, on both stores."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from analytics.customers import customer_count
from analytics.drift import competitor_drift
from analytics.levels import levels
from analytics.outreach import outreach
from analytics.revenue import churn_loss, project
from analytics.surge import topic_surge
from graph.store import GraphStore
from tests.analytics.worlds import AS_OF, Builder, at, daily


@pytest.fixture
def b(store: GraphStore, tmp_path: Path) -> Builder:
    return Builder(store, tmp_path)


def test_customers_counted_once_across_channels(b: Builder) -> None:
    b.customer("paid.io", plan="pro", mrr=100.0, status="active")
    b.event("invoice_paid", at(5), None, account="paid.io", amount=100)
    b.customer("lapsed.io", plan="pro", mrr=100.0, status="active")
    b.event("invoice_paid", at(45), None, account="lapsed.io", amount=100)  # a cycle ago
    b.customer("trusting.io", plan="team", status="active")  # no billing in the log
    b.customer("left.io", plan="team", status="churned", churned=True)
    # one shopper, two channels: a Shopify customer and a transactions customer of one person
    b.person_customer("shopify:1001", "ada@inbox.io", orders=3)
    b.person_customer("tx:ada", "ada@inbox.io", orders=1)
    b.event("purchase", at(30), "ada@inbox.io", account="shopify:1001", amount=40)
    b.event("purchase", at(200), "ada@inbox.io", account="tx:ada", amount=25)
    b.person_customer("shopify:1002", "old@inbox.io", orders=1)
    b.event("purchase", at(500), "old@inbox.io", account="shopify:1002", amount=10)
    b.build()
    c = customer_count(b.world())
    assert (c.total, c.subscription, c.purchase) == (3, 2, 1)
    assert c.customers == ("ada@inbox.io", "paid.io", "trusting.io")
    assert (c.customer_records, c.merged, c.inactive) == (4, 1, 3)
    # a 14-day window: only the invoice 5 days ago and nothing bought in it
    assert customer_count(b.world(), window_days=14).total == 2  # paid.io, trusting.io


def test_the_seeds_revenue_example() -> None:
    """1,000 customers at $100 a month, growing 50% a year, losing 30%, over three years."""
    monthly = project(100_000, months=36, growth=0.5, churn=0.3)
    assert monthly.months[-1].without_churn == pytest.approx(100_000 * (1 + 0.5 / 12) ** 36)
    assert monthly.months[-1].with_churn == pytest.approx(100_000 * (1 + 0.2 / 12) ** 36)
    assert monthly.lowered_by == pytest.approx(0.583, abs=0.001)
    annual = project(100_000, months=36, growth=0.5, churn=0.3, convention="annual")
    assert annual.months[-1].without_churn == pytest.approx(337_500)
    assert annual.months[-1].with_churn == pytest.approx(172_800)
    assert annual.lowered_by == pytest.approx(1 - 172_800 / 337_500)
    # the seed's chart reads 56%: between the two conventions
    assert annual.lowered_by < 0.56 < monthly.lowered_by
    ten = project(100_000, months=36, growth=0.5, churn=0.1)
    assert 0 < ten.lowered_by < monthly.lowered_by
    assert monthly.revenue_lost == pytest.approx(sum(m.lost for m in monthly.months))
    with pytest.raises(ValueError):
        project(100_000, months=0, growth=0.5, churn=0.3)


def test_revenue_lost_to_churn(b: Builder) -> None:
    b.customer("a.io", mrr=100.0, status="active")
    b.customer("b.io", mrr=50.0, status="churned", churned=True,
               churned_at=AS_OF - timedelta(days=60))
    b.customer("c.io", mrr=70.0, status="churned", churned=True,
               churned_at=AS_OF - timedelta(days=500))  # before the 12 months
    b.build()
    loss = churn_loss(b.world())
    assert loss.customers == ("b.io",) and loss.mrr_lost == 50.0 and loss.mrr_now == 100.0
    assert loss.annual_rate == pytest.approx(50 / 150)


def test_the_five_levels(b: Builder) -> None:
    # a senior contact we know, three engaged people, strategic talk, nothing broken
    b.customer("adviser.io")
    vp = b.person("vp@adviser.io", "adviser.io", title="VP Customer Success", known=0.9)
    p2 = b.person("p2@adviser.io", "adviser.io")
    p3 = b.person("p3@adviser.io", "adviser.io")
    for who in (vp, p2, p3):
        daily(b, "login", who, range(10))
    b.concern("s1", vp, at(5), topics=("roi",))
    b.concern("s2", p2, at(6), topics=("strategy",))
    # two engaged, more outcomes than broken things
    b.customer("partner.io")
    q1 = b.person("q1@partner.io", "partner.io")
    q2 = b.person("q2@partner.io", "partner.io")
    daily(b, "login", q1, range(5))
    daily(b, "login", q2, range(5))
    b.concern("s3", q1, at(3), topics=("growth",))
    # one quiet reader of our content
    b.customer("reader.io")
    r1 = b.person("r1@reader.io", "reader.io")
    for n in range(3):
        url = b.content(f"https://relgraph.io/blog/post-{n}", "crm")
        b.read(r1, url, at(20), at(10))
    # someone who only tells us what is broken
    b.customer("broken.io")
    x1 = b.person("x1@broken.io", "broken.io")
    daily(b, "login", x1, range(3))
    b.concern("k1", x1, at(2), topics=("bug",), status="open")
    b.concern("k2", x1, at(4), topics=("roi",))  # one strategic, one broken: not more
    # nobody engaged
    b.customer("silent.io")
    b.person("z1@silent.io", "silent.io")
    b.build()
    found = {x.customer_id: x for x in levels(b.world())}
    assert {k: v.level for k, v in found.items()} == {
        "adviser.io": "trusted adviser", "partner.io": "partner",
        "reader.io": "credible source", "broken.io": "transactional",
        "silent.io": "commodity"}
    adviser = found["adviser.io"]
    assert (adviser.engaged, adviser.senior, adviser.known, adviser.strategic, adviser.broken) \
        == (3, 1, 1, 2, 0)
    assert "senior contact we know" in adviser.rule and "3 engaged" in adviser.rule
    assert found["reader.io"].reads == 3 and found["broken.io"].broken == 1


def drift_world(b: Builder) -> None:
    b.customer("rival.io", name="Rival")
    b.companies[-1]["competitor"] = True
    b.customers.pop()
    b.accounts.pop()
    rivals = [b.person(f"r{n}@rival.io", "rival.io") for n in range(6)]
    b.customer("drifter.io")
    d1 = b.person("d1@drifter.io", "drifter.io")
    d2 = b.person("d2@drifter.io", "drifter.io")
    for n, who in enumerate((d1, d1, d2, d2)):  # four new in the last 30 days
        b.knows.append({"from": who, "to": rivals[n], "since": AS_OF - timedelta(days=5 + n)})
    b.customer("networker.io")
    w1 = b.person("w1@networker.io", "networker.io")
    for n in range(12):  # a steady networker: one a month for a year, one this month
        b.knows.append({"from": w1, "to": rivals[n % 6] if n < 6 else
                        b.person(f"x{n}@rival.io", "rival.io"),
                        "since": AS_OF - timedelta(days=40 + 28 * n)})
    b.knows.append({"from": w1, "to": b.person("new@rival.io", "rival.io"),
                    "since": AS_OF - timedelta(days=2)})


def test_competitor_drift(b: Builder) -> None:
    drift_world(b)
    b.build()
    world = b.world()
    (d,) = competitor_drift(world)
    assert d.customer_id == "drifter.io" and d.new == 4 and d.expected == 0.0
    assert d.competitors == (("Rival", 4),) and d.people == ("d1@drifter.io", "d2@drifter.io")
    assert d.drifting and "4 new connections" in d.text
    everyone = {x.customer_id: x for x in competitor_drift(world, everyone=True)}
    networker = everyone["networker.io"]
    assert networker.new == 1 and not networker.drifting
    assert networker.expected == pytest.approx(12 / 365 * 30, abs=0.01)


def test_topic_surge(b: Builder) -> None:
    b.customer("intent.io", name="Intent")
    readers = [b.person(f"i{n}@intent.io", "intent.io") for n in range(3)]
    crm = [b.content(f"https://relgraph.io/crm-{n}", "crm") for n in range(3)]
    churn = b.content("https://relgraph.io/churn-guide", "churn")
    for n, who in enumerate(readers):  # six reads of CRM in the last 3 weeks by three people
        b.event("page_viewed", at(2 + n), who, url=crm[n])
        b.event("page_viewed", at(9 + n), who, url=crm[(n + 1) % 3])
    b.event("page_viewed", at(40), readers[0], url=crm[0])  # one in the 12 weeks before
    for week in range(3, 15):  # churn read at its usual pace: once a week all along
        b.event("page_viewed", at(7 * week), readers[1], url=churn)
    for week in range(3):
        b.event("page_viewed", at(7 * week + 1), readers[1], url=churn)
    b.customer("lone.io", name="Lone")
    lone = b.person("solo@lone.io", "lone.io")
    for n in range(10):  # one person's binge: not the company's intent
        b.event("page_viewed", at(1 + n * 0.5), lone, url=crm[0])
    b.build()
    world = b.world()
    (s,) = topic_surge(world)
    assert (s.company_id, s.topic, s.recent_reads, s.baseline_reads, s.recent_people) == \
        ("intent.io", "crm", 6, 1, 3)
    x = (6 / 3 + 0.5) / (1 / 12 + 0.5)
    assert s.intent == pytest.approx(round(100 * x / (1 + x), 1)) and s.surging
    all_intent = {(t.company_id, t.topic): t for t in topic_surge(world, company="intent.io",
                                                                  everyone=True)}
    steady = all_intent[("intent.io", "churn")]
    assert 45 <= steady.intent <= 55 and not steady.surging  # reading as usual: about 50
    lone_crm = {(t.company_id, t.topic): t for t in topic_surge(world, everyone=True)}[
        ("lone.io", "crm")]
    assert lone_crm.intent > 70 and not lone_crm.surging  # one person only


def test_the_outreach_list(b: Builder) -> None:
    b.customer("exporter.io")
    eve = b.person("eve@exporter.io", "exporter.io", known=0.4)
    daily(b, "login", eve, range(112))
    for k in range(1, 16):
        b.event("data_exported", at(7 * k + 3), eve)
    for n in range(20):
        b.event("data_exported", at(1, hours=9 + n * 0.1), eve)
    b.customer("newbie.io")
    new = b.person("new@newbie.io", "newbie.io")
    b.event("sign_up", at(3), new)
    b.customer("funded.io")
    ceo = b.person("ceo@funded.io", "funded.io", title="CEO", known=0.9)
    b.person("dev@funded.io", "funded.io")
    daily(b, "login", ceo, range(20))
    b.build()
    b.store.upsert_nodes("Trigger", [{"id": "t1", "type": "funding_round", "at": at(4),
                                      "headline": "Funded raises a Series B"}], source="test")
    b.store.upsert_relationships("HAD_TRIGGER", [{"from": "funded.io", "to": "t1"}],
                                 source="test")
    b.store.checkpoint()
    found = outreach(b.world(), size=5)
    by_person = {r.person_id: r for r in found}
    assert [r.kind for r in found][:3] == ["struggling", "trigger", "new"]
    assert by_person["eve@exporter.io"].kind == "struggling"
    assert "exports" in by_person["eve@exporter.io"].reason
    assert by_person["ceo@funded.io"].kind == "trigger"  # the one our team knows best
    assert "Series B" in by_person["ceo@funded.io"].reason
    assert by_person["new@newbie.io"].kind == "new"
    assert len({r.person_id for r in found}) == len(found)  # each person once


def test_cohorts_say_nothing_of_months_before_the_log_began(b: Builder) -> None:
    """A customer signed up (its `started` field) two years before the log's first event: its
    months before the log are unknown, never 0%, and a cohort wholly before it is not shown."""
    from datetime import UTC, datetime

    from analytics.cohorts import cohorts

    b.customer("old.io", started=datetime(2024, 3, 10, tzinfo=UTC))
    b.customer("older.io", started=datetime(2026, 6, 20, tzinfo=UTC))
    b.customer("new.io", status="active")
    ann = b.person("ann@new.io", "new.io")
    olga = b.person("olga@older.io", "older.io")
    b.event("sign_up", datetime(2026, 8, 3, 9, tzinfo=UTC), ann)  # the log's first event
    daily(b, "login", ann, range(0, 80, 3))
    daily(b, "login", olga, range(0, 60, 7))
    b.build()
    table = cohorts(b.world(), period="month", periods=6)
    by = {r.cohort: r for r in table.rows}
    assert set(by) == {"2026-06", "2026-08"}  # 2024-03's six months all precede the log
    # June's cohort: June and July precede the log (unknown); Olga's logins begin in September
    assert by["2026-06"].active == (None, None, 0, 1, 1, None)
    assert by["2026-08"].active == (1, 1, 1, None, None, None)
