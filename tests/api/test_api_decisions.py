"""Asking the policy over HTTP, one question or many, without reading any data."""

from __future__ import annotations

from api_support import Service, assert_problem, person

from pledge.policy import Actor, Request, decide

MARKETING = "marketing.communications.email"


def test_a_role_asks_as_itself_and_gets_every_reason(service: Service) -> None:
    response = service.client.post(
        "/v1/decisions",
        json={
            "purpose": MARKETING,
            "categories": ["user.contact.email", "user.contact.phone_number"],
        },
        headers=service.as_("role:marketing"),
    )
    assert response.status_code == 200, response.text
    expected = decide(
        service.vault.policy,
        Request(
            Actor.role("marketing"), MARKETING, ("user.contact.email", "user.contact.phone_number")
        ),
    )
    body = response.json()
    assert body["allowed"] is expected.allowed is False
    assert body["released"] == ["user.contact.email"]
    assert body["withheld"]["user.contact.phone_number"]["code"] == "category_not_granted"
    assert [r["code"] for r in body["reasons"]] == [r.code for r in expected.reasons]


def test_choices_given_in_the_request_apply(service: Service) -> None:
    response = service.client.post(
        "/v1/decisions",
        json={
            "purpose": MARKETING,
            "categories": ["user.contact.email"],
            "choices": {"withdrawn": [MARKETING]},
        },
        headers=service.as_("role:marketing"),
    )
    body = response.json()
    assert body["allowed"] is False
    assert body["reasons"][-1]["code"] == "consent_withdrawn"


def test_a_subjects_recorded_choices_apply(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    service.client.post(
        f"/v1/subjects/{subject}/consents/withdraw",
        json={"choice": MARKETING, "reason": "asked by phone"},
        headers=service.as_("admin"),
    )
    response = service.client.post(
        "/v1/decisions",
        json={"purpose": MARKETING, "categories": ["user.contact.email"], "subject": subject},
        headers=service.as_("role:marketing"),
    )
    assert response.json()["allowed"] is False


def test_bulk_decisions_answer_per_person_in_order(service: Service) -> None:
    kept = service.collect("registration", person(service.vault), age=30)["subject"]
    gone = service.collect("registration", person(service.vault), age=30)["subject"]
    service.client.post(
        f"/v1/subjects/{gone}/consents/withdraw",
        json={"choice": MARKETING, "reason": "asked by phone"},
        headers=service.as_("admin"),
    )
    question = {"purpose": MARKETING, "categories": ["user.contact.email"]}
    by_subject = service.client.post(
        "/v1/decisions/bulk",
        json={**question, "subjects": [kept, gone, kept]},
        headers=service.as_("role:marketing"),
    )
    assert [d["allowed"] for d in by_subject.json()["decisions"]] == [True, False, True]
    by_choices = service.client.post(
        "/v1/decisions/bulk",
        json={**question, "choices": [{}, {"withdrawn": [MARKETING]}, {"stop_all": True}]},
        headers=service.as_("role:marketing"),
    )
    assert [d["allowed"] for d in by_choices.json()["decisions"]] == [True, False, False]


def test_a_key_asks_only_as_itself_but_admin_asks_as_anyone(service: Service) -> None:
    question = {
        "purpose": MARKETING,
        "categories": ["user.contact.email"],
        "actor": {"kind": "role", "name": "marketing"},
    }
    refused = service.client.post("/v1/decisions", json=question, headers=service.as_("role:sales"))
    assert_problem(refused, 403, "forbidden")
    answered = service.client.post("/v1/decisions", json=question, headers=service.as_("admin"))
    assert answered.json()["allowed"] is True
    no_actor = service.client.post(
        "/v1/decisions",
        json={"purpose": MARKETING, "categories": ["user.name"]},
        headers=service.as_("admin"),
    )
    assert assert_problem(no_actor, 403, "forbidden")["errors"][0]["field"] == "actor"


def test_questions_that_do_not_make_sense_are_input_problems(service: Service) -> None:
    headers = service.as_("role:marketing")
    both = service.client.post(
        "/v1/decisions",
        json={
            "purpose": MARKETING,
            "categories": ["user.name"],
            "subject": "a" * 32,
            "choices": {},
        },
        headers=headers,
    )
    assert_problem(both, 422, "invalid_input")
    neither = service.client.post(
        "/v1/decisions/bulk",
        json={"purpose": MARKETING, "categories": ["user.name"]},
        headers=headers,
    )
    assert_problem(neither, 422, "invalid_input")
    unknown = service.client.post(
        "/v1/decisions", json={"purpose": MARKETING, "categories": ["user.nam"]}, headers=headers
    )
    assert "did you mean" in assert_problem(unknown, 422, "invalid_input")["detail"]
    clash = service.client.post(
        "/v1/decisions",
        json={
            "purpose": MARKETING,
            "categories": ["user.name"],
            "choices": {"granted": [MARKETING], "withdrawn": [MARKETING]},
        },
        headers=headers,
    )
    assert assert_problem(clash, 422, "invalid_input")["errors"][0]["field"] == "choices"


def test_decisions_for_an_unknown_subject_are_404(service: Service) -> None:
    response = service.client.post(
        "/v1/decisions",
        json={"purpose": MARKETING, "categories": ["user.name"], "subject": "c" * 32},
        headers=service.as_("role:marketing"),
    )
    assert_problem(response, 404, "not_found")
