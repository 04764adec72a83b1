"""Credentials under attack on a live server: a password never comes back, and one sent with
someone's email waits, hashed and sealed, until that person confirms it; until then their
own password is the one that works."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.security.served import Server

VERIFY = "/v1/subjects/{}/credentials/registration/password/verify"


def verifies(server: Server, subject: str, candidate: str) -> bool:
    response = server.post(VERIFY.format(subject), "collector", json={"candidate": candidate})
    assert response.status_code == 200, response.text
    return bool(response.json()["valid"])


def test_a_password_sent_with_someones_email_waits_sealed_until_they_confirm(
    server: Server,
) -> None:
    email = f"alice.{uuid.uuid4().hex[:8]}@example.org"
    old, new = f"old secret {uuid.uuid4().hex}", f"new secret {uuid.uuid4().hex}"
    alice = server.collect("registration", {"name": "Alice", "email": email, "password": old})
    subject = alice["subject"]
    again = server.collect("registration", {"name": "Alice", "email": email, "password": new})
    assert again["subject"] is None
    assert again["pending"]
    assert "password" in again["fields"]

    assert verifies(server, subject, old)
    assert not verifies(server, subject, new)
    export = server.get(f"/v1/subjects/{subject}/export", "admin").text
    assert old not in export
    assert new not in export
    data_dir = Path(server.settings.data_dir)
    for file in data_dir.rglob("*"):
        if file.is_file() and file.suffix != ".log":
            content = file.read_bytes()
            assert new.encode() not in content, file.name
            assert old.encode() not in content, file.name

    link = server.confirmation_link(again["pending"])
    assert server.client.get(link).status_code == 200  # a GET only asks
    assert verifies(server, subject, old)
    confirmed = server.client.post(link)
    assert confirmed.status_code == 200, confirmed.text
    assert "password" in confirmed.json()["fields"]
    assert verifies(server, subject, new)
    assert not verifies(server, subject, old)
    assert server.client.post(link).status_code == 400  # once
    server.no_tracebacks()
