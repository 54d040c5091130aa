"""A world written only in the layouts the tools themselves export, for the load-trust tests.

Nothing here is shaped for the project's readers: each file is what a person downloads from the
tool, with the tool's own columns, preambles, date formats and row order.

- LinkedIn `Connections.csv` for two team members (Maya, Tom): the "Notes:" preamble, `12 Oct
  2025` dates, some connections without an e-mail, rows in LinkedIn's order (newest first);
- two HubSpot contact exports of the *default* view (no website column, no Last Modified Date),
  two months apart, rows unsorted; the November one has a mover whose e-mail the CRM updated to
  @apex.co while the company name still says Ember Software;
- a Segment export as a warehouse dump: JSON Lines in no particular order (page views before the
  identify that names their user, an anonymous visit stitched by a later identify);
- a Zendesk ticket export with New, Open, Pending, Solved and Closed tickets;
- our content catalogue and our own RSS feed, which repeats the catalogue's white paper URL (with
  tracking parameters) without saying it is a white paper.

The answers, worked out by hand (as of 2026-11-01; reads in the 90 days before, concerns in the
30 days before, CRM read, churn concern):
- Ada (Apex Systems, Maya's connection): read the CRM white paper twice, both page views logged
  before her identify in the file; an open churn ticket. In.
- Zoë (Northwind, Tom's connection): read it once, anonymously, stitched by her identify; a
  pending churn ticket. In.
- Ben (Apex, Tom's connection): read it and raised a churn ticket, since solved. In: the
  question is who *raised* a concern (the README's rule); his is not among the account's
  *open* concerns (openConcerns, the look-up).
- Raj (Globex): read it, his churn ticket is closed, and nobody on the team knows him. Out.
- Li (Northwind, Tom's connection): an open churn ticket, but she read a CRM *article*, not a
  white paper: out with `--kind white_paper`, in without it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from demoworld.world import LINKEDIN_NOTES  # the tools' own preamble and columns, written once
from demoworld.world import ZENDESK as ZENDESK_HEADER

PAPER = "https://www.relgraph.io/papers/crm-playbook"
ARTICLE = "https://www.relgraph.io/blog/crm-health-scores"
GUIDE = "https://www.relgraph.io/guides/onboarding-checklist"

LINKEDIN_HEADER = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
                   "Connected On"]
HUBSPOT_DEFAULT_VIEW = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
                        "Company Name", "Job Title", "Lifecycle Stage", "Create Date",
                        "Last Activity Date"]

# The loads, each as `relgraph load` arguments relative to the world's directory.
LOADS: dict[str, list[str]] = {
    "catalog": ["catalog", "catalog.csv"],
    "feed": ["feed", "relgraph-blog.xml"],
    "maya": ["linkedin", "maya/Connections.csv", "--owner", "maya@relgraph.io"],
    "tom": ["linkedin", "tom/Connections.csv", "--owner", "tom@relgraph.io"],
    "hubspot-sep": ["hubspot", "hubspot-crm-exports-all-contacts-2026-09-01.csv",
                    "--timezone", "Europe/London"],
    "hubspot-nov": ["hubspot", "hubspot-crm-exports-all-contacts-2026-11-01.csv",
                    "--timezone", "Europe/London"],
    "segment": ["segment", "segment-export.jsonl"],
    "zendesk": ["zendesk", "zendesk-tickets.csv"],
}
ORDERS = {
    "as-a-person-would": ["catalog", "feed", "maya", "tom", "hubspot-sep", "hubspot-nov",
                          "segment", "zendesk"],
    "backwards": ["zendesk", "segment", "hubspot-nov", "hubspot-sep", "tom", "maya", "feed",
                  "catalog"],
}


def _csv(rows: list[list[str]], *, crlf: bool = False, quote_all: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue()


def _linkedin(rows: list[tuple[str, ...]]) -> str:
    return LINKEDIN_NOTES + _csv([LINKEDIN_HEADER, *map(list, rows)], crlf=True)


def _hubspot(rows: list[tuple[str, ...]]) -> str:
    return _csv([HUBSPOT_DEFAULT_VIEW, *map(list, rows)], quote_all=True)


def _contact(record: str, first: str, last: str, email: str, company: str, title: str,
             stage: str, activity: str) -> tuple[str, ...]:
    return (record, first, last, email, "", company, title, stage, "2025-02-03 10:15", activity)


SEPTEMBER = [
    _contact("1203", "Dan", "Moss", "dan@embersoft.com", "Ember Software", "CTO", "Customer",
             "2026-08-28 17:02"),
    _contact("1101", "Ada", "Lovelace", "ada@apex.co", "Apex Systems", "VP Customer Success",
             "Customer", "2026-08-30 09:40"),
    _contact("1301", "Zoë", "Brandt", "zoe@northwind.io", "Northwind Traders",
             "Head of Operations", "Lead", "2026-08-12 11:00"),
    _contact("1102", "Ben", "Okafor", "ben@apex.co", "Apex Systems", "Engineer", "Customer",
             "2026-08-21 14:30"),
    _contact("1401", "Raj", "Patel", "raj@globex.com", "Globex", "Director of Support",
             "Opportunity", "2026-08-19 16:20"),
    _contact("1204", "Eve", "Marsh", "eve@embersoft.com", "Ember Software", "CEO", "Customer",
             "2026-08-25 08:05"),
    _contact("1103", "Fay", "Ngata", "fay@apex.co", "Apex Systems", "Analyst", "Customer",
             "2026-08-02 12:00"),
    _contact("1302", "Li", "Wei", "li@northwind.io", "Northwind Traders", "CFO", "Lead",
             "2026-08-17 15:45"),
]
# Two months on: Ada was promoted; Carla joined Apex from Ember (the CRM has her new e-mail and
# the old company name); Gus joined Apex.
NOVEMBER = [row if row[0] != "1101" else _contact(
    "1101", "Ada", "Lovelace", "ada@apex.co", "Apex Systems", "Chief Customer Officer",
    "Customer", "2026-10-29 10:10") for row in reversed(SEPTEMBER)] + [
    _contact("1205", "Carla", "Diaz", "carla@apex.co", "Ember Software", "Account Executive",
             "Lead", "2026-10-30 16:45"),
    _contact("1104", "Gus", "Lindqvist", "gus@apex.co", "Apex Systems", "Engineer", "Customer",
             "2026-10-27 09:00"),
]

MAYA = [
    ("Ada", "Lovelace", "https://www.linkedin.com/in/ada-lovelace-apex", "ada@apex.co",
     "Apex Systems", "VP Customer Success", "12 Oct 2025"),
    ("Raj", "Patel", "https://www.linkedin.com/in/raj-patel-globex", "", "Globex",
     "Director of Support", "03 Mar 2024"),
]
TOM = [
    ("Li", "Wei", "https://www.linkedin.com/in/li-wei-nw", "li@northwind.io",
     "Northwind Traders", "CFO", "21 Sep 2026"),
    ("Zoë", "Brandt", "https://www.linkedin.com/in/zoebrandt", "zoe@northwind.io",
     "Northwind Traders", "Head of Operations", "02 Feb 2026"),
    ("Ben", "Okafor", "https://www.linkedin.com/in/ben-okafor-7b1a2c", "ben@apex.co",
     "Apex Systems", "Engineer", "15 Jun 2025"),
]


def _page(mid: str, at: str, url: str, *, user: str | None = None,
          anonymous: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "page", "messageId": mid, "timestamp": at,
                           "properties": {"url": url, "path": url.split(".io", 1)[1].split("?")[0]}}
    if user:
        msg["userId"] = user
    if anonymous:
        msg["anonymousId"] = anonymous
    return msg


def _identify(mid: str, at: str, user: str, email: str, first: str, last: str,
              anonymous: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "identify", "userId": user, "messageId": mid,
                           "timestamp": at, "receivedAt": at,
                           "traits": {"email": email, "firstName": first, "lastName": last}}
    if anonymous:
        msg["anonymousId"] = anonymous
    return msg


# As a warehouse dump comes: in no useful order.
SEGMENT = [
    _page("wh-0007", "2026-10-12T08:30:00.000Z", PAPER, user="usr_ada"),
    _page("wh-0003", "2026-10-10T14:03:00.000Z", PAPER + "?utm_source=linkedin&utm_medium=social",
          user="usr_ada"),
    _page("wh-0011", "2026-10-15T09:00:00.000Z", ARTICLE, user="usr_li"),
    _page("wh-0002", "2026-10-05T17:20:00.000Z", PAPER, anonymous="anon-5c1d"),
    _identify("wh-0010", "2026-10-13T10:00:00.000Z", "usr_li", "li@northwind.io", "Li", "Wei"),
    _page("wh-0005", "2026-09-20T13:00:00.000Z", PAPER, user="usr_ben"),
    {"type": "track", "event": "Logged In", "userId": "usr_ada", "messageId": "wh-0008",
     "timestamp": "2026-10-11T07:55:00.000Z", "properties": {}},
    _identify("wh-0009", "2026-10-11T08:00:00.000Z", "usr_ada", "ada@apex.co", "Ada",
              "Lovelace"),
    _identify("wh-0004", "2026-10-06T09:12:00.000Z", "usr_zoe", "zoe@northwind.io", "Zoë",
              "Brandt", anonymous="anon-5c1d"),
    _page("wh-0006", "2026-10-01T10:10:00.000Z", PAPER, user="usr_raj"),
    _identify("wh-0001", "2026-09-02T12:00:00.000Z", "usr_ben", "ben@apex.co", "Ben",
              "Okafor"),
    _identify("wh-0012", "2026-09-30T12:00:00.000Z", "usr_raj", "raj@globex.com", "Raj",
              "Patel"),
]


def _ticket(tid: str, requester: str, email: str, org: str, subject: str, text: str,
            tags: str, status: str, created: str, solved: str = "") -> list[str]:
    return ["", tid, requester, str(38_000_000 + int(tid)), "", email, email.split("@")[1],
            requester, "Sam Agent", "Support", subject, text, tags, status, "normal", "Mail",
            "question", created, created, "", org, "", "", solved, "", ""]


ZENDESK = [
    _ticket("5003", "Zoë Brandt", "zoe@northwind.io", "Northwind Traders", "Price increase",
            "The new pricing may make us cancel our subscription.", "pricing churn",
            "pending", "2026-10-25 11:30:00 +0000"),
    _ticket("5001", "Ada Lovelace", "ada@apex.co", "Apex Systems", "Renewal at risk",
            "The board asked us to look at other vendors; we may not renew.",
            "churn_risk renewal", "open", "2026-10-20 15:00:00 +0000"),
    _ticket("5002", "Ben Okafor", "ben@apex.co", "Apex Systems", "Thinking about cancelling",
            "We are considering cancelling our subscription.", "churn", "solved",
            "2026-10-15 09:00:00 +0000", "2026-10-16 10:00:00 +0000"),
    _ticket("5004", "Raj Patel", "raj@globex.com", "Globex", "Switching to a competitor",
            "We are switching to a competitor next quarter.", "churn", "closed",
            "2026-10-18 13:00:00 +0000", "2026-10-19 09:00:00 +0000"),
    _ticket("5005", "Li Wei", "li@northwind.io", "Northwind Traders", "Cancellation",
            "Please cancel our subscription at the end of the term.", "churn", "new",
            "2026-10-22 08:00:00 +0000"),
]

CATALOG = [
    ["url", "title", "kind", "topics", "published_at", "author", "summary"],
    [PAPER, "The CRM playbook", "White Paper", "CRM", "2026-08-15", "Research team",
     "How teams run their CRM."],
    [GUIDE, "The onboarding checklist", "eBook", "Onboarding", "2026-07-01", "Maya Chen",
     "Twelve steps."],
]

FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>The relgraph blog</title>
    <link>https://www.relgraph.io/blog</link>
    <description>Notes on customer relationships</description>
    <item>
      <title>Health scores your CRM can keep</title>
      <link>{ARTICLE}?utm_source=rss</link>
      <guid isPermaLink="false">relgraph-blog-41</guid>
      <dc:creator>Tom Berg</dc:creator>
      <pubDate>Tue, 06 Oct 2026 09:00:00 +0000</pubDate>
      <category>CRM</category>
      <description>What a CRM should record to keep a health score honest.</description>
    </item>
    <item>
      <title>Our CRM playbook is out</title>
      <link>{PAPER}?utm_source=rss&amp;utm_medium=feed</link>
      <guid isPermaLink="false">relgraph-blog-40</guid>
      <pubDate>Thu, 01 Oct 2026 09:00:00 +0000</pubDate>
      <category>CRM</category>
      <category>Churn</category>
      <description>Download the playbook: customer churn and the CRM.</description>
    </item>
  </channel>
</rss>
"""


def write_world(directory: Path) -> Path:
    """Write every export under `directory`; returns it."""
    (directory / "maya").mkdir(parents=True, exist_ok=True)
    (directory / "tom").mkdir(exist_ok=True)
    (directory / "maya" / "Connections.csv").write_text(_linkedin(MAYA), encoding="utf-8")
    (directory / "tom" / "Connections.csv").write_text(_linkedin(TOM), encoding="utf-8")
    (directory / "hubspot-crm-exports-all-contacts-2026-09-01.csv").write_text(
        _hubspot(SEPTEMBER), encoding="utf-8")
    (directory / "hubspot-crm-exports-all-contacts-2026-11-01.csv").write_text(
        _hubspot(NOVEMBER), encoding="utf-8")
    (directory / "segment-export.jsonl").write_text(
        "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in SEGMENT), encoding="utf-8")
    (directory / "zendesk-tickets.csv").write_text(_csv([ZENDESK_HEADER, *ZENDESK]),
                                                   encoding="utf-8")
    (directory / "catalog.csv").write_text(_csv(CATALOG), encoding="utf-8")
    (directory / "relgraph-blog.xml").write_text(FEED, encoding="utf-8")
    return directory
