from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph import keys


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ada@Example.COM ", "ada@example.com"),
        ("ZOË@ACME.COM", "zoë@acme.com"),
        ("jane.doe+news@gmail.com", "janedoe@gmail.com"),
        ("Jane.Doe@googlemail.com", "janedoe@gmail.com"),
        ("bob+sales@outlook.com", "bob@outlook.com"),
        ("bob+sales@acme.com", "bob+sales@acme.com"),  # a company domain: not guessed
        ("first.last@acme.com", "first.last@acme.com"),
    ],
)
def test_normalise_email(raw: str, expected: str) -> None:
    assert keys.normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@b", "+x@gmail.com", "a b@c.com"])
def test_normalise_email_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        keys.normalise_email(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.acme.com/about?x=1", "acme.com"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("jane@eu.sales.acme.co.uk", "acme.co.uk"),
        ("HTTP://Shop.Example.ORG.", "example.org"),
        ("jane@gmail.com", None),  # free mail is never a company
        ("co.uk", None),
        ("http://192.168.0.1/", None),
    ],
)
def test_registrable_domain(raw: str, expected: str | None) -> None:
    assert keys.registrable_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.com:443/a?utm_source=x&b=1#top", "https://example.com/a?b=1"),
        ("http://example.com:80", "http://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("example.com/post?fbclid=abc&gclid=d&mc_cid=1&mc_eid=2&id=7", "https://example.com/post?id=7"),
        ("https://example.com/Path/Case", "https://example.com/Path/Case"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert keys.canonical_url(raw) == expected


def test_canonical_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError):
        keys.canonical_url("mailto:a@b.com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Acme Inc.", "acme-inc"), ("jane@acme.io", "acme.io"), ("www.Acme.io", "acme.io"),
     ("Société Générale", "société-générale")],
)
def test_company_key(raw: str, expected: str) -> None:
    assert keys.company_key(raw) == expected


def test_company_key_refuses_free_mail() -> None:
    with pytest.raises(ValueError, match="free-mail"):
        keys.company_key("jane@gmail.com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Ada@Example.com", "ada@example.com"), ("LinkedIn:AbC-12", "linkedin:AbC-12"),
     (" crm : 0042 ", "crm:0042")],
)
def test_person_key(raw: str, expected: str) -> None:
    assert keys.person_key(raw) == expected


@given(st.emails())
def test_email_normalisation_is_idempotent(email: str) -> None:
    once = keys.normalise_email(email)
    assert keys.normalise_email(once) == once


@given(st.sampled_from(["http", "https"]),
       st.from_regex(r"[a-z]{1,10}\.(com|org|co\.uk)", fullmatch=True),
       st.lists(st.tuples(st.sampled_from(["utm_source", "id", "fbclid", "q"]),
                          st.from_regex(r"[a-z0-9]{0,5}", fullmatch=True)), max_size=4))
def test_canonical_url_is_idempotent_and_drops_tracking(scheme: str, host: str,
                                                        params: list[tuple[str, str]]) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    once = keys.canonical_url(f"{scheme}://{host.upper()}/p?{query}#frag")
    assert keys.canonical_url(once) == once
    assert "utm_" not in once and "fbclid" not in once and "#" not in once
