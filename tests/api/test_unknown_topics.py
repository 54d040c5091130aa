"""An unknown topic over the API is a BAD_USER_INPUT error with the nearest known topics, as an
unknown kind is an error; never a silent empty answer. A synonym asks about its topic. Both
stores, over HTTP."""

from __future__ import annotations

import pytest

from tests.api.conftest import AS_OF, Api

pytestmark = pytest.mark.anyio

ASK = """query ($read: String!, $concern: String!) {
  connections(readTopic: $read, concernTopic: $concern, asOf: "%s") { totalCount }
  companiesByConnections(readTopic: $read, concernTopic: $concern, asOf: "%s") { totalCount }
}""".replace("%s", AS_OF)


async def test_an_unknown_topic_is_bad_user_input_with_did_you_mean(demo_api: Api) -> None:
    error = await demo_api.error(ASK, {"read": "crmm", "concern": "churn"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("unknown topic 'crmm' (readTopic): did you mean crm?")
    concern = await demo_api.error(ASK, {"read": "crm", "concern": "chrun"})
    assert "unknown topic 'chrun' (concernTopic): did you mean churn?" in concern["message"]


async def test_a_synonym_asks_about_its_topic(demo_api: Api) -> None:
    data = await demo_api.gql(ASK, {"read": "Customer Relationship Management",
                                    "concern": "customer churn"})
    assert data["connections"]["totalCount"] == 3
    assert data["companiesByConnections"]["totalCount"] == 2


async def test_a_known_topic_with_nothing_in_the_window_is_an_empty_answer(
        demo_api: Api) -> None:
    data = await demo_api.gql(ASK, {"read": "security", "concern": "churn"})  # in the taxonomy
    assert data["connections"]["totalCount"] == 0


async def test_the_csv_export_refuses_an_unknown_topic(demo_api: Api) -> None:
    response = await demo_api.client.get(
        "/v1/export/connections.csv", headers=demo_api.auth(),
        params={"readTopic": "crmm", "concernTopic": "churn", "asOf": AS_OF})
    assert response.status_code == 400, response.text
    assert "did you mean crm?" in response.text
