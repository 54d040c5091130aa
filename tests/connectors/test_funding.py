"""The funding reader: Crunchbase funding-round exports -> funding_round triggers."""

from __future__ import annotations

import contextlib
import csv
import doctest
import io
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import funding as module
from connectors.csvio import MissingColumns
from connectors.errors import BadLine, ConnectorError, UnreadableFile
from connectors.funding import SOURCE, parse_money, read, short_money
from connectors.records import CompanyRef, KeyRef, Link, Node, Tag
from connectors.source import ReadContext, source

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "funding" / "funding-rounds.csv"
HEADER = "Organization Name,Organization Website,Funding Type,Money Raised,Money Raised Currency,"\
         "Announced Date"


def run(path: Path) -> list:
    return list(read(path, ReadContext("funding")))


def write(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "rounds.csv"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def triggers(items: list) -> list[Node]:
    return [i for i in items if isinstance(i, Node) and isinstance(i.ref, KeyRef)]


def test_registered() -> None:
    assert source("funding") is SOURCE


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("index", "line", "company", "headline", "amount", "currency", "at"), [
    (0, 2, CompanyRef(domain="https://www.acme.com", name="Acme"), "Acme raised $20M Series B",
     20_000_000.0, "USD", datetime(2024, 3, 5, tzinfo=UTC)),
    (1, 3, CompanyRef(domain="globex.io", name="Globex"), "Globex raised €5.5M Seed",
     5_500_000.0, "EUR", datetime(2024, 2, 20, tzinfo=UTC)),
    # "Organization Name URL" is the company's own site here (not a crunchbase.com page)
    (2, 4, CompanyRef(domain="https://initech.com", name="Initech"),
     "Initech raised a Venture - Series Unknown round", None, None,
     datetime(2024, 1, 10, tzinfo=UTC)),
])
def test_fixture_rounds(index: int, line: int, company: CompanyRef, headline: str,
                        amount: float | None, currency: str | None, at: datetime) -> None:
    items = run(FIXTURE)
    trigger = triggers(items)[index]
    assert trigger.line == line
    assert trigger.ref.key.startswith("funding:")
    assert (trigger.props["type"], trigger.props["headline"], trigger.props.get("amount"),
            trigger.props.get("currency"), trigger.props["at"]) == (
        "funding_round", headline, amount, currency, at)
    assert Node(company, {"name": company.name, "website": company.domain}, line=line) in items
    assert Link("HAD_TRIGGER", company, trigger.ref, line=line) in items
    assert Tag(trigger.ref, text=headline, line=line) in items


def test_fixture_details_and_rejects() -> None:
    items = run(FIXTURE)
    acme = triggers(items)[0]
    assert acme.props["round"] == "Series B"
    assert acme.props["source_url"] == (
        "https://www.crunchbase.com/funding_round/acme-series-b--1a2b3c4d")
    assert acme.props["details"] == ("Transaction: Series B - Acme; Lead investors: Index "
                                     "Ventures; Investors: Index Ventures, Accel, Seedcamp")
    assert [(i.line, i.field) for i in items if isinstance(i, BadLine)] == [
        (5, "Money Raised"), (6, "Organization Name"), (7, "Announced Date")]


def test_crunchbase_profile_url_is_not_the_website(tmp_path: Path) -> None:
    text = ("Organization Name,Organization Name URL,Funding Type,Announced Date\n"
            "Acme,https://www.crunchbase.com/organization/acme,Seed,2024-01-01\n")
    items = run(write(tmp_path, text))
    assert items[0].ref == CompanyRef(name="Acme")


def test_same_round_same_id(tmp_path: Path) -> None:
    a = triggers(run(write(tmp_path, f"{HEADER}\nAcme,acme.com,Series B,1,USD,2024-03-05\n")))
    b = triggers(run(write(tmp_path, f"{HEADER}\nACME ,https://www.acme.com/,series b,2,USD,"
                                     "Mar 5, 2024\n".replace("Mar 5, 2024", '"Mar 5, 2024"'))))
    c = triggers(run(write(tmp_path, f"{HEADER}\nAcme,acme.com,Series C,1,USD,2024-03-05\n")))
    assert a[0].ref == b[0].ref != c[0].ref


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("20000000", "20000000", None), ("$20,000,000", "20000000", "USD"),
    ("$20M", "20000000", "USD"), ("€5.5M", "5500000", "EUR"), ("£3.5m", "3500000", "GBP"),
    ("1.2 billion", "1200000000", None), ("USD 3,500,000.50", "3500000.50", "USD"),
    ("750k", "750000", None), ("12 500 000 EUR", "12500000", "EUR"), ("$ 20 million", "20000000",
                                                                        "USD"),
    ("", None, None), ("—", None, None),
])
def test_parse_money(text: str, amount: str | None, currency: str | None) -> None:
    assert parse_money(text) == (Decimal(amount) if amount else None, currency)


@pytest.mark.parametrize("text", ["5,5 Mio", "€5.000.000", "lots", "20 foo", "$", "1,2,3"])
def test_parse_money_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


def test_amounts_are_exact() -> None:
    assert parse_money("$1.1M")[0] == Decimal("1100000")
    assert parse_money("0.3B")[0] == Decimal("300000000")


@pytest.mark.parametrize(("amount", "currency", "text"), [
    ("20000000", "USD", "$20M"), ("5500000", "EUR", "€5.5M"), ("750000", "USD", "$750K"),
    ("1200000000", "USD", "$1.2B"), ("12500", "CHF", "CHF 12.5K"), ("900", None, "900"),
])
def test_short_money(amount: str, currency: str | None, text: str) -> None:
    assert short_money(Decimal(amount), currency) == text


def test_currency_column_wins(tmp_path: Path) -> None:
    items = run(write(tmp_path, f"{HEADER}\nAcme,acme.com,Seed,$1M,EUR,2024-03-05\n"))
    assert triggers(items)[0].props["currency"] == "EUR"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    items = run(write(tmp_path, f"{HEADER}\nCafé Ltd,cafe.fr,Seed,€1M,,2024-03-05\n".encode(
        encoding)))
    assert triggers(items)[0].props["headline"] == "Café Ltd raised €1M Seed"


def test_semicolons(tmp_path: Path) -> None:
    text = HEADER.replace(",", ";") + "\nAcme;acme.com;Seed;1000000;USD;2024-03-05\n"
    assert triggers(run(write(tmp_path, text)))[0].props["amount"] == 1_000_000.0


def test_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(MissingColumns, match="Funding Type"):
        run(write(tmp_path, "Organization Name,Announced Date\nAcme,2024-01-01\n"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, ""))

@pytest.mark.parametrize("data", [b"\\x00\\x00\\x01", b"\\x00a\\x00b\\x00"])
def test_dangling_utf16_byte_is_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        run(write(tmp_path, data))


def test_dangling_utf16_byte_after_rows(tmp_path: Path) -> None:
    data = f"{HEADER}\nAcme,acme.com,Seed,1,USD,2024-03-05\n".encode("utf-16-le") + b"x"
    items = run(write(tmp_path, data))
    assert isinstance(items[-1], BadLine) and "ends inside" in items[-1].reason
    assert len(items) > 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(ConnectorError):
        run(write(Path(tmp), data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.text(max_size=25), min_size=6, max_size=6), max_size=8))
def test_random_rows_never_crash(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            items = run(write(Path(tmp), buf.getvalue().encode("utf-8", "surrogatepass")))
        except ConnectorError:
            return
    for trigger in triggers(items):
        assert trigger.props["type"] == "funding_round"
        assert trigger.props.get("amount", 0) >= 0


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False))
def test_money_round_trip(amount: Decimal) -> None:
    assert parse_money(f"${amount:,f}") == (amount, "USD")
