"""Natural-key normalisation: one helper per key kind, shared by connectors, curation and the API.

>>> normalise_email("  Jane.Doe+news@GMail.com ")
'janedoe@gmail.com'
>>> registrable_domain("https://www.news.bbc.co.uk/path")
'bbc.co.uk'
>>> canonical_url("HTTPS://Example.com:443/a?utm_source=x&b=1#top")
'https://example.com/a?b=1'
>>> canonical_url("http://xn--bcher-kva.de/a/./b/../%7euser?z=1&a=2")
'http://bücher.de/a/~user?a=2&z=1'

International domain names have ONE key form everywhere (e-mail domains, company keys and URL
hosts): the Unicode form (IDNA 2008 U-labels after UTS #46 mapping, e.g. "bücher.de", never
"xn--bcher-kva.de"). It is what `email-validator` returns as an address's normalised domain, it is
readable where keys are shown (CLI, API, reports) like the Unicode local parts and slugs beside
it, and it converts losslessly to the ASCII form (`idna.encode`) where a wire protocol needs it;
HTTP clients do that conversion themselves when a canonical URL is fetched.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import idna
from email_validator import EmailNotValidError, validate_email
from publicsuffixlist import PublicSuffixList
from w3lib.url import canonicalize_url

# Mail providers that ignore "+tag" in the local part. Company domains are left alone: whether
# they fold plus-addressing is their mail server's business, and guessing would merge people.
_PLUS_FOLDING = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "icloud.com", "me.com", "mac.com", "fastmail.com", "fastmail.fm", "proton.me",
        "protonmail.com", "pm.me", "hey.com", "zoho.com", "yandex.ru", "yandex.com",
    }
)
# Free-mail domains are never a company.
FREE_MAIL_DOMAINS = _PLUS_FOLDING | frozenset(
    {
        "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com", "aol.com", "gmx.com",
        "gmx.de", "gmx.net", "web.de", "mail.ru", "inbox.ru", "qq.com", "163.com", "126.com",
        "tutanota.com", "tuta.io", "mail.com", "hotmail.co.uk", "hotmail.fr", "live.co.uk",
        "outlook.fr", "outlook.de", "orange.fr", "free.fr", "laposte.net", "t-online.de",
        "libero.it", "naver.com", "rediffmail.com", "comcast.net", "verizon.net", "att.net",
    }
)
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "yclid", "igshid", "_hsenc",
     "_hsmi", "mkt_tok", "ref_src", "oly_enc_id", "oly_anon_id", "vero_id", "wickedid"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Loads name the same people, companies and URLs over and over (every READ names its person and
# its content): caching the normalisers makes relationship rows about 2x cheaper to validate.
_CACHE = 1 << 17
# A rough shape, only to tell an e-mail from a `source:id` or a name: normalise_email validates.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG_STRIP = re.compile(r"[^\w]+")
_OTHER_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")  # mailto:, tel: … (not host:port)
# A domain written bare: "acme.io", "bücher.de", "example.xn--p1ai", "example.рф" (lower-cased).
_DOMAIN_LIKE = re.compile(r"[\w.-]+\.(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)\.?")


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The package ships its own copy of the public suffix list: nothing is fetched at run time.
    return PublicSuffixList()


def looks_like_email(text: str) -> bool:
    return bool(_EMAIL_RE.match(text.strip()))


def _not_an_email(text: str, why: object) -> ValueError:
    return ValueError(f"not an e-mail address: {text!r} ({why})")


# The everyday address, which email-validator would take as it is and only lower-case its
# domain: ASCII letters, digits and ._+- in dot-atom form, LDH domain labels, a TLD of letters.
# Checked by a property test against email-validator (tests/unit/test_keys.py); anything else
# (Unicode, other atext, IDNA labels, special-use TLDs, long addresses) goes to email-validator,
# which costs ~28 µs an address: most of a CRM contact's keying.
_PLAIN_EMAIL = re.compile(
    r"([a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*)@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})")
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _plain_email(email: str) -> tuple[str, str] | None:
    """(local part, domain) lower-cased, for an everyday ASCII address; None for the rest."""
    if len(email) > 200 or not email.isascii():
        return None
    found = _PLAIN_EMAIL.fullmatch(email.lower())
    if found is None:
        return None
    local, domain = found.groups()
    if (len(local) > 64 or domain.rpartition(".")[2] in _SPECIAL_USE
            or any(label[2:4] == "--" for label in domain.split("."))):
        return None
    return local, domain


@lru_cache(maxsize=_CACHE)
def normalise_email(text: str) -> str:
    """Validate, NFC-normalise, lower-case; fold plus-addressing (and Gmail dots) where it applies.

    Syntax and IDNA are checked by `email-validator` (dot-atom local parts, Unicode allowed;
    quoted local parts, IP literals and display names refused), with deliverability checks off:
    nothing touches the network or DNS. The domain comes back in its Unicode form (see the module
    docstring). Local parts are compared case-insensitively, as the providers we meet do.
    """
    email = unicodedata.normalize("NFC", text).strip()
    if email.endswith("."):  # a fully qualified domain ("acme.com.") is the same domain
        email = email[:-1]
    plain = _plain_email(email)
    if plain is not None:
        local, domain = plain
    else:
        try:
            valid = validate_email(
                email, check_deliverability=False, allow_smtputf8=True,
                allow_empty_local=False, allow_quoted_local=False, allow_domain_literal=False,
                allow_display_name=False, globally_deliverable=True, test_environment=False,
            )
        except EmailNotValidError as exc:
            raise _not_an_email(text, exc) from None
        if len(valid.ascii_domain.rpartition(".")[2]) < 2:  # email-validator lets "a@b.c" in
            raise _not_an_email(text, "there is no one-letter top-level domain")
        local = unicodedata.normalize("NFC", valid.local_part.lower())
        domain = valid.domain
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _PLUS_FOLDING:
        local = local.split("+", 1)[0]
    if domain == "gmail.com":
        local = local.replace(".", "")
    if not local or local.endswith("."):  # "+x@gmail.com", "a.+x@outlook.com"
        raise _not_an_email(text, "no valid mailbox is left once the +tag is dropped")
    return f"{local}@{domain}"


def _u_label(label: str) -> str:
    if label.isascii() and not label.startswith("xn--"):
        return label
    try:
        return idna.ulabel(label)  # "xn--bcher-kva" -> "bücher"; checks a Unicode label
    except (idna.IDNAError, UnicodeError):
        return label  # not valid IDNA 2008 (an emoji, a bad xn-- label): kept as written


_HOST_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")


@lru_cache(maxsize=_CACHE)
def _domain_name(host: str) -> str:
    """A host name in its one key form: UTS #46-mapped (lower case), U-labels, no trailing dot."""
    host = unicodedata.normalize("NFC", host).strip().lower()
    if not host.isascii() or "xn--" in host:  # plain ASCII needs (and gets) nothing more
        with contextlib.suppress(idna.IDNAError):  # unmappable: the labels are checked below
            host = idna.uts46_remap(host, std3_rules=False, transitional=False)
        host = ".".join(_u_label(label) for label in host.split("."))
    return host.rstrip(".")


def _ip_host(host: str) -> str | None:
    """An IP address as written in keys (IPv4 dotted, IPv6 compressed, unbracketed), else None."""
    if ":" not in host and not host[:1].isdigit():
        return None  # a name: skip the (slow, raising) parse
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return None


def _host_of(text: str) -> str:
    original = text
    text = unicodedata.normalize("NFC", text).strip()
    if "@" in text and "/" not in text:
        text = text.rpartition("@")[2]
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        raise ValueError(f"no host name in {original!r}") from None
    return host if ":" in host else _domain_name(host)  # ":": an IPv6 address


def registrable_domain(text: str) -> str | None:
    """Registrable domain of a URL, host or e-mail; None for free-mail, IPs and bare suffixes."""
    host = _host_of(text)
    if not host or ":" in host or host.replace(".", "").isdigit():
        return None
    domain = _psl().privatesuffix(host)
    if domain is None or domain in FREE_MAIL_DOMAINS:
        return None
    return domain


@lru_cache(maxsize=_CACHE)
def slugify(text: str) -> str:
    """Lower-case words joined by '-', accents kept (names are unicode), punctuation dropped."""
    words = _SLUG_STRIP.sub(" ", unicodedata.normalize("NFC", text).lower()).split()
    slug = "-".join(w.strip("_") for w in words if w.strip("_"))
    if not slug:
        raise ValueError(f"nothing to make a slug of in {text!r}")
    return slug


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 on an absolute path: "/a/./b/../c" -> "/a/c", "/a/b/.." -> "/a/"."""
    if not path.startswith("/") or "/." not in path:
        return path
    segments = path[1:].split("/")
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")  # "/a/b/.." ends in a directory: "/a/"
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _is_tracking(encoded_name: str) -> bool:
    name = unquote_plus(encoded_name).lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS


@lru_cache(maxsize=_CACHE)
def canonical_url(text: str) -> str:
    """One key per web page: an http(s) URL in a single canonical spelling.

    Ours: only http and https (a bare "host/path" gets https://); scheme and host lower-cased, the
    host in its Unicode form (IDN) or as an IP address (IPv6 bracketed and compressed); default
    port, user info and fragment dropped; tracking parameters (utm_*, TRACKING_PARAMS) dropped.
    w3lib's canonicalize_url: the path and query percent-encoded as UTF-8 with upper-case escapes
    and unreserved characters unescaped ("%7e" -> "~"), query parameters sorted by name then
    value, blank values kept ("?a" and "?a=" are both "a="), an empty path made "/". Dot segments
    are resolved here (w3lib only started doing it in 2.5, and keys must not move with it).
    """
    # No NFC here but in the host: "cafe\u0301" and "café" are different paths to a server.
    raw = text.strip()
    if "://" not in raw and _OTHER_SCHEME.match(raw):
        raise ValueError(f"not a web URL: {text!r}")
    try:
        parts = urlsplit(raw if "://" in raw else "https://" + raw)
        hostname, port = parts.hostname, parts.port
    except ValueError:  # a bad port, unbalanced brackets
        raise ValueError(f"not a web URL: {text!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not hostname:
        raise ValueError(f"not a web URL: {text!r}")
    ip = _ip_host(hostname)
    if ip is not None:
        host = f"[{ip}]" if ":" in ip else ip
    elif ":" in hostname:
        raise ValueError(f"not a web URL (bad IPv6 address): {text!r}")
    else:
        host = _domain_name(hostname)
        labels = host.split(".")
        if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
            # "not a url" parses with host "not a url"; "localhost" is no page anyone reads.
            raise ValueError(f"not a web URL (bad host {hostname!r}): {text!r}")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # w3lib sees only the path and the query: host, port and user info are settled above.
    path_query = canonicalize_url(urlunsplit(("http", "h", parts.path, parts.query, "")))
    path, _, query = path_query.removeprefix("http://h").partition("?")
    query = "&".join(p for p in query.split("&") if p and not _is_tracking(p.partition("=")[0]))
    return urlunsplit((scheme, netloc, _remove_dot_segments(path) or "/", query, ""))


@lru_cache(maxsize=_CACHE)
def person_key(text: str) -> str:
    """A normalised e-mail, or `source:external_id` kept as given (ids can be case-sensitive)."""
    text = text.strip()
    if looks_like_email(text):
        try:
            return normalise_email(text)
        except ValueError:
            if ":" not in text.partition("@")[0]:
                raise
            # "crm:jane@acme.com" is an id that happens to hold an e-mail: read on.
    source, sep, external = text.partition(":")
    if not sep or not source.strip() or not external.strip():
        raise ValueError(f"a person key is an e-mail or 'source:external_id', got {text!r}")
    return f"{source.strip().lower()}:{external.strip()}"


@lru_cache(maxsize=_CACHE)
def looks_like_domain(text: str) -> bool:
    """A domain, URL or e-mail (as opposed to a company name)."""
    text = text.strip()
    return looks_like_email(text) or "://" in text or bool(_DOMAIN_LIKE.fullmatch(text.lower()))


def company_key(text: str) -> str:
    """The registrable domain of a domain, URL or company e-mail; else the name's key."""
    text = text.strip()
    if looks_like_domain(text):
        domain = registrable_domain(text)
        if domain is None:
            raise ValueError(f"{text!r} is a free-mail or public domain or an IP, not a company")
        return domain
    return company_name_key(text)


# Legal-form words dropped from the end of company names before they are compared.
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "plc", "corp", "corporation",
    "co", "company", "gmbh", "mbh", "ag", "kg", "se", "sa", "sas", "sarl", "srl", "spa", "bv",
    "nv", "oy", "oyj", "ab", "as", "asa", "aps", "pty", "pte", "kk", "kft", "sro", "zoo",
})


@lru_cache(maxsize=_CACHE)
def company_name_key(name: str) -> str:
    """The key of a company known only by its name: legal suffixes, punctuation, accents and
    case dropped, words joined by '-'. Company keys from domains always hold a dot; these never.

    >>> company_name_key("Brightpath Labs, Inc."), company_name_key("BRIGHTPATH LABS")
    ('brightpath-labs', 'brightpath-labs')
    >>> company_name_key("Société Générale S.A."), company_name_key("The Acme Co.")
    ('societe-generale', 'acme')
    """
    text = unicodedata.normalize("NFKD", name.replace("&", " and "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    words = _SLUG_STRIP.sub(" ", text.replace(".", "")).split()  # "S.A." -> "sa"
    words = [w.strip("_") for w in words if w.strip("_")]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    if not words:
        raise ValueError(f"nothing to make a company key of in {name!r}")
    return "-".join(words)


def is_domain_key(key: str) -> bool:
    """Company keys are registrable domains (always with a dot) or name keys (never one)."""
    return "." in key


def plain_key(text: str) -> str:
    key = unicodedata.normalize("NFC", text).strip()
    if not key:
        raise ValueError("empty key")
    return key
