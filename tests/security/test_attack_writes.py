"""Writes only by whom they belong to: staff cannot write into people, a website writes into a
person only with that person's token (minted for that website, recent), and a stranger who
knows someone's email gets a pending change that person must confirm, not their record."""

from __future__ import annotations

import uuid

from tests.security.served import Server

CONSENT = "/v1/subjects/{}/consents/{}"


def person(server: Server, name: str) -> tuple[str, str]:
    email = f"{name.split()[0].lower()}.{uuid.uuid4().hex[:8]}@example.org"
    done = server.collect("registration", {"name": name, "email": email})
    return str(done["subject"]), email


def test_staff_keys_write_into_no_one(server: Server) -> None:
    alice, email = person(server, "Alice Liddell")
    body = {"fields": {"email": "mallory@example.org"}, "subject": alice}
    for who in ("role", "agent", "recipient", "admin"):
        response = server.post("/v1/collect/newsletter", who, json=body)
        assert response.status_code == 403, (who, response.text)
        stop = server.post(CONSENT.format(alice, "grant"), who, json={"choice": "stop:all"})
        assert stop.status_code in (403, 422), (who, stop.text)
    assert server.value(alice, "email") == email
    assert server.get(f"/v1/subjects/{alice}/consents", "admin").json()["stop_all"] is False


def test_a_website_writes_into_a_person_only_with_their_own_fresh_token(server: Server) -> None:
    alice, email = person(server, "Alice Liddell")
    bob, _ = person(server, "Bob Jones")
    own = server.token(alice)
    forged = [
        None,
        server.token(bob),  # someone else's
        server.token(alice, "other_website"),  # minted for another key
        own[:10] + ("A" if own[10] != "A" else "B") + own[11:],  # altered
        own + "A",
        "",
    ]
    fields = {"name": "Mallory", "email": "mallory@example.org"}
    for token in forged:
        response = server.post(
            "/v1/collect/registration",
            "collector",
            json={"fields": fields, "subject": alice, "subject_token": token},
        )
        assert response.status_code in (403, 422), (token, response.text)
        grant = server.post(
            CONSENT.format(alice, "grant"),
            "collector",
            json={"choice": "stop:all", "subject_token": token},
        )
        assert grant.status_code in (403, 422), (token, grant.text)
    assert server.value(alice, "email") == email
    assert server.value(alice, "name") == "Alice Liddell"
    done = server.post(
        CONSENT.format(alice, "withdraw"),
        "collector",
        json={"choice": "marketing.communications.email", "subject_token": own},
    )
    assert done.status_code == 200, done.text


def test_a_stranger_with_someones_email_gets_nothing_of_theirs(server: Server) -> None:
    alice, email = person(server, "Alice Liddell")
    stranger = server.collect("registration", {"name": "Mallory", "email": email.upper()})
    assert stranger["subject"] is None  # whose address it was is not told
    assert stranger["created"] is False
    assert stranger["pending"]
    assert server.value(alice, "name") == "Alice Liddell"
    forged = server.client.post(f"/confirm/{stranger['pending']}")
    assert forged.status_code == 400
    assert server.value(alice, "name") == "Alice Liddell"


def test_staff_record_a_choice_only_as_agents_with_a_reason_on_record(server: Server) -> None:
    alice, _ = person(server, "Alice Liddell")
    path = CONSENT.format(alice, "withdraw")
    silent = server.post(path, "agent", json={"choice": "stop:all"})
    assert silent.status_code == 403
    assert silent.json()["code"] == "proof_required"
    assert silent.json()["errors"][0]["field"] == "reason"
    done = server.post(path, "agent", json={"choice": "stop:all", "reason": "phone, ticket 7"})
    assert done.status_code == 200, done.text
    entries = server.get(f"/v1/subjects/{alice}/audit", "admin").json()
    assert entries[-1]["detail"]["reason"] == "phone, ticket 7"


def test_a_browser_is_linked_to_a_person_only_by_the_website_with_their_token(
    server: Server,
) -> None:
    alice, _ = person(server, "Alice Liddell")
    bob, _ = person(server, "Bob Jones")
    receipt = server.client.post("/pledge/receipts", json={"allowed": ["preferences"]})
    assert receipt.status_code == 200, receipt.text
    path = f"/v1/subjects/{alice}/cookie-receipts"
    body = {"receipt": receipt.json()["receipt"], "subject_token": server.token(alice)}
    for who in ("role", "agent", "recipient", "admin"):
        response = server.post(path, who, json=body)
        assert response.status_code == 403, (who, response.text)
    own = body["subject_token"]
    altered = own[:10] + ("A" if own[10] != "A" else "B") + own[11:]
    for token in (server.token(bob), server.token(alice, "other_website"), altered):
        response = server.post(path, "collector", json={**body, "subject_token": token})
        assert response.status_code == 403, (token, response.text)
    consents = f"/v1/subjects/{alice}/consents"
    assert "cookies:preferences" not in server.get(consents, "admin").json()["granted"]
    linked = server.post(path, "collector", json=body)
    assert linked.status_code == 200, linked.text
    assert "cookies:preferences" in server.get(consents, "admin").json()["granted"]


def test_a_report_writes_into_a_person_only_with_their_token(server: Server) -> None:
    alice, _ = person(server, "Alice Liddell")
    body = {"text": "crash in module 7", "age": 30, "subject": alice}
    for who in ("role", "agent", "recipient", "admin"):
        response = server.post("/v1/reports/errors", who, json=body)
        assert response.json()["code"] == "forbidden", (who, response.text)
    for token in (None, server.token(alice, "other_website")):
        response = server.post(
            "/v1/reports/errors", "collector", json={**body, "subject_token": token}
        )
        assert response.json()["code"] == "proof_required", response.text
