"""Error reports: personal data redacted before anything is kept, what is kept bound to
troubleshooting, and only the collector scope may send one (with the person's token when it
names them)."""

from __future__ import annotations

import pytest
from api_support import Service, ServiceFactory, assert_problem

from pledge.errors import DeniedError

TROUBLESHOOTING = "essential.service.operations.troubleshooting"
REPORT = (
    "Crash in build 8.0.4 for ann.lee@example.org, card 4111 1111 1111 1111 declined, "
    "server 203.0.113.9"
)


@pytest.fixture
def zimbra(make_service: ServiceFactory) -> Service:
    return make_service("zimbra")


def test_a_report_is_kept_redacted_for_troubleshooting_only(zimbra: Service) -> None:
    zimbra.sensitive.add("ann.lee@example.org", "4111 1111 1111 1111", "203.0.113.9")
    response = zimbra.client.post(
        "/v1/reports/errors", json={"text": REPORT, "age": 30}, headers=zimbra.as_("collector")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["point"] == "error_report"
    assert body["redacted"] == {"email": 1, "card": 1, "ip": 1}
    kept = zimbra.vault.read(body["subject"], TROUBLESHOOTING, "engineering")
    assert kept.values == {
        "error_report.report": "Crash in build 8.0.4 for [EMAIL], card [CARD] declined, server [IP]"
    }
    with pytest.raises(DeniedError):
        zimbra.vault.read(body["subject"], "marketing.communications.email", "marketing")


def test_an_unknown_report_kind_is_not_found(zimbra: Service) -> None:
    response = zimbra.client.post(
        "/v1/reports/gossip", json={"text": "hello", "age": 30}, headers=zimbra.as_("collector")
    )
    assert_problem(response, 404, "not_found")


def test_a_recipient_key_may_not_send_reports(zimbra: Service) -> None:
    response = zimbra.client.post(
        "/v1/reports/errors",
        json={"text": REPORT, "age": 30},
        headers=zimbra.as_("recipient:error_diagnostics"),
    )
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("who", ["admin", "role:engineering", "agent:engineering"])
def test_staff_keys_send_no_reports(zimbra: Service, who: str) -> None:
    response = zimbra.client.post(
        "/v1/reports/errors", json={"text": REPORT, "age": 30}, headers=zimbra.as_(who)
    )
    assert_problem(response, 403, "forbidden")


def test_a_report_names_a_known_person_only_with_their_token(zimbra: Service) -> None:
    first = zimbra.client.post(
        "/v1/reports/errors",
        json={"text": "first crash", "age": 30},
        headers=zimbra.as_("collector"),
    ).json()["subject"]
    body = {"text": "second crash", "age": 30, "subject": first}
    untokened = zimbra.client.post("/v1/reports/errors", json=body, headers=zimbra.as_("collector"))
    assert_problem(untokened, 403, "proof_required")
    token = zimbra.subject_token(first)
    named = zimbra.client.post(
        "/v1/reports/errors", json={**body, "subject_token": token}, headers=zimbra.as_("collector")
    )
    assert named.status_code == 200, named.text
    assert named.json()["subject"] == first
