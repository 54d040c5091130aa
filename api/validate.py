"""Checks of what callers send, each naming the argument it refuses and why.

Keys go through the same normalisers as every load (graph/keys.py), so an API write and a file
load of the same person or company meet on one node.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import orjson

from api.errors import BadUserInput
from connectors.records import CompanyRef, PersonRef
from graph import keys

MAX_TEXT = 20_000
MAX_NAME = 500
MAX_PROPERTIES = 16_384  # bytes of an event's properties, as JSON
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def text(value: str | None, field: str, *, limit: int = MAX_NAME,
         required: bool = False) -> str | None:
    """Trimmed text without control characters (NUL, escapes …); None when empty."""
    if value is None or not value.strip():
        if required:
            raise BadUserInput(f"{field}: must not be empty")
        return None
    value = value.strip()
    bad = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cs")
                and ch not in "\t\n\r"), None)
    if bad is not None:
        what = "a lone surrogate" if unicodedata.category(bad) == "Cs" else "a control character"
        raise BadUserInput(f"{field}: contains {what} (U+{ord(bad):04X})")
    if len(value) > limit:
        raise BadUserInput(f"{field}: at most {limit} characters, got {len(value)}")
    return value


def required(value: str | None, field: str, *, limit: int = MAX_NAME) -> str:
    checked = text(value, field, limit=limit, required=True)
    assert checked is not None
    return checked


def person_key(value: str, field: str) -> str:
    """The stored key of a person named by e-mail or `source:id`."""
    value = required(value, field)
    try:
        return keys.person_key(value)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None


def email(value: str, field: str) -> str:
    value = required(value, field)
    try:
        return keys.normalise_email(value)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None


def person_ref(value: str, field: str, *, name: str | None = None,
               company: CompanyRef | None = None) -> PersonRef:
    """A person as the pipeline's resolver wants them: by e-mail, else by source key."""
    key = person_key(value, field)
    if "@" in key and ":" not in key.partition("@")[0]:
        return PersonRef(email=key, name=name, company=company)
    return PersonRef(source_key=key, name=name, company=company)


def domain(value: str, field: str) -> str:
    """A company's registrable domain from a domain, URL or work e-mail."""
    value = required(value, field)
    try:
        found = keys.registrable_domain(value)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None
    if found is None:
        raise BadUserInput(f"{field}: {value!r} is a free-mail or public domain or an IP "
                           "address, not a company")
    return found


def company_ref(domain_text: str | None, name: str | None, field: str) -> CompanyRef:
    name = text(name, f"{field}.name")
    if domain_text is None or not domain_text.strip():
        if name is None:
            raise BadUserInput(f"{field}: give a domain, a name or both")
        try:
            keys.company_name_key(name)
        except ValueError as exc:
            raise BadUserInput(f"{field}.name: {exc}") from None
        return CompanyRef(name=name)
    return CompanyRef(domain=domain(domain_text, f"{field}.domain"), name=name)


def company_key(ref: CompanyRef) -> str:
    return ref.domain if ref.domain else keys.company_name_key(ref.name or "")


def url(value: str, field: str) -> str:
    """A canonical http(s) URL (the key of a Content node)."""
    value = required(value, field, limit=4000)
    try:
        return keys.canonical_url(value)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None


def topic(value: str, field: str) -> str:
    value = required(value, field, limit=200)
    try:
        return keys.slugify(value)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None


def event_type(value: str, field: str) -> str:
    value = required(value, field, limit=64)
    if not _EVENT_TYPE.match(value):
        raise BadUserInput(f"{field}: an event type is lower-case letters, digits and "
                           f"underscores (e.g. setup_completed), got {value!r}")
    return value


def properties(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadUserInput(f"{field}: must be a JSON object")
    try:
        size = len(orjson.dumps(value))
    except TypeError as exc:
        raise BadUserInput(f"{field}: {exc}") from None
    if size > MAX_PROPERTIES:
        raise BadUserInput(f"{field}: at most {MAX_PROPERTIES} bytes of JSON, got {size}")
    return value


def strength(value: float | None, field: str) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise BadUserInput(f"{field}: a strength is between 0 and 1, got {value}")
    return value


def company_id(value: str, field: str) -> str:
    """The stored key of a company named by its key, domain, URL or name."""
    value = required(value, field)
    try:
        return keys.company_key(value)
    except ValueError as exc:
        raise BadUserInput(f"{field}: {exc}") from None
