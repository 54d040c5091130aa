"""Analytics benchmark: every customer-success signal over 10k customers, 100k people, 5M events.

The goal (the analytics performance issue): on this 2-core machine, the full analysis — the
world (the ACCOUNTS question and the resolved event log), every signal, the churn model fitted,
CLV and today's outreach list — in under 20 s from a cold cache, with a peak RSS under 2 GiB;
one customer's card from the cache in under 20 ms.

The world is generated once (seeded numpy RNG) into an embedded store and an event log under
`--world DIR` and reused while its sizes match (generation is not the benchmark): 10k B2B
customer companies (plan, MRR, status with ~10% churned and churned_at, started; a fifth of them
a purchase business with orders and purchase events), 100k people at them (titles, some senior),
our own company's team knowing some of them, concerns with topics and statuses, content with
topics and READ edges, competitors whose people the customers' people KNOW (with since),
triggers, folded e-mail aliases, and 5M events in five parts: logins, feature_used with a
feature, page views of content and app pages, exports, pricing views, billing, sign-ups and
setups of the recent accounts — in sessions, with export bursts, pricing visits, confused
clicking, accounts gone quiet and reading surges planted in some accounts.

Measured, each in its own child process (so its peak RSS is its own), medians of --runs:
1. the full analysis from a cold cache (the cache directory removed first): the time of each
   step (the world: the ACCOUNTS question, then resolving the log; then each signal) and the
   total, peak RSS; the slowest step named. Opening the store (reading graph.sqlite into
   memory) is timed apart: a server holds it open, and it is not the analysis.
2. a customer's card from the cache, in a fresh process after a full run saved: opening the
   analysis (reading the cache) and the first card, then the median of many `card(id)` calls;
   that the world was never built is checked (the card must be answered from the cache).
3. the floor: DuckDB's plain `SELECT account, count(*) … GROUP BY account` over the same log's
   parts, the cheapest pass over it; the full analysis is reported as a multiple of it.

    python bench/analytics.py [--world DIR] [--runs 3] [--cards 500] [--write-docs]
                              [--customers 10000 --people 100000 --events 5000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # ingest.py; never ahead of the packages

from docsection import write_section  # noqa: E402
from ingest import machine  # noqa: E402
from rss import peak_rss_mib  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- analytics:begin -->", "<!-- analytics:end -->"
GENERATOR = 1  # bump when the world's shape changes: a cached world of another one is redone
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86_400
GOAL_SECONDS, GOAL_RSS_MIB, GOAL_CARD_MS = 20.0, 2048.0, 20.0
US = "relgraph.io"

PLANS = ("starter", "growth", "business", "enterprise")
PLAN_MRR = (49.0, 199.0, 799.0, 2_500.0)
REGIONS = ("emea", "amer", "apac")
TITLES = ("Analyst", "Engineer", "Account Manager", "Product Manager", "Designer",
          "Marketing Manager", "Support Specialist", "Data Scientist", "Consultant",
          "Operations Manager", "Sales Representative", "Developer")
SENIOR = ("CEO", "CTO", "VP Engineering", "VP Sales", "Head of Data", "Director of Operations",
          "Founder", "Chief Revenue Officer")
TOPICS = ("strategy", "roi", "growth", "expansion", "retention", "customer-success", "crm",
          "analytics", "onboarding", "churn", "bug", "outage", "billing-issue", "performance",
          "support", "integration-issue", "login-issue", "data-loss", "security", "pricing",
          "ai", "automation", "reporting", "dashboards", "api", "mobile", "compliance",
          "privacy", "migration", "training", "hiring", "leadership", "marketing", "sales",
          "finance", "operations", "product", "design", "devops", "cloud")
FEATURES = ("editor", "filters", "alerts", "comments", "api", "report_created",
            "dashboard_shared", "invite_sent", "integration_connected")
APP_PAGES = ("/home", "/reports", "/dashboards", "/settings", "/team", "/integrations",
             "/help", "/search")
# product event types after a session's first event, and their shares
TYPES = {"feature_used": 0.33, "page_viewed": 0.26, "report_viewed": 0.08,
         "dashboard_viewed": 0.08, "search": 0.06, "message_sent": 0.04, "report_created": 0.03,
         "file_uploaded": 0.02, "data_exported": 0.02, "dashboard_shared": 0.015,
         "invite_sent": 0.01, "project_created": 0.01, "integration_connected": 0.003,
         "pricing_viewed": 0.004, "report_downloaded": 0.008}


# --- the world --------------------------------------------------------------------------------

def _when(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def _ago(days: float) -> datetime:
    return AS_OF - timedelta(days=float(days))


def generate(directory: Path, *, customers: int, people: int, events: int,
             seed: int = 7) -> dict[str, Any]:
    """Write the world into `directory` (graph.sqlite and events/): see the module's doc."""
    import numpy as np

    from graph.eventlog import EventLog, LoggedEvent
    from graph.memory_store import MemoryStore

    rng = np.random.default_rng(seed)
    now = int(AS_OF.timestamp())
    c = customers
    domains = [f"cust{i:05d}.com" for i in range(c)]

    # customers: start, status, plan
    started_days = rng.uniform(60, 1_100, c)
    recent = rng.random(c) < 0.04
    started_days[recent] = rng.uniform(1, 60, recent.sum())
    purchase = rng.random(c) < 0.2
    roll = rng.random(c)
    status = np.where(roll < 0.10, "churned", np.where(roll < 0.12, "paused", "active"))
    status[recent & (rng.random(c) < 0.6)] = "trial"
    status[recent & (status == "churned")] = "active"
    churned_days = np.minimum(started_days, 540) * rng.uniform(0.02, 0.95, c)
    plan_ix = rng.choice(len(PLANS), c, p=[0.4, 0.3, 0.2, 0.1])
    mrr = np.round(np.array(PLAN_MRR)[plan_ix] * rng.lognormal(0, 0.25, c), 2)
    # each customer's people: a contiguous block of person indexes
    sizes = 1 + rng.multinomial(people - c, (w := rng.lognormal(0, 0.8, c)) / w.sum())
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    emails = [f"p{j}@{domains[i]}" for i in range(c) for j in range(sizes[i])]
    owner = np.repeat(np.arange(c), sizes)  # person index -> customer index
    senior = rng.random(people) < 0.12
    titles = np.where(senior, np.array(SENIOR)[rng.integers(0, len(SENIOR), people)],
                      np.array(TITLES)[rng.integers(0, len(TITLES), people)])

    store = MemoryStore(directory / "graph.sqlite", batch_size=50_000)
    src = "bench"
    t0 = time.perf_counter()
    team = [f"csm{k}@{US}" for k in range(25)]
    competitors = [f"rival{k}.com" for k in range(15)]
    rivals = [f"r{k}@{competitors[k % 15]}" for k in range(1_500)]
    store.upsert_nodes("Company", [{"id": US, "name": "Relgraph", "own": True}]
                       + [{"id": d, "name": f"Customer {i}", "customer": True,
                           "industry": ("software", "retail", "finance", "health")[i % 4],
                           "size": int(sizes[i] * 12)} for i, d in enumerate(domains)]
                       + [{"id": d, "name": f"Rival {k}", "competitor": True}
                          for k, d in enumerate(competitors)], source=src)
    store.upsert_nodes("Person", [{"id": p, "name": f"Team {k}"} for k, p in enumerate(team)]
                       + [{"id": e, "name": f"Person {j}", "title": str(titles[j])}
                          for j, e in enumerate(emails)]
                       + [{"id": r, "name": f"Rival person {k}"} for k, r in enumerate(rivals)],
                       source=src)
    rows: list[dict[str, Any]] = []
    for i, d in enumerate(domains):
        row: dict[str, Any] = {"id": d, "name": f"Customer {i}", "status": str(status[i]),
                               "started": _ago(started_days[i]),
                               "attributes": {"region": REGIONS[i % 3],
                                              "seats": int(sizes[i] * 3)}}
        if status[i] == "churned":
            row["churned_at"] = _ago(churned_days[i])
            row["churned"] = True
        if purchase[i]:
            row["orders"] = int(rng.integers(1, 40))
            row["total_spent"] = float(row["orders"] * 60)
        else:
            row.update(plan=PLANS[plan_ix[i]], mrr=float(mrr[i]),
                       contract="annual" if i % 3 == 0 else "monthly")
        rows.append(row)
    store.upsert_nodes("Customer", rows, source=src)
    store.upsert_relationships("ACCOUNT_OF", [{"from": d, "to": d} for d in domains],
                               source=src, to_label="Company")
    since = started_days[owner] * rng.uniform(0.3, 1.2, people) + 30
    jobs = [{"from": p, "to": US, "title": "CSM"} for p in team]
    jobs += [{"from": e, "to": domains[owner[j]], "title": str(titles[j]),
              "since": _ago(since[j])} for j, e in enumerate(emails)]
    moved = np.flatnonzero(rng.random(people) < 0.03)  # a past job at another customer
    jobs += [{"from": emails[j], "to": domains[(owner[j] + 1 + j % 97) % c],
              "title": "Analyst", "since": _ago(since[j] + 900), "until": _ago(since[j] + 1)}
             for j in moved]
    jobs += [{"from": r, "to": competitors[k % 15], "title": "Account Executive",
              "since": _ago(400 + k % 300)} for k, r in enumerate(rivals)]
    store.upsert_relationships("WORKS_AT", jobs, source=src)
    store.upsert_nodes("Topic", [{"id": t} for t in TOPICS], source=src)

    # our team knows some of the customers' people; the customers' people know rivals
    known = rng.choice(people, people // 7, replace=False)
    knows = [{"from": team[k % 25], "to": emails[j], "strength": round(float(s), 2),
              "since": _ago(d)} for k, (j, s, d) in enumerate(zip(
                  known, rng.uniform(0.1, 1.0, known.size), rng.uniform(1, 900, known.size),
                  strict=True))]
    links = rng.integers(0, people, people // 3)
    knows += [{"from": emails[j], "to": rivals[int(r)], "since": _ago(d)} for j, r, d in zip(
        links, rng.integers(0, len(rivals), links.size), rng.uniform(0, 730, links.size),
        strict=True)]
    drifting = rng.choice(c, max(1, c // 100), replace=False)  # a burst in the last 30 days
    for i in drifting:
        for _ in range(int(rng.integers(5, 11))):
            j = int(offset[i] + rng.integers(0, sizes[i]))
            knows.append({"from": emails[j], "to": rivals[int(rng.integers(0, len(rivals)))],
                          "since": _ago(float(rng.uniform(0, 29)))})
    store.upsert_relationships("KNOWS", knows, source=src)

    # concerns, with topics and statuses
    n_concerns = max(10, people // 4)
    raised_by = rng.integers(0, people, n_concerns)
    concern_days = rng.uniform(0, 365, n_concerns)
    state = rng.choice(["open", "solved", "closed"], n_concerns, p=[0.3, 0.5, 0.2])
    concerns, raised, about = [], [], []
    for k in range(n_concerns):
        row = {"id": f"concern-{k}", "text": f"concern {k}", "channel": "ticket",
               "at": _ago(concern_days[k]), "status": str(state[k])}
        if state[k] == "solved":
            row["solved_at"] = _ago(max(0.0, concern_days[k] - float(rng.uniform(0, 20))))
        concerns.append(row)
        raised.append({"from": emails[raised_by[k]], "to": row["id"]})
        for t in rng.choice(len(TOPICS), int(rng.integers(1, 3)), replace=False):
            about.append({"from": row["id"], "to": TOPICS[t]})
    store.upsert_nodes("Concern", concerns, source=src)
    store.upsert_relationships("RAISED", raised, source=src)
    store.upsert_relationships("ABOUT", about, source=src, from_label="Concern")

    # content with topics, and READ edges for some people
    urls = [f"https://{US}/blog/post-{k}" for k in range(1_000)]
    content_topics = [rng.choice(len(TOPICS), int(rng.integers(1, 4)), replace=False)
                      for _ in urls]
    store.upsert_nodes("Content", [{"id": u, "title": f"Post {k}", "kind": "article"}
                                   for k, u in enumerate(urls)], source=src)
    store.upsert_relationships("ABOUT", [{"from": u, "to": TOPICS[t]} for u, ts in
                                         zip(urls, content_topics, strict=True) for t in ts],
                               source=src, from_label="Content")
    n_reads = max(10, int(people * 0.6))
    readers, read_urls = rng.integers(0, people, n_reads), rng.integers(0, len(urls), n_reads)
    first = rng.uniform(0, 400, n_reads)
    last = first * rng.uniform(0, 1, n_reads)
    pairs = {}
    for j, u, f, la in zip(readers, read_urls, first, last, strict=True):
        pairs[(int(j), int(u))] = {"from": emails[j], "to": urls[u], "first_at": _ago(f),
                                   "last_at": _ago(la), "count": int(1 + (f - la) // 30)}
    store.upsert_relationships("READ", list(pairs.values()), source=src)

    # triggers at some customer companies
    triggered = rng.choice(c, max(1, c // 25), replace=False)
    kinds = ("funding_round", "leadership_change", "expansion", "hiring_surge", "layoffs")
    store.upsert_nodes("Trigger", [{"id": f"trigger-{i}", "type": kinds[i % 5],
                                    "at": _ago(float(rng.uniform(0, 60))),
                                    "headline": f"{kinds[i % 5].replace('_', ' ')} at "
                                                f"Customer {i}"} for i in triggered],
                       source=src)
    store.upsert_relationships("HAD_TRIGGER", [{"from": domains[i], "to": f"trigger-{i}"}
                                               for i in triggered], source=src)
    # e-mails people were known by before: folded into them; events logged under them
    aliased = rng.choice(people, max(1, people // 100), replace=False)
    store.fold_aliases("Person", [(f"old.{emails[j]}", emails[j]) for j in aliased])
    store.checkpoint()
    store.close()
    graph_seconds = time.perf_counter() - t0

    # --- the event log ---------------------------------------------------------------------
    t0 = time.perf_counter()
    window_start = np.maximum(now - started_days * DAY, now - 400 * DAY).astype(np.int64)
    window_end = np.full(c, now, dtype=np.int64)
    gone = status == "churned"
    window_end[gone] = (now - churned_days[gone] * DAY).astype(np.int64)
    paused = status == "paused"
    window_end[paused] = now - 35 * DAY
    window_start = np.minimum(window_start, window_end - DAY)
    quiet = rng.random(c) < 0.03
    confused = rng.random(c) < 0.02
    surging = rng.random(c) < 0.03
    surge_topic = rng.integers(0, len(TOPICS), c)
    by_topic = {t: np.array([k for k, ts in enumerate(content_topics) if t in ts])
                for t in range(len(TOPICS))}

    cols: dict[str, list[Any]] = {k: [] for k in ("type", "ts", "person", "anon", "account",
                                                  "url", "props")}

    def add(types: Any, ts: Any, person: Any, account: Any, urls_: Any = None,
            props: Any = None) -> None:
        n = len(ts)
        cols["type"].append(np.asarray(types, dtype=object) if not isinstance(types, str)
                            else np.full(n, types, dtype=object))
        cols["ts"].append(np.asarray(ts, dtype=np.int64))
        cols["person"].append(np.asarray(person, dtype=np.int64))
        cols["anon"].append(np.zeros(n, dtype=bool))
        cols["account"].append(np.asarray(account, dtype=np.int64))
        cols["url"].append(np.full(n, None, dtype=object) if urls_ is None
                           else np.asarray(urls_, dtype=object))
        cols["props"].append(np.full(n, "{}", dtype=object) if props is None
                             else np.asarray(props, dtype=object))

    # billing: subscriptions pay monthly; the purchase business buys when it likes
    paying = np.flatnonzero(~purchase & (status != "trial"))
    months = ((window_end[paying] - window_start[paying]) // (30 * DAY)).clip(0, 13)
    who = np.repeat(paying, months)
    k = np.concatenate([np.arange(m) for m in months]) if len(months) else np.zeros(0, int)
    ts = window_end[who] - k * 30 * DAY - DAY
    add("invoice_paid", ts, offset[who], who,
        props=[f'{{"amount": {mrr[i]:.2f}}}' for i in who])
    buyers = np.flatnonzero(purchase)
    n_buys = 1 + rng.poisson(rng.gamma(1.5, 4.0, buyers.size))
    who = np.repeat(buyers, n_buys)
    ts = rng.integers(window_start[who], window_end[who])
    ts = np.minimum(ts, now - 1)
    add("purchase", ts, offset[who] + rng.integers(0, sizes[who]), who,
        props=[f'{{"amount": {a:.2f}}}' for a in rng.lognormal(4, 0.6, who.size)])
    # sign-ups and setups of the recent accounts
    fresh = np.flatnonzero(recent)
    add("sign_up", window_start[fresh] + 600, offset[fresh], fresh)
    done = fresh[rng.random(fresh.size) < 0.65]
    setup_at = window_start[done] + (rng.exponential(5, done.size) * DAY).astype(np.int64)
    ok = setup_at < now
    add("setup_completed", setup_at[ok], offset[done[ok]], done[ok])
    # planted: export bursts in a recent week, pricing visits in the last 14 days
    for i in rng.choice(c, max(1, c // 100), replace=False):
        n = int(rng.integers(12, 40))
        week = int(rng.integers(0, 4))
        add("data_exported", now - week * 7 * DAY - rng.integers(DAY, 7 * DAY, n),
            offset[i] + rng.integers(0, sizes[i], n), np.full(n, i))
    for i in rng.choice(c, max(1, c // 50), replace=False):
        n = int(rng.integers(3, 9))
        add("page_viewed", now - rng.integers(DAY, 14 * DAY, n),
            offset[i] + rng.integers(0, sizes[i], n), np.full(n, i),
            urls_=[f"https://app.{US}/billing" if x else f"https://{US}/pricing"
                   for x in rng.random(n) < 0.5])
    so_far = sum(len(t) for t in cols["ts"])

    # product events, in sessions
    weight = rng.lognormal(0, 1.0, c) * sizes ** 0.7 * (window_end - window_start) / DAY
    weight[confused] *= 1.5
    remaining = events - so_far
    sessions = int(remaining / 7.5 * 1.05)
    acct = rng.choice(c, sessions, p=weight / weight.sum())
    person = offset[acct] + (rng.random(sessions) * sizes[acct]).astype(np.int64)
    start = rng.integers(window_start[acct], window_end[acct])
    late = quiet[acct] & (start > now - 28 * DAY) & (rng.random(sessions) < 0.9)
    start[late] -= 56 * DAY  # gone quiet: most recent sessions moved two months back
    lost = confused[acct] & (start > now - 28 * DAY) & (rng.random(sessions) < 0.3)
    length = np.where(lost, rng.integers(26, 40, sessions), 1 + rng.geometric(1 / 6.5, sessions))
    total = int(length.sum())
    if total < remaining:  # top up the last session so the count is exact
        length[-1] += remaining - total
    else:
        cut = np.searchsorted(np.cumsum(length), remaining)
        length = length[:cut + 1].copy()
        length[-1] -= int(length.sum()) - remaining
        acct, person, start, lost = acct[:cut + 1], person[:cut + 1], start[:cut + 1], \
            lost[:cut + 1]
    s = np.repeat(np.arange(len(length)), length)
    first_of = np.concatenate([[0], np.cumsum(length)[:-1]])
    position = np.arange(len(s)) - first_of[s]
    gap = np.where(lost[s], rng.integers(5, 25, len(s)), rng.exponential(70, len(s)).astype(int))
    gap[first_of] = 0
    ts = start[s] + (np.cumsum(gap) - np.cumsum(gap)[first_of][s])
    ts = np.minimum(ts, now - 1)
    names = np.array(list(TYPES), dtype=object)
    types = names[rng.choice(len(names), len(s), p=np.array(list(TYPES.values()))
                             / sum(TYPES.values()))]
    types[position == 0] = np.where(rng.random(len(first_of)) < 0.7, "login", "page_viewed")
    confused_types = np.array(["page_viewed", "search", "report_viewed"], dtype=object)
    lost_events = lost[s]
    types[lost_events] = confused_types[rng.integers(0, 3, int(lost_events.sum()))]
    props = np.full(len(s), "{}", dtype=object)
    used = types == "feature_used"
    props[used] = np.array([f'{{"feature": "{f}"}}' for f in FEATURES],
                           dtype=object)[rng.integers(0, len(FEATURES), int(used.sum()))]
    url = np.full(len(s), None, dtype=object)
    views = np.flatnonzero(types == "page_viewed")
    reading = rng.random(views.size) < 0.45
    posts = rng.integers(0, len(urls), views.size)
    hot = surging[acct[s[views]]] & (ts[views] > now - 21 * DAY) & (rng.random(views.size) < 0.7)
    for v in np.flatnonzero(hot):
        pool = by_topic[int(surge_topic[acct[s[views[v]]]])]
        if pool.size:
            posts[v] = pool[rng.integers(0, pool.size)]
            reading[v] = True
    pages = np.array([f"https://app.{US}{p}" for p in APP_PAGES] + [f"https://{US}/pricing"],
                     dtype=object)
    page_ix = rng.integers(0, len(pages) + 3, views.size).clip(0, len(pages) - 1)
    url[views] = np.where(reading, np.array(urls, dtype=object)[posts], pages[page_ix])
    add(types, ts, person[s], acct[s], urls_=url, props=props)

    everything = {k: np.concatenate(v) for k, v in cols.items()}
    n = len(everything["ts"])
    account_known = rng.random(n) < 0.75  # else credited through the person's job
    anonymous = rng.random(n) < 0.02
    order = rng.permutation(n)
    log = EventLog(directory / "events")
    batch = max(1, -(-n // 5))
    for part in range(0, n, batch):
        x = order[part:part + batch]
        j = everything["person"][x]
        keys = np.array(emails, dtype=object)[j]
        old = np.isin(j, aliased) & (x % 2 == 1)
        keys[old] = ["old." + k for k in keys[old]]
        anon = np.full(len(x), None, dtype=object)
        blind = anonymous[x]
        keys[blind] = None
        anon[blind] = [f"segment:anon-{v}" for v in x[blind]]
        accounts = np.array(domains, dtype=object)[everything["account"][x]]
        accounts[~account_known[x]] = None
        log.append([LoggedEvent(f"e{i:08d}", t, _when(at), p, a, acc, u, pr, "bench")
                    for i, t, at, p, a, acc, u, pr in zip(
                        x.tolist(), everything["type"][x].tolist(),
                        everything["ts"][x].tolist(), keys.tolist(), anon.tolist(),
                        accounts.tolist(), everything["url"][x].tolist(),
                        everything["props"][x].tolist(), strict=True)])
    log_seconds = time.perf_counter() - t0
    return {"generator": GENERATOR, "customers": c, "people": people, "events": n,
            "seed": seed, "as_of": AS_OF.isoformat(), "graph_seconds": graph_seconds,
            "log_seconds": log_seconds, "concerns": n_concerns, "reads": len(pairs),
            "knows": len(knows), "team": len(team), "competitor_people": len(rivals)}


def ensure_world(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The cached world in `directory`, generated when missing or of other sizes."""
    stamp = directory / "world.json"
    wanted = {"generator": GENERATOR, "customers": args.customers, "people": args.people,
              "events": args.events, "seed": args.seed}
    if stamp.exists():
        found: dict[str, Any] = json.loads(stamp.read_text())
        if all(found.get(k) == v for k, v in wanted.items()):
            return found
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    print(f"generating the world in {directory} …", file=sys.stderr)
    found = generate(directory, customers=args.customers, people=args.people,
                     events=args.events, seed=args.seed)
    stamp.write_text(json.dumps(found, indent=2))
    print(f"… graph {found['graph_seconds']:.0f} s, event log {found['log_seconds']:.0f} s",
          file=sys.stderr)
    return found


# --- 1. the full analysis ---------------------------------------------------------------------

def _timed_questions(store: Any, spent: dict[str, float]) -> None:
    """Record the time of each store question by name (the ACCOUNTS question inside the
    world's build, DRIFT and READING inside their signals)."""
    ask = store.ask

    def timed(question: Any, query: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return ask(question, query)
        finally:
            spent[question.name] = spent.get(question.name, 0.0) + time.perf_counter() - t0

    store.ask = timed


def full(world: Path) -> dict[str, Any]:
    from analytics.engine import Engine
    from analytics.run import CACHE_DIR, open_analysis
    from graph.memory_store import MemoryStore

    shutil.rmtree(world / CACHE_DIR, ignore_errors=True)  # a cold cache
    t0 = time.perf_counter()
    store = MemoryStore(world / "graph.sqlite")
    open_seconds = time.perf_counter() - t0
    open_rss = peak_rss_mib()
    questions: dict[str, float] = {}
    _timed_questions(store, questions)
    t0 = time.perf_counter()
    analysis = open_analysis(store, data_dir=world, as_of=AS_OF, engine=Engine.duckdb())
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("world", lambda: analysis.names()),
        ("activity", analysis.activity), ("people", analysis.people),
        ("health", analysis.health), ("anomalies", analysis.anomalies),
        ("onboarding", analysis.onboarding), ("cohorts", analysis.cohorts),
        ("count", analysis.count), ("levels", analysis.levels), ("drift", analysis.drift),
        ("surge", analysis.surge), ("outreach", analysis.outreach), ("churn", analysis.churn),
        ("clv", analysis.clv), ("timeline", lambda: analysis.timeline(US)),
        ("save", analysis.save)]
    seconds: dict[str, float] = {"open_analysis": time.perf_counter() - t0}
    sizes: dict[str, int] = {}
    for name, step in steps:
        t0 = time.perf_counter()
        result = step()
        seconds[name] = time.perf_counter() - t0
        if isinstance(result, list | dict):
            sizes[name] = len(result)
    accounts = questions.get("accounts", 0.0)
    seconds["world: ACCOUNTS question"] = accounts
    seconds["world: resolving the log"] = seconds["world"] - accounts
    churn = analysis.churn()
    outreach = analysis.outreach()
    cache = sorted((world / CACHE_DIR).glob("*.pickle"))
    store.close()
    return {"seconds": seconds, "questions": questions, "open_store_seconds": open_seconds,
            "open_store_rss_mib": open_rss, "peak_rss_mib": peak_rss_mib(), "sizes": sizes,
            "accounts": len(analysis.world.accounts), "churn_auc": churn.auc,
            "outreach": len(outreach), "cache_mib": sum(p.stat().st_size for p in cache) / 2**20}


# --- 2. a card from the cache -----------------------------------------------------------------

def card(world: Path, calls: int) -> dict[str, Any]:
    import random

    from analytics.engine import Engine
    from analytics.run import open_analysis
    from graph.memory_store import MemoryStore

    t0 = time.perf_counter()
    store = MemoryStore(world / "graph.sqlite")
    open_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    analysis = open_analysis(store, data_dir=world, as_of=AS_OF, engine=Engine.duckdb())
    opened = time.perf_counter() - t0
    ids = sorted(analysis.names())
    pick = random.Random(5)
    t0 = time.perf_counter()
    first_card = analysis.card(ids[0])
    first = time.perf_counter() - t0
    times = []
    for cid in (pick.choice(ids) for _ in range(calls)):
        t0 = time.perf_counter()
        found = analysis.card(cid)
        times.append(time.perf_counter() - t0)
        assert found is not None and found.customer_id == cid
    built = analysis._world is not None  # noqa: SLF001 - what the check is about
    store.close()
    return {"open_store_seconds": open_seconds, "open_cache_seconds": opened,
            "first_card_seconds": first, "first_with_open_seconds": opened + first,
            "median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * sorted(times)[
                int(0.95 * (len(times) - 1))], "calls": calls, "world_built": built,
            "timeline": len(first_card.timeline) if first_card else 0,
            "peak_rss_mib": peak_rss_mib()}


# --- 3. the floor -----------------------------------------------------------------------------

def floor(world: Path) -> dict[str, Any]:
    import duckdb

    parts = sorted(str(p) for p in (world / "events").glob("part-*.parquet"))
    con = duckdb.connect()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        rows = con.execute("SELECT account, count(*) FROM read_parquet($parts) "
                           "GROUP BY account", {"parts": parts}).fetchall()
        times.append(time.perf_counter() - t0)
    total = con.execute("SELECT count(*) FROM read_parquet($parts)",
                        {"parts": parts}).fetchone()
    return {"seconds": statistics.median(times), "groups": len(rows),
            "events": int(total[0]) if total else 0, "parts": len(parts),
            "log_mib": sum(Path(p).stat().st_size for p in parts) / 2**20,
            "peak_rss_mib": peak_rss_mib()}


# --- running and reporting --------------------------------------------------------------------

def child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "child", *args], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


SIGNALS = ("activity", "people", "health", "anomalies", "onboarding", "cohorts", "count",
           "levels", "drift", "surge", "outreach", "churn", "clv", "timeline", "save")


def report(results: dict[str, Any]) -> str:
    m, w = results["machine"], results["world"]
    fulls, cards, floors = results["full"], results["card"], results["floor"]

    def med(runs: list[dict[str, Any]], *path: str) -> float:
        values = []
        for r in runs:
            v: Any = r
            for p in path:
                v = v[p]
            values.append(float(v))
        return statistics.median(values)

    steps = ["world: ACCOUNTS question", "world: resolving the log", *SIGNALS]
    times = {s: med(fulls, "seconds", s) for s in steps}
    total = sum(times.values())
    run_totals = [sum(run["seconds"][s] for s in steps) for run in fulls]
    signal_times = {s: times[s] for s in SIGNALS if s != "save"}
    slowest_step = max(times, key=lambda s: times[s])
    slowest = max(signal_times, key=lambda s: signal_times[s])
    rss = med(fulls, "peak_rss_mib")
    floor_s = med(floors, "seconds")
    card_ms = med(cards, "median_ms")
    built = any(c["world_built"] for c in cards)
    lines = [
        f"Measured {results['date']} on {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('memory_gib', '?')} GiB, Python {m.get('python', '?')}; medians of "
        f"{len(fulls)} runs, each in its own process.", "",
        f"World: {w['customers']:,} customers (B2B companies), {w['people']:,} people at them, "
        f"{w['team']} on our team, {w['competitor_people']:,} at 15 competitors, "
        f"{w['knows']:,} KNOWS, {w['concerns']:,} concerns, {w['reads']:,} READ; "
        f"{w['events']:,} events in {floors[0]['parts']} Parquet parts "
        f"({floors[0]['log_mib']:,.0f} MiB), as of {w['as_of'][:10]}.", "",
        "| step | seconds | share |", "|---|---:|---:|"]
    for s in steps:
        lines.append(f"| {s} | {times[s]:.2f} | {times[s] / total:.0%} |")
    lines += [
        f"| **total (full analysis, cold cache)** | **{total:.2f}** | 100% |", "",
        f"- Full analysis: **{total:.1f} s** against the 20 s goal "
        f"({'met' if total < GOAL_SECONDS else 'NOT met'}); the slowest step is "
        f"{slowest_step} ({times[slowest_step]:.2f} s), the slowest signal {slowest} "
        f"({times[slowest]:.2f} s). The runs' totals: "
        + ", ".join(f"{t:.1f}" for t in run_totals) + " s"
        + (" (not every run is under the goal: the machine is noisy)"
           if max(run_totals) >= GOAL_SECONDS else "") + ".",
        f"- Peak RSS: **{rss:,.0f} MiB** against 2 GiB "
        f"({'met' if rss < GOAL_RSS_MIB else 'NOT met'}); "
        f"{med(fulls, 'open_store_rss_mib'):,.0f} MiB of it is the opened store.",
        f"- Opening the store (graph.sqlite into memory, before the analysis, not in the "
        f"total): {med(fulls, 'open_store_seconds'):.1f} s.",
        f"- A customer's card from the cache: **{card_ms:.2f} ms** median of "
        f"{cards[0]['calls']} calls (p95 {med(cards, 'p95_ms'):.2f} ms) against 20 ms "
        f"({'met' if card_ms < GOAL_CARD_MS else 'NOT met'}); the world was "
        f"{'BUILT (the cache missed)' if built else 'never built'}. The first card, "
        f"opening the analysis (reading the {med(fulls, 'cache_mib'):,.0f} MiB cache) "
        f"included: {med(cards, 'first_with_open_seconds'):.2f} s; peak RSS of that process "
        f"{med(cards, 'peak_rss_mib'):,.0f} MiB.",
        f"- Floor: DuckDB's plain `SELECT account, count(*) … GROUP BY account` over the "
        f"same parts: {floor_s:.3f} s; the full analysis is {total / floor_s:,.0f}x it.",
    ]
    return "\n".join(lines)


SECTION = """## Analytics (`bench/analytics.py`, `make bench`)

The goal: on this 2-core machine, the full customer-success analysis (analytics/run.py: the
world — the ACCOUNTS question and the event log resolved to people and accounts as they are
now — then every signal, the churn model fitted, CLV and today's outreach list) over 10k
customers, 100k people and 5M events in under 20 s from a cold cache, with a peak RSS under
2 GiB; one customer's card from the cache in under 20 ms. The world is generated once (seeded)
and reused: see the script's docstring for its shape. Each measurement runs in its own process.

{begin}
{figures}
{end}
"""


def write_docs(figures: str) -> None:
    write_section(DOCS, begin=BEGIN, end=END, figures=figures, section=SECTION)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        kind, where, *rest = sys.argv[2:]
        world = Path(where)
        result = (full(world) if kind == "full" else card(world, int(rest[0]))
                  if kind == "card" else floor(world))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path,
                        default=Path(tempfile.gettempdir()) / "relgraph-bench-analytics",
                        help="where the generated world is kept between runs")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    world = ensure_world(args.world, args)
    results: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d"),
                               "world": world, "full": [], "card": [], "floor": []}
    for _ in range(args.runs):
        run = child("full", str(args.world))
        spent = sum(v for k, v in run["seconds"].items() if k in SIGNALS or k == "world")
        print(f"full analysis: {spent:.1f} s, peak RSS {run['peak_rss_mib']:,.0f} MiB",
              file=sys.stderr)
        results["full"].append(run)
        shown = child("card", str(args.world), str(args.cards))
        print(f"card: {shown['median_ms']:.2f} ms median, world built: "
              f"{shown['world_built']}", file=sys.stderr)
        results["card"].append(shown)
        results["floor"].append(child("floor", str(args.world)))
    figures = report(results)
    print(figures)
    if os.environ.get("RELGRAPH_BENCH_JSON"):
        Path(os.environ["RELGRAPH_BENCH_JSON"]).write_text(json.dumps(results, indent=2))
    if args.write_docs:
        write_docs(figures)


if __name__ == "__main__":
    main()
