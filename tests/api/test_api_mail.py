"""Sending through the gate over HTTP: admin keys queue messages for named subjects or a
segment, and the answer says who was skipped and why, by subject id only."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import Service, assert_problem

from pledge.mail.outbox import counts


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
    assert counts(service.vault.engine, body["campaign"])["pending"] == 1

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


@pytest.mark.usefixtures("mail_env")
def test_campaign_dry_run_decides_for_a_segment_without_queuing(service: Service) -> None:
    _people(service)
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
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["dry_run"], body["queued"], sum(s["people"] for s in body["skipped"])) == (
        True,
        1,
        1,
    )
    assert counts(service.vault.engine, body["campaign"])["pending"] == 0


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
    assert_problem(missing, 422, "invalid_input")
    segment = service.client.post(
        "/v1/mail/campaigns",
        json={"communication": "newsletter", "template": "news", "segment": "point:regstration"},
        headers=service.as_("admin"),
    )
    assert "did you mean 'registration'" in assert_problem(segment, 422, "invalid_input")["detail"]
