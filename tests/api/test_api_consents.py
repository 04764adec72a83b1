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

    website = service.as_("collector")
    token = service.subject_token(subject)
    withdrawn = service.client.post(
        f"/v1/subjects/{subject}/consents/withdraw",
        json={"choice": MARKETING, "subject_token": token},
        headers=website,
    )
    assert withdrawn.json() == {
        "subject": subject,
        "choice": f"purpose:{MARKETING}",
        "granted": False,
        "pending": None,
    }
    refused = service.client.get(read, params={"purpose": MARKETING}, headers=marketing)
    assert assert_problem(refused, 403, "denied")["reason"]["code"] == "consent_withdrawn"

    state = service.client.get(f"/v1/subjects/{subject}/consents", headers=service.as_("admin"))
    assert state.json() == {"granted": [], "withdrawn": [f"purpose:{MARKETING}"], "stop_all": False}

    service.client.post(
        f"/v1/subjects/{subject}/consents/grant",
        json={"choice": MARKETING, "subject_token": token},
        headers=website,
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
    assert {e["source"] for e in history} == {f"api:{service.key_id('collector')}"}


def test_a_choice_the_policy_does_not_offer_is_refused(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    response = service.client.post(
        f"/v1/subjects/{subject}/consents/grant",
        json={"choice": "recipient:data_broker", "reason": "letter of 3 May"},
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


def test_staff_write_a_choice_only_with_an_agent_key_and_a_reason(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    path = f"/v1/subjects/{subject}/consents/withdraw"
    role = service.client.post(
        path, json={"choice": MARKETING}, headers=service.as_("role:support")
    )
    assert_problem(role, 403, "forbidden")
    silent = service.client.post(
        path, json={"choice": MARKETING}, headers=service.as_("agent:support")
    )
    assert assert_problem(silent, 403, "proof_required")["errors"][0]["field"] == "reason"
    done = service.client.post(
        path,
        json={"choice": "stop:all", "reason": "phone call, ticket 4411"},
        headers=service.as_("agent:support"),
    )
    assert done.status_code == 200, done.text
    entries = service.client.get(
        f"/v1/subjects/{subject}/audit", headers=service.as_("admin")
    ).json()
    assert entries[-1]["detail"]["reason"] == "phone call, ticket 4411"


def test_the_website_writes_a_choice_only_with_the_persons_token(service: Service) -> None:
    alice = service.collect("registration", person(service.vault), age=30)["subject"]
    mallory = service.collect("registration", person(service.vault), age=30)["subject"]
    path = f"/v1/subjects/{alice}/consents/grant"
    website = service.as_("collector")
    for token in (None, service.subject_token(mallory), "x" * 40):
        forged = service.client.post(
            path, json={"choice": "stop:all", "subject_token": token}, headers=website
        )
        assert_problem(forged, 403, "proof_required")
    assert service.vault.choices(alice).stop_all is False
