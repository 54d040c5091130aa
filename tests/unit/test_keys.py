from __future__ import annotations

import re

import idna
import pytest
from hypothesis import assume, given, settings
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
        ("a@x.com.", "a@x.com"),  # a fully qualified domain
        ("zoe\u0308@acme.com", "zoë@acme.com"),  # NFD in, NFC out
        ("o'brien@acme.io", "o'brien@acme.io"),
        # IDN domains: one key, the Unicode form, whichever form comes in
        ("Zoë@Bücher.DE", "zoë@bücher.de"),
        ("zoë@xn--bcher-kva.de", "zoë@bücher.de"),
        ("ZOË@XN--BCHER-KVA.DE", "zoë@bücher.de"),
        ("info@пример.рф", "info@пример.рф"),
        ("info@xn--e1afmkfd.xn--p1ai", "info@пример.рф"),
        ("a.b+c@XN--BCHER-KVA.de", "a.b+c@bücher.de"),  # not a plus-folding provider
    ],
)
def test_normalise_email(raw: str, expected: str) -> None:
    assert keys.normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "", "no-at-sign", "a@b", "+x@gmail.com", "a b@c.com",
        "a..b@x.com", ".a@x.com", "a.@x.com",  # dots: leading, trailing, doubled
        "a@b.c", "a@x.c",  # no top-level domain has one letter
        "a@x..com", "a@.x.com", "a@-x.com", "a@x-.com", "a@x_y.com", "a@x.123",
        "a@@x.com", "a@x.com@y.com", "\"a b\"@x.com", "Jane <jane@x.com>", "a@[192.0.2.1]",
        "a@localhost", "a@acme.test", "a@host.local", "a@x.invalid",  # special-use names
        "a@xn--zz.com", "a@ab--cd.com",  # broken Punycode, reserved "??--" label
        "a.+tag@outlook.com",  # folds to "a.", which is not a mailbox
        "crm:jane@acme.com",  # not an e-mail (person_key reads it as source:id)
    ],
)
def test_normalise_email_refuses(raw: str) -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
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
        ("http://[2001:db8::1]/", None),
        ("https://www.bücher.de/x", "bücher.de"),
        ("https://WWW.XN--BCHER-KVA.DE/x", "bücher.de"),
        ("jane@Shop.Bücher.de", "bücher.de"),
        ("shop.example.xn--p1ai", "example.рф"),
        ("shop.example.рф", "example.рф"),
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
        ("example.com", "https://example.com/"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://example.com/a?#", "https://example.com/a"),
        # IP hosts: IPv6 bracketed and compressed, IPv4 as is
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
        ("HTTP://[2001:DB8:0:0::1]:80/a", "http://[2001:db8::1]/a"),
        ("https://[::ffff:192.0.2.1]:8443", "https://[::ffff:c000:201]:8443/"),
        ("http://192.168.0.1:8080/a", "http://192.168.0.1:8080/a"),
        # IDN hosts: the Unicode form
        ("https://xn--bcher-kva.de/a", "https://bücher.de/a"),
        ("https://BÜCHER.de./a", "https://bücher.de/a"),
        ("bücher.de/a", "https://bücher.de/a"),
        ("https://ｅｘａｍｐｌｅ.com/", "https://example.com/"),  # UTS #46 maps full-width
        # dot segments
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        ("https://example.com/a/b/../", "https://example.com/a/"),
        ("https://example.com/a/.", "https://example.com/a/"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
        ("https://example.com/.well-known/x", "https://example.com/.well-known/x"),
        # percent-encoding: upper-case escapes, unreserved characters unescaped, UTF-8
        ("https://example.com/%7euser/%7Ea", "https://example.com/~user/~a"),
        ("https://example.com/%41%62c", "https://example.com/Abc"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://example.com/cafe\u0301", "https://example.com/cafe%CC%81"),  # bytes kept
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),  # not a path separator
        # the query: sorted, blank values kept, tracking parameters dropped
        ("https://example.com/?b=1&a=2", "https://example.com/?a=2&b=1"),
        ("https://example.com/?a=2&b=1", "https://example.com/?a=2&b=1"),
        ("https://example.com/?a=2&a=1", "https://example.com/?a=1&a=2"),
        ("https://example.com/?flag&b=", "https://example.com/?b=&flag="),
        ("https://example.com/?q=a%20b&r=%e2%82%ac", "https://example.com/?q=a+b&r=%E2%82%AC"),
        ("https://example.com/?q=caf%C3%A9", "https://example.com/?q=caf%C3%A9"),
        ("https://example.com/?q=café", "https://example.com/?q=caf%C3%A9"),
        ("https://example.com/?q=a%26b", "https://example.com/?q=a%26b"),
        ("https://example.com/p?UTM_Source=x&Fbclid=y&utm%5Fmedium=z", "https://example.com/p"),
        ("https://example.com/p?utm_source=x&&id=7&", "https://example.com/p?id=7"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert keys.canonical_url(raw) == expected
    assert keys.canonical_url(expected) == expected


@pytest.mark.parametrize(
    "raw",
    ["mailto:a@b.com", "javascript:alert(1)", "JavaScript://%0aalert(1)", "tel:+15551234",
     "ftp://example.com/f", "data:text/plain,hi", "http://", "https:///path",
     "http://[::1", "http://[not-ip]/", "http://example.com:99999/", "http://example.com:x/",
     "not a url", "https://not a url/x", "http://localhost/a", "https://-bad-.com/",
     "https://a..b.com/", "https://exa mple.com/"],
)
def test_canonical_url_refuses(raw: str) -> None:
    with pytest.raises(ValueError, match="not a web URL"):
        keys.canonical_url(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Acme Inc.", "acme"), ("jane@acme.io", "acme.io"), ("www.Acme.io", "acme.io"),
     ("Société Générale", "societe-generale"), ("Brightpath Labs, Inc.", "brightpath-labs"),
     ("The Acme Co.", "acme"), ("Ernst & Young LLP", "ernst-and-young"), ("Inc.", "inc"),
     ("bücher.de", "bücher.de"), ("xn--bcher-kva.de", "bücher.de"), ("www.BÜCHER.de", "bücher.de"),
     ("https://shop.xn--bcher-kva.de/x", "bücher.de"), ("jane@bücher.de", "bücher.de"),
     ("example.xn--p1ai", "example.рф"), ("пример.рф", "пример.рф"), ("acme.io.", "acme.io")],
)
def test_company_key(raw: str, expected: str) -> None:
    assert keys.company_key(raw) == expected


def test_company_key_refuses_free_mail() -> None:
    with pytest.raises(ValueError, match="free-mail"):
        keys.company_key("jane@gmail.com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Ada@Example.com", "ada@example.com"), ("LinkedIn:AbC-12", "linkedin:AbC-12"),
     (" crm : 0042 ", "crm:0042"), ("zoë@XN--BCHER-KVA.de", "zoë@bücher.de"),
     ("CRM:Jane@Acme.com", "crm:Jane@Acme.com")],  # an id that holds an e-mail, kept as given
)
def test_person_key(raw: str, expected: str) -> None:
    assert keys.person_key(raw) == expected


@pytest.mark.parametrize("raw", ["a..b@x.com", ".a@x.com", "a@b.c", "nobody", "crm:"])
def test_person_key_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        keys.person_key(raw)




# --- properties -----------------------------------------------------------------------------

# Domain labels in Unicode (their Punycode differs), to build the IDN equivalence classes.
IDN_LABELS = ["bücher", "münchen", "пример", "ελληνικά", "例え", "日本語", "straße", "çav"]
ASCII_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
IDN_DOMAIN = st.tuples(
    st.lists(st.one_of(st.sampled_from(IDN_LABELS), ASCII_LABEL), min_size=1, max_size=3),
    st.sampled_from(["com", "de", "org", "co.uk", "рф", "中国"]),
).map(lambda parts: ".".join([*parts[0], parts[1]])).filter(lambda d: not d.isascii())


def _spellings(domain: str) -> list[str]:
    """The Unicode, Punycode, upper-case and fully qualified spellings of one domain."""
    ascii_form = idna.encode(domain, uts46=True).decode("ascii")
    spellings = [domain, ascii_form, ascii_form.upper(), domain + "."]
    if domain.upper().lower() == domain:  # "STRASSE" is another name than "straße"
        spellings.append(domain.upper())
    return spellings


@given(IDN_DOMAIN, st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}[a-z0-9]", fullmatch=True))
def test_idn_spellings_give_one_key_everywhere(domain: str, local: str) -> None:
    assume(".." not in local)
    emails = {keys.normalise_email(f"{local}@{d}") for d in _spellings(domain)}
    urls = {keys.canonical_url(f"https://{d}/a") for d in _spellings(domain)}
    companies = {keys.company_key(d) for d in _spellings(domain)}
    companies |= {keys.company_key(f"https://www.{d}/x") for d in _spellings(domain)}
    assert emails == {f"{local}@{domain}"}  # the Unicode form, in all three
    assert urls == {f"https://{domain}/a"}
    assert len(companies) == 1 and domain.endswith(companies.pop())


@given(st.emails())
def test_email_normalisation_is_idempotent(email: str) -> None:
    once = keys.normalise_email(email)  # every address hypothesis writes is valid
    assert keys.normalise_email(once) == once


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
       st.sampled_from(["acme.com", "gmail.com", "outlook.com", "bücher.de", "xn--bcher-kva.de"]))
def test_email_normalisation_of_any_local_part_is_idempotent(local: str, domain: str) -> None:
    try:
        once = keys.normalise_email(f"{local}@{domain}")
    except ValueError:
        return
    assert keys.normalise_email(once) == once
    assert keys.person_key(once) == once


@given(st.from_regex(r"[a-z0-9]+(\.[a-z0-9]+){0,3}", fullmatch=True),
       st.from_regex(r"[a-z0-9+-]{0,8}", fullmatch=True),
       st.sampled_from(["gmail.com", "googlemail.com", "GMail.com", "outlook.com", "acme.com"]))
def test_provider_folding(local: str, tag: str, domain: str) -> None:
    key = keys.normalise_email(f"{local}+{tag}@{domain}")
    if domain.lower() in ("gmail.com", "googlemail.com"):
        assert key == local.replace(".", "") + "@gmail.com"
    elif domain == "outlook.com":
        assert key == f"{local}@outlook.com"
    else:  # a company's mail server: not guessed
        assert key == f"{local}+{tag}@acme.com"
    assert keys.normalise_email(key) == key


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


HOSTS = st.sampled_from(["example.com", "EXAMPLE.com", "bücher.de", "xn--bcher-kva.de",
                         "[::1]", "[2001:DB8::0:1]", "192.0.2.1", "example.com:8080"])


@given(HOSTS, st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_canonical_url_of_anything_is_idempotent(host: str, rest: str) -> None:
    try:
        once = keys.canonical_url(f"https://{host}/{rest}")
    except ValueError:
        return
    assert keys.canonical_url(once) == once
    assert once.startswith("https://") and "#" not in once


SEGMENT = st.text(st.characters(codec="utf-8", categories=("L", "N"),
                                include_characters="-._~"), min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)


def _escape(text: str, upper: bool) -> str:
    return "".join(f"%{b:02X}" if upper else f"%{b:02x}" for b in text.encode("utf-8"))


@given(HOSTS, st.lists(SEGMENT, min_size=1, max_size=4), st.booleans())
def test_percent_encoding_spellings_give_one_key(host: str, segments: list[str],
                                                 upper: bool) -> None:
    plain = keys.canonical_url(f"https://{host}/" + "/".join(segments))
    escaped = keys.canonical_url(f"https://{host}/" + "/".join(_escape(s, upper) for s in segments))
    assert plain == escaped
    assert not re.search(r"%([a-f].|.[a-f])", plain)  # escapes are upper-case


DOTS = st.sampled_from(["./", "zz/../", "%2E/", "a/b/../../"])


@given(HOSTS, st.lists(SEGMENT, min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(0, 4), DOTS), max_size=4))
def test_dot_segments_give_one_key(host: str, segments: list[str],
                                   noise: list[tuple[int, str]]) -> None:
    parts = [s + "/" for s in segments]
    for at, dots in noise:
        parts.insert(min(at, len(parts)), dots)
    assert (keys.canonical_url(f"https://{host}/" + "".join(parts))
            == keys.canonical_url(f"https://{host}/" + "".join(s + "/" for s in segments)))


@given(HOSTS, st.lists(st.tuples(st.from_regex(r"[a-z]{1,3}", fullmatch=True),
                                 st.from_regex(r"[a-z0-9é]{0,3}", fullmatch=True)),
                       min_size=1, max_size=5).flatmap(lambda ps: st.tuples(st.just(ps),
                                                                            st.permutations(ps))))
def test_query_order_gives_one_key(host: str, orders: tuple[list[tuple[str, str]],
                                                            list[tuple[str, str]]]) -> None:
    first, second = ("&".join(f"{k}={v}" for k, v in order) for order in orders)
    assert (keys.canonical_url(f"https://{host}/p?{first}")
            == keys.canonical_url(f"https://{host}/p?{second}&utm_campaign=x"))


# --- the everyday-address shortcut agrees with email-validator ---------------------------------

def _by_email_validator(address: str) -> tuple[str, str] | None:
    """What normalise_email did for every address before the shortcut: email-validator."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(
            address, check_deliverability=False, allow_smtputf8=True, allow_empty_local=False,
            allow_quoted_local=False, allow_domain_literal=False, allow_display_name=False,
            globally_deliverable=True, test_environment=False)
    except EmailNotValidError:
        return None
    return valid.local_part.lower(), valid.domain


_ODD = st.sampled_from(["a", "Z", "0", "9", ".", "..", "-", "--", "_", "+", "!", "#", "'", "é",
                        "@", " ", "xn--", "x", "ab", "q"])
_PIECES = st.lists(_ODD, min_size=1, max_size=8).map("".join)
_LABELS = st.lists(st.sampled_from(["acme", "a", "b-c", "ab--cd", "-x", "x-", "9", "xn--bcher-kva",
                                    "co", "uk", "COM", "io", "test", "local", "Example", "q1",
                                    "a" * 63, "a" * 64, "c0m"]), min_size=1, max_size=4)


@settings(max_examples=800)
@given(local=_PIECES, labels=_LABELS)
def test_the_everyday_address_shortcut_agrees_with_email_validator(local: str,
                                                                   labels: list[str]) -> None:
    address = f"{local}@{'.'.join(labels)}"
    fast = keys._plain_email(address)
    if fast is not None:  # whatever the shortcut takes, email-validator takes alike
        assert _by_email_validator(address) == fast


@pytest.mark.parametrize("address", [
    "ada@acme.com", "Ada.Lovelace+crm@Mail.Example.co.uk", "a_b-c@x-y.io", "x@a1.io",
    f"{'a' * 64}@acme.com", "bob@sub.domain.museum",
])
def test_the_shortcut_takes_everyday_addresses(address: str) -> None:
    assert keys._plain_email(address) == _by_email_validator(address) is not None


@pytest.mark.parametrize("address", [
    "zoë@acme.com", "a@bücher.de", "a@xn--bcher-kva.de", "a@ab--cd.com", "a@host.test",
    "a@x.localhost", f"{'a' * 65}@acme.com", "a..b@acme.com", ".a@acme.com", "a@acme.c0m",
    "a!b@acme.com", "a@-acme.com", "a@acme", "a@acme.c",
])
def test_the_shortcut_leaves_the_rest_to_email_validator(address: str) -> None:
    assert keys._plain_email(address) is None
