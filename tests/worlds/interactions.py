"""Exports whose loads make the live feed's later kinds of interaction, in the tools' own layouts:
a ticket solved (Zendesk), a newsletter click (Mailchimp), a key feature used for the first time
(Segment). Each kind comes as two files, as two downloads a month or a day apart would:

- Zendesk's ticket export (the demo world's columns, `demoworld.world.ZENDESK`) in October and
  in November. October: Ada's renewal ticket 5101 open, Ben's export ticket 5102 already solved
  (Solved at 2026-10-16 10:00). November: 5101 solved (2026-11-03 16:30), 5102 closed since (its
  Solved at unchanged), and Fay's ticket 5103, closed by an automation on an export without a
  Solved at: its Updated at (2026-11-04 09:00) is when.
- Mailchimp: the "Clicked" recipients report of the 3 November roundup (the audience's columns,
  URL and Click Time, every field quoted; Raj twice, two links) and the activity export of the
  10 November roundup (`email,url,action,timestamp,campaign`, opens beside clicks; times without
  a zone, read in Europe/London).
- Segment warehouse dumps of two days (JSON Lines in no useful order, an identify per session):
  on 2 November Ada creates a report (a key feature), uses the filters (not one) and logs in; on
  3 November she creates another report, sends an invite through the generic `Feature Used`
  event ({"feature": "invite_sent"}, a key feature) and views a dashboard (not one).

With the shipped key features (analytics/default.toml: report_created, dashboard_shared,
integration_connected, invite_sent) the feed items, whichever file comes first, are `EXPECTED`
(with the ids `IDS`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from demoworld.world import ZENDESK as ZENDESK_HEADER

BLOG = "https://www.relgraph.io/blog"
PAPER = "https://www.relgraph.io/papers/crm-playbook"
GUIDE = "https://www.relgraph.io/guides/onboarding-checklist"

# Mailchimp's "Clicked" recipients report of one campaign (Reports > Click performance).
MAILCHIMP_CLICKED = ["Email Address", "First Name", "Last Name", "Address", "Phone Number",
                     "Company", "URL", "Click Time", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
                     "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF",
                     "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]
ACTIVITY = ["email", "url", "action", "timestamp", "campaign"]


def _csv(rows: list[list[str]], *, quote_all: bool = False) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n",
               quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows(rows)
    return buffer.getvalue()


def ticket(tid: str, requester: str, email: str, org: str, subject: str, text: str,
           status: str, created: str, *, solved: str = "", updated: str = "") -> list[str]:
    """A row of Zendesk's ticket export, every column of it (the unused ones as Zendesk fills
    them for a plain ticket)."""
    fields = {"Id": tid, "Requester": requester, "Requester id": str(38_000_000 + int(tid)),
              "Requester email": email, "Requester domain": email.split("@")[1],
              "Submitter": requester, "Assignee": "Sam Agent", "Group": "Support",
              "Subject": subject, "Description": text, "Tags": "export", "Status": status,
              "Priority": "Normal", "Via": "Mail", "Ticket type": "Problem",
              "Created at": created, "Updated at": updated or solved or created,
              "Organization": org, "Solved at": solved,
              "Satisfaction Score": "Good" if solved else "Unoffered"}
    return [fields.get(column, "") for column in ZENDESK_HEADER]


ADA_TICKET = ("5101", "Ada Lovelace", "ada@apex.co", "Apex Systems", "Renewal at risk",
              "The board asked us to look at other vendors.")
BEN_TICKET = ("5102", "Ben Okafor", "ben@apex.co", "Apex Systems", "Export times out",
              "The CSV export of the usage report never finishes.")
FAY_TICKET = ("5103", "Fay Ngata", "fay@apex.co", "Apex Systems", "Invoice address",
              "Please send invoices to finance@apex.co.")

ZENDESK_OCTOBER = [
    ticket(*BEN_TICKET, "Solved", "2026-10-15 09:00:00 +0000", solved="2026-10-16 10:00:00 +0000"),
    ticket(*ADA_TICKET, "Open", "2026-10-20 15:00:00 +0000"),
]
ZENDESK_NOVEMBER = [
    ticket(*ADA_TICKET, "Solved", "2026-10-20 15:00:00 +0000", solved="2026-11-03 16:30:00 +0000"),
    ticket(*FAY_TICKET, "Closed", "2026-11-01 08:00:00 +0000",
           updated="2026-11-04 09:00:00 +0000"),
    ticket(*BEN_TICKET, "Closed", "2026-10-15 09:00:00 +0000", solved="2026-10-16 10:00:00 +0000",
           updated="2026-10-20 10:00:00 +0000"),
]


def _clicked(email: str, first: str, last: str, company: str, url: str, at: str) -> list[str]:
    return [email, first, last, "", "", company, url, at, "4", "2025-11-02 10:11:12", "",
            "2025-11-02 10:12:00", "203.0.113.7", "", "", "", "", "", "GB", "",
            at[:10] + " 00:00:00", "112233445", "a1b2c3d4e5", "", '"Customers"']


MAILCHIMP_NOVEMBER_3 = [
    _clicked("raj@globex.com", "Raj", "Patel", "Globex", PAPER, "2026-11-03 08:02:11"),
    _clicked("ada@apex.co", "Ada", "Lovelace", "Apex Systems", PAPER, "2026-11-03 09:15:00"),
    _clicked("raj@globex.com", "Raj", "Patel", "Globex", GUIDE, "2026-11-03 08:05:40"),
]
ACTIVITY_NOVEMBER_10 = [
    ["ben@apex.co", "", "open", "2026-11-10 08:40:00", "roundup-2026-11-10"],
    ["ben@apex.co", f"{GUIDE}?utm_source=newsletter&utm_medium=email&utm_campaign=roundup"
     "-2026-11-10", "click", "2026-11-10 08:40:40", "roundup-2026-11-10"],
]


def _track(mid: str, event: str, at: str, props: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": "usr_ada", "timestamp": at,
            "context": {"groupId": "grp_apex", "library": {"name": "analytics-node"}},
            "properties": props or {}, "messageId": mid}


def _session(mid: str, at: str) -> list[dict[str, Any]]:
    return [{"type": "identify", "userId": "usr_ada", "messageId": mid, "timestamp": at,
             "traits": {"email": "ada@apex.co", "firstName": "Ada", "lastName": "Lovelace"}},
            {"type": "group", "userId": "usr_ada", "groupId": "grp_apex", "messageId": mid + "g",
             "timestamp": at, "traits": {"name": "Apex Systems", "website": "apex.co",
                                         "plan": "Business"}}]


SEGMENT_NOVEMBER_2 = [
    _track("d2-0003", "Feature Used", "2026-11-02T09:20:00.000Z", {"feature": "filters"}),
    _track("d2-0004", "Report Created", "2026-11-02T09:31:00.000Z", {"report": "churn"}),
    *_session("d2-0001", "2026-11-02T09:00:00.000Z"),
    _track("d2-0002", "Logged In", "2026-11-02T09:00:05.000Z"),
]
SEGMENT_NOVEMBER_3 = [
    _track("d3-0004", "Dashboard Viewed", "2026-11-03T14:10:00.000Z"),
    _track("d3-0003", "Feature Used", "2026-11-03T14:05:00.000Z", {"feature": "invite_sent"}),
    *_session("d3-0001", "2026-11-03T14:00:00.000Z"),
    _track("d3-0002", "Report Created", "2026-11-03T14:02:00.000Z"),
]

# The loads, as `relgraph load` arguments relative to the directory `write_exports` fills.
LOADS: dict[str, list[list[str]]] = {
    "zendesk": [["zendesk", "zendesk/tickets-2026-10.csv"],
                ["zendesk", "zendesk/tickets-2026-11.csv"]],
    "clicks": [["clicks", "mailchimp/clicked-roundup-2026-11-03.csv", "--timezone",
                "Europe/London"],
               ["clicks", "mailchimp/activity-2026-11-10.csv", "--timezone", "Europe/London"]],
    "segment": [["segment", "segment/2026-11-02.jsonl"], ["segment", "segment/2026-11-03.jsonl"]],
}

# (type, person, at, properties as sorted JSON) of every feed item the loads make, in either
# order; and the items' ids (a click's is a hash of its row).
EXPECTED: dict[str, set[tuple[str, str, str, str]]] = {
    "zendesk": {
        ("concern_raised", "ada@apex.co", "2026-10-20T15:00:00+00:00",
         '{"channel": "email", "subject": "Renewal at risk"}'),
        ("concern_raised", "ben@apex.co", "2026-10-15T09:00:00+00:00",
         '{"channel": "email", "subject": "Export times out"}'),
        ("concern_raised", "fay@apex.co", "2026-11-01T08:00:00+00:00",
         '{"channel": "email", "subject": "Invoice address"}'),
        ("concern_solved", "ada@apex.co", "2026-11-03T16:30:00+00:00",
         '{"concern": "zendesk:5101", "subject": "Renewal at risk"}'),
        ("concern_solved", "ben@apex.co", "2026-10-16T10:00:00+00:00",
         '{"concern": "zendesk:5102", "subject": "Export times out"}'),
        ("concern_solved", "fay@apex.co", "2026-11-04T09:00:00+00:00",
         '{"concern": "zendesk:5103", "subject": "Invoice address"}'),
    },
    "clicks": {
        ("newsletter_click", "raj@globex.com", "2026-11-03T08:02:11+00:00",
         json.dumps({"url": PAPER})),
        ("newsletter_click", "raj@globex.com", "2026-11-03T08:05:40+00:00",
         json.dumps({"url": GUIDE})),
        ("newsletter_click", "ada@apex.co", "2026-11-03T09:15:00+00:00",
         json.dumps({"url": PAPER})),
        ("newsletter_click", "ben@apex.co", "2026-11-10T08:40:40+00:00",
         json.dumps({"action": "click", "campaign": "roundup-2026-11-10", "url": GUIDE})),
    },
    "segment": {
        ("first_login", "ada@apex.co", "2026-11-02T09:00:05+00:00", "{}"),
        ("feature_used", "ada@apex.co", "2026-11-02T09:31:00+00:00",
         '{"feature": "report_created"}'),
        ("feature_used", "ada@apex.co", "2026-11-03T14:05:00+00:00",
         '{"feature": "invite_sent"}'),
    },
}
IDS = {
    "zendesk": {"zendesk:5101", "zendesk:5102", "zendesk:5103", "zendesk:5101:solved",
                "zendesk:5102:solved", "zendesk:5103:solved"},
    "segment": {"first_login:ada@apex.co", "first_feature:report_created:ada@apex.co",
                "first_feature:invite_sent:ada@apex.co"},
}


def _jsonl(messages: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages)


def write_exports(directory: Path) -> Path:
    """Every export under `directory` (zendesk/, mailchimp/, segment/) and a manifest.toml
    that loads them all; returns it."""
    for sub in ("zendesk", "mailchimp", "segment"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    (directory / "zendesk" / "tickets-2026-10.csv").write_text(
        _csv([ZENDESK_HEADER, *ZENDESK_OCTOBER]), encoding="utf-8")
    (directory / "zendesk" / "tickets-2026-11.csv").write_text(
        _csv([ZENDESK_HEADER, *ZENDESK_NOVEMBER]), encoding="utf-8")
    (directory / "mailchimp" / "clicked-roundup-2026-11-03.csv").write_text(
        _csv([MAILCHIMP_CLICKED, *MAILCHIMP_NOVEMBER_3], quote_all=True), encoding="utf-8")
    (directory / "mailchimp" / "activity-2026-11-10.csv").write_text(
        _csv([ACTIVITY, *ACTIVITY_NOVEMBER_10]), encoding="utf-8")
    (directory / "segment" / "2026-11-02.jsonl").write_text(_jsonl(SEGMENT_NOVEMBER_2),
                                                            encoding="utf-8")
    (directory / "segment" / "2026-11-03.jsonl").write_text(_jsonl(SEGMENT_NOVEMBER_3),
                                                            encoding="utf-8")
    (directory / "manifest.toml").write_text(manifest(), encoding="utf-8")
    return directory


def manifest() -> str:
    """Every load of `LOADS`, in order, as `relgraph load --manifest` reads them."""
    lines = []
    for steps in LOADS.values():
        for name, path, *options in steps:
            lines += ["[[load]]", f'source = "{name}"', f'paths = ["{path}"]']
            if options[:1] == ["--timezone"]:
                lines.append(f'timezone = "{options[1]}"')
            lines.append("")
    return "\n".join(lines)
