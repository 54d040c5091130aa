"""A seeded, realistic world at any scale, written as the export files the connectors read.

    relgraph demo world OUT_DIR [--companies N] [--seed S] [--as-of WHEN]

The world is a B2B analytics vendor, Lumen Metrics (lumenmetrics.com), its team, and the
companies around it: customers (some churned), prospects and three competitors. What it writes,
each file in the layout its tool exports (the same layouts as fixtures/, never shaped for our
readers):

- `team.csv` — our team (e-mail, name, title), for `relgraph team add`;
- `catalog.csv` — our content catalogue; `site/blog.xml` — our own blog's RSS feed;
- `linkedin/<member>/Connections.csv` — each team member's connections, with LinkedIn's
  "Notes:" preamble, newest first, `12 Oct 2025` dates, many without an e-mail;
- `hubspot/hubspot-crm-exports-all-contacts-<day>.csv` twice, two months apart (the default
  view's columns, rows unsorted): between them people change jobs (a new company and a new
  e-mail under the same Record ID) and are promoted; and the companies export;
- `salesforce/report<epoch ms>.csv` — an accounts report and a contacts report of our
  customers and open opportunities, each at two moments, with the report footer; movers too;
- `segment/segment-export-<part>.jsonl` — the product's analytics.js and server events as a
  warehouse dump in parts (identify, group, track, page), in no useful order; anonymous visits
  stitched by a later identify;
- `billing/subscriptions.csv` — Stripe's subscriptions export (plan, amount, status, start,
  current period end, canceled at) and `billing/subscriptions.toml`, its `--mapping`;
- `billing/payments.csv` — card payments of the self-serve Solo plan (people, not companies);
- `network/contacts-graph.jsonl` — who knows whom among those people beyond our team (a
  relationship-intelligence enrichment, in relgraph's graph JSON Lines): colleagues, former
  colleagues, regional peers and ties to competitors' people, in communities drawn with
  networkx's generators (demoworld/network.py);
- `zendesk/tickets.csv` — Zendesk's ticket export: new, open, pending, solved and closed;
- `notes/call-notes.csv` — the team's call notes; `competitors.txt`;
- `newsletter/mailchimp-activity.csv` — clicks and opens of the weekly roundup;
- `crunchbase/funding-rounds.csv` — Crunchbase's funding-rounds export;
- `news/google-alerts.xml` — a Google Alerts Atom feed of company headlines;
- `calendar/<member>.ics` — each account manager's calendar (recurring QBRs, a cancelled
  meeting, a declined one, a webinar too big to count);
- `mail/<member>.mbox` — a Gmail Takeout mailbox (with automated mail the reader skips);
- `analytics.toml` — the seasonal accounts' quiet months, for `relgraph analyze --config`;
- `manifest.toml` — every load in order (`relgraph load --manifest`), and `world.json` — the
  seed, sizes, the people behind each planted signal, and the relationships the loads make.

Usage carries the cases the analytics look for, each planted in named accounts (world.json
lists them): export bursts before churn, repeated pricing visits, confused clicking, accounts
gone quiet, seasonal accounts in their quiet months, onboarding stalled after sign-up, new
sign-ups, churned accounts, reading surges on a topic, and competitor drift (people at a
customer connecting with a competitor's people).

Everything is a function of (seed, companies, as_of): the same arguments write the same bytes.
Files are written row by row, never held whole in memory.
"""

from __future__ import annotations

import csv
import json
import math
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from demoworld.network import PATH as NETWORK
from demoworld.network import write_network

US_NAME, US = "Lumen Metrics", "lumenmetrics.com"
SITE = f"https://www.{US}"
APP = f"https://app.{US}"
TEAM = [("Maya", "Chen", "Customer Success Lead", "emea"),
        ("Tom", "Berg", "Account Executive", "amer"),
        ("Priya", "Raman", "Customer Success Manager", "apac"),
        ("Jonas", "Weber", "Solutions Engineer", "emea"),
        ("Kwame", "Mensah", "VP Sales", "amer"),
        ("Ines", "Duarte", "Head of Marketing", "emea")]
MANAGERS = 4  # the first four own accounts (CRM owner, calendar, mailbox)

FIRST = ["Ada", "Raj", "Grace", "Linus", "Mei", "Omar", "Sofia", "Ken", "Amara", "Lars", "Priyanka",
         "Diego", "Hana", "Yusuf", "Chloé", "Ivan", "Nia", "Tomás", "Aiko", "Felix", "Zara",
         "Pablo", "Elif", "Sven", "Leila", "Marco", "Inès", "Kofi", "Anya", "Noah", "Zoë", "Ben",
         "Fay", "Gus", "Carla", "Dan", "Eve", "Li", "Mateo", "Olga", "Ravi", "Sara", "Tariq",
         "Uma", "Viktor", "Wen", "Yara", "Zeynep", "Björn", "Łukasz", "Siobhán", "José", "Aroha",
         "Emeka", "Farah", "Gil", "Hiro", "Iris", "Jamal", "Kirsten", "Lucía", "Magnus", "Nadia"]
LAST = ["Lovelace", "Patel", "Hopper", "Berg", "Okafor", "Haddad", "Rossi", "Tanaka", "Larsen",
        "Singh", "Garcia", "Kim", "Demir", "Martin", "Petrov", "Mensah", "Novak", "Sato", "Weber",
        "Ali", "Lopez", "Yilmaz", "Nilsson", "Karimi", "Bianchi", "Silva", "Owusu", "Ivanova",
        "Fischer", "O'Brien", "Brandt", "Wei", "Ngata", "Lindqvist", "Diaz", "Moss", "Marsh",
        "Kowalski", "Dubois", "Nakamura", "Andersen", "Costa", "Murphy", "Schmidt", "Varga",
        "Horvath", "Müller", "Núñez", "Takahashi", "Adeyemi", "Rahman", "Kaur", "Jensen"]
PREFIX = ["Bright", "North", "Blue", "Iron", "Silver", "Quantum", "Harbor", "Cedar", "Summit",
          "Pioneer", "Atlas", "Nimbus", "Vertex", "Coral", "Granite", "Maple", "Orbit", "Polar",
          "Echo", "Juniper", "Copper", "Falcon", "Lantern", "Meridian", "Oak", "Prism", "Redwood",
          "Sable", "Tidal", "Willow", "Amber", "Beacon", "Crimson", "Delta", "Ember", "Fjord",
          "Golden", "Helix", "Indigo", "Kestrel"]
SUFFIX = ["wave", "field", "stone", "works", "labs", "logic", "point", "bridge", "forge", "soft",
          "metrics", "grid", "scale", "path", "byte", "cloud", "ly", "hub", "stack", "line"]
FORMS = ["", " Inc.", " GmbH", " Ltd", " Systems", " Group", " Technologies", " AG"]
TLDS = [".com", ".io", ".co", ".de", ".co.uk", ".ai"]
INDUSTRIES = ["Software", "Logistics", "Retail", "Healthcare", "Financial Services",
              "Manufacturing", "Education", "Media"]
PLACES = {"emea": [("London", "United Kingdom"), ("Berlin", "Germany"), ("Paris", "France"),
                   ("Amsterdam", "Netherlands"), ("Lisbon", "Portugal"), ("Stockholm", "Sweden"),
                   ("Dublin", "Ireland"), ("Warsaw", "Poland")],
          "amer": [("New York", "United States"), ("Austin", "United States"),
                   ("San Francisco", "United States"), ("Toronto", "Canada"),
                   ("Chicago", "United States"), ("São Paulo", "Brazil")],
          "apac": [("Singapore", "Singapore"), ("Sydney", "Australia"), ("Tokyo", "Japan"),
                   ("Bengaluru", "India"), ("Auckland", "New Zealand")]}
TITLES = ["Analyst", "Engineer", "Account Manager", "Product Manager", "Data Scientist",
          "Operations Manager", "Marketing Manager", "Support Specialist", "Consultant",
          "Developer", "Sales Representative", "Designer"]
SENIOR = ["CEO", "CTO", "VP Customer Success", "Head of Data", "Director of Operations",
          "Chief Revenue Officer", "VP Engineering", "Head of Analytics"]
PLANS = [("Starter", 49), ("Growth", 199), ("Business", 799), ("Enterprise", 2500)]
COMPETITORS = [("Dashly Analytics", "dashly.io"), ("Metricwise", "metricwise.com"),
               ("Chartroom", "chartroom.co")]
KEY_FEATURES = ["report_created", "dashboard_shared", "integration_connected", "invite_sent"]
FEATURES = ["editor", "filters", "alerts", "comments", "api", "scheduled_reports", "segments"]

# What happens to an account, and how often (the rest of the customers are healthy).
PATTERNS = [("export_burst", 0.06), ("pricing", 0.08), ("confused", 0.05), ("quiet", 0.08),
            ("seasonal", 0.04), ("stalled", 0.06), ("new", 0.05), ("surge", 0.06)]
SEASONAL_SEGMENT = "seasonal-retail"

# The content catalogue: (slug, title, kind as our CMS writes it, topics, summary).
CONTENT = [
    ("papers/crm-data-playbook", "The CRM data playbook", "White Paper", "CRM; Customer health",
     "What to record in the CRM so health scores stay honest."),
    ("papers/churn-benchmarks-2026", "Churn benchmarks 2026", "White Paper", "Churn; Retention",
     "Logo and revenue churn across 400 B2B SaaS companies."),
    ("papers/onboarding-that-sticks", "Onboarding that sticks", "eBook", "Onboarding; Adoption",
     "The first 30 days of a customer, week by week."),
    ("papers/pricing-page-teardown", "Twelve pricing pages, torn down", "White Paper",
     "Pricing", "What the best pricing pages tell a buyer in five seconds."),
    ("webinars/health-scores-live", "Health scores, live", "Webinar", "Customer health; NPS",
     "A working session on building a health score from usage."),
    ("webinars/renewal-season", "Getting ready for renewal season", "Webinar",
     "Renewal; Contracts", "Ninety days before the renewal date, what to do."),
    ("customers/northbridge-case-study", "How a logistics team cut churn by a third",
     "Case Study", "Churn; Customer success", "Usage alerts and a weekly outreach list."),
    ("customers/retail-dashboards", "Dashboards for seasonal retail", "Case Study",
     "Reporting; Product usage", "Planning for the busy quarter with shared dashboards."),
    ("docs/integrations-salesforce", "Connecting Salesforce", "Article", "Integration; CRM",
     "Sync accounts and contacts both ways."),
    ("docs/sso-setup", "Setting up SSO", "Article", "Security", "SAML and SCIM, step by step."),
]
BLOG = [
    ("crm-hygiene", "Five habits of teams with a clean CRM", "CRM"),
    ("quiet-accounts", "The quiet account is the one that leaves", "Churn|Product usage"),
    ("export-before-exit", "Why exports spike before a customer leaves", "Churn"),
    ("first-value", "Time to first value, measured", "Onboarding|Adoption"),
    ("nrr-explained", "Net revenue retention without the jargon", "Retention"),
    ("qbr-agenda", "A QBR agenda customers want to attend", "Customer success"),
    ("pricing-signals", "Reading pricing-page visits", "Pricing"),
    ("champions-move", "When your champion changes jobs", "Champions"),
    ("expansion-plays", "Three expansion plays for mid-market accounts", "Expansion"),
    ("support-to-success", "From support tickets to success plans", "Customer support"),
    ("security-reviews", "Surviving the security review", "Security"),
    ("health-score-lies", "When the health score lies", "Customer health"),
    ("seasonal-saas", "Selling to seasonal businesses", "Retention"),
    ("dashboards-people-use", "Dashboards people actually open", "Reporting"),
]

TICKETS = {  # (subject, description, tags): the concerns a pattern raises
    "export_burst": [("Bulk export of all reports", "We need every report and raw table "
                      "exported before the end of our term.", "export data_export"),
                     ("Considering alternatives at renewal", "Leadership asked us to review "
                      "other vendors before we renew; we may not renew.", "churn renewal")],
    "pricing": [("Price increase on renewal", "The new pricing is too expensive for us; we are "
                 "looking at cheaper plans.", "pricing renewal"),
                ("Invoice shows more seats than we use", "Our invoice charges 40 seats, we use "
                 "25.", "billing invoice")],
    "confused": [("Cannot find how to share a dashboard", "The sharing button does nothing and "
                  "the docs are unclear.", "onboarding how_to"),
                 ("Reports page keeps loading", "The reports page spins forever since Monday.",
                  "bug performance")],
    "quiet": [("Our admin left", "The person who set this up left the company; nobody knows the "
               "dashboards.", "champion admin")],
    "stalled": [("Help connecting our warehouse", "The Snowflake integration fails with a "
                 "permissions error during setup.", "onboarding integration")],
    "any": [("SSO with Okta", "How do we enforce SSO for every user?", "security sso"),
            ("Scheduled report did not arrive", "The Monday report did not arrive this week.",
             "bug reports"),
            ("Add a Salesforce sync", "We want accounts synced from Salesforce.",
             "integration salesforce"),
            ("Feature request: dark mode", "Our analysts work late; a dark theme please.",
             "feature_request")],
}
NOTES = {
    "pricing": "Said the renewal quote is too expensive and asked about a discount for two years.",
    "export_burst": "Champion is leaving; the new VP wants to consolidate tools. Renewal at risk.",
    "quiet": "Hard to reach; usage dropped after their admin left. Need a new champion.",
    "confused": "Team struggles with onboarding; asked for training on dashboards.",
    "healthy": "Happy with reporting; interested in the API and an expansion to the EMEA team.",
    "surge": "Evaluating churn analytics for their own customers; asked for the churn benchmarks.",
}
NEWS = [  # headline templates the news reader classifies, and some it must not
    ("leadership", "{c} appoints {p} as Chief Revenue Officer"),
    ("hiring", "{c} to hire 300 engineers as it expands in Europe"),
    ("expansion", "{c} opens new office in Singapore"),
    ("acquisition", "{c} acquires {o}"),
    ("layoffs", "{c} lays off 120 as growth slows"),
    ("noise", "Why {c} thinks dashboards are dead"),
    ("noise", "{c} raises prices for enterprise customers"),
]
ROUNDS = [("Seed", 3_000_000), ("Series A", 12_000_000), ("Series B", 35_000_000),
          ("Series C", 80_000_000)]
INVESTORS = ["Index Ventures", "Accel", "Point Nine", "Balderton", "Sequoia", "LocalGlobe",
             "Northzone", "Atomico"]
LINKEDIN_NOTES = (
    'Notes:\n"When exporting your connection data, you may notice that some of the email '
    "addresses are missing. You will only see email addresses for connections who have allowed "
    "their connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. You can learn more about why we made this "
    'change here: https://www.linkedin.com/help/linkedin/answer/a1339364/downloading-your-account-'
    'data"\n\n')
HUBSPOT_CONTACTS = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
                    "Contact owner", "Company Name", "Job Title", "Lifecycle Stage",
                    "Create Date", "Last Activity Date"]
HUBSPOT_COMPANIES = ["Record ID", "Company name", "Company Domain Name", "Industry",
                     "Number of Employees", "Type", "Lifecycle Stage", "Country/Region",
                     "City", "Create Date", "Last Modified Date"]
SF_ACCOUNTS = ["Account Owner", "Account Name", "Type", "Industry", "Website", "Employees",
               "Annual Revenue", "Billing Country", "Account ID", "Last Modified Date"]
SF_CONTACTS = ["Contact Owner", "First Name", "Last Name", "Title", "Account Name",
               "Account Type", "Email", "Phone", "Mailing City", "Mailing Country",
               "Contact ID", "Account ID", "Last Modified Date"]
STRIPE = ["id", "Customer ID", "Customer Description", "Customer Email", "Plan", "Product",
          "Quantity", "Interval", "Amount", "Currency", "Status", "Created (UTC)",
          "Start (UTC)", "Current Period Start (UTC)", "Current Period End (UTC)",
          "Trial Start (UTC)", "Trial End (UTC)", "Canceled At (UTC)", "Cancel At Period End",
          "Ended At (UTC)", "segment (metadata)"]
ZENDESK = ["Summation column", "Id", "Requester", "Requester id", "Requester external id",
           "Requester email", "Requester domain", "Submitter", "Assignee", "Group", "Subject",
           "Description", "Tags", "Status", "Priority", "Via", "Ticket type", "Created at",
           "Updated at", "Assigned at", "Organization", "Due date", "Initially assigned at",
           "Solved at", "Resolution time", "Satisfaction Score"]
CRUNCHBASE = ["Transaction Name", "Transaction Name URL", "Organization Name",
              "Organization Name URL", "Funding Type", "Money Raised", "Money Raised Currency",
              "Money Raised Currency (in USD)", "Announced Date", "Funding Stage",
              "Number of Investors", "Lead Investors", "Investor Names",
              "Organization Description", "Organization Industries", "Organization Location",
              "Organization Website"]
SF_FOOTER = ['""', '""', '"{title}"',
             '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
             '"Confidential Information - Do Not Distribute"',
             '"Generated By:  Kwame Mensah  {when}"', f'"{US_NAME}"']
DAY = timedelta(days=1)
WEEKS = 26  # the product history every account gets (seasonal ones get a year)


# --- the world's people and companies -----------------------------------------------------------

@dataclass
class Job:
    company: int
    title: str
    email: str
    since: datetime


@dataclass
class Person:
    index: int
    first: str
    last: str
    jobs: list[Job]  # oldest first; the last is current
    city: str
    country: str
    phone: str
    slug: str  # LinkedIn profile
    user: bool = False  # a product user (Segment)
    share_email: bool = True  # lets connections download the e-mail on LinkedIn
    moved: str | None = None  # "hubspot" / "salesforce": changed jobs between two snapshots
    paid: tuple[datetime, datetime] | None = None  # a Solo buyer's first and last payment

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def job(self) -> Job:
        return self.jobs[-1]

    def job_at(self, moment: datetime) -> Job:
        current = self.jobs[0]
        for job in self.jobs:
            if job.since <= moment:
                current = job
        return current


@dataclass
class Company:
    index: int
    name: str
    domain: str
    industry: str
    region: str
    city: str
    country: str
    employees: int
    kind: str  # customer, churned, prospect, competitor
    pattern: str = "healthy"
    owner: int = 0  # the team member who owns the account
    plan: str = ""
    mrr: int = 0
    seats: int = 0
    started: datetime | None = None
    canceled: datetime | None = None
    people: list[int] = field(default_factory=list)
    created: datetime | None = None

    @property
    def customer(self) -> bool:
        return self.kind in ("customer", "churned")


@dataclass
class World:
    seed: int
    as_of: datetime
    companies: list[Company]
    people: list[Person]
    team: list[tuple[str, str, str, str]]  # email, name, title, region
    solo: list[Person]  # self-serve Solo plan buyers (B2C)
    counts: dict[str, int] = field(default_factory=dict)  # rows written, per file
    relationships: dict[str, int] = field(default_factory=dict)  # expected, per type

    def add_rels(self, kind: str, n: int = 1) -> None:
        self.relationships[kind] = self.relationships.get(kind, 0) + n


_VARIANTS = ['North', 'Global', 'Digital', 'Labs', 'One']


def _company_names(rng: random.Random, n: int) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    combos = [(p, s) for p in PREFIX for s in SUFFIX]
    rng.shuffle(combos)
    round_ = 0
    while True:
        for p, s in combos:
            base = p + s
            label = base if round_ == 0 else f"{base} {_VARIANTS[round_ % 5]}" + (
                "" if round_ < 5 else f" {round_ // 5 + 1}")
            slug = label.lower().replace(" ", "")
            tld = TLDS[(len(slug) + round_) % len(TLDS)]
            domain = slug + tld
            if domain in seen:
                continue
            seen.add(domain)
            yield (label + FORMS[rng.randrange(len(FORMS))]) if round_ == 0 else label, domain
            n -= 1
            if n == 0:
                return
        round_ += 1


def build(companies: int, seed: int, as_of: datetime) -> World:
    """The world's companies and people (small: a few hundred bytes a person)."""
    rng = random.Random(seed)
    team = [(f"{f.lower()}@{US}", f"{f} {last}", title, region)
            for f, last, title, region in TEAM]
    out: list[Company] = []
    names = _company_names(rng, companies)
    n_comp = len(COMPETITORS)
    for i in range(companies):
        if i < n_comp:
            name, domain = COMPETITORS[i]
            kind = "competitor"
        else:
            name, domain = next(names)
            r = rng.random()
            kind = "customer" if r < 0.55 else "churned" if r < 0.63 else "prospect"
        region = rng.choice(["emea", "emea", "amer", "amer", "apac"])
        city, country = rng.choice(PLACES[region])
        employees = int(math.exp(rng.uniform(math.log(12), math.log(4000))))
        c = Company(i, name, domain, rng.choice(INDUSTRIES), region, city, country, employees,
                    kind, owner=_owner(rng, region))
        c.created = as_of - timedelta(days=rng.uniform(200, 900))
        if c.customer:
            plan, price = PLANS[min(3, int(math.log10(employees) * 1.3) - 1 + rng.randrange(2))
                                if employees > 20 else 0]
            c.plan, c.seats = plan, max(3, employees // rng.choice([8, 12, 20]))
            c.mrr = price * (1 + c.seats // 25)
            c.started = as_of - timedelta(days=rng.uniform(120, 720))
            if kind == "churned":
                c.canceled = as_of - timedelta(days=rng.uniform(20, 150))
                c.started = min(c.started, c.canceled - timedelta(days=90))
            else:
                c.pattern = _pattern(rng)
                if c.pattern in ("stalled", "new"):
                    c.started = as_of - timedelta(days=rng.uniform(16, 40) if c.pattern ==
                                                   "stalled" else rng.uniform(1, 6))
                    c.created = min(c.created, c.started - timedelta(days=30))
        out.append(c)
    people: list[Person] = []
    emails: set[str] = set()
    for c in out:
        size = max(2, min(14, int(rng.lognormvariate(1.6, 0.5))))
        for k in range(size):
            p = _person(rng, len(people), c, emails, senior=k == 0, as_of=as_of)
            p.user = c.customer and (k < max(2, min(8, c.seats // 2)))
            people.append(p)
            c.people.append(p.index)
    _careers(rng, out, people, emails, as_of)
    solo = [_solo(rng, len(people) + i, emails) for i in range(max(2, companies // 12))]
    for p in solo:
        p.paid = _solo_months(rng, as_of)
    return World(seed, as_of, out, people, team, solo)


def _owner(rng: random.Random, region: str) -> int:
    by_region = [i for i in range(MANAGERS) if TEAM[i][3] == region]
    return rng.choice(by_region or list(range(MANAGERS)))


def _pattern(rng: random.Random) -> str:
    r = rng.random()
    for name, share in PATTERNS:
        if r < share:
            return name
        r -= share
    return "healthy"


def _email(first: str, last: str, domain: str, emails: set[str], rng: random.Random) -> str:
    f = _ascii(first).lower()
    surname = _ascii(last).lower().replace("'", "")
    for local in (f"{f}.{surname}", f"{f[0]}{surname}", f"{f}",
                  f"{f}.{surname}{rng.randrange(10, 99)}"):
        email = f"{local}@{domain}"
        if email not in emails:
            emails.add(email)
            return email
    n = 2
    while f"{f}.{surname}{n}@{domain}" in emails:
        n += 1
    emails.add(f"{f}.{surname}{n}@{domain}")
    return f"{f}.{surname}{n}@{domain}"


_FOLD = str.maketrans("éèëêáàãâíïóöôõúüñçøåäłšžýğıșțœæ", "eeeeaaaaiioooouuncoaalszygistoa")


def _ascii(text: str) -> str:
    return text.translate(_FOLD).translate(str.maketrans("ÉÖÜÅÄŁØ", "EOUAALO"))


def _person(rng: random.Random, index: int, c: Company, emails: set[str], *, senior: bool,
            as_of: datetime) -> Person:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    title = rng.choice(SENIOR) if senior else rng.choice(TITLES)
    since = as_of - timedelta(days=rng.uniform(60, 2000))
    job = Job(c.index, title, _email(first, last, c.domain, emails, rng), since)
    surname = _ascii(last).lower().replace("'", "")
    slug = f"{_ascii(first).lower()}-{surname}-{rng.getrandbits(24):06x}"
    prefix = rng.choice(["44 20", "49 30", "1 415", "1 512", "65 6"])
    phone = f"+{prefix} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    city, country = (c.city, c.country) if rng.random() < 0.8 else rng.choice(PLACES[c.region])
    return Person(index, first, last, [job], city, country, phone, slug,
                  share_email=rng.random() < 0.45)


def _careers(rng: random.Random, companies: list[Company], people: list[Person],
             emails: set[str], as_of: datetime) -> None:
    """Job histories: a past job at another company for some, and movers between the CRM
    snapshots (a champion who leaves a customer for a prospect is the classic warm lead)."""
    others = [c for c in companies if c.kind != "competitor"]
    for p in people:
        current = p.job
        if rng.random() < 0.25:  # worked somewhere we know before
            before = rng.choice(others)
            if before.index != current.company:
                start = current.since - timedelta(days=rng.uniform(300, 1500))
                p.jobs.insert(0, Job(before.index, rng.choice(TITLES),
                                     _email(p.first, p.last, before.domain, emails, rng), start))
        if rng.random() < 0.04 and len(others) > 1:  # moves between the two snapshots
            target = rng.choice(others)
            if target.index != current.company:
                p.moved = "hubspot" if rng.random() < 0.6 else "salesforce"
                when = as_of - timedelta(days=rng.uniform(8, 50))
                title = rng.choice(SENIOR) if rng.random() < 0.4 else current.title
                p.jobs.append(Job(target.index, title,
                                  _email(p.first, p.last, target.domain, emails, rng), when))
                companies[target.index].people.append(p.index)


def _solo(rng: random.Random, index: int, emails: set[str]) -> Person:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = rng.choice(["gmail.com", "outlook.com", "proton.me", "icloud.com"])
    job = Job(-1, "Freelance analyst", _email(first, last, domain, emails, rng), datetime.min)
    return Person(index, first, last, [job], "", "", "", f"{first.lower()}-{index}")


def _solo_months(rng: random.Random, as_of: datetime) -> tuple[datetime, datetime]:
    """A Solo buyer's first and last monthly payment: some stopped paying (5% a month)."""
    start = last = as_of - timedelta(days=rng.uniform(40, 400))
    while last + timedelta(days=30) < as_of and rng.random() >= 0.05:
        last += timedelta(days=30)
    return start, last


# --- writing ---------------------------------------------------------------------------------

def _csv_writer(f: TextIO, *, crlf: bool = False, quote_all: bool = False) -> Any:
    return csv.writer(f, lineterminator="\r\n" if crlf else "\n",
                      quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)


def _open(path: Path, **kw: Any) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding=kw.pop("encoding", "utf-8"), newline="")


def _iso(at: datetime) -> str:
    """Segment's timestamp: UTC, milliseconds, `Z` (isoformat: strftime is twice as slow)."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="milliseconds")[:-6] + "Z"


def _hub(at: datetime) -> str:  # HubSpot: the portal's zone (Europe/London), no offset
    return at.astimezone(_LONDON).strftime("%Y-%m-%d %H:%M")


def _us(at: datetime) -> str:  # a US-locale Salesforce user: 3/15/2026 10:02 AM (UTC user)
    h = at.hour % 12 or 12
    return f"{at.month}/{at.day}/{at.year} {h}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def _linkedin_day(at: datetime) -> str:
    return at.strftime("%d %b %Y")


try:
    from zoneinfo import ZoneInfo
    _LONDON: Any = ZoneInfo("Europe/London")
except Exception:  # noqa: BLE001 - no tz database: London is UTC for the demo
    _LONDON = UTC


def write_team(world: World, out: Path) -> None:
    with _open(out / "team.csv") as f:
        w = _csv_writer(f)
        w.writerow(["email", "name", "title"])
        for email, name, title, _ in world.team:
            w.writerow([email, name, title])
    world.counts["team.csv"] = len(world.team)
    world.add_rels("WORKS_AT", len(world.team))


def content_urls() -> list[str]:
    return [f"{SITE}/{slug}" for slug, *_ in CONTENT] + [f"{SITE}/blog/{slug}" for slug, *_ in BLOG]


def write_catalog(world: World, out: Path) -> None:
    with _open(out / "catalog.csv") as f:
        w = _csv_writer(f)
        w.writerow(["URL", "Title", "Type", "Tags", "Published", "Author", "Description"])
        for k, (slug, title, kind, topics, summary) in enumerate(CONTENT):
            published = world.as_of - timedelta(days=20 + 37 * k)
            w.writerow([f"{SITE}/{slug}", title, kind, topics, published.date().isoformat(),
                        world.team[k % len(world.team)][1], summary])
    world.counts["catalog.csv"] = len(CONTENT)
    world.add_rels("ABOUT", sum(len(c[3].split(";")) for c in CONTENT))
    items = []
    for k, (slug, title, topics) in enumerate(BLOG):
        at = world.as_of - timedelta(days=3 + 9 * k, hours=k)
        cats = "".join(f"\n      <category>{t}</category>" for t in topics.split("|"))
        items.append(f"""    <item>
      <title>{_xml(title)}</title>
      <link>{SITE}/blog/{slug}?utm_source=rss&amp;utm_medium=feed</link>
      <guid isPermaLink="false">lumen-blog-{len(BLOG) - k}</guid>
      <dc:creator>{_xml(world.team[(k + 2) % len(world.team)][1])}</dc:creator>
      <pubDate>{format_datetime(at)}</pubDate>{cats}
      <description>{_xml(title)}: notes from the {US_NAME} customer-success team.</description>
    </item>""")
    (out / "site").mkdir(parents=True, exist_ok=True)
    (out / "site" / "blog.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n  <channel>\n'
        f"    <title>The {US_NAME} blog</title>\n    <link>{SITE}/blog</link>\n"
        "    <description>Customer success, measured</description>\n"
        + "\n".join(items) + "\n  </channel>\n</rss>\n", encoding="utf-8")
    world.counts["site/blog.xml"] = len(BLOG)
    world.add_rels("ABOUT", sum(len(b[2].split("|")) for b in BLOG))


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _knows(world: World, rng: random.Random) -> list[list[tuple[Person, datetime]]]:
    """Each team member's connections. Communities: a member knows many people in their own
    region's companies, most at the accounts they own, few elsewhere, and their own colleagues'
    former colleagues (people who worked where someone they know works)."""
    owned: list[set[int]] = [set() for _ in world.team]
    for c in world.companies:
        owned[c.owner].add(c.index)
    members: list[list[tuple[Person, datetime]]] = [[] for _ in world.team]
    for p in world.people:
        company = world.companies[p.job.company]
        for m, (_, _, _, region) in enumerate(world.team):
            if company.index in owned[m]:
                chance = 0.6
            elif company.region == region:
                chance = 0.12
            else:
                chance = 0.02
            if company.kind == "competitor":
                chance = 0.05
            if rng.random() < chance:
                since = max(p.jobs[0].since, world.as_of - timedelta(days=rng.uniform(5, 2400)))
                members[m].append((p, since))
    return members


def write_linkedin(world: World, out: Path, knows: list[list[tuple[Person, datetime]]]) -> None:
    for m, connections in enumerate(knows):
        email = world.team[m][0]
        path = out / "linkedin" / email.split("@")[0] / "Connections.csv"
        with _open(path) as f:
            f.write(LINKEDIN_NOTES)
            w = _csv_writer(f, crlf=True)
            w.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
                        "Connected On"])
            for p, since in sorted(connections, key=lambda x: x[1], reverse=True):
                job = p.job  # LinkedIn shows the profile as it is today
                w.writerow([p.first, p.last, f"https://www.linkedin.com/in/{p.slug}",
                            job.email if p.share_email else "",
                            world.companies[job.company].name, job.title,
                            _linkedin_day(since)])
        world.counts[str(path.relative_to(out))] = len(connections)
        world.add_rels("KNOWS", len(connections))
        world.add_rels("WORKS_AT", 0)


def write_hubspot(world: World, out: Path, rng: random.Random) -> tuple[datetime, datetime]:
    """Two contact exports of the default view, two months apart, rows unsorted; and the
    companies export. HubSpot holds everyone marketing has met: all people but competitors'."""
    later = world.as_of - DAY
    earlier = later - timedelta(days=61)
    stage = {"customer": "Customer", "churned": "Other", "prospect": "Opportunity"}
    for moment in (earlier, later):
        rows = []
        for p in world.people:
            job = p.job_at(moment)
            c = world.companies[job.company]
            if c.kind == "competitor":
                continue
            if p.moved == "salesforce" and moment == later:
                job = p.job_at(earlier)  # marketing's copy lags; sales updated theirs
                c = world.companies[job.company]
                if c.kind == "competitor":
                    continue
            lifecycle = stage[c.kind] if p.index % 7 else "Marketing Qualified Lead"
            if c.kind == "customer" and c.pattern == "new" and moment == earlier:
                lifecycle = "Sales Qualified Lead"
            title = job.title
            if p.index % 23 == 0 and moment == later and not p.moved \
                    and not title.startswith(("VP", "Head", "Chief", "C", "Dir")):
                title = "Senior " + title  # promoted between the snapshots
            activity = moment - timedelta(days=rng.uniform(0, 40), minutes=rng.randrange(600))
            # The record's Create Date: when marketing first met them (the same in both exports)
            created = min(world.companies[p.jobs[0].company].created or earlier,
                          earlier) - timedelta(hours=p.index % 500)
            rows.append([str(3_000_000 + p.index), p.first, p.last, job.email, p.phone,
                         world.team[c.owner][1], c.name, title, lifecycle,
                         _hub(created), _hub(activity)])
        rng.shuffle(rows)
        name = f"hubspot-crm-exports-all-contacts-{moment.date().isoformat()}.csv"
        with _open(out / "hubspot" / name) as f:
            w = _csv_writer(f, quote_all=True)
            w.writerow(HUBSPOT_CONTACTS)
            w.writerows(rows)
        world.counts[f"hubspot/{name}"] = len(rows)
    world.add_rels("WORKS_AT", sum(len(p.jobs) for p in world.people))
    name = f"hubspot-crm-exports-all-companies-{later.date().isoformat()}.csv"
    with _open(out / "hubspot" / name) as f:
        w = _csv_writer(f, quote_all=True)
        w.writerow(HUBSPOT_COMPANIES)
        n = 0
        for c in world.companies:
            if c.kind == "competitor":
                continue
            w.writerow([str(9_000_000 + c.index), c.name, c.domain, c.industry, str(c.employees),
                        "Customer" if c.customer else "Prospect",
                        "Customer" if c.kind == "customer" else "Opportunity"
                        if c.kind == "prospect" else "Other", c.country, c.city,
                        _hub(c.created or later), _hub(later - timedelta(hours=c.index % 200))])
            n += 1
    world.counts[f"hubspot/{name}"] = n
    world.add_rels("ACCOUNT_OF", sum(1 for c in world.companies if c.kind == "customer"))
    return earlier, later


def write_salesforce(world: World, out: Path, rng: random.Random) -> None:
    """Sales' CRM: accounts (customers and open opportunities) and their contacts, each as a
    report export at two moments, with Salesforce's footer."""
    later = world.as_of - timedelta(hours=20)
    earlier = later - timedelta(days=45)
    sf_type = {"customer": "Customer - Direct", "churned": "Former Customer",
               "prospect": "Prospect", "competitor": "Competitor"}
    kept = [c for c in world.companies if c.kind != "prospect" or c.index % 2 == 0]
    for moment in (earlier, later):
        stamp = int(moment.timestamp() * 1000)
        with _open(out / "salesforce" / f"report{stamp}.csv") as f:
            w = _csv_writer(f, quote_all=True)
            w.writerow(SF_ACCOUNTS)
            for c in kept:
                w.writerow([world.team[c.owner][1], c.name, sf_type[c.kind], c.industry,
                            f"www.{c.domain}", f"{c.employees:,}",
                            f"${c.employees * 90_000:,}" if c.index % 3 else "", c.country,
                            f"0015e{c.index:010d}AAV", _us(moment - timedelta(days=c.index % 30))])
            f.write("\n".join(SF_FOOTER).format(title="Accounts", when=_us(moment)) + "\n")
        world.counts[f"salesforce/report{stamp}.csv"] = len(kept)
        stamp += 60_000
        rows = 0
        with _open(out / "salesforce" / f"report{stamp}.csv") as f:
            w = _csv_writer(f, quote_all=True)
            w.writerow(SF_CONTACTS)
            for c in kept:
                if c.kind == "competitor":
                    continue
                for i in c.people[:4]:
                    p = world.people[i]
                    job = p.job_at(moment)
                    if p.moved == "hubspot" and moment == later:
                        job = p.job_at(earlier)  # sales never heard about this move
                    at = world.companies[job.company]
                    w.writerow([world.team[at.owner][1], p.first, p.last, job.title, at.name,
                                sf_type[at.kind], job.email, p.phone, p.city, p.country,
                                f"0035e{p.index:010d}AAZ", f"0015e{at.index:010d}AAV",
                                _us(moment - timedelta(days=rng.uniform(0, 20)))])
                    rows += 1
            f.write("\n".join(SF_FOOTER).format(title="Contacts with accounts", when=_us(moment))
                    + "\n")
        world.counts[f"salesforce/report{stamp}.csv"] = rows


def write_billing(world: World, out: Path, rng: random.Random) -> list[str]:
    """Stripe's subscriptions export, the mapping that reads it, and the Solo plan's payments."""
    seasonal: list[str] = []
    path = out / "billing" / "subscriptions.csv"
    with _open(path) as f:
        w = _csv_writer(f)
        w.writerow(STRIPE)
        n = 0
        for c in world.companies:
            if not c.customer or c.started is None:
                continue
            # The billing contact: the first of its people still there (a company updates
            # the contact when its admin leaves), else the first.
            admin = next((world.people[i] for i in c.people
                          if world.people[i].job.company == c.index), world.people[c.people[0]])
            start = c.started
            period_end = start
            while period_end <= (c.canceled or world.as_of):
                period_end += timedelta(days=30)
            status = "canceled" if c.canceled else "trialing" if c.pattern == "new" else \
                "past_due" if c.pattern == "pricing" and c.index % 3 == 0 else "active"
            segment = SEASONAL_SEGMENT if c.pattern == "seasonal" else ""
            if segment:
                seasonal.append(c.domain)
            w.writerow([f"sub_{rng.getrandbits(48):012x}", f"cus_{c.index:08d}", c.name,
                        next(j.email for j in admin.jobs if j.company == c.index),
                        f"{c.plan} (monthly)", f"{US_NAME} {c.plan}", str(c.seats), "month",
                        f"{c.mrr:.2f}", "usd", status, _stripe(start), _stripe(start),
                        _stripe(period_end - timedelta(days=30)), _stripe(period_end),
                        _stripe(start - timedelta(days=14)) if c.pattern == "new" else "",
                        _stripe(start + timedelta(days=14)) if c.pattern == "new" else "",
                        _stripe(c.canceled) if c.canceled else "",
                        "true" if c.canceled else "false",
                        _stripe(c.canceled) if c.canceled else "", segment])
            n += 1
    world.counts["billing/subscriptions.csv"] = n
    (out / "billing" / "subscriptions.toml").write_text(
        "# Stripe's subscriptions export (Billing > Subscriptions > Export, all columns):\n"
        "#   relgraph load csv billing/subscriptions.csv --mapping billing/subscriptions.toml\n"
        'source = "stripe"\ncustomer = true\naccounts = "company"\n\n[columns]\n'
        'id = "Customer ID"\ncompany = "Customer Description"\ndomain = "Customer Email"\n'
        'email = "Customer Email"\nplan = "Plan"\nmrr = "Amount"\ncurrency = "Currency"\n'
        'status = "Status"\nstarted = "Start (UTC)"\nrenews = "Current Period End (UTC)"\n'
        'churned_at = "Canceled At (UTC)"\n\n[attributes]\nseats = "Quantity"\n'
        'segment = "segment (metadata)"\n', encoding="utf-8")
    world.add_rels("ACCOUNT_OF", sum(1 for c in world.companies if c.kind == "churned"))
    with _open(out / "billing" / "payments.csv") as f:
        w = _csv_writer(f)
        w.writerow(["transaction_id", "customer_id", "customer_name", "email", "date",
                    "amount", "currency", "description", "type"])
        n = 0
        for p in world.solo:
            assert p.paid is not None
            at, last = p.paid
            while at <= last:
                w.writerow([f"ch_{rng.getrandbits(40):010x}", f"C-{p.index}", p.name,
                            p.job.email, _iso(at), "29.00", "USD", "Solo plan - monthly",
                            "charge"])
                n += 1
                if rng.random() < 0.04:
                    w.writerow([f"re_{rng.getrandbits(40):010x}", f"C-{p.index}", p.name,
                                p.job.email, _iso(at + timedelta(days=2)), "-29.00", "USD",
                                "Refund - duplicate charge", "refund"])
                    n += 1
                at += timedelta(days=30)
    world.counts["billing/payments.csv"] = n
    world.add_rels("ACCOUNT_OF", len(world.solo))
    world.add_rels("PERFORMED", n)
    return seasonal


def _stripe(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


# --- product usage (Segment) -----------------------------------------------------------------

def _props(key: str, values: list[str]) -> tuple[str, ...]:
    return tuple(orjson.dumps({key: v}).decode() for v in values)


# What a session's actions are, as (the bound of its share, the event, its properties as JSON):
# 35% a feature, 20% a report viewed, … and the rest (10%) a page of our site.
_ACTIONS: tuple[tuple[float, str, tuple[str, ...]], ...] = (
    (0.35, "Feature Used", _props("feature", FEATURES)),
    (0.55, "Report Viewed", _props("report", ["weekly-kpis", "funnel", "retention", "revenue"])),
    (0.7, "Dashboard Viewed", ("{}",)),
    (0.78, "Report Created", ("{}",)),
    (0.83, "Dashboard Shared", ("{}",)),
    (0.86, "Integration Connected", _props("integration",
                                           ["salesforce", "hubspot", "snowflake", "slack"])),
    (0.88, "Invite Sent", ("{}",)),
    (0.9, "Data Exported", _props("format", ["csv"])),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_MEANINGFUL = frozenset({"Signed Up", "Setup Completed", "Data Exported", "Order Completed",
                         "Trial Started", "Subscription Cancelled"})
# the key features' events (analytics' [activity] key_features): each one's first use by a
# person is an interaction of its own (connectors/adoption.py)
_KEY_EVENTS = frozenset(f.replace("_", " ").title() for f in KEY_FEATURES)


class _Events:
    """Segment messages for one account's users, as a warehouse dump writes them."""

    def __init__(self, world: World, rng: random.Random, f: TextIO, part: int = 0) -> None:
        self.world, self.rng, self.f = world, rng, f
        self.n = 0
        self.meaningful = 0
        self.firsts: set[tuple[str, str]] = set()  # (user, key feature) used
        self.reads: set[tuple[int, str]] = set()
        self.urls = content_urls()
        self.planted: dict[str, list[str]] = {}
        self.buffer: list[str] = []
        self.now = _iso(world.as_of)  # nothing happens after the world's present
        self.ids = f"{world.seed:x}-{part}-"  # messageIds unique across the parts
        self.now_us = (world.as_of - _EPOCH) // _MICRO
        self.days: dict[int, str] = {}  # day number -> its timestamp prefix

    def emit(self, msg: dict[str, Any]) -> bool:
        if msg["timestamp"] > self.now:  # one format throughout: text order is time order
            return False
        self.n += 1
        msg["messageId"] = f"{self.ids}{self.n:09x}"
        self.buffer.append(orjson.dumps(msg).decode())
        if len(self.buffer) >= 4096:
            self.flush()
        return True

    def flush(self) -> None:
        # A warehouse dump is in no useful order: each block of lines is shuffled.
        self.rng.shuffle(self.buffer)
        self.f.write("\n".join(self.buffer) + "\n")
        self.buffer.clear()

    def track(self, user: str, event: str, at: datetime, group: str,
              props: dict[str, Any] | None = None) -> None:
        self._track(user, event, (at - _EPOCH) // _MICRO, group,
                    orjson.dumps(props).decode() if props else "{}")

    def page(self, at: datetime, url: str, *, user: str | None = None,
             anonymous: str | None = None, who: int | None = None) -> None:
        msg: dict[str, Any] = {"type": "page", "timestamp": _iso(at),
                               "properties": {"url": url,
                                              "path": url.split(US, 1)[-1].split("?")[0]},
                               "context": {"page": {"url": url},
                                           "library": {"name": "analytics.js"}}}
        if user:
            msg["userId"] = user
        if anonymous:
            msg["anonymousId"] = anonymous
        if not self.emit(msg):
            return
        if "/pricing" in url:
            self.meaningful += 1
        elif who is not None:
            self.reads.add((who, url.split("?")[0]))

    def account(self, c: Company) -> None:
        world, rng = self.world, self.rng
        group = f"grp_{c.index:06d}"
        users = [world.people[i] for i in c.people if world.people[i].user
                 and world.people[i].job_at(world.as_of).company == c.index]
        if not users:
            return
        end = c.canceled or world.as_of
        weeks = 56 if c.pattern == "seasonal" else WEEKS
        first_day = max(c.started or end - timedelta(weeks=weeks), end - timedelta(weeks=weeks))
        if c.pattern != "healthy":
            self.planted.setdefault(c.pattern if c.kind == "customer" else "churned",
                                    []).append(c.domain)
        elif c.kind == "churned":
            self.planted.setdefault("churned", []).append(c.domain)
        for u in users:
            uid = f"usr_{u.index:07d}"
            job = u.job_at(world.as_of)
            # first seen in the product once both the account and their job there had begun
            # (and before the present: a new account's sign-up may be hours ago)
            seen = min(max(first_day, job.since) + timedelta(hours=rng.uniform(0, 72)),
                       world.as_of - timedelta(minutes=rng.uniform(5, 60)))
            anon = f"anon-{rng.getrandbits(40):010x}"
            if rng.random() < 0.3:  # read our site anonymously first; the identify stitches it
                self.page(seen - timedelta(days=rng.uniform(1, 20)), rng.choice(self.urls)
                          + "?utm_source=linkedin&utm_medium=social", anonymous=anon, who=u.index)
            self.emit({"type": "identify", "userId": uid, "anonymousId": anon,
                       "timestamp": _iso(seen), "receivedAt": _iso(seen + timedelta(seconds=1)),
                       "traits": {"email": job.email, "firstName": u.first, "lastName": u.last,
                                  "title": job.title,
                                  "company": {"name": c.name, "website": f"https://{c.domain}"}}})
            self.emit({"type": "group", "userId": uid, "groupId": group, "timestamp": _iso(seen),
                       "context": {"traits": {"email": job.email}},
                       "traits": {"name": c.name, "website": c.domain, "plan": c.plan.lower(),
                                  "industry": c.industry, "employees": c.employees}})
            if c.pattern in ("stalled", "new") and c.started is not None:
                signup = c.started + timedelta(hours=rng.uniform(0, 30))
                self.track(uid, "Signed Up", signup, group, {"plan": c.plan.lower()})
                self.track(uid, "Logged In", signup + timedelta(minutes=3), group)
                if c.pattern == "new":
                    self.track(uid, "Setup Completed", signup + timedelta(hours=rng.uniform(2, 40)),
                               group)
                    self.sessions(uid, u, c, group, signup + DAY, end, rate=4)
                else:
                    self.sessions(uid, u, c, group, signup, signup + timedelta(days=5), rate=2)
                continue
            self.sessions(uid, u, c, group, seen, end, rate=rng.uniform(1.5, 4.0))
        lead = f"usr_{users[0].index:07d}"
        if c.pattern == "pricing":
            for _ in range(rng.randrange(3, 6)):
                self.page(world.as_of - timedelta(days=rng.uniform(0.02, 12)),
                          f"{SITE}/pricing?ref=app", user=lead)
        elif c.pattern == "export_burst":
            for _ in range(rng.randrange(14, 26)):
                at = world.as_of - timedelta(days=rng.uniform(0.01, 6))
                self.track(lead, "Data Exported", at, group,
                           {"format": rng.choice(["csv", "xlsx"]),
                            "rows": rng.randrange(1000, 90000)})
        elif c.pattern == "confused":
            for s in range(3):
                start = world.as_of - timedelta(days=2 + 6 * s, hours=rng.uniform(0, 8))
                for k in range(rng.randrange(30, 40)):
                    self.track(lead, rng.choice(["Button Clicked", "Settings Opened", "Help Opened",
                                                 "Search"]), start + timedelta(seconds=15 * k),
                               group, {"screen": rng.choice(["dashboards", "share", "settings"])})
        elif c.pattern == "surge":
            topic = CONTENT[1][0]  # the churn benchmarks: a buying committee reading up
            for i in c.people[:5]:
                p = world.people[i]
                for _ in range(rng.randrange(2, 4)):
                    self.page(world.as_of - timedelta(days=rng.uniform(0.5, 18)),
                              f"{SITE}/{topic}?utm_source=newsletter", user=f"usr_{p.index:07d}"
                              if p.user else None, anonymous=None if p.user else
                              f"anon-{p.index:07d}", who=p.index)
                if not p.user:  # a reader who signs up for the newsletter names themselves
                    self.emit({"type": "identify", "anonymousId": f"anon-{p.index:07d}",
                               "userId": f"lead_{p.index:07d}",
                               "timestamp": _iso(world.as_of - timedelta(days=0.2)),
                               "traits": {"email": p.job.email, "firstName": p.first,
                                          "lastName": p.last}})
        if c.kind == "churned" and c.canceled is not None:
            self.track(lead, "Subscription Cancelled", c.canceled, group, {"reason": rng.choice(
                ["too expensive", "switched to a competitor", "project ended"])})

    def prospects(self, rng: random.Random) -> None:
        """Prospects' people read our content too, anonymously, and some sign up for a trial."""
        world = self.world
        for c in world.companies:
            if c.kind != "prospect":
                continue
            for i in c.people[:3]:
                if rng.random() < 0.3:
                    p = world.people[i]
                    anon = f"anon-p{p.index:07d}"
                    for _ in range(rng.randrange(1, 4)):
                        self.page(world.as_of - timedelta(days=rng.uniform(0.1, 80)),
                                  rng.choice(self.urls), anonymous=anon, who=p.index)
                    if rng.random() < 0.4:
                        at = world.as_of - timedelta(days=rng.uniform(0.05, 20))
                        self.emit({"type": "identify", "userId": f"lead_{p.index:07d}",
                                   "anonymousId": anon, "timestamp": _iso(at),
                                   "traits": {"email": p.job.email, "firstName": p.first,
                                              "lastName": p.last, "title": p.job.title}})
                        self.track(f"lead_{p.index:07d}", "Trial Started", at, "")

    def solo(self, rng: random.Random) -> None:
        """The Solo plan's buyers use the product too (no workspace: the account is the
        person), until a few weeks after their last payment."""
        world = self.world
        for p in world.solo:
            assert p.paid is not None
            start, last = p.paid
            uid = f"usr_s{p.index:07d}"
            self.emit({"type": "identify", "userId": uid, "timestamp": _iso(start),
                       "traits": {"email": p.job.email, "firstName": p.first,
                                  "lastName": p.last, "plan": "solo"}})
            end = min(world.as_of, last + timedelta(days=rng.uniform(0, 25)))
            rate = rng.uniform(1.0, 3.0)
            day = start + timedelta(hours=rng.uniform(1, 30))
            while day < end:
                if rng.random() < rate / 7:
                    self.session(uid, p, "", day + timedelta(hours=rng.uniform(7, 19)))
                day += DAY

    def sessions(self, uid: str, u: Person, c: Company, group: str, start: datetime,
                 end: datetime, *, rate: float) -> None:
        """Sessions at about `rate` a week from start to end, shaped by the account's pattern."""
        rng, world = self.rng, self.world
        day = start
        while day < end:
            weeks_left = (world.as_of - day).days / 7
            r = rate
            if c.pattern in ("quiet", "export_burst") and weeks_left < 5:
                r = rate * 0.12
            elif c.pattern == "seasonal":
                month = day.month
                busy = {(world.as_of.month + k - 1) % 12 + 1 for k in (5, 6, 7)}
                r = rate * (1.8 if month in busy else 0.05)
            elif c.kind == "churned" and (end - day).days < 40:
                r = rate * 0.3
            if rng.random() < r / 7:
                at = day + timedelta(hours=rng.uniform(7, 19))
                if at < end:
                    self.session(uid, u, group, at)
            day += DAY

    def session(self, uid: str, u: Person, group: str, at: datetime) -> None:
        """A login and two to six actions a few minutes apart (the hot loop of a big world: its
        times are integer microseconds, its lines templates)."""
        rng = self.rng
        t = (at - _EPOCH) // _MICRO
        self._track(uid, "Logged In", t, group, "{}")
        for _ in range(rng.randrange(2, 7)):
            t += round(rng.uniform(20, 400) * 1_000_000)
            r = rng.random()
            for bound, event, props in _ACTIONS:
                if r < bound:
                    self._track(uid, event, t, group, rng.choice(props) if len(props) > 1
                                else props[0])
                    break
            else:
                self.page(_EPOCH + timedelta(microseconds=t), rng.choice(self.urls), user=uid,
                          who=u.index)

    def _track(self, user: str, event: str, t: int, group: str, props: str) -> None:
        """A track call at `t` (microseconds since the epoch), `props` already JSON: most of a
        world's lines, so written from a template rather than a dict through orjson (the same
        bytes: the ids, event names and groups here need no escaping)."""
        if t > self.now_us:
            return
        self.n += 1
        day, rest = divmod(t, 86_400_000_000)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = f"{_EPOCH + timedelta(days=day):%Y-%m-%dT}"
        h, rest = divmod(rest, 3_600_000_000)
        m, rest = divmod(rest, 60_000_000)
        sec, rest = divmod(rest, 1_000_000)
        buffer = self.buffer
        buffer.append(f'{{"type":"track","event":"{event}","userId":"{user}","timestamp":'
                      f'"{prefix}{h:02d}:{m:02d}:{sec:02d}.{rest // 1000:03d}Z","context":'
                      f'{{"groupId":"{group}","library":{{"name":"analytics-node"}}}},'
                      f'"properties":{props},"messageId":"{self.ids}{self.n:09x}"}}')
        if len(buffer) >= 4096:
            self.flush()
        if event in _MEANINGFUL:
            self.meaningful += 1
        elif event in _KEY_EVENTS:
            self.firsts.add((user, event))


SEGMENT_PARTS = 2  # a warehouse dump comes in parts; each is written by a process of its own


def segment_files() -> list[str]:
    return [f"segment/segment-export-{k}.jsonl" for k in range(SEGMENT_PARTS)]


# (lines, meaningful events, reads, planted signals, first uses of key features)
_PART_RESULT = tuple[int, int, set[tuple[int, str]], dict[str, list[str]], int]
_FORKED: World | None = None  # the world a forked writer of a part inherits


def _segment_part(world: World, out: Path, part: int) -> _PART_RESULT:
    """Part `part` of the dump: the customer accounts whose index falls to it (all of an
    account's events in one part, so a visit and the identify that stitches it stay together),
    and the prospects' reading in part 0. Each account draws from a generator of its own, so a
    part is the same bytes whichever process writes it and in whatever order."""
    seed = world.seed
    with _open(out / segment_files()[part]) as f:
        events = _Events(world, random.Random(seed * 1_000_003 + part), f, part)
        for c in world.companies:
            if c.customer and c.index % SEGMENT_PARTS == part:
                events.rng = random.Random(seed * 1_000_003 + 7 * c.index + 1_000_000_007)
                events.account(c)
        if part == 0:
            events.rng = rng = random.Random(seed * 1_000_003 - 1)
            events.prospects(rng)
            events.solo(rng)
        events.flush()
    return events.n, events.meaningful, events.reads, events.planted, len(events.firsts)


def _forked_part(out: Path, part: int) -> _PART_RESULT:
    assert _FORKED is not None
    return _segment_part(_FORKED, out, part)


class SegmentJob:
    """The Segment dump, the bulk of a big world, written beside the other files: its parts in
    forked processes (one per core, up to SEGMENT_PARTS) while the caller writes the rest, or
    in this process where fork is missing or one core is all there is."""

    def __init__(self, world: World, out: Path) -> None:
        global _FORKED
        self.world, self.out = world, out
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[Future[_PART_RESULT]] = []
        workers = min(SEGMENT_PARTS, os.cpu_count() or 1)
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            _FORKED = world
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            self.pending = [self.pool.submit(_forked_part, out, k) for k in range(SEGMENT_PARTS)]

    def finish(self) -> dict[str, list[str]]:
        """Wait for the parts; count what they make; return the planted accounts by signal."""
        global _FORKED
        world = self.world
        try:
            results = [f.result() for f in self.pending] if self.pool is not None else \
                [_segment_part(world, self.out, k) for k in range(SEGMENT_PARTS)]
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
                _FORKED = None
        reads: set[tuple[int, str]] = set()
        planted: dict[str, list[str]] = {}
        meaningful = firsts = 0
        for name, (n, found, part_reads, part_planted, part_firsts) in zip(
                segment_files(), results, strict=True):
            world.counts[name] = n
            meaningful += found
            firsts += part_firsts
            reads |= part_reads
            for signal, domains in part_planted.items():
                planted.setdefault(signal, []).extend(domains)
        world.add_rels("READ", len(reads))
        world.add_rels("PERFORMED", meaningful)
        world.add_rels("FOR_ACCOUNT", meaningful)
        users = sum(1 for p in world.people if p.user)
        world.add_rels("PERFORMED", users + firsts)  # first logins, first uses
        world.add_rels("FOR_ACCOUNT", users)
        return {k: sorted(v) for k, v in planted.items()}


# --- conversations, triggers, newsletter -----------------------------------------------------

def write_zendesk(world: World, out: Path, rng: random.Random) -> int:
    path = out / "zendesk" / "tickets.csv"
    n = solved_n = 0
    with _open(path) as f:
        w = _csv_writer(f)
        w.writerow(ZENDESK)
        for c in world.companies:
            if not c.customer:
                continue
            specific = TICKETS.get(c.pattern, [])
            general = [t for t in TICKETS["any"] if rng.random() < 0.25]
            for k, (subject, text, tags) in enumerate(specific + general):
                p = world.people[rng.choice(c.people[:3])]
                job = p.job_at(world.as_of)
                recent = k < len(specific)
                created = world.as_of - timedelta(days=rng.uniform(0.1, 12) if recent
                                                  else rng.uniform(5, 160))
                status = rng.choice(["new", "open", "pending"]) if recent else rng.choice(
                    ["solved", "closed", "solved", "open"])
                solved = created + timedelta(hours=rng.uniform(2, 90)) \
                    if status in ("solved", "closed") else None
                tid = 40_000 + n
                solved_n += solved is not None
                w.writerow(["", str(tid), p.name, str(38_000_000 + p.index), "", job.email,
                            job.email.split("@")[1], p.name, world.team[c.owner][1], "Support",
                            subject, text, tags, status.capitalize(),
                            rng.choice(["Normal", "High", "Low"]),
                            rng.choice(["Mail", "Web form", "Chat", "Phone call (inbound)"]),
                            rng.choice(["Question", "Problem", "Incident", "Task"]),
                            _zd(created), _zd(solved or created + timedelta(hours=1)),
                            _zd(created + timedelta(minutes=20)), c.name, "",
                            _zd(created + timedelta(minutes=20)),
                            _zd(solved) if solved else "",
                            f"{(solved - created).total_seconds() / 3600:.1f}" if solved else "",
                            rng.choice(["Good", "Bad", "Offered", "Unoffered"])])
                n += 1
    world.counts["zendesk/tickets.csv"] = n
    world.add_rels("RAISED", n)
    world.add_rels("ABOUT", n)
    world.add_rels("PERFORMED", solved_n)  # a ticket solved is an interaction too
    return n


def _zd(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


def write_notes(world: World, out: Path, rng: random.Random) -> None:
    with _open(out / "notes" / "call-notes.csv") as f:
        w = _csv_writer(f)
        w.writerow(["Note ID", "Call date", "Contact email", "Contact", "Account", "Type",
                    "Title", "Notes", "Tags"])
        n = 0
        for c in world.companies:
            note = NOTES.get(c.pattern)
            if c.kind != "customer" or note is None or rng.random() > 0.6:
                continue
            p = world.people[c.people[0]]
            at = world.as_of - timedelta(days=rng.uniform(1, 25), hours=rng.uniform(0, 8))
            w.writerow([f"NOTE-{c.index:05d}", at.strftime("%Y-%m-%d %H:%M"),
                        p.job_at(at).email, p.name, c.name, rng.choice(["Zoom", "call", "Meet"]),
                        "Quarterly business review" if c.pattern == "healthy" else "Check-in",
                        note, ""])
            n += 1
    world.counts["notes/call-notes.csv"] = n
    world.add_rels("RAISED", n)
    (out / "competitors.txt").write_text(
        "# Competitors we track (a domain, a website or a name per line)\n"
        + "".join(f"{d}\n" for _, d in COMPETITORS), encoding="utf-8")


def write_clicks(world: World, out: Path, rng: random.Random) -> None:
    urls = content_urls()
    readers = [p for p in world.people if world.companies[p.job.company].kind != "competitor"
               and p.index % 3 == 0]
    n = clicks = 0
    reads: set[tuple[int, str]] = set()
    with _open(out / "newsletter" / "mailchimp-activity.csv") as f:
        w = _csv_writer(f)
        w.writerow(["email", "url", "action", "timestamp", "campaign"])
        for week in range(12, 0, -1):
            sent = world.as_of - timedelta(weeks=week) + timedelta(hours=8)
            campaign = f"roundup-{sent.date().isoformat()}"
            for p in readers:
                if rng.random() > 0.3:
                    continue
                opened = sent + timedelta(minutes=rng.uniform(5, 2000))
                email = p.job_at(sent).email
                w.writerow([email, "", "open", opened.strftime("%Y-%m-%d %H:%M:%S"), campaign])
                n += 1
                if rng.random() < 0.35:
                    url = rng.choice(urls)
                    w.writerow([email, f"{url}?utm_source=newsletter&utm_medium=email&utm_campaign"
                                f"={campaign}", "click",
                                (opened + timedelta(seconds=40)).strftime("%Y-%m-%d %H:%M:%S"),
                                campaign])
                    reads.add((p.index, url))
                    n += 1
                    clicks += 1
    world.counts["newsletter/mailchimp-activity.csv"] = n
    world.add_rels("READ", len(reads))
    world.add_rels("PERFORMED", clicks)  # each click an interaction (a newsletter_click)


def write_funding(world: World, out: Path, rng: random.Random) -> None:
    n = 0
    with _open(out / "crunchbase" / "funding-rounds.csv") as f:
        w = _csv_writer(f)
        w.writerow(CRUNCHBASE)
        for c in world.companies:
            if c.kind == "competitor" or (rng.random() > 0.1 and c.index % 11 != 4):
                continue
            round_, amount = rng.choice(ROUNDS)
            amount = int(amount * rng.uniform(0.6, 1.6) / 100_000) * 100_000
            at = world.as_of - timedelta(days=rng.uniform(1, 150))
            slug = c.domain.split(".")[0]
            leads = rng.sample(INVESTORS, 2)
            w.writerow([f"{round_} - {c.name}",
                        f"https://www.crunchbase.com/funding_round/{slug}-"
                        f"{round_.lower().replace(' ', '-')}--{rng.getrandbits(32):08x}",
                        c.name, f"https://www.crunchbase.com/organization/{slug}", round_,
                        f"{amount}", "USD", f"{amount}", at.date().isoformat(),
                        "Seed" if round_ == "Seed" else "Early Stage Venture", "3", leads[0],
                        ", ".join(leads), f"{c.name} builds software for {c.industry.lower()}.",
                        c.industry, f"{c.city}, {c.country}", f"https://www.{c.domain}"])
            n += 1
    world.counts["crunchbase/funding-rounds.csv"] = n
    world.add_rels("HAD_TRIGGER", n)
    world.add_rels("ABOUT", n)


def write_news(world: World, out: Path, rng: random.Random) -> None:
    entries: list[str] = []
    triggers = 0
    for c in world.companies:
        if c.kind == "competitor" or (rng.random() > 0.08 and c.index % 13 != 5):
            continue
        kind, template = NEWS[len(entries) % 3] if len(entries) < 3 else rng.choice(NEWS)
        other = rng.choice(world.companies[len(COMPETITORS):])
        person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        title = template.format(c=_bare(c.name), o=_bare(other.name), p=person)
        at = world.as_of - timedelta(days=rng.uniform(0.5, 60))
        outlet = rng.choice(["TechCrunch", "Business Wire", "Reuters", "Sifted"])
        link = (f"https://www.google.com/url?rct=j&sa=t&url=https://news.example.com/"
                f"{c.index}-{kind}&ct=ga&cd=CAIyGjE&usg=AOvVaw{rng.getrandbits(32):08x}")
        entries.append(f"""  <entry>
    <id>tag:google.com,2013:googlealerts/feed:{rng.getrandbits(60)}</id>
    <title type="html">{_xml(title)} - {outlet}</title>
    <link href="{_xml(link)}"/>
    <published>{_iso(at)}</published>
    <updated>{_iso(at)}</updated>
    <content type="html">{_xml(title)}. &lt;b&gt;{_xml(_bare(c.name))}&lt;/b&gt; said on \
{at.strftime('%A')} ...</content>
    <author><name></name></author>
  </entry>""")
        if kind != "noise":
            triggers += 2 if kind == "acquisition" else 1
    (out / "news").mkdir(parents=True, exist_ok=True)
    (out / "news" / "google-alerts.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:idx="urn:atom-extension:indexing">\n'
        "  <id>tag:google.com,2013:googlealerts/feed:10480270593498746318</id>\n"
        '  <title>Google Alert - our accounts</title>\n'
        '  <link href="https://www.google.com/alerts/feeds/0123/4567" rel="self"/>\n'
        f"  <updated>{_iso(world.as_of)}</updated>\n" + "\n".join(entries) + "\n</feed>\n",
        encoding="utf-8")
    world.counts["news/google-alerts.xml"] = len(entries)
    world.add_rels("HAD_TRIGGER", triggers)


def _bare(name: str) -> str:
    for form in FORMS[1:]:
        if name.endswith(form):
            return name[: -len(form)]
    return name


def write_calendar(world: World, out: Path, rng: random.Random) -> None:
    stamp = world.as_of.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for m in range(MANAGERS):
        email, name = world.team[m][0], world.team[m][1]
        lines = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
                 "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{email}",
                 "X-WR-TIMEZONE:Europe/London"]
        n = 0
        for c in world.companies:
            if c.owner != m or c.kind != "customer":
                continue
            guests = [world.people[i] for i in c.people[:3]
                      if world.people[i].job_at(world.as_of).company == c.index]
            if not guests:
                continue
            start = world.as_of - timedelta(days=rng.uniform(100, 300))
            start = start.replace(hour=14, minute=0, second=0, microsecond=0)
            uid = f"{rng.getrandbits(64):016x}@google.com"
            lines += ["BEGIN:VEVENT", f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}",
                      f"DTEND:{(start + timedelta(hours=1)).strftime('%Y%m%dT%H%M%SZ')}",
                      "RRULE:FREQ=MONTHLY;INTERVAL=3", f"DTSTAMP:{stamp}", f"UID:{uid}",
                      f"ORGANIZER;CN={name}:mailto:{email}",
                      f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;"
                      f"CN={name};X-NUM-GUESTS=0:mailto:{email}"]
            for k, g in enumerate(guests):
                status = "DECLINED" if k == 2 and rng.random() < 0.5 else "ACCEPTED"
                lines.append(_fold(f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
                                   f"PARTSTAT={status};CN={g.name};X-NUM-GUESTS=0:mailto:"
                                   f"{g.job_at(world.as_of).email}"))
            lines += [_fold(f"SUMMARY:QBR {US_NAME} / {_bare(c.name)}"),
                      "DESCRIPTION:Agenda: usage\\, goals\\, renewal.", "STATUS:CONFIRMED",
                      "END:VEVENT"]
            n += 1
        # a cancelled meeting, and a webinar with too many guests to be a relationship
        far = world.as_of - timedelta(days=10)
        lines += ["BEGIN:VEVENT", f"DTSTART:{far.strftime('%Y%m%dT100000Z')}",
                  f"DTSTAMP:{stamp}", f"UID:cancelled-{m}@google.com",
                  f"ORGANIZER;CN={name}:mailto:{email}",
                  f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{world.people[m].job.email}",
                  "SUMMARY:Intro call", "STATUS:CANCELLED", "END:VEVENT",
                  "BEGIN:VEVENT", f"DTSTART:{far.strftime('%Y%m%dT160000Z')}",
                  f"DTSTAMP:{stamp}", f"UID:webinar-{m}@google.com",
                  f"ORGANIZER;CN={name}:mailto:{email}"]
        lines += [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{p.job.email}"
                  for p in world.people[: 60]]
        lines += ["SUMMARY:Webinar: health scores, live", "END:VEVENT", "END:VCALENDAR"]
        path = out / "calendar" / f"{email.split('@')[0]}.ics"
        with _open(path) as f:
            f.write("\r\n".join(lines) + "\r\n")
        world.counts[str(path.relative_to(out))] = n


def _fold(line: str) -> str:
    """RFC 5545 folding: lines over 75 octets continue on lines that start with a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start = 0
    while start < len(data):
        end = min(len(data), start + (75 if not parts else 74))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # never split a UTF-8 character
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def write_mail(world: World, out: Path, rng: random.Random) -> None:
    for m in range(MANAGERS):
        email, name = world.team[m][0], world.team[m][1]
        path = out / "mail" / f"{email.split('@')[0]}.mbox"
        n = 0
        with _open(path) as f:
            for c in world.companies:
                if c.owner != m or c.kind not in ("customer", "prospect"):
                    continue
                for i in c.people[:2]:
                    p = world.people[i]
                    for k in range(rng.randrange(1, 6)):
                        at = world.as_of - timedelta(days=rng.uniform(1, 200), minutes=k)
                        mine = k % 2 == 0
                        sender = (name, email) if mine else (p.name, p.job_at(at).email)
                        to = (p.name, p.job_at(at).email) if mine else (name, email)
                        f.write(_message(sender, to, at, f"Re: {_bare(c.name)} and {US_NAME}",
                                         rng))
                        n += 1
            for k in range(5):  # automated mail the reader must skip
                at = world.as_of - timedelta(days=k * 7 + 1)
                f.write(_message(("Zendesk", "noreply@zendesk.com"), (name, email), at,
                                 "Ticket assigned to you", rng, bulk=True))
        world.counts[str(path.relative_to(out))] = n


def _message(sender: tuple[str, str], to: tuple[str, str], at: datetime, subject: str,
             rng: random.Random, *, bulk: bool = False) -> str:
    def who(pair: tuple[str, str]) -> str:
        name, address = pair
        if any(ord(ch) > 127 for ch in name):
            from email.header import Header
            return f"{Header(name, 'utf-8').encode()} <{address}>"
        return f'"{name}" <{address}>'
    lines = [f"From {sender[1]} {at.strftime('%a %b %d %H:%M:%S %Y')}",
             f"Message-ID: <{rng.getrandbits(64):016x}@mail.gmail.com>",
             f"Date: {format_datetime(at)}", f"From: {who(sender)}", f"To: {who(to)}",
             f"Subject: {subject}", "MIME-Version: 1.0",
             'Content-Type: text/plain; charset="UTF-8"']
    if bulk:
        lines += ["Auto-Submitted: auto-generated", "Precedence: bulk"]
    lines += ["", "Thanks for the call. Notes below.", "", ">From our side: next steps attached.",
              "", ""]
    return "\n".join(lines)


# --- the manifest and the world -------------------------------------------------------------

def write_manifest(world: World, out: Path, hubspot: tuple[datetime, datetime]) -> None:
    loads: list[tuple[str, list[str], dict[str, str]]] = [
        ("catalog", ["catalog.csv"], {}),
        ("feed", ["site/blog.xml"], {}),
        ("competitors", ["competitors.txt"], {}),
    ]
    for email, *_ in world.team:  # exported this morning (the file holds no export date)
        loads.append(("linkedin", [f"linkedin/{email.split('@')[0]}/Connections.csv"],
                      {"owner": email, "timezone": "UTC",
                       "observed_at": (world.as_of - timedelta(hours=3)).isoformat()}))
    loads.append(("hubspot", sorted(k for k in world.counts if k.startswith("hubspot/")),
                  {"timezone": "Europe/London"}))
    loads.append(("salesforce", sorted(k for k in world.counts if k.startswith("salesforce/")),
                  {"timezone": "UTC"}))  # the exporting user's zone
    loads.append(("graph", [NETWORK], {}))
    loads.append(("csv", ["billing/subscriptions.csv"],  # exported an hour before as_of
                  {"mapping": "billing/subscriptions.toml",
                   "observed_at": (world.as_of - timedelta(hours=1)).isoformat()}))
    loads.append(("transactions", ["billing/payments.csv"], {}))
    loads.append(("segment", segment_files(), {}))
    loads.append(("zendesk", ["zendesk/tickets.csv"], {}))
    loads.append(("notes", ["notes/call-notes.csv"], {"timezone": "Europe/London"}))
    loads.append(("clicks", ["newsletter/mailchimp-activity.csv"], {"timezone": "Europe/London"}))
    loads.append(("funding", ["crunchbase/funding-rounds.csv"], {}))
    loads.append(("news", ["news/google-alerts.xml"], {}))
    for m in range(MANAGERS):
        local = world.team[m][0].split("@")[0]
        loads.append(("ics", [f"calendar/{local}.ics"], {"owner": world.team[m][0]}))
        loads.append(("mbox", [f"mail/{local}.mbox"], {"owner": world.team[m][0]}))
    text = [f"# The demo world (seed {world.seed}, {len(world.companies)} companies, as of "
            f"{world.as_of.isoformat()}).",
            "# relgraph load --manifest manifest.toml (after `relgraph team add` for team.csv)"]
    for source, paths, options in loads:
        text += ["", "[[load]]", f'source = "{source}"',
                 "paths = [" + ", ".join(json.dumps(p) for p in paths) + "]"]
        text += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
    (out / "manifest.toml").write_text("\n".join(text) + "\n", encoding="utf-8")


def write_analytics_config(out: Path, world: World, seasonal: list[str]) -> None:
    busy = sorted({(world.as_of.month + k - 1) % 12 + 1 for k in (5, 6, 7)})
    quiet = [m for m in range(1, 13) if m not in busy]
    (out / "analytics.toml").write_text(
        "# The demo world's own analytics settings (relgraph analyze … --config analytics.toml):\n"
        "# its seasonal retail accounts are busy three months a year.\n"
        "[[anomalies.seasonal]]\n"
        f'match = {{ segment = "{SEASONAL_SEGMENT}" }}\n'
        f"quiet_months = {quiet}\n", encoding="utf-8")


def generate(out: Path, *, companies: int = 120, seed: int = 7,
             as_of: datetime | None = None,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the world into `out` (created; files of an earlier world there are replaced) and
    return its description (also written as world.json)."""
    if companies < len(COMPETITORS) + 2:
        raise ValueError(f"a world needs at least {len(COMPETITORS) + 2} companies")
    moment = (as_of or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    out.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda _: None)
    world = build(companies, seed, moment)
    rng = random.Random(seed * 7919 + 1)
    step("team and content")
    write_team(world, out)
    write_catalog(world, out)
    step("LinkedIn connections")
    write_linkedin(world, out, _knows(world, rng))
    step("CRM exports")
    hubspot = write_hubspot(world, out, rng)
    write_salesforce(world, out, rng)
    step("billing")
    seasonal = write_billing(world, out, rng)
    step("product events")
    segment = SegmentJob(world, out)  # in other processes, while this one writes the rest
    try:
        step("tickets, notes, newsletter, triggers")
        write_zendesk(world, out, rng)
        write_notes(world, out, rng)
        write_clicks(world, out, rng)
        write_funding(world, out, rng)
        write_news(world, out, rng)
        step("the contacts' own network")
        drifting = write_network(world, out, random.Random(seed * 7919 + 2))
        step("calendars and mailboxes")
        write_calendar(world, out, rng)
        write_mail(world, out, rng)
    finally:
        planted = segment.finish()
    planted["drift"] = drifting
    write_manifest(world, out, hubspot)
    write_analytics_config(out, world, seasonal)
    described = {
        "seed": seed, "companies": companies, "as_of": moment.isoformat(),
        "people": len(world.people) + len(world.solo), "team": [t[0] for t in world.team],
        "customers": sum(1 for c in world.companies if c.kind == "customer"),
        "churned": sum(1 for c in world.companies if c.kind == "churned"),
        "prospects": sum(1 for c in world.companies if c.kind == "prospect"),
        "movers": sorted(world.people[p.index].job.email for p in world.people if p.moved),
        "planted": {k: sorted(v) for k, v in sorted(planted.items())},
        "files": dict(sorted(world.counts.items())),
        "relationships_estimate": dict(sorted(world.relationships.items())),
    }
    described["relationships_estimate_total"] = sum(world.relationships.values())
    (out / "world.json").write_text(json.dumps(described, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    return described


__all__ = ["generate", "build", "World"]
