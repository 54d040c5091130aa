"""Natural-key normalisation: one helper per key kind, shared by connectors, curation and the API.

>>> normalise_email("  Jane.Doe+news@GMail.com ")
'janedoe@gmail.com'
>>> registrable_domain("https://www.news.bbc.co.uk/path")
'bbc.co.uk'
>>> canonical_url("HTTPS://Example.com:443/a?utm_source=x&b=1#top")
'https://example.com/a?b=1'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

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
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG_STRIP = re.compile(r"[^\w]+")
_OTHER_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")  # mailto:, tel: … (not host:port)


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The package ships its own copy of the public suffix list: nothing is fetched at run time.
    return PublicSuffixList()


def looks_like_email(text: str) -> bool:
    return bool(_EMAIL_RE.match(text.strip()))


@lru_cache(maxsize=_CACHE)
def normalise_email(text: str) -> str:
    """Trim, NFC-normalise, lower-case; fold plus-addressing (and Gmail dots) where it applies."""
    email = unicodedata.normalize("NFC", text).strip().lower()
    if not _EMAIL_RE.match(email):
        raise ValueError(f"not an e-mail address: {text!r}")
    local, _, domain = email.rpartition("@")
    domain = domain.rstrip(".")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _PLUS_FOLDING:
        local = local.split("+", 1)[0]
    if domain == "gmail.com":
        local = local.replace(".", "")
    if not local:
        raise ValueError(f"not an e-mail address: {text!r}")
    return f"{local}@{domain}"


def _host_of(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip().lower()
    if "@" in text and "/" not in text:
        text = text.rpartition("@")[2]
    if "://" not in text:
        text = "//" + text
    host = urlsplit(text).hostname or ""
    return host.rstrip(".")


def registrable_domain(text: str) -> str | None:
    """Registrable domain of a URL, host or e-mail; None for free-mail, IPs and bare suffixes."""
    host = _host_of(text)
    if not host or host.replace(".", "").isdigit():
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


@lru_cache(maxsize=_CACHE)
def canonical_url(text: str) -> str:
    """Scheme and host lower-cased, default port, fragment and tracking parameters dropped."""
    raw = text.strip()
    if "://" not in raw and _OTHER_SCHEME.match(raw):
        raise ValueError(f"not a web URL: {text!r}")
    parts = urlsplit(raw if "://" in raw else "https://" + raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a web URL: {text!r}")
    host = parts.hostname.lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


@lru_cache(maxsize=_CACHE)
def person_key(text: str) -> str:
    """A normalised e-mail, or `source:external_id` kept as given (ids can be case-sensitive)."""
    text = text.strip()
    if looks_like_email(text):
        return normalise_email(text)
    source, sep, external = text.partition(":")
    if not sep or not source.strip() or not external.strip():
        raise ValueError(f"a person key is an e-mail or 'source:external_id', got {text!r}")
    return f"{source.strip().lower()}:{external.strip()}"


@lru_cache(maxsize=_CACHE)
def company_key(text: str) -> str:
    """The registrable domain of a domain, URL or company e-mail; else a slug of the name."""
    text = text.strip()
    domain_like = re.fullmatch(r"[\w.-]+\.[a-z]{2,}", text.lower())
    if looks_like_email(text) or "://" in text or domain_like:
        domain = registrable_domain(text)
        if domain is None:
            raise ValueError(f"{text!r} is a free-mail or public domain, not a company")
        return domain
    return slugify(text)


def plain_key(text: str) -> str:
    key = unicodedata.normalize("NFC", text).strip()
    if not key:
        raise ValueError("empty key")
    return key
