"""The fetch's guard against server-side request forgery: a feed (or a redirect) pointing at
loopback, a private network or a cloud metadata address is refused on its report line, stores
nothing and never becomes the feed's home; RELGRAPH_FEEDS_ALLOW_HOSTS lets chosen hosts through;
the address vetted is the address connected to (DNS rebinding); no proxy from the environment.

Real HTTP on loopback (tests/curation/feedserver.py) wherever a server can stand in. Host names
other than IP literals go through `curation.fetch.resolve_host`, which the `dns` fixture replaces
with a table (so "feeds.test" can be 127.0.0.1, or lie), and `connections` records every address
the guarded backend actually asked the network to connect to."""

from __future__ import annotations

import shutil
import sqlite3
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpcore
import pytest

import curation.fetch
from curation.db import connect
from curation.fetch import (
    AllowList,
    FeedReport,
    FetchOptions,
    Outcome,
    address_refusal,
    fetch_all,
)
from curation.sources import find_source, list_sources, save_source
from tests.curation.feedserver import FeedServer, Route
from tests.curation.test_fetch import RSS

HINT = "(allow it with RELGRAPH_FEEDS_ALLOW_HOSTS)"
PUBLIC = "93.184.216.34"  # example.com's old address: public, never really connected to here


def options(*allow: str) -> FetchOptions:
    return FetchOptions(connect_timeout=2, read_timeout=2, total_timeout=5, allow_hosts=allow)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with connect(tmp_path / "curation.sqlite") as conn:
        yield conn


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer({"/feed": Route(RSS)}) as srv:
        yield srv


@dataclass
class FakeDNS:
    """name -> the answers it gives, one per look-up (the last one repeats); a name in `system`
    goes to the real resolver; any other name does not resolve. Every look-up is logged."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    system: set[str] = field(default_factory=set)
    looked_up: list[str] = field(default_factory=list)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    real = curation.fetch.resolve_host

    async def resolve(host: str, port: int) -> list[Any]:
        fake.looked_up.append(host)
        if host in fake.system:
            return await real(host, port)
        answers = fake.answers.get(host)
        if not answers:
            raise OSError(f"{host}: no such name (test resolver)")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ip_address(a) for a in answer]

    monkeypatch.setattr(curation.fetch, "resolve_host", resolve)
    return fake


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the guarded backend hands to httpcore's own backend to connect to, in
    order. `PUBLIC` is answered "unreachable" without touching the network."""
    made: list[str] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(self: httpcore.AnyIOBackend, host: str, port: int,
                          **kwargs: Any) -> httpcore.AsyncNetworkStream:
        made.append(host)
        if host == PUBLIC:
            raise httpcore.ConnectError(f"{host} is unreachable (test)")
        return await real(self, host, port, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return made


def entries(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def only(db: sqlite3.Connection, url: str, opts: FetchOptions) -> FeedReport:
    save_source(db, url, kind="company")
    (report,) = fetch_all(db, options=opts).feeds
    return report


def assert_refused(db: sqlite3.Connection, report: FeedReport, reason: str) -> None:
    """Refused, said so on the line and in the source's status; nothing stored, no move."""
    assert report.outcome is Outcome.FAILED, report.line
    assert report.refused and report.message.startswith("refused: "), report.line
    assert reason in report.message, report.line
    assert (report.entries, report.new_entries, report.moved_to) == (0, 0, None)
    assert entries(db) == 0
    source = find_source(db, report.url)
    assert source is not None and source.moved_to is None
    assert source.last_status == f"failed: {report.message}"
    assert source.etag is None and source.last_modified is None


# --- refused by default ------------------------------------------------------------------------

def test_a_feed_on_loopback_is_refused_by_default(db: sqlite3.Connection, server: FeedServer,
                                                  connections: list[str]) -> None:
    report = only(db, server.url("/feed"), options())
    assert_refused(db, report, f"refused: 127.0.0.1 is a loopback address {HINT}")
    assert server.requests == [] and connections == []  # refused before connecting


def test_the_default_options_refuse_loopback(db: sqlite3.Connection, server: FeedServer) -> None:
    save_source(db, server.url("/feed"), kind="company")
    (report,) = fetch_all(db).feeds  # no options at all
    assert_refused(db, report, "127.0.0.1 is a loopback address")
    assert server.requests == []


def test_a_name_resolving_to_a_private_address_is_refused(
        db: sqlite3.Connection, dns: FakeDNS, connections: list[str]) -> None:
    dns.answers["feed.example"] = [["10.0.0.5", "192.168.1.9"]]
    report = only(db, "http://feed.example/rss", options())
    assert_refused(db, report, "refused: feed.example resolves to 10.0.0.5, a private address "
                               f"(and 1 more address, none public) {HINT}")
    assert connections == []


def test_a_permanent_redirect_to_loopback_is_refused_on_the_hop_and_not_recorded(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS,
        connections: list[str]) -> None:
    """feeds.test (allowed by name) answers 301 to 127.0.0.1 (not allowed): the hop is refused,
    the feed's entries stay unread, and the 301 is not the feed's new home."""
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    server.routes["/old"] = Route(location=server.url("/feed"), status=301)
    report = only(db, f"http://feeds.test:{server.port}/old", options("feeds.test"))
    assert_refused(db, report, f"refused: redirected to {server.url('/feed')}, and 127.0.0.1 "
                               f"is a loopback address {HINT}")
    assert "moved permanently" not in report.message
    assert len(server.hits("/old")) == 1 and server.hits("/feed") == []
    assert connections == ["127.0.0.1"]  # the one allowed connection, to feeds.test


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_the_metadata_address_is_refused_without_connecting(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS,
        connections: list[str], status: int) -> None:
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    server.routes["/old"] = Route(location=metadata, status=status)
    report = only(db, f"http://feeds.test:{server.port}/old", options("feeds.test"))
    assert_refused(db, report, f"refused: redirected to {metadata}, and 169.254.169.254 is a "
                               f"link-local address {HINT}")
    assert "169.254.169.254" not in connections


def test_a_redirect_via_a_public_hop_to_a_private_name_records_no_move(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS,
        connections: list[str]) -> None:
    """301 -> 301 -> refused: neither permanent hop is recorded (a home that leads to a refused
    address is no home)."""
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    dns.answers["intranet.test"] = [["172.16.3.4"]]
    server.routes["/a"] = Route(location=f"http://feeds.test:{server.port}/b", status=301)
    server.routes["/b"] = Route(location="http://intranet.test/feed", status=301)
    report = only(db, f"http://feeds.test:{server.port}/a", options("feeds.test"))
    assert_refused(db, report, "redirected to http://intranet.test/feed, and intranet.test "
                               f"resolves to 172.16.3.4, a private address {HINT}")


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.1", "127.1",
                                  "localhost", "LOCALHOST."])
def test_other_spellings_of_loopback_are_refused_on_the_hop(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS, connections: list[str],
        host: str) -> None:
    """Decimal, octal, hex and short forms, and names: whatever the system resolver makes of
    the host, the address it gives is what is vetted (or httpx refuses the URL first)."""
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    dns.system.add(host.lower())
    target = f"http://{host}:{server.port}/feed"
    server.routes["/old"] = Route(location=target, status=301)
    report = only(db, f"http://feeds.test:{server.port}/old", options("feeds.test"))
    assert report.outcome is Outcome.FAILED and report.moved_to is None, report.line
    assert server.hits("/feed") == [] and connections == ["127.0.0.1"], report.line
    assert entries(db) == 0 and list_sources(db)[0].moved_to is None
    if report.refused:
        assert f"{host} resolves to 127.0.0.1, a loopback address {HINT}" in report.message
    else:  # httpx refuses the octal form; the resolver does not know "localhost." here
        assert "Invalid IPv4 address" in report.message or "cannot resolve" in report.message, \
            report.line


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO",
                                    "ftp://feeds.example/rss", "dict://127.0.0.1:11211/stat"])
def test_a_redirect_to_another_scheme_is_refused(db: sqlite3.Connection, server: FeedServer,
                                                 target: str) -> None:
    server.routes["/old"] = Route(location=target, status=301)
    report = only(db, server.url("/old"), options("127.0.0.1"))
    assert_refused(db, report, f"refused: redirected to {target!r}: only http and https URLs "
                               "are fetched")
    assert HINT not in report.message  # no setting allows a scheme


def test_a_move_recorded_to_a_refused_address_is_dropped(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS) -> None:
    """A move recorded before the guard (or while the address was allowed) is not followed to a
    refused address; the feed's own URL is fetched again from the next fetch on."""
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    url = f"http://feeds.test:{server.port}/feed"
    save_source(db, url, kind="company")
    db.execute("UPDATE sources SET moved_to = ?, etag = '\"m\"' WHERE url = ?",
               ("http://169.254.169.254/latest/meta-data/", url))
    (report,) = fetch_all(db, options=options("feeds.test")).feeds
    assert report.refused and "169.254.169.254 is a link-local address" in report.message
    assert report.message.endswith("; the move recorded to http://169.254.169.254/latest/"
                                   f"meta-data/ is dropped ({url} is fetched from now on)")
    assert (list_sources(db)[0].moved_to, list_sources(db)[0].etag) == (None, None)
    assert fetch_all(db, options=options("feeds.test")).feeds[0].outcome is Outcome.OK
    assert "if-none-match" not in server.hits("/feed")[0].headers  # the old address's ETag


# --- allowed by RELGRAPH_FEEDS_ALLOW_HOSTS -------------------------------------------------------

@pytest.mark.parametrize("allow", ["127.0.0.1", "127.0.0.0/8", "[127.0.0.1]",
                                   "::ffff:127.0.0.1", "10.0.0.0/8, 127.0.0.1/32"])
def test_allowed_by_address_or_range(db: sqlite3.Connection, server: FeedServer,
                                     allow: str) -> None:
    refused = only(db, server.url("/feed"), options())
    assert_refused(db, refused, "127.0.0.1 is a loopback address")
    (report,) = fetch_all(db, options=options(*allow.split(","))).feeds
    assert (report.outcome, report.new_entries) == (Outcome.OK, 2), report.line
    assert entries(db) == 2 and len(server.hits("/feed")) == 1


def test_an_address_entry_allows_any_name_resolving_inside_it(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS) -> None:
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    report = only(db, f"http://feeds.test:{server.port}/feed", options("127.0.0.0/8"))
    assert report.outcome is Outcome.OK, report.line


def test_allowed_by_host_name_and_only_that_name(db: sqlite3.Connection, server: FeedServer,
                                                 dns: FakeDNS) -> None:
    dns.answers["feeds.test"] = dns.answers["other.test"] = [["127.0.0.1"]]
    save_source(db, f"http://FEEDS.test:{server.port}/feed", kind="company")
    save_source(db, f"http://other.test:{server.port}/feed", kind="company")
    save_source(db, server.url("/feed"), kind="company")
    report = fetch_all(db, options=options("feeds.test."))  # a final dot and case do not count
    lines = {f.url.split("//")[1].split(":")[0].lower(): f for f in report.feeds}
    assert lines["feeds.test"].outcome is Outcome.OK, lines["feeds.test"].line
    assert "other.test resolves to 127.0.0.1, a loopback address" in lines["other.test"].message
    assert "127.0.0.1 is a loopback address" in lines["127.0.0.1"].message


def test_a_range_that_does_not_hold_the_address_allows_nothing(db: sqlite3.Connection,
                                                               server: FeedServer) -> None:
    report = only(db, server.url("/feed"), options("10.0.0.0/8", "127.0.0.2", "localhost"))
    assert_refused(db, report, "127.0.0.1 is a loopback address")


# --- the address vetted is the address connected to ---------------------------------------------

def test_dns_rebinding_cannot_get_a_connection_to_loopback(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS,
        connections: list[str]) -> None:
    """rebind.test answers a public address on its first look-up and 127.0.0.1 on every one
    after. A guard that checked one answer and let the connection look the name up again would
    connect to 127.0.0.1 (where the feed server is waiting); this one looks it up once and
    connects to the address it vetted (unreachable here), so the server never hears of it."""
    dns.answers["rebind.test"] = [[PUBLIC], ["127.0.0.1"]]
    report = only(db, f"http://rebind.test:{server.port}/feed", options())
    assert report.outcome is Outcome.FAILED and report.message.startswith("cannot connect: "), \
        report.line
    assert f"{PUBLIC} is unreachable" in report.message
    assert connections == [PUBLIC]
    assert dns.looked_up == ["rebind.test"]
    assert server.requests == [] and entries(db) == 0


def test_a_name_with_public_and_loopback_answers_connects_only_to_the_public_one(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS,
        connections: list[str]) -> None:
    dns.answers["mixed.test"] = [["127.0.0.1", PUBLIC, "::1"]]
    report = only(db, f"http://mixed.test:{server.port}/feed", options())
    assert report.outcome is Outcome.FAILED and not report.refused, report.line
    assert connections == [PUBLIC] and server.requests == []


def test_an_allowed_name_connects_to_its_resolved_address(
        db: sqlite3.Connection, server: FeedServer, dns: FakeDNS,
        connections: list[str]) -> None:
    """The same path the guard takes for a public host, end to end: one look-up, a connection
    to the literal address, the Host header still the feed's name."""
    dns.answers["feeds.test"] = [["127.0.0.1"]]
    report = only(db, f"http://feeds.test:{server.port}/feed", options("feeds.test"))
    assert report.outcome is Outcome.OK, report.line
    assert connections == ["127.0.0.1"] and dns.looked_up == ["feeds.test"]
    assert server.hits("/feed")[0].headers["host"] == f"feeds.test:{server.port}"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[FeedServer]:
    """The feed server behind TLS, with a self-signed certificate for feeds.test only."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a certificate with")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=feeds.test",
                    "-addext", "subjectAltName=DNS:feeds.test"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    srv = FeedServer({"/feed": Route(RSS)})
    srv._server.socket = context.wrap_socket(srv._server.socket, server_side=True)
    with srv:
        yield srv


def test_tls_checks_the_host_name_while_connecting_to_the_vetted_address(
        db: sqlite3.Connection, tls_server: FeedServer, tmp_path: Path,
        dns: FakeDNS, connections: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection goes to the IP literal, but SNI and the certificate check still use the
    feed's host name: feeds.test's certificate passes for feeds.test and fails for another name
    on the same address."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # trust the test's cert
    dns.answers["feeds.test"] = dns.answers["other.test"] = [["127.0.0.1"]]
    port = tls_server.port
    save_source(db, f"https://feeds.test:{port}/feed", kind="company")
    save_source(db, f"https://other.test:{port}/feed", kind="company")
    report = fetch_all(db, options=options("127.0.0.1")).feeds
    good, wrong = sorted(report, key=lambda f: f.url)
    assert good.outcome is Outcome.OK, good.line
    assert wrong.outcome is Outcome.FAILED and not wrong.refused, wrong.line
    assert "certificate verify failed" in wrong.message and "other.test" in wrong.message, \
        wrong.line
    assert connections == ["127.0.0.1", "127.0.0.1"]


def test_a_name_that_does_not_resolve_is_one_line(db: sqlite3.Connection,
                                                  dns: FakeDNS) -> None:
    report = only(db, "http://nowhere.test/feed", options())
    assert report.outcome is Outcome.FAILED and not report.refused
    assert report.message.startswith("cannot connect: cannot resolve nowhere.test: ")


def test_no_proxy_is_taken_from_the_environment(db: sqlite3.Connection, server: FeedServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy would be the connection the guard vets, and the proxy would then fetch anything:
    HTTP_PROXY and friends are ignored (the feed is fetched directly, the proxy hears nothing)."""
    with FeedServer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                     "all_proxy"):
            monkeypatch.setenv(name, proxy.url(""))
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        report = only(db, server.url("/feed"), options("127.0.0.1"))
        assert proxy.requests == []
    assert report.outcome is Outcome.OK, report.line
    assert len(server.hits("/feed")) == 1


# --- the address classifier and the allow list ---------------------------------------------------

CLASSIFIED = [
    ("93.184.216.34", None), ("1.1.1.1", None), ("8.8.8.8", None),
    ("2606:4700:4700::1111", None), ("::ffff:93.184.216.34", None),
    ("64:ff9b::5db8:d822", None),  # NAT64 of 93.184.216.34
    ("2002:5db8:d822::1", None),  # 6to4 of 93.184.216.34
    ("127.0.0.1", "a loopback address"), ("127.255.255.254", "a loopback address"),
    ("::1", "a loopback address"), ("::ffff:127.0.0.1", "a loopback address"),
    ("::ffff:7f00:1", "a loopback address"), ("64:ff9b::7f00:1", "a loopback address"),
    ("2002:7f00:1::", "a loopback address"),
    ("0.0.0.0", "an unspecified address"), ("::", "an unspecified address"),
    ("0.1.2.3", "a 'this network' address (0.0.0.0/8)"),
    ("::ffff:0.0.0.0", "an unspecified address"),
    ("10.0.0.5", "a private address"), ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"), ("192.168.1.1", "a private address"),
    ("::ffff:10.1.2.3", "a private address"), ("fc00::1", "a private address"),
    ("fd12:3456:789a::1", "a private address"),
    ("169.254.169.254", "a link-local address"), ("fe80::1", "a link-local address"),
    ("fe80::1%2", "a link-local address"), ("::ffff:169.254.169.254", "a link-local address"),
    ("224.0.0.1", "a multicast address"), ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"), ("ff0e::1", "a multicast address"),
    ("255.255.255.255", "a broadcast address"),
    ("100.64.0.1", "a shared address (100.64.0.0/10, carrier-grade NAT)"),
    ("100.127.255.254", "a shared address (100.64.0.0/10, carrier-grade NAT)"),
    ("240.0.0.1", "a reserved address"), ("::127.0.0.1", "a reserved address"),
    ("fec0::1", "a site-local address"),
    ("192.0.2.1", "a special-purpose address, not a public one"),
    ("198.51.100.7", "a special-purpose address, not a public one"),
    ("203.0.113.9", "a special-purpose address, not a public one"),
    ("198.18.0.1", "a special-purpose address, not a public one"),
    ("192.0.0.8", "a special-purpose address, not a public one"),
    ("2001:db8::1", "a special-purpose address, not a public one"),
    ("2001::1", "a special-purpose address, not a public one"),  # Teredo
    ("64:ff9b:1::1", "a reserved address"),
    ("100::1", "a reserved address"),
]


@pytest.mark.parametrize(("address", "reason"), CLASSIFIED, ids=[c[0] for c in CLASSIFIED])
def test_address_refusal(address: str, reason: str | None) -> None:
    assert address_refusal(ip_address(address)) == reason


def test_allow_list_entries() -> None:
    allow = AllowList.parse(["Feeds.Intranet.", " 10.0.0.0/8 ", "", "[::1]", "192.168.1.7",
                             "bücher.example", "feed_server"])
    assert allow.names == {"feeds.intranet", "xn--bcher-kva.example", "feed_server"}
    assert allow.allows_name("FEEDS.intranet.") and not allow.allows_name("x.feeds.intranet")
    assert allow.allows_address(ip_address("10.200.0.1"))
    assert allow.allows_address(ip_address("::ffff:10.0.0.1"))  # mapped: the IPv4 address
    assert allow.allows_address(ip_address("::1"))
    assert allow.allows_address(ip_address("192.168.1.7"))
    assert not allow.allows_address(ip_address("192.168.1.8"))
    assert not allow.allows_address(ip_address("127.0.0.1"))
    assert AllowList.parse([]) == AllowList()


@pytest.mark.parametrize("entry", ["http://feeds.intranet", "feeds.intranet:8080",
                                   "10.0.0.0/33", "10.0.0.0/8x", "*", "feeds intranet",
                                   "-bad-.example"])
def test_a_bad_allow_list_entry_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="is not a|is neither"):
        AllowList.parse([entry])
    with pytest.raises(ValueError):
        FetchOptions(allow_hosts=(entry,))


# --- the settings, through `relgraph roundup fetch` ----------------------------------------------

@pytest.fixture
def fetch_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[Callable[..., Any]]:
    """Runs `relgraph roundup fetch` in-process with these RELGRAPH_FEEDS_* settings."""
    from typer.testing import CliRunner

    from api.cli.roundup import app
    from graph.settings import get_settings

    monkeypatch.setenv("RELGRAPH_DATA_DIR", str(tmp_path))
    for name in ("ALLOW_HOSTS", "MAX_BYTES", "MAX_REDIRECTS", "TIMEOUT"):
        monkeypatch.delenv(f"RELGRAPH_FEEDS_{name}", raising=False)

    def run(*args: str, **settings: str) -> Any:
        for name, value in settings.items():
            monkeypatch.setenv(f"RELGRAPH_FEEDS_{name.upper()}", value)
        get_settings.cache_clear()
        return CliRunner().invoke(app, ["fetch", *args])

    yield run
    get_settings.cache_clear()


def test_the_fetch_command_refuses_loopback_unless_the_setting_allows_it(
        tmp_path: Path, server: FeedServer, fetch_command: Callable[..., Any]) -> None:
    with connect(tmp_path / "curation.sqlite") as conn:
        save_source(conn, server.url("/feed"), kind="company")
    refused = fetch_command()
    assert refused.exit_code == 1, refused.output
    assert refused.stdout.splitlines()[0] == (
        f"failed    {server.url('/feed')}  refused: 127.0.0.1 is a loopback address (allow it "
        "with RELGRAPH_FEEDS_ALLOW_HOSTS)")
    assert server.requests == []
    allowed = fetch_command(allow_hosts="feeds.intranet, 127.0.0.1")
    assert allowed.exit_code == 0, allowed.output
    assert "HTTP 200: 2 entries, 2 new" in allowed.stdout


def test_a_bad_allow_setting_is_one_line(tmp_path: Path, server: FeedServer,
                                         fetch_command: Callable[..., Any]) -> None:
    with connect(tmp_path / "curation.sqlite") as conn:
        save_source(conn, server.url("/feed"), kind="company")
    result = fetch_command(allow_hosts="127.0.0.1:8080")
    assert result.exit_code == 1
    assert "error: RELGRAPH_FEEDS_ALLOW_HOSTS: '127.0.0.1:8080' is neither a host name nor an " \
        "IP address or CIDR range" in " ".join(result.stderr.split())
    assert server.requests == []


def test_the_caps_are_settings(tmp_path: Path, server: FeedServer,
                               fetch_command: Callable[..., Any]) -> None:
    """RELGRAPH_FEEDS_MAX_BYTES, _MAX_REDIRECTS and _TIMEOUT cap each feed; --max-mb still
    overrides the size cap."""
    big = RSS + b" " * 4096
    server.routes["/big"] = Route(big)
    server.routes["/hop1"] = Route(location="/hop2", status=302)
    server.routes["/hop2"] = Route(location="/feed", status=302)
    server.routes["/drip"] = Route(RSS, drip=0.5, chunk=256)
    with connect(tmp_path / "curation.sqlite") as conn:
        for path in ("/big", "/hop1", "/drip"):
            save_source(conn, server.url(path), kind="company")

    def lines(result: Any) -> dict[str, str]:
        return {line.split()[1].rsplit("/", 1)[1]: line for line in result.stdout.splitlines()
                if line.startswith(("ok", "failed"))}

    capped = lines(fetch_command(allow_hosts="127.0.0.1", max_bytes="2048", max_redirects="1",
                                 timeout="1"))
    assert capped["big"].endswith(f"too large: {len(big):,} bytes announced, more than the "
                                  "2,048 bytes a feed may have"), capped
    assert capped["hop1"].endswith(f"more than 1 redirects (last to {server.url('/feed')})"), \
        capped
    assert capped["drip"].endswith("timed out: not done after 1 s in all"), capped
    wider = lines(fetch_command("--max-mb", "1"))  # the option wins over the setting
    assert wider["big"].startswith("ok"), wider
