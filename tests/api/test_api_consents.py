"""The consent ledger over HTTP: the latest event wins, at once."""

from __future__ import annotations

from api_support import Service, assert_problem, person

MARKETING = "marketing.communications.email"


def test_withdrawal_stops_marketing_reads_and_grant_restores_them(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    read = f"/v1/subjects/{subject}/data"
    marketing = service.as_("role:marketing")
    assert (
        service.client.get(read, params={"purpose": MARKETING}, headers=marketing).status_code
        == 200
    )

    withdrawn = service.client.post(
        f"/v1/subjects/{subject}/consents/withdraw", json={"choice": MARKETING}, headers=marketing
    )
    assert withdrawn.json() == {
        "subject": subject,
        "choice": f"purpose:{MARKETING}",
        "granted": False,
    }
    refused = service.client.get(read, params={"purpose": MARKETING}, headers=marketing)
    assert assert_problem(refused, 403, "denied")["reason"]["code"] == "consent_withdrawn"

    state = service.client.get(f"/v1/subjects/{subject}/consents", headers=service.as_("admin"))
    assert state.json() == {"granted": [], "withdrawn": [f"purpose:{MARKETING}"], "stop_all": False}

    service.client.post(
        f"/v1/subjects/{subject}/consents/grant", json={"choice": MARKETING}, headers=marketing
    )
    assert (
        service.client.get(read, params={"purpose": MARKETING}, headers=marketing).status_code
        == 200
    )
    history = service.client.get(
        f"/v1/subjects/{subject}/consents/history", headers=marketing
    ).json()
    assert [(e["choice"], e["granted"]) for e in history] == [
        (f"purpose:{MARKETING}", False),
        (f"purpose:{MARKETING}", True),
    ]
    assert {e["source"] for e in history} == {f"api:{service.key_id('role:marketing')}"}


def test_a_choice_the_policy_does_not_offer_is_refused(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    response = service.client.post(
        f"/v1/subjects/{subject}/consents/grant",
        json={"choice": "recipient:data_broker"},
        headers=service.as_("admin"),
    )
    assert_problem(response, 422, "invalid_input")


def test_consents_of_an_unknown_subject_are_404(service: Service) -> None:
    for path in ("consents", "consents/history"):
        response = service.client.get(
            f"/v1/subjects/{'a' * 32}/{path}", headers=service.as_("admin")
        )
        assert_problem(response, 404, "not_found")


def test_recipients_cannot_change_consents(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    response = service.client.post(
        f"/v1/subjects/{subject}/consents/grant",
        json={"choice": MARKETING},
        headers=service.as_("recipient:payment_gateway"),
    )
    assert_problem(response, 403, "forbidden")
