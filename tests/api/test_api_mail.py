"""Sending through the gate over HTTP: admin keys queue messages for named subjects or a
segment, and the answer says who was skipped and why, by subject id only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from api_support import Service, assert_problem

from pledge.store.outbox import counts


@pytest.fixture
def mail_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "templates" / "news"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("News from {{ organisation }}")
    (folder / "body.txt").write_text("Hello {{ name or 'there' }}, here is what is new.\n")
    monkeypatch.setenv("PLEDGE_MAIL_TEMPLATES_DIR", str(tmp_path / "templates"))
    monkeypatch.setenv("PLEDGE_MAIL_FROM_ADDRESS", "News <news@zabbix.com>")
    monkeypatch.setenv("PLEDGE_MAIL_UNSUBSCRIBE_URL", "https://privacy.zabbix.test/unsubscribe")


def _people(service: Service) -> tuple[str, str]:
    keen = service.collect(
        "registration", {"name": "Anna Ozola", "email": "anna@example.lv"}, age=33
    )["subject"]
    opted_out = service.collect(
        "registration",
        {"name": "Juris Kalns", "email": "juris@example.lv"},
        age=41,
        choices={"marketing.communications.email": False},
    )["subject"]
    return keen, opted_out


@pytest.mark.usefixtures("mail_env")
def test_send_queues_the_allowed_and_names_the_skipped(service: Service) -> None:
    keen, opted_out = _people(service)
    response = service.client.post(
        "/v1/mail/messages",
        json={"communication": "newsletter", "template": "news", "subjects": [keen, opted_out]},
        headers=service.as_("admin"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["queued"] == 1
    assert [(s["code"], s["subjects"]) for s in body["skipped"]] == [
        ("consent_withdrawn", [opted_out])
    ]
    assert "example.lv" not in response.text
    assert counts(service.vault, body["campaign"])["pending"] == 1

    again = service.client.post(
        "/v1/mail/messages",
        json={
            "communication": "newsletter",
            "template": "news",
            "subjects": [keen],
            "campaign": body["campaign"],
        },
        headers=service.as_("admin"),
    )
    assert again.json()["already_queued"] == 1  # the idempotency key holds


def _finished(service: Service, location: str) -> dict[str, Any]:
    """Poll a campaign job the way a client would, until it is done or failed."""
    for _ in range(400):
        status = service.client.get(location, headers=service.as_("admin"))
        assert status.status_code == 200, status.text
        body: dict[str, Any] = status.json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.025)
    raise AssertionError(f"campaign job still {body['status']} after 10 s")


@pytest.mark.usefixtures("mail_env")
def test_campaign_dry_run_is_a_job_to_poll_and_queues_nothing(service: Service) -> None:
    keen, opted_out = _people(service)
    response = service.client.post(
        "/v1/mail/campaigns",
        json={
            "communication": "newsletter",
            "template": "news",
            "segment": "point:registration",
            "dry_run": True,
        },
        headers=service.as_("admin"),
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["Location"] == f"/v1/mail/campaigns/{accepted['job']}"
    assert accepted["status"] in ("queued", "running", "done")
    assert accepted["result"] is None or accepted["status"] == "done"

    done = _finished(service, response.headers["Location"])
    assert (done["status"], done["attempts"], done["progress"], done["total"]) == ("done", 1, 2, 2)
    result = done["result"]
    assert (result["dry_run"], result["seen"], result["queued"]) == (True, 2, 1)
    assert [(s["code"], s["people"], s["subjects"]) for s in result["skipped"]] == [
        ("consent_withdrawn", 1, [opted_out])
    ]
    assert keen not in str(result["skipped"])
    assert counts(service.vault, result["campaign"])["pending"] == 0


@pytest.mark.usefixtures("mail_env")
def test_campaign_job_queues_each_allowed_person_once(service: Service) -> None:
    _people(service)
    order = {"communication": "newsletter", "template": "news", "campaign": "may"}
    first = service.client.post("/v1/mail/campaigns", json=order, headers=service.as_("admin"))
    done = _finished(service, first.headers["Location"])
    assert (done["result"]["queued"], done["result"]["already_queued"]) == (1, 0)
    again = service.client.post("/v1/mail/campaigns", json=order, headers=service.as_("admin"))
    assert again.headers["Location"] != first.headers["Location"]  # a job per request
    redone = _finished(service, again.headers["Location"])
    assert (redone["result"]["queued"], redone["result"]["already_queued"]) == (0, 1)
    assert counts(service.vault, "may")["pending"] == 1


@pytest.mark.usefixtures("mail_env")
def test_campaign_jobs_are_for_admin_keys_and_unknown_ids_are_not_found(
    service: Service,
) -> None:
    _people(service)
    order = {"communication": "newsletter", "template": "news", "dry_run": True}
    made = service.client.post("/v1/mail/campaigns", json=order, headers=service.as_("admin"))
    location = made.headers["Location"]
    assert_problem(
        service.client.get(location, headers=service.as_("role:marketing")), 403, "forbidden"
    )
    assert_problem(
        service.client.post("/v1/mail/campaigns", json=order, headers=service.as_("role:support")),
        403,
        "forbidden",
    )
    missing = service.client.get("/v1/mail/campaigns/" + "0" * 32, headers=service.as_("admin"))
    assert_problem(missing, 404, "not_found")
    hostile = service.client.get("/v1/mail/campaigns/x' OR '1'='1", headers=service.as_("admin"))
    assert_problem(hostile, 404, "not_found")
    _finished(service, location)


@pytest.mark.usefixtures("mail_env")
def test_mail_needs_an_admin_key_a_known_template_and_segment(service: Service) -> None:
    keen, _ = _people(service)
    send = {"communication": "newsletter", "template": "news", "subjects": [keen]}
    as_role = service.client.post(
        "/v1/mail/messages", json=send, headers=service.as_("role:marketing")
    )
    assert_problem(as_role, 403, "forbidden")
    missing = service.client.post(
        "/v1/mail/messages", json={**send, "template": "nothing"}, headers=service.as_("admin")
    )
    assert_problem(missing, 404, "not_found")
    segment = service.client.post(
        "/v1/mail/campaigns",
        json={"communication": "newsletter", "template": "news", "segment": "point:regstration"},
        headers=service.as_("admin"),
    )
    assert "did you mean 'registration'" in assert_problem(segment, 422, "invalid_input")["detail"]
