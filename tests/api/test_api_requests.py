"""Data-subject requests over HTTP: staff keys work the queue, other keys cannot."""

from __future__ import annotations

from api_support import Service, assert_problem, person


def test_staff_work_a_logged_request_from_receipt_to_answer(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    admin, sales = service.as_("admin"), service.as_("role:sales")
    service.sensitive.add("Please tell me what you hold.")
    opened = service.client.post(
        f"/v1/subjects/{subject}/requests",
        json={"kind": "access", "text": "Please tell me what you hold."},
        headers=admin,
    )
    assert opened.status_code == 201, opened.text
    rid = opened.json()["request"]
    assert opened.json()["state"] == "received"

    queue = service.client.get("/v1/requests", headers=sales)
    assert [r["request"] for r in queue.json()] == [rid]
    assert queue.json()[0]["steps"] == []  # the list reads no one's words
    assert queue.headers["cache-control"] == "no-store"
    for step in ("verify", "start"):
        done = service.client.post(f"/v1/requests/{rid}/{step}", headers=sales)
        assert done.status_code == 200, done.text
    answered = service.client.post(
        f"/v1/requests/{rid}/answer", json={"text": "Attached."}, headers=sales
    )
    assert answered.json()["state"] == "done"
    shown = service.client.get(f"/v1/requests/{rid}", headers=sales).json()
    assert [s["step"] for s in shown["steps"]] == [
        "received",
        "verified",
        "in_progress",
        "done",
    ]
    assert shown["steps"][0]["message"] == "Please tell me what you hold."
    assert service.client.get("/v1/requests?closed=true", headers=sales).json()[0]["state"] == (
        "done"
    )


def test_steps_out_of_order_conflict_and_unknown_ids_are_not_found(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    admin = service.as_("admin")
    rid = service.client.post(
        f"/v1/subjects/{subject}/requests", json={"kind": "erase"}, headers=admin
    ).json()["request"]
    early = service.client.post(f"/v1/requests/{rid}/answer", json={"text": "x"}, headers=admin)
    assert_problem(early, 409, "conflict")
    no_law = service.client.post(f"/v1/requests/{rid}/verify", headers=admin)
    assert no_law.status_code == 200
    refused = service.client.post(f"/v1/requests/{rid}/extend", json={"text": "x"}, headers=admin)
    assert_problem(refused, 409, "conflict")  # zabbix names no law: nothing extends
    assert_problem(service.client.get(f"/v1/requests/{'f' * 32}", headers=admin), 404, "not_found")
    assert service.client.get("/v1/requests/..%2f", headers=admin).status_code in (404, 422)
    service.vault.require_subject(subject)  # nothing was erased by the early answer


def test_keys_that_answer_no_requests_are_refused(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    for who in ("collector", "agent:support", "recipient:payment_gateway"):
        assert_problem(
            service.client.get("/v1/requests", headers=service.as_(who)), 403, "forbidden"
        )
    logged = service.client.post(
        f"/v1/subjects/{subject}/requests",
        json={"kind": "access"},
        headers=service.as_("role:sales"),
    )
    assert_problem(logged, 403, "forbidden")
    wrong = service.client.post(
        f"/v1/subjects/{subject}/requests", json={"kind": "teleport"}, headers=service.as_("admin")
    )
    assert wrong.status_code == 422
    assert service.client.get("/v1/requests").status_code == 401
