"""One rule for a moment a person types or a manifest writes (`connectors.dates.parse_moment`):
a date is the start of that day in --timezone, a naive date-time is read in --timezone, a zone
given is kept. The command line, the manifest and a CSV mapping all read it the same way."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors import mapped_csv
from connectors.dates import TimeReader, parse_moment, zone
from connectors.manifest import ManifestError, read_manifest
from connectors.records import Node
from connectors.source import ReadContext
from tests.conftest import ROOT

PARIS = zone("Europe/Paris")
TELCO = ROOT / "fixtures" / "csv" / "telco_churn.csv"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("value", "tz", "expected"), [
    ("2024-11-30", None, utc(2024, 11, 30)),
    ("2024-11-30", PARIS, utc(2024, 11, 29, 23)),
    (" 2024-11-30 ", PARIS, utc(2024, 11, 29, 23)),
    ("2024-11-30T08:00", PARIS, utc(2024, 11, 30, 7)),
    ("2024-11-30 08:00:00", None, utc(2024, 11, 30, 8)),
    ("2024-11-30T08:00:00Z", PARIS, utc(2024, 11, 30, 8)),
    ("2024-11-30T08:00:00+05:00", PARIS, utc(2024, 11, 30, 3)),
    (date(2026, 12, 1), None, utc(2026, 12, 1)),
    (date(2026, 7, 1), PARIS, utc(2026, 6, 30, 22)),  # summer time: UTC+2
    (datetime(2026, 12, 1, 10), PARIS, utc(2026, 12, 1, 9)),
    (datetime(2026, 12, 1, 10, tzinfo=UTC), PARIS, utc(2026, 12, 1, 10)),
])
def test_a_moment_one_way_everywhere(value: object, tz: object, expected: datetime) -> None:
    got = parse_moment(value, tz)  # type: ignore[arg-type]
    assert got == expected and got.tzinfo is UTC


@pytest.mark.parametrize("value", ["30/11/2024", "2024-13-01", "yesterday", "", "2024-11",
                                   12, None])
def test_anything_else_is_refused_with_the_forms_that_work(value: object) -> None:
    with pytest.raises(ValueError, match=r"2024-11-30T08:00:00Z"):
        parse_moment(value)


def _manifest(tmp_path: Path, line: str, timezone: str | None = None) -> datetime | None:
    (tmp_path / "g.jsonl").write_text('{"node": "Topic", "id": "crm"}\n', encoding="utf-8")
    zone_line = f'timezone = "{timezone}"\n' if timezone else ""
    (tmp_path / "m.toml").write_text(
        f'[[load]]\nsource = "graph"\npaths = ["g.jsonl"]\n{zone_line}{line}\n',
        encoding="utf-8")
    [spec] = read_manifest(tmp_path / "m.toml")
    return spec.context().observed_at


@pytest.mark.parametrize(("line", "timezone", "expected"), [
    ("observed_at = 2026-12-01", None, utc(2026, 12, 1)),  # a TOML date
    ("observed_at = 2026-12-01", "Europe/Paris", utc(2026, 11, 30, 23)),
    ('observed_at = "2026-12-01"', "Europe/Paris", utc(2026, 11, 30, 23)),
    ("observed_at = 2026-12-01T10:00:00", "Europe/Paris", utc(2026, 12, 1, 9)),  # naive
    ("observed_at = 2026-12-01T10:00:00Z", "Europe/Paris", utc(2026, 12, 1, 10)),
    ('observed_at = "2026-11-01T00:00:00Z"', None, utc(2026, 11, 1)),
])
def test_the_manifest_reads_dates_as_the_command_line_does(
        tmp_path: Path, line: str, timezone: str | None, expected: datetime) -> None:
    assert _manifest(tmp_path, line, timezone) == expected


def test_a_bad_manifest_moment_names_the_load_and_the_key(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"load 1: observed_at: '1/12/2026'"):
        _manifest(tmp_path, 'observed_at = "1/12/2026"')
    with pytest.raises(ManifestError, match=r"observed_at: expected a date or a date-time, got t"):
        _manifest(tmp_path, "observed_at = 10:00:00")


def test_a_mapping_date_is_the_start_of_that_day_in_the_timezone() -> None:
    mapping = tomllib.loads((TELCO.with_suffix(".toml")).read_text(encoding="utf-8"))
    assert mapping["observed_at"] == date(2024, 6, 30)  # the shipped mapping writes a date
    ctx = ReadContext("csv", TimeReader(PARIS), mapping=mapping)
    moments = {i.observed_at for i in mapped_csv.read(TELCO, ctx) if isinstance(i, Node)}
    assert moments == {utc(2024, 6, 29, 22)}
    assert any("2024-06-29T22:00:00+00:00" in note for note in ctx.notes)
