"""Topic tagging: the taxonomy format, normalisation, matching, explicit tags, `describe`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.tagging import (
    DESCRIBE_COLUMNS,
    Taxonomy,
    TaxonomyError,
    Topic,
    describe,
    load_taxonomy,
    normalise,
    parse_taxonomy,
)
from graph.keys import slugify

TAX = load_taxonomy()


def found(text: str, taxonomy: Taxonomy = TAX) -> set[tuple[str, str]]:
    return {(m.topic_id, m.matched) for m in taxonomy.tag(text)}


def ids(text: str) -> set[str]:
    return {m.topic_id for m in TAX.tag(text)}


# --- the default taxonomy ------------------------------------------------------------------------

def test_the_default_taxonomy_ships_customer_success_topics() -> None:
    assert len(TAX) >= 20
    for topic_id in ("crm", "churn", "renewal", "onboarding", "pricing", "customer-lifetime-value",
                     "retention", "nps", "support", "customer-success", "customer-health",
                     "expansion", "adoption", "customer-feedback", "funding", "leadership",
                     "acquisition", "hiring", "product-usage", "integration", "security"):
        assert topic_id in TAX.by_id
    for topic in TAX.topics:
        assert slugify(topic.id) == topic.id


@pytest.mark.parametrize("topic", TAX.topics, ids=lambda t: t.id)
def test_every_spelling_of_a_topic_tags_that_topic(topic: Topic) -> None:
    for spelling in topic.spellings:
        assert topic.id in ids(spelling), spelling
        assert topic.id in ids(f"... and then: {spelling.upper()}!"), spelling


# --- normalisation -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CRM", "crm"),
        ("Renewals", "renewal"),
        ("renewal", "renewal"),
        ("companies", "compani"),
        ("company", "compani"),
        ("customer's", "customer"),
        ("customers'", "customer"),
        ("customer’s", "customer"),  # typographic apostrophe
        ("won't", "wont"),
        ("Prícing", "pricing"),
        ("ﬁnal", "final"),  # ligature
        ("STRASSE straße", "strass strass"),
        ("churn_risk", "churn risk"),
        ("net-promoter-score", "net promoter scor"),  # folded stems are internal
        ("LTV:CAC", "ltv cac"),
        ("  a\t\n b  ", "a b"),
        ("businesses business", "business business"),
        ("status statuses", "status status"),
        ("news", "news"),
        ("nps crm sms", "nps crm sms"),  # three letters or fewer: never folded
        ("Q4 2024", "q4 2024"),
        ("", ""),
        ("!!! ---", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


# --- what the default taxonomy finds -------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Churn risk: the CRM's renewal is in doubt",
         {("churn", "churn risk"), ("crm", "CRM"), ("renewal", "Renewal")}),
        ("CHURN!!!", {("churn", "Churn")}),
        ("three renewals this quarter", {("renewal", "Renewal")}),
        ("Net-Promoter-Score results", {("nps", "net promoter score")}),
        ("our Customer Lifetime Values", {("customer-lifetime-value", "Customer lifetime value")}),
        ("LTV:CAC is 3.2", {("customer-lifetime-value", "LTV:CAC")}),
        ("The customers' onboarding", {("onboarding", "customer onboarding")}),
        ("onboarding calls", {("onboarding", "Onboarding")}),
        ("Crème brûlée CRM", {("crm", "CRM")}),
        ("Prícing pàge", {("pricing", "pricing page")}),
        ("They decided not to renew.", {("churn", "decided not to renew")}),
        ("We won’t renew", {("churn", "won't renew")}),
        ("please CANCEL MY SUBSCRIPTIONS", {("churn", "cancel my subscription")}),
        ("Our SOC-2 report", {("security", "SOC 2")}),
        ("Their data retention policy", {("security", "data retention")}),
        ("Series A funding led by X", {("funding", "series A")}),
        ("acquired by Globex", {("acquisition", "acquired by")}),
        ("reducing CAC", {("customer-acquisition", "CAC")}),
        ("a QBR next week", {("customer-success", "QBR")}),
        ("billing_issue", {("billing", "billing issue")}),
        ("We are considering leaving for a competitor",
         {("churn", "considering leaving"), ("competition", "leaving for a competitor")}),
    ],
)
def test_tag_finds(text: str, expected: set[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "crmx and snps",  # not inside other words
        "I will leave early today",
        "Let's cancel the meeting and leave",
        "She left the building",
        "Renewable energy is growing",
        "The appointment is at noon",
        "He raised a concern",
        "A series of unfortunate events",
        "We support open standards",
        "Customer acquisition costs",  # marketing, not an M&A deal
        "",
        "   ",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert ids(text) <= ({"customer-acquisition"} if "acquisition" in text else set())
    assert "acquisition" not in ids(text)


def test_weight_rewards_distinct_evidence_more_than_repetition() -> None:
    def weight(text: str) -> float:
        (match,) = [m for m in TAX.tag(text) if m.topic_id == "churn"]
        return match.weight

    once, twice = weight("churn"), weight("churn churn")
    distinct, three = weight("churn; attrition"), weight("churn; attrition; churned")
    assert (once, twice, distinct, three) == (0.5, 0.58, 0.75, 0.875)
    assert weight(" ".join(["churn", "attrition", "churned", "cancellation"] * 50)) <= 1.0


def test_matched_is_the_first_phrase_and_phrases_are_counted() -> None:
    (m,) = TAX.tag("Attrition is up; churn, churn, churn.")
    assert (m.topic_id, m.matched, m.phrases) == ("churn", "attrition",
                                                  (("attrition", 1), ("Churn", 3)))


def test_plural_folding_in_a_custom_taxonomy() -> None:
    tax = parse_taxonomy({"topic": [{"id": "policy", "name": "Company policy",
                                     "phrases": ["policy change"]}]})
    assert found("Companies' policies", tax) == {("policy", "Company policy")}
    assert found("two policy changes", tax) == {("policy", "policy change")}


def test_a_long_text_is_tagged() -> None:
    text = ("lorem ipsum dolor sit amet " * 4000) + "the renewal is at risk of churning"
    assert len(text) > 100_000
    assert ids(text) == {"renewal", "churn"}


# --- explicit tags -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["churn_risk"], [("churn", "Churn", "churn_risk")]),
        (["CRM"], [("crm", "CRM", "CRM")]),
        (["crm", "CRM", "customer relationship management"], [("crm", "CRM", "crm")]),
        (["billing"], [("billing", "Billing", "billing")]),
        (["Billing Question"], [("billing", "Billing", "Billing Question")]),
        (["customer-lifetime-value"], [("customer-lifetime-value", "Customer lifetime value",
                                        "customer-lifetime-value")]),
        (["VIP"], [("vip", "VIP", "VIP")]),  # unknown: kept as its own topic
        (["Enterprise_Plan"], [("enterprise-plan", "Enterprise_Plan", "Enterprise_Plan")]),
        (["", "  ", "!!!"], []),
    ],
)
def test_explicit(tags: list[str], expected: list[tuple[str, str, str]]) -> None:
    got = TAX.explicit(tags)
    assert [(m.topic_id, m.name, m.matched) for m in got] == expected
    assert all(m.weight == 1.0 for m in got)


def test_explicit_tags_come_first_and_text_adds_the_rest() -> None:
    rows = describe("the renewal is late", tags=["churn_risk"])
    assert [r["topic"] for r in rows] == ["churn", "renewal"]
    assert set(rows[0]) == set(DESCRIBE_COLUMNS)
    assert rows[0]["weight"] == "1" and rows[1]["weight"] == "0.5"


def test_describe_with_nothing_found() -> None:
    assert describe("nothing to see here") == []


# --- the taxonomy file ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[topic]\nid=", "not valid TOML"),
        ("", "no topics"),
        ("[[topics]]\nid = 'x'\nname = 'X'", "unknown top-level key"),
        ("[[topic]]\nname = 'CRM'", "topic #1: field 'id': is required"),
        ("[[topic]]\nid = 'crm'", "topic #1 ('crm'): field 'name': is required"),
        ("[[topic]]\nid = 'Customer Success'\nname = 'CS'",
         "field 'id': 'Customer Success' is not a slug"),
        ("[[topic]]\nid = 'crm'\nname = 'CRM'\nsynonym = ['x']", "unknown key(s) ['synonym']"),
        ("[[topic]]\nid = 'crm'\nname = 'CRM'\nsynonyms = 'x'",
         "field 'synonyms': must be a list of strings"),
        ("[[topic]]\nid = 'crm'\nname = 'CRM'\nphrases = ['ok', '']",
         "field 'phrases': holds an empty string"),
        ("[[topic]]\nid = 'crm'\nname = 'CRM'\nphrases = ['!!!']",
         "topic crm: field 'phrases': '!!!' has no letters"),
        ("[[topic]]\nid = 'crm'\nname = 'CRM'\n[[topic]]\nid = 'crm'\nname = 'Other'",
         "topic crm: field 'id': the id is used by two topics"),
        ("topic = 3", "no topics"),
        ("topic = [1]", "topic #1: must be a table"),
    ],
)
def test_taxonomy_errors_name_file_topic_and_field(tmp_path: Path, toml: str,
                                                   message: str) -> None:
    path = tmp_path / "tax.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_a_missing_taxonomy_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "nope.toml")


def test_a_custom_taxonomy_file(tmp_path: Path) -> None:
    path = tmp_path / "tax.toml"
    path.write_text('\ufeff[[topic]]\nid = "cafe"\nname = "Café"\nsynonyms = ["coffee shop"]\n',
                    encoding="utf-8")
    tax = load_taxonomy(path)
    assert found("Two COFFEE-SHOPS and a cafe", tax) == {("cafe", "coffee shop")}
    assert tax.by_id["cafe"].synonyms == ("coffee shop",)


# --- never crashes -------------------------------------------------------------------------------

@given(st.text(max_size=400))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(st.text(max_size=400), st.lists(st.text(max_size=30), max_size=5))
def test_tagging_never_crashes(text: str, tags: list[str]) -> None:
    for m in TAX.topics_of(text, tags):
        assert 0.0 <= m.weight <= 1.0
        assert m.topic_id and m.matched


@given(st.lists(st.sampled_from(["churn", "renewal", "crm", "the", "leave", "data",
                                 "retention", "rate", "customer", "lifetime", "value", "!"]),
                max_size=60))
def test_tags_found_in_text_are_found_in_its_normal_form(tokens: list[str]) -> None:
    text = " ".join(tokens)
    assert found(text) == found(normalise(text))
