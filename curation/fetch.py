"""`relgraph roundup fetch`: every source's feed, fetched concurrently, one report line each.

Fetching (httpx, async):
- concurrent, at most `FetchOptions.concurrency` feeds at once and `per_host` per server;
- connect and read timeouts, and a deadline for the whole feed (a server dripping one byte a
  second never trips a read timeout);
- a real User-Agent (`relgraph-roundup/0.1 (+URL)`), an Accept header naming feed types;
- conditional GET: the ETag and Last-Modified of the last good fetch are sent back, and a 304
  means "nothing new" (no body, no parse);
- redirects followed by hand (at most `max_redirects`), so a loop is named as one ("redirect
  loop: A -> B -> A") and permanent ones (301, 308, while every hop before was permanent too) are
  recorded: the source's `moved_to`, fetched there from the next fetch on;
- a size cap: the body is streamed (decompressed) and reading stops past `max_bytes`, so a
  huge or endless response (or a compression bomb) costs at most that much memory;
- no server-side request forgery: a feed's URL (or a redirect) is an address anyone can choose,
  so every connection (the first and each redirect hop's) goes through `GuardedBackend`, which
  resolves the host once, refuses loopback, private, link-local, multicast, unspecified,
  reserved and other non-public addresses (IPv4 and IPv6; an IPv4 address mapped or embedded
  in IPv6 is judged as that IPv4 address) unless `FetchOptions.allow_hosts`
  (RELGRAPH_FEEDS_ALLOW_HOSTS) allows them, and connects to the very address it vetted, so a
  DNS answer that changes between a check and the connection (DNS rebinding) cannot get round
  it; only http and https are fetched, no proxy is taken from the environment, and a refused
  feed stores nothing and records no move.

Each feed's failure is caught and reported on its line — timeouts, refused connections, a
connection the guard refused ("refused: …"), 4xx and 5xx answers, an HTML page instead of a
feed (naming the feed the page links to, when it does), a body over the cap, a broken encoding,
a feed without entries — and never stops the others.
Nothing already fetched is ever deleted: a feed that fails keeps its entries and its
conditional-GET state.

Parsing is `curation.parse.parse_feed`; every usable entry is kept in the `entries` table by a
stable id (the source's URL and the entry's GUID, else its link), so fetching twice adds
nothing, and an entry's first-seen time (the date of an entry that has none) never moves.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import idna

from curation.errors import CurationError
from curation.model import Entry, FeedSource
from curation.parse import NotAFeed, ParsedEntry, ParsedFeed, clip, parse_feed
from curation.sources import list_sources
from graph.keys import canonical_url
from graph.settings import Settings, get_settings

VERSION = "0.1"
# Where a feed's owner reads who fetches their feed: set it to your own page (`fetch --contact`,
# RELGRAPH_ROUNDUP_CONTACT).
DEFAULT_CONTACT = "https://relgraph.example/roundup"
ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
          "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
          "application/json;q=0.5, */*;q=0.1")
_PERMANENT = frozenset({301, 308})
_REDIRECT = frozenset({301, 302, 303, 307, 308})
_ALTERNATE = re.compile(
    r"""<link\b(?=[^>]*\brel\s*=\s*["']?alternate)(?=[^>]*\btype\s*=\s*["']?application/"""
    r"""(?:rss|atom)\+xml)[^>]*\bhref\s*=\s*["']([^"'>]+)""", re.IGNORECASE)


def user_agent(contact: str = DEFAULT_CONTACT) -> str:
    """The User-Agent every request sends: who we are and where to read about us."""
    return f"relgraph-roundup/{VERSION} (+{contact})"


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How feeds are fetched. The defaults are a library's; `relgraph roundup fetch` builds its
    options with `from_settings`, so the RELGRAPH_FEEDS_* settings apply there."""

    concurrency: int = 16
    per_host: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # the whole feed: connect, redirects, every byte
    max_bytes: int = 16 << 20  # the largest body read (decompressed)
    max_redirects: int = 8
    user_agent: str = field(default_factory=user_agent)
    # Host names, IP addresses and CIDR ranges the SSRF guard lets through although they are
    # not public (an intranet feed; the tests' server on 127.0.0.1). Empty: public addresses only.
    allow_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        AllowList.parse(self.allow_hosts)  # a bad entry fails here, not in the middle of a fetch

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> FetchOptions:
        """Options from the settings (RELGRAPH_FEEDS_MAX_BYTES, _MAX_REDIRECTS, _TIMEOUT,
        _ALLOW_HOSTS), then `overrides` (the command's options). A bad allow-list entry is a
        `CurationError` naming the setting: one line, not a traceback."""
        settings = settings or get_settings()
        values: dict[str, Any] = {
            "max_bytes": settings.feeds_max_bytes,
            "max_redirects": settings.feeds_max_redirects,
            "total_timeout": settings.feeds_timeout,
            "allow_hosts": tuple(settings.feeds_allow_list),
        }
        values.update(overrides)
        try:
            return cls(**values)
        except ValueError as exc:
            raise CurationError(f"RELGRAPH_FEEDS_ALLOW_HOSTS: {exc}") from None


class Outcome(StrEnum):
    OK = "ok"  # fetched and parsed
    UNCHANGED = "unchanged"  # 304 Not Modified
    WARNING = "warning"  # fetched, entries kept, but something was off (named on the line)
    FAILED = "failed"  # nothing usable this time (named on the line); nothing lost either


@dataclass(slots=True)
class FeedReport:
    """One feed's outcome: what the report's line for it says, and the figures behind it."""

    url: str  # the source's URL as the editor gave it
    outcome: Outcome
    message: str
    status: int | None = None
    fetched_url: str | None = None  # where the body came from, after redirects
    moved_to: str | None = None  # a permanent redirect recorded by this fetch
    entries: int = 0  # usable entries in the feed
    new_entries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    parser: str | None = None
    fell_back: bool = False
    parse_seconds: float = 0.0
    name: str | None = None  # the feed's own title
    refused: bool = False  # the SSRF guard refused a connection (or a scheme) on the way

    @property
    def line(self) -> str:
        return f"{self.outcome.value:<9} {self.url}  {self.message}"


@dataclass(slots=True)
class FetchReport:
    feeds: list[FeedReport]
    seconds: float

    def count(self, outcome: Outcome) -> int:
        return sum(f.outcome is outcome for f in self.feeds)

    @property
    def new_entries(self) -> int:
        return sum(f.new_entries for f in self.feeds)

    @property
    def parse_seconds(self) -> float:
        return sum(f.parse_seconds for f in self.feeds)

    @property
    def parsed(self) -> int:
        return sum(f.parser is not None for f in self.feeds)

    @property
    def fallbacks(self) -> int:
        return sum(f.fell_back for f in self.feeds)

    @property
    def summary(self) -> str:
        counts = ", ".join(f"{self.count(o)} {o.value}" for o in Outcome if self.count(o))
        return (f"{len(self.feeds)} feed{'s' if len(self.feeds) != 1 else ''} in "
                f"{self.seconds:.1f} s: {counts or 'none'}; {self.new_entries} new "
                f"entr{'y' if self.new_entries == 1 else 'ies'}")


class _Failed(Exception):
    """A feed's failure, with the report line's text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.moved_to: str | None = None  # a permanent redirect seen before the failure


@dataclass(slots=True)
class _Body:
    status: int
    url: str
    data: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None
    redirects: int = 0


# --- the SSRF guard --------------------------------------------------------------------------
#
# A feed's URL, and every redirect it answers with, is an address someone else chose. Fetched
# blindly, `http://169.254.169.254/latest/meta-data/` (cloud credentials), `http://127.0.0.1:7474`
# (our own Neo4j) or any intranet host would be read by this process and kept as "entries", and a
# 301 toward one would become the feed's home for good. So connections are vetted where they are
# made: in the network backend, after the one DNS look-up, on the address then connected to.

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
ALLOW_SETTING = "RELGRAPH_FEEDS_ALLOW_HOSTS"
WEB_SCHEMES = ("http", "https")

_THIS_NETWORK = ip_network("0.0.0.0/8")  # "this host on this network": 0.0.0.0 is localhost
_SHARED = ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598): an ISP's inside
_BROADCAST = ip_address("255.255.255.255")
_PRIVATE = tuple(ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                         "fc00::/7"))
_NAT64 = ip_network("64:ff9b::/96")  # DNS64's well-known prefix: an IPv4 address inside
# Special-purpose ranges (IANA's registries) spelled out, so the answer does not depend on the
# Python release's own tables (3.11's `is_global` calls multicast and 64:ff9b:1::/48 global).
_SPECIAL = tuple(ip_network(n) for n in (
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "240.0.0.0/4", "64:ff9b:1::/48", "100::/64", "2001::/23",
    "2001:db8::/32", "3fff::/20", "5f00::/16"))
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries to the same host: mapped (::ffff:a.b.c.d), 6to4
    (2002::/16) or NAT64 (64:ff9b::/96); such an address is judged as that IPv4 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why the guard refuses to connect to `address` ("a loopback address", …), or None for a
    public address. Deliberately stricter than `is_global` alone (see `_SPECIAL`).

    >>> address_refusal(ip_address("::ffff:127.0.0.1")), address_refusal(ip_address("1.1.1.1"))
    ('a loopback address', None)
    """
    if isinstance(address, IPv6Address):
        if address.scope_id:
            address = IPv6Address(address.compressed.split("%", 1)[0])
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_refusal(embedded)
    if address.is_unspecified:
        return "an unspecified address"
    if address in _THIS_NETWORK:
        return "a 'this network' address (0.0.0.0/8)"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address == _BROADCAST:
        return "a broadcast address"
    if address in _SHARED:
        return "a shared address (100.64.0.0/10, carrier-grade NAT)"
    if any(address in network for network in _PRIVATE):
        return "a private address"
    if isinstance(address, IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if any(address in network for network in _SPECIAL) or address.is_private \
            or not address.is_global:
        return "a special-purpose address, not a public one"
    return None


def _host_name(entry: str) -> str:
    """A host name as httpx hands it to the backend: lower case, IDNA-encoded, no final dot."""
    name = entry.strip().lower().rstrip(".")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"{entry!r} is not a host name ({exc})") from None
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(f"{entry!r} is neither a host name nor an IP address or CIDR range "
                         "(no scheme, port or path: 'feeds.intranet', '10.1.2.3', "
                         "'10.0.0.0/8')")
    return name


@dataclass(frozen=True, slots=True)
class AllowList:
    """What RELGRAPH_FEEDS_ALLOW_HOSTS lets through: a host name allows that name (whatever it
    resolves to; not its subdomains), an address or CIDR range allows connecting to any address
    inside it (whichever name led there)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """`ValueError` naming a bad entry (a URL, a port, a bad range)."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            literal = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
            try:
                network = ip_network(literal, strict=False)
            except ValueError:
                if "/" in literal and not any(c.isalpha() for c in literal.split("/", 1)[1]):
                    raise ValueError(f"{entry!r} is not a valid CIDR range") from None
                names.add(_host_name(entry))
                continue
            mapped = network.network_address.ipv4_mapped \
                if isinstance(network, IPv6Network) and network.prefixlen >= 96 else None
            if mapped is not None:  # ::ffff:10.0.0.0/104 is 10.0.0.0/8, as connections see it
                network = IPv4Network((mapped, network.prefixlen - 96))
            networks.append(network)
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def allows_address(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address):
            if address.scope_id:
                address = IPv6Address(address.compressed.split("%", 1)[0])
                candidates.append(address)
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded)
        return any(a in network for a in candidates for network in self.networks)


class FeedRefused(Exception):
    """A connection (or a URL) the guard will not open; `reason` is the report line's text."""

    def __init__(self, reason: str, *, allowable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.allowable = allowable  # would RELGRAPH_FEEDS_ALLOW_HOSTS let it through?

    def __str__(self) -> str:
        hint = f" (allow it with {ALLOW_SETTING})" if self.allowable else ""
        return f"{self.reason}{hint}"


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (the event loop's getaddrinfo), in the resolver's order,
    once each. Module level so a test can stand in a resolver that lies."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = [ip_address(info[4][0]) for info in infos
             if info[0] in (socket.AF_INET, socket.AF_INET6)]
    return list(dict.fromkeys(found))


async def vetted_addresses(host: str, port: int, allow: AllowList,
                           timeout: float | None = None) -> list[IPAddress]:
    """The addresses of `host` a connection may go to: one look-up, then public addresses and
    those the allow list allows (every one, for a host name it allows). `FeedRefused` when
    none is left; httpcore's ConnectError/ConnectTimeout when the name does not resolve."""
    literal: IPAddress | None
    try:
        literal = ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_host(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout} s") from None
        except OSError as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise httpcore.ConnectError(f"cannot resolve {host}: {reason}") from None
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        if allow.allows_name(host):
            return addresses
    vetted = [a for a in addresses if allow.allows_address(a) or address_refusal(a) is None]
    if vetted:
        return vetted
    first = addresses[0]
    why = address_refusal(first)
    if literal is not None:
        raise FeedRefused(f"{first} is {why}")
    more = (f" (and {_plural(len(addresses) - 1, 'more address', 'more addresses')}, none "
            "public)") if len(addresses) > 1 else ""
    raise FeedRefused(f"{host} resolves to {first}, {why}{more}")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the guard in front: `connect_tcp` resolves the host once,
    vets the addresses (`vetted_addresses`) and connects to a vetted IP literal, so what was
    checked is what is connected to. TLS still names the host: httpcore passes the URL's host
    as `server_hostname` to `start_tls`, so SNI and the certificate check are unchanged."""

    def __init__(self, allow: AllowList, inner: httpcore.AsyncNetworkBackend | None = None
                 ) -> None:
        self.allow = allow
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await vetted_addresses(host, port, self.allow, timeout)
        failure: Exception | None = None
        for address in addresses:  # each vetted address in the resolver's order, as a browser
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # vetted_addresses never returns an empty list
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise FeedRefused(f"a Unix socket ({path}) is never a feed's address", allowable=False)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose network backend is `GuardedBackend`.
    httpx takes no backend argument, so the pool it builds is replaced by one that has it
    (same limits, TLS context and HTTP/1.1); no proxy, whatever the environment says."""

    def __init__(self, allow: AllowList, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self.backend = GuardedBackend(allow)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self.backend)


def _check_scheme(url: str, *, redirected: bool) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in WEB_SCHEMES:
        what = f"redirected to {clip(url, 200)!r}" if redirected else f"{clip(url, 200)!r}"
        raise FeedRefused(f"{what}: only http and https URLs are fetched", allowable=False)


# --- HTTP ------------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _megabytes(count: int) -> str:
    return f"{count / (1 << 20):.1f} MB" if count >= 1 << 20 else f"{count:,} bytes"


async def _get(client: httpx.AsyncClient, source: FeedSource, opts: FetchOptions) -> _Body:
    url = source.moved_to or source.url
    headers: dict[str, str] = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    visited = [url]
    moved_to: str | None = None
    permanent_so_far = True
    while True:
        _check_scheme(url, redirected=len(visited) > 1)
        try:
            request = client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise _Failed(f"cannot fetch {url!r}: {exc}") from None
        try:
            response = await client.send(request, stream=True)
        except FeedRefused as exc:  # the guard, connecting: name the hop it refused
            if len(visited) > 1:
                raise FeedRefused(f"redirected to {clip(url, 200)}, and {exc.reason}",
                                  allowable=exc.allowable) from None
            raise
        try:
            status = response.status_code
            if status in _REDIRECT and response.headers.get("location"):
                url, moved_to, permanent_so_far = _redirect(response, url, visited, moved_to,
                                                            permanent_so_far, opts)
                continue
            return await _read(response, url, visited, moved_to, opts)
        except _Failed as exc:
            exc.moved_to = moved_to
            raise
        finally:
            await response.aclose()


def _redirect(response: httpx.Response, url: str, visited: list[str], moved_to: str | None,
              permanent_so_far: bool, opts: FetchOptions) -> tuple[str, str | None, bool]:
    """The next URL of a redirect (checked for loops and count), and the permanent move so far."""
    status = response.status_code
    target = urljoin(url, response.headers["location"].strip())
    _check_scheme(target, redirected=True)  # refused: no file:, gopher: or ftp: hop
    if status in _PERMANENT and permanent_so_far:
        moved_to = target
    else:
        permanent_so_far = False
    if target in visited:
        loop = " -> ".join([*visited[visited.index(target):], target])
        raise _Failed(f"redirect loop: {clip(loop, 300)}", status)
    visited.append(target)
    if len(visited) > opts.max_redirects + 1:
        raise _Failed(f"more than {opts.max_redirects} redirects (last to {target})", status)
    return target, moved_to, permanent_so_far


async def _read(response: httpx.Response, url: str, visited: list[str], moved_to: str | None,
                opts: FetchOptions) -> _Body:
    """The final answer: a 304, or a 200's body read up to the size cap; else `_Failed`."""
    status = response.status_code
    body = _Body(status, url, moved_to=moved_to, redirects=len(visited) - 1,
                 content_type=response.headers.get("content-type"),
                 etag=response.headers.get("etag"),
                 last_modified=response.headers.get("last-modified"))
    if status == 304:
        return body
    if status >= 400 or status < 200:
        reason = response.reason_phrase or ""
        retry = response.headers.get("retry-after")
        hint = f" (retry after {retry})" if retry and status in (429, 503) else ""
        raise _Failed(f"HTTP {status}{' ' + reason if reason else ''}{hint}", status)
    if status != 200:
        raise _Failed(f"HTTP {status} {response.reason_phrase}: no feed in the answer", status)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > opts.max_bytes \
            and not response.headers.get("content-encoding"):
        raise _Failed(f"too large: {_megabytes(int(declared))} announced, more than the "
                      f"{_megabytes(opts.max_bytes)} a feed may have", status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > opts.max_bytes:
            raise _Failed(f"too large: more than {_megabytes(opts.max_bytes)}, stopped reading",
                          status)
        chunks.append(chunk)
    body.data = b"".join(chunks)
    return body


def _http_failure(exc: Exception, opts: FetchOptions) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting (after {_seconds(opts.connect_timeout)})"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timed out: no data for {_seconds(opts.read_timeout)} (read timeout)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {clip(str(exc) or type(exc).__name__, 200)}"
    if isinstance(exc, httpx.DecodingError):
        return f"the answer's compression is broken: {clip(str(exc), 200)}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server broke the connection: {clip(str(exc), 200)}"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {clip(str(exc), 200)}"
    return f"unexpected {type(exc).__name__}: {clip(str(exc), 200)}"


def _html_hint(data: bytes, base: str) -> str:
    match = _ALTERNATE.search(data[:200_000].decode("utf-8", "replace"))
    if match:
        return f"; the page names its feed: {urljoin(base, match.group(1).strip())} (add that)"
    return ""


# --- storing entries -------------------------------------------------------------------------


def entry_id(feed_url: str, ident: str) -> str:
    """Stable id of an entry: its source's URL and its GUID (else its link)."""
    digest = hashlib.sha1(f"{feed_url}\n{ident}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def _stamp(moment: datetime) -> str:
    """Times in the database: UTC, fixed width, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def global_guid(guid: str | None) -> bool:
    """A GUID that names one story whichever feed carries it (a URL, tag: or urn: URI of some
    length), as opposed to a feed-local counter ("1", "post-42") two feeds may both use."""
    if not guid or len(guid) < 12:
        return False
    lowered = guid.lower()
    return lowered.startswith(("http://", "https://", "tag:", "urn:"))


@dataclass(slots=True)
class Stored:
    entries: int = 0
    new: int = 0
    repeated: int = 0  # the same GUID/link twice in one feed
    undated: int = 0
    future: int = 0
    titled_from_text: int = 0
    synthetic: int = 0
    shared_guids: list[tuple[str, str]] = field(default_factory=list)  # (guid, other feed)


def store_entries(db: sqlite3.Connection, source: FeedSource, entries: Sequence[ParsedEntry],
                  *, now: datetime) -> Stored:
    """Keep a feed's usable entries: new ones inserted, known ones updated (their first-seen
    time, and a date given by first sight, never move); nothing is deleted."""
    result = Stored()
    rows: dict[str, tuple[ParsedEntry, str]] = {}
    for entry in entries:
        try:
            url = canonical_url(entry.link)
        except ValueError:
            continue  # parse only keeps web links; a defensive skip
        key = entry_id(source.url, entry.guid or entry.link)
        if key in rows:
            result.repeated += 1
            continue
        rows[key] = (entry, url)
    known: dict[str, tuple[str, str]] = {}
    ids = list(rows)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for key, first_seen, published in db.execute(
                f"SELECT id, first_seen_at, published_at FROM entries WHERE id IN ({marks})",
                chunk):
            known[key] = (first_seen, published)
    seen_at = _stamp(now)
    values = []
    for key, (entry, url) in rows.items():
        first_seen, stored_published = known.get(key, (seen_at, seen_at))
        if entry.published_at is not None:
            published = _stamp(entry.published_at)
        else:
            published = stored_published if key in known else first_seen
            result.undated += 1
        result.future += entry.future_date
        result.titled_from_text += entry.titled_from_text
        result.synthetic += entry.synthetic_link
        values.append((key, source.url, entry.guid, url, entry.title, entry.author, published,
                       first_seen, entry.summary, entry.content_html,
                       json.dumps(list(entry.categories), ensure_ascii=False)))
    db.executemany(
        """INSERT INTO entries (id, feed_url, guid, url, title, author, published_at,
                                first_seen_at, summary, content_html, topics)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET url = excluded.url, title = excluded.title,
               author = excluded.author, published_at = excluded.published_at,
               summary = excluded.summary, content_html = excluded.content_html,
               topics = excluded.topics
           WHERE (entries.url, entries.title, entries.author, entries.published_at,
                  entries.summary, entries.content_html, entries.topics)
                 IS NOT (excluded.url, excluded.title, excluded.author, excluded.published_at,
                         excluded.summary, excluded.content_html, excluded.topics)""",
        values)
    result.entries = len(rows)
    result.new = len(rows) - len(known)
    local = {e.guid: url for e, url in rows.values() if e.guid and not global_guid(e.guid)}
    guids = list(local)
    for start in range(0, len(guids), 500):
        chunk = guids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for guid, other, other_url in db.execute(
                f"SELECT guid, feed_url, url FROM entries WHERE guid IN ({marks}) "
                "AND feed_url != ?", [*chunk, source.url]):
            if other_url != local[guid]:
                result.shared_guids.append((guid, other))
    return result


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _notes(feed: ParsedFeed, stored: Stored) -> list[str]:
    notes = []
    if feed.warning:
        notes.append(feed.warning)
    if feed.skipped:
        notes.append(f"{_plural(feed.skipped, 'entry', 'entries')} without an id or link, or "
                     "without a title or text, skipped")
    if stored.repeated:
        notes.append(f"{_plural(stored.repeated, 'entry', 'entries')} repeated in the feed "
                     "(same GUID or link), kept once")
    if stored.shared_guids:
        guid, other = stored.shared_guids[0]
        notes.append(f"{_plural(len(stored.shared_guids), 'GUID')} also used by another feed "
                     f"for a different story (e.g. {clip(guid, 40)!r} in {other}): kept apart")
    if stored.undated:
        notes.append(f"{_plural(stored.undated, 'entry', 'entries')} without a date: dated when "
                     "first seen")
    if stored.future:
        notes.append(f"{_plural(stored.future, 'entry', 'entries')} dated in the future: dated "
                     "when first seen")
    if stored.titled_from_text:
        notes.append(f"{_plural(stored.titled_from_text, 'entry', 'entries')} without a title: "
                     "titled from their text")
    if stored.synthetic:
        notes.append(f"{_plural(stored.synthetic, 'entry', 'entries')} without a web link: "
                     "keyed by their id")
    return notes


# --- one feed, all feeds ---------------------------------------------------------------------


async def _fetch_one(client: httpx.AsyncClient, db: sqlite3.Connection, source: FeedSource,
                     opts: FetchOptions, now: datetime) -> FeedReport:
    started = time.perf_counter()
    report = FeedReport(source.url, Outcome.FAILED, "")
    body: _Body | None = None
    try:
        async with asyncio.timeout(opts.total_timeout):
            body = await _get(client, source, opts)
    except _Failed as exc:
        report.message, report.status, report.moved_to = exc.message, exc.status, exc.moved_to
    except FeedRefused as exc:  # nothing stored, no move recorded (a 301 toward it included)
        report.refused, report.message = True, f"refused: {exc}"
    except TimeoutError:
        report.message = f"timed out: not done after {_seconds(opts.total_timeout)} in all"
    except Exception as exc:  # noqa: BLE001 - one feed's failure never stops the others
        report.message = _http_failure(exc, opts)
    else:
        report.status, report.fetched_url, report.moved_to = body.status, body.url, body.moved_to
        report.bytes = len(body.data)
        try:
            parsed: ParsedFeed | NotAFeed | None = None
            if body.status != 304:
                # On the event loop, between downloads: parsing in worker threads measured
                # slower (200 feeds on 2 cores: 3.2-4.0 s against 2.9 s; the GIL is contended).
                parsed = _parse(body, now)
            _take(db, source, body, parsed, report, now)
        except Exception as exc:  # noqa: BLE001 - a bug on one feed's data stays on its line
            report.outcome = Outcome.FAILED
            report.message = f"unexpected {type(exc).__name__} reading the feed: " \
                             f"{clip(str(exc), 200)}"
    report.seconds = time.perf_counter() - started
    if report.moved_to and report.moved_to != source.url:
        report.message += f"; moved permanently to {report.moved_to} (fetched there from now on)"
    elif report.refused and source.moved_to:
        report.message += (f"; the move recorded to {source.moved_to} is dropped ({source.url} "
                           "is fetched from now on)")
    _record(db, source, report, None if report.outcome is Outcome.FAILED else body, now)
    return report


def _parse(body: _Body, now: datetime) -> ParsedFeed | NotAFeed:
    try:
        return parse_feed(body.data, url=body.url, content_type=body.content_type, now=now)
    except NotAFeed as exc:
        return exc


def _take(db: sqlite3.Connection, source: FeedSource, body: _Body,
          feed: ParsedFeed | NotAFeed | None, report: FeedReport, now: datetime) -> None:
    if body.status == 304 or feed is None:
        report.outcome, report.message = Outcome.UNCHANGED, "not modified (304): nothing new"
        return
    if isinstance(feed, NotAFeed):
        exc = feed
        report.outcome = Outcome.FAILED
        hint = _html_hint(body.data, body.url) if "HTML" in str(exc) else ""
        kind = f" ({body.content_type.split(';')[0].strip()})" if body.content_type else ""
        report.message = f"HTTP {body.status}{kind}: {exc}{hint}"
        return
    report.parser, report.fell_back = feed.parser, feed.fell_back
    report.parse_seconds, report.name = feed.parse_seconds, feed.title
    stored = store_entries(db, source, feed.entries, now=now)
    report.entries, report.new_entries = stored.entries, stored.new
    notes = _notes(feed, stored)
    parsed_by = f"; parsed by {feed.parser} ({feed.fallback_reason})" if feed.fell_back else ""
    if not stored.entries:
        report.outcome = Outcome.WARNING
        report.message = f"HTTP {body.status}: the feed has no entries" + \
            (f" ({'; '.join(notes)})" if notes else "") + parsed_by
        return
    report.outcome = Outcome.WARNING if notes else Outcome.OK
    report.message = (f"HTTP {body.status}: {_plural(stored.entries, 'entry', 'entries')}, "
                      f"{stored.new} new" + "".join(f"; {n}" for n in notes) + parsed_by)


def _record(db: sqlite3.Connection, source: FeedSource, report: FeedReport, body: _Body | None,
            now: datetime) -> None:
    """The fetch's row in `fetches`, and the source's state for next time."""
    at = now.astimezone(UTC).isoformat(timespec="seconds")
    db.execute("INSERT INTO fetches (feed_url, at, outcome, status, entries, new_entries, "
               "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (source.url, at, report.outcome.value, report.status, report.entries,
                report.new_entries, report.message))
    moved_to = source.moved_to
    if report.moved_to:
        moved_to = None if _same(report.moved_to, source.url) else report.moved_to
    elif report.refused:  # a home the guard refuses (recorded before it stood) is no home
        moved_to = None
    etag, last_modified = source.etag, source.last_modified
    if body is not None and body.status == 200:  # a good fetch: the validators it came with
        etag, last_modified = body.etag, body.last_modified
    elif (report.moved_to and not _same(report.moved_to, source.moved_to or source.url)) \
            or (report.refused and source.moved_to):
        etag = last_modified = None  # validators belong to the old address
    db.execute("UPDATE sources SET etag = ?, last_modified = ?, moved_to = ?, "
               "last_fetched_at = ?, last_status = ?, name = coalesce(name, ?) WHERE url = ?",
               (etag, last_modified, moved_to, at, f"{report.outcome.value}: {report.message}",
                report.name, source.url))


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return a == b
    try:
        return canonical_url(a) == canonical_url(b)
    except ValueError:
        return a == b


async def fetch_sources(db: sqlite3.Connection, sources: Iterable[FeedSource], *,
                        options: FetchOptions | None = None, now: datetime | None = None,
                        transport: httpx.AsyncBaseTransport | None = None) -> FetchReport:
    """Fetch these sources concurrently; one `FeedReport` each, in the order given.

    Connections go through the SSRF guard (`GuardedTransport`, allowing `opts.allow_hosts`);
    a `transport` given here replaces it (tests of other layers), guard and all."""
    opts = options or FetchOptions()
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    sources = list(sources)
    limit = asyncio.Semaphore(opts.concurrency)
    hosts: dict[str, asyncio.Semaphore] = {}
    timeout = httpx.Timeout(connect=opts.connect_timeout, read=opts.read_timeout,
                            write=opts.read_timeout, pool=None)
    limits = httpx.Limits(max_connections=opts.concurrency,
                          max_keepalive_connections=opts.concurrency)

    async def one(client: httpx.AsyncClient, source: FeedSource) -> FeedReport:
        host = urlsplit(source.moved_to or source.url).netloc.lower()
        per_host = hosts.setdefault(host, asyncio.Semaphore(opts.per_host))
        async with limit, per_host:
            return await _fetch_one(client, db, source, opts, now)

    # trust_env=False: no proxy (HTTP_PROXY, ALL_PROXY …) and no .netrc from the environment:
    # a proxy would make the connection the guard vetted a connection to the proxy.
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False,
                                 headers={"User-Agent": opts.user_agent, "Accept": ACCEPT},
                                 transport=transport or GuardedTransport(
                                     AllowList.parse(opts.allow_hosts), limits),
                                 trust_env=False) as client:
        reports = await asyncio.gather(*(one(client, s) for s in sources))
    return FetchReport(list(reports), time.perf_counter() - started)


def fetch_all(db: sqlite3.Connection, *, urls: Iterable[str] | None = None,
              options: FetchOptions | None = None, now: datetime | None = None,
              transport: httpx.AsyncBaseTransport | None = None) -> FetchReport:
    """`relgraph roundup fetch`: every source (or those whose URL is in `urls`), from sync code.
    Entries, fetch rows and source state are written to `db` (committed by its caller)."""
    sources = list_sources(db)
    if urls is not None:
        wanted = {canonical_url(u) for u in urls}
        sources = [s for s in sources if canonical_url(s.url) in wanted]
    return asyncio.run(fetch_sources(db, sources, options=options, now=now,
                                     transport=transport))


def entries_of(db: sqlite3.Connection, where: str = "", params: Sequence[object] = ()
               ) -> list[Entry]:
    """Stored entries as `Entry` values (`where`: an SQL condition on the entries table)."""
    rows = db.execute(
        "SELECT id, feed_url, guid, url, title, author, published_at, first_seen_at, summary, "
        f"content_html, topics FROM entries {'WHERE ' + where if where else ''}", params)
    return [Entry(id=r[0], feed_url=r[1], guid=r[2], url=r[3], title=r[4], author=r[5],
                  published_at=datetime.fromisoformat(r[6]),
                  first_seen_at=datetime.fromisoformat(r[7]), summary=r[8], content_html=r[9],
                  topics=tuple(json.loads(r[10] or "[]"))) for r in rows]


__all__ = ["ACCEPT", "ALLOW_SETTING", "AllowList", "FeedRefused", "FeedReport", "FetchOptions",
           "FetchReport", "GuardedBackend", "GuardedTransport", "Outcome", "Stored",
           "address_refusal", "entries_of", "entry_id", "fetch_all", "fetch_sources",
           "global_guid", "resolve_host", "store_entries", "user_agent", "vetted_addresses"]