"""The moment a snapshot export describes, for every snapshot reader (LinkedIn, HubSpot,
Salesforce, a mapped CSV): --observed-at, else the best date column the file has, else the date in
the file's name (the start of that day in --timezone), else one clear refusal that says what
would work. The summary note says which."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors import hubspot, linkedin, mapped_csv, salesforce
from connectors.dates import TimeReader, zone
from connectors.records import Link, Node, PersonRef
from connectors.source import MissingOption, ReadContext, moment_in_name
from tests.conftest import ROOT

OWNER = PersonRef(email="me@example.com")
# HubSpot's default contacts view, exported as it is: no Last Modified Date column.
DEFAULT_VIEW = (
    '"Record ID","First Name","Last Name","Email","Phone Number","Company Name","Job Title",'
    '"Lifecycle Stage","Create Date","Last Activity Date"\n'
    '"51","Ada","Lovelace","ada@acme.example","+44 20 7946 0000","Acme","CTO","Customer",'
    '"2022-11-03 10:15","2024-03-01 09:30"\n'
    '"52","Raj","Patel","raj@globex.example","","Globex","VP Sales","Lead",'
    '"2023-01-15 08:00","2024-03-04 16:45"\n')


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def moments(items: list[Any]) -> set[datetime]:
    return {i.observed_at for i in items if isinstance(i, Node | Link)}


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_hubspot_default_view_takes_the_latest_last_activity_date(tmp_path: Path) -> None:
    p = write(tmp_path, "hubspot-crm-exports-all-contacts-2024-03-06.csv", DEFAULT_VIEW)
    ctx = ReadContext("hubspot")
    items = list(hubspot.read(p, ctx))
    assert moments(items) == {utc(2024, 3, 4, 16, 45)}
    assert len([i for i in items if isinstance(i, Node) and i.props.get("title")]) == 2
    [note] = [n for n in ctx.notes if n.startswith("observed_at")]
    assert note == ("observed_at 2024-03-04T16:45:00+00:00: the latest Last Activity Date in "
                    f"{p.name} (it has no Last Modified Date; pass --observed-at to set it)")


def test_then_create_date(tmp_path: Path) -> None:
    text = DEFAULT_VIEW.replace('"2024-03-01 09:30"', '""').replace('"2024-03-04 16:45"', '""')
    ctx = ReadContext("hubspot")
    assert moments(list(hubspot.read(write(tmp_path, "c.csv", text), ctx))) == {
        utc(2023, 1, 15, 8)}
    assert any("the latest Create Date in c.csv (it has no Last Modified Date or Last "
               "Activity Date" in n for n in ctx.notes)


NO_DATES = '"Record ID","First Name","Last Name","Email"\n"51","Ada","Lovelace","ada@x.example"\n'


@pytest.mark.parametrize(("name", "tz", "expected"), [
    ("hubspot-crm-exports-my-view-2024-03-06.csv", "UTC", utc(2024, 3, 6)),
    ("hubspot-crm-exports-my-view-2024-03-06.csv", "Europe/Paris", utc(2024, 3, 5, 23)),
    ("contacts_2024_03_06.csv", "UTC", utc(2024, 3, 6)),
    ("contacts-20240306.csv", "UTC", utc(2024, 3, 6)),
])
def test_else_the_date_in_the_file_name(tmp_path: Path, name: str, tz: str,
                                        expected: datetime) -> None:
    ctx = ReadContext("hubspot", TimeReader(zone(tz)))
    assert moments(list(hubspot.read(write(tmp_path, name, NO_DATES), ctx))) == {expected}
    [note] = [n for n in ctx.notes if n.startswith("observed_at")]
    assert f"the start of 2024-03-06 ({tz}), the date in the file name {name}" in note
    assert "no Last Modified Date, Last Activity Date or Create Date" in note


@pytest.mark.parametrize("name", ["contacts.csv", "contacts-12345678.csv",
                                  "export-2024-02-30.csv"])
def test_else_a_refusal_that_says_what_would_work(tmp_path: Path, name: str) -> None:
    with pytest.raises(MissingOption) as caught:
        next(hubspot.read(write(tmp_path, name, NO_DATES), ReadContext("hubspot")))
    message = str(caught.value)
    assert "no Last Modified Date, Last Activity Date or Create Date" in message
    assert "--observed-at 2024-03-06" in message  # a date works
    assert "hubspot-crm-exports-all-contacts-2024-03-06.csv" in message  # so does the name


def test_observed_at_still_wins(tmp_path: Path) -> None:
    p = write(tmp_path, "hubspot-crm-exports-all-contacts-2024-03-06.csv", DEFAULT_VIEW)
    assert moments(list(hubspot.read(p, ReadContext("hubspot", observed_at=utc(2025, 1, 1))))) \
        == {utc(2025, 1, 1)}


SF_CONTACTS = ('"First Name","Last Name","Email","Account Name","Contact ID","Created Date"\n'
               '"Ada","Lovelace","ada@acme.example","Acme","003A","3/15/2024 10:02 AM"\n'
               '"Raj","Patel","raj@globex.example","Globex","003B","2/1/2024"\n')


def test_salesforce_created_date_when_there_is_no_last_modified(tmp_path: Path) -> None:
    ctx = ReadContext("salesforce")
    got = moments(list(salesforce.read(write(tmp_path, "contacts.csv", SF_CONTACTS), ctx)))
    assert got == {utc(2024, 3, 15, 10, 2)}
    assert any("the latest Created Date in contacts.csv" in n for n in ctx.notes)


def test_salesforce_api_layout_dates(tmp_path: Path) -> None:
    text = ('"Id","AccountId","FirstName","LastName","Email","CreatedDate","LastActivityDate"\n'
            '"003A","001A","Ada","Lovelace","ada@acme.example","2022-11-03T10:15:00.000Z",'
            '"2024-03-10"\n')
    ctx = ReadContext("salesforce")
    assert moments(list(salesforce.read(write(tmp_path, "Contact.csv", text), ctx))) == {
        utc(2024, 3, 10)}
    assert any("the latest Last Activity Date in Contact.csv" in n for n in ctx.notes)


def test_salesforce_report_file_name_is_the_export_instant(tmp_path: Path) -> None:
    text = '"First Name","Last Name","Email","Account Name"\n"Ada","L","ada@acme.example","A"\n'
    ctx = ReadContext("salesforce", TimeReader(zone("America/Los_Angeles")))
    p = write(tmp_path, "report1710511200000.csv", text)
    assert moments(list(salesforce.read(p, ctx))) == {utc(2024, 3, 15, 14)}
    assert any("2024-03-15T14:00:00+00:00: the export time in the file name "
               "report1710511200000.csv" in n for n in ctx.notes)


def test_salesforce_refusal_names_its_columns_and_file_names(tmp_path: Path) -> None:
    text = '"First Name","Last Name","Email","Account Name"\n"Ada","L","ada@acme.example","A"\n'
    with pytest.raises(MissingOption) as caught:
        next(salesforce.read(write(tmp_path, "mine.csv", text), ReadContext("salesforce")))
    assert "no Last Modified Date, Last Activity Date or Created Date" in str(caught.value)
    assert "report1710511200000.csv" in str(caught.value)


def test_linkedin_falls_back_to_a_dated_file_name(tmp_path: Path) -> None:
    text = "First Name,Last Name,URL,Connected On\nA,B,https://x.example/in/a,\n"
    ctx = ReadContext("linkedin", owner=OWNER)
    p = write(tmp_path, "Connections-2024-11-30.csv", text)
    assert moments(list(linkedin.read(p, ctx))) == {utc(2024, 11, 30)}
    with pytest.raises(MissingOption, match="no Connected On.*--observed-at 2024-11-30"):
        next(linkedin.read(write(tmp_path, "Connections.csv", text),
                           ReadContext("linkedin", owner=OWNER)))


def test_a_mapped_csv_falls_back_to_a_dated_file_name(tmp_path: Path) -> None:
    telco = ROOT / "fixtures" / "csv" / "telco_churn.csv"
    mapping = tomllib.loads(telco.with_suffix(".toml").read_text(encoding="utf-8"))
    del mapping["observed_at"]
    p = tmp_path / "telco-2024-06-30.csv"
    p.write_bytes(telco.read_bytes())
    ctx = ReadContext("csv", mapping=mapping)
    assert moments(list(mapped_csv.read(p, ctx))) == {utc(2024, 6, 30)}
    assert any("the date in the file name telco-2024-06-30.csv" in n for n in ctx.notes)
    p.rename(tmp_path / "telco.csv")
    with pytest.raises(MissingOption, match="--observed-at 2024-06-30.*mapping"):
        next(mapped_csv.read(tmp_path / "telco.csv", ReadContext("csv", mapping=mapping)))


@pytest.mark.parametrize(("name", "expected"), [
    ("hubspot-crm-exports-all-contacts-2024-03-06.csv", "2024-03-06T00:00:00+00:00"),
    ("report1710511200000.csv", "2024-03-15T14:00:00+00:00"),
    ("Connections.csv", None),
    ("v2-1234567890123-x.csv", None),  # 13 digits outside a Salesforce report name
    ("export-1999-01-01.csv", "1999-01-01T00:00:00+00:00"),
    ("export-2024-13-01.csv", None),
])
def test_moment_in_name(name: str, expected: str | None) -> None:
    found = moment_in_name(Path(name), zone("UTC"))
    assert (found[0].isoformat() if found else None) == expected
