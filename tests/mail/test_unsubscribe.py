"""Unsubscribing: the signed token, the one-click POST and the confirmation page served by
the router on a real FastAPI app, and an email to the unsubscribe mailbox over real SMTP."""

from __future__ import annotations

import base64
import datetime as dt
import re
import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mail_support import (
    HOST,
    GateFactory,
    Sink,
    clock_sleep,
    collect,
    free_port,
    tokens_for,
    unsubscribes_for,
)

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.errors import TokenInvalid
from pledge.mail import inbound
from pledge.mail.campaign import Summary, run_campaign
from pledge.mail.segments import Segment
from pledge.mail.sender import Sender, SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.mail.unsubscribe import Unsubscribes
from pledge.mail.web import router
from pledge.store.vault import Vault

VaultFactory = Callable[..., Vault]
MARKETING = "marketing.communications.email"
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}
HTML = {"accept": "text/html"}


def newsletter(gate_for: GateFactory, vault: Vault, campaign: str, clock: Any) -> Summary:
    gate = gate_for(vault, "newsletter")
    summary = run_campaign(gate, Segment(), campaign, dry_run=False, chunk_size=50)
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    Sender(vault, transport, gate.settings, sleep=clock_sleep(clock)).run()
    return summary


def token_in(sink: Sink, address: str) -> str:
    header = str(sink.to(address)[-1].message["List-Unsubscribe"])
    found = re.search(r"/unsubscribe/([a-z2-7]+)>", header)
    assert found is not None, header
    return found.group(1)


@pytest.fixture
def client(vault_factory: VaultFactory, tmp_path: Path) -> Iterator[TestClient]:
    """The service's own app, so these tests also prove the pages are mounted there."""
    app = create_app(vault_factory("zabbix"), settings=ApiSettings(data_dir=tmp_path))
    with TestClient(app) as test_client:
        yield test_client


def one_click(client: TestClient, token: str) -> Any:
    """What a mail client does for RFC 8058: POST, no cookie, no login."""
    return client.post(
        f"/unsubscribe/{token}", content="List-Unsubscribe=One-Click", headers=ONE_CLICK
    )


def vault_of(client: TestClient) -> Vault:
    vault: Vault = client.app.state.vault  # type: ignore[attr-defined]
    return vault


# --- tokens ---------------------------------------------------------------------------------


def test_token_round_trip_fits_an_address_and_ignores_case(vault_factory: VaultFactory) -> None:
    vault = vault_factory("zabbix")
    tokens = tokens_for(vault)
    subject = "0123456789abcdef0123456789abcdef"
    token = tokens.issue(subject, f"purpose:{MARKETING}", dt.date(2024, 5, 1))
    assert re.fullmatch(r"[a-z2-7]{52}", token)
    assert len(f"unsubscribe+{token}") <= 64  # RFC 5321 local-part limit
    ticket = tokens.verify(token.upper(), dt.date(2024, 5, 2))
    assert (ticket.subject, ticket.choice, ticket.issued) == (
        subject,
        f"purpose:{MARKETING}",
        dt.date(2024, 5, 1),
    )
    assert ticket.expires == dt.date(2024, 6, 30)


def test_every_altered_byte_is_refused(vault_factory: VaultFactory) -> None:
    tokens = tokens_for(vault_factory("zabbix"))
    token = tokens.issue("0123456789abcdef0123456789abcdef", "stop:all", dt.date(2024, 5, 1))
    raw = bytearray(base64.b32decode(token.upper() + "===="))
    for i in range(len(raw)):
        altered = bytearray(raw)
        altered[i] ^= 0x01
        forged = base64.b32encode(bytes(altered)).decode().rstrip("=").lower()
        with pytest.raises(TokenInvalid, match="damaged"):
            tokens.verify(forged, dt.date(2024, 5, 1))


def test_token_is_valid_for_the_configured_days_and_no_longer(vault_factory: VaultFactory) -> None:
    vault = vault_factory("zabbix")
    issued = dt.date(2024, 5, 1)
    token = tokens_for(vault).issue("0" * 32, f"purpose:{MARKETING}", issued)
    tokens_for(vault).verify(token, issued + dt.timedelta(days=60))
    with pytest.raises(TokenInvalid, match="expired on 2024-06-30") as expired:
        tokens_for(vault).verify(token, issued + dt.timedelta(days=61))
    assert expired.value.fields["reason"] == "expired"
    with pytest.raises(TokenInvalid, match="damaged"):  # from the future: not one we issued
        tokens_for(vault).verify(token, issued - dt.timedelta(days=2))
    with pytest.raises(Exception, match="greater than or equal to 30"):
        MailSettings(token_days=29)


def test_a_token_from_another_store_is_refused(vault_factory: VaultFactory) -> None:
    from pledge.mail.tokens import UnsubscribeTokens, offered_choices

    vault = vault_factory("zabbix")
    other = UnsubscribeTokens(b"k" * 32, offered_choices(vault.policy), valid_days=60)
    token = other.issue("0" * 32, "stop:all", dt.date(2024, 5, 1))
    with pytest.raises(TokenInvalid):
        tokens_for(vault).verify(token, dt.date(2024, 5, 1))


# --- the web pages ----------------------------------------------------------------------------


def test_one_click_post_unsubscribes_and_the_next_campaign_skips_the_person(
    client: TestClient, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_of(client)
    alice, alice_address = collect(vault, "registration", 1)
    bob, bob_address = collect(vault, "registration", 2)
    newsletter(gate_for, vault, "news-1", clock)
    token = token_in(sink, alice_address)

    response = one_click(client, token)
    assert response.status_code == 200
    assert response.json() == {
        "unsubscribed": True,
        "choice": f"purpose:{MARKETING}",
        "stop_all": False,
    }
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    [event] = [e for e in vault.consent_history(alice) if e.source == "unsubscribe:link"]
    assert (event.choice, event.granted) == (f"purpose:{MARKETING}", False)

    again = one_click(client, token)
    assert again.status_code == 200
    assert len([e for e in vault.consent_history(alice) if e.source == "unsubscribe:link"]) == 1

    sink.received.clear()
    summary = newsletter(gate_for, vault, "news-2", clock)
    assert not sink.to(alice_address)
    assert len(sink.to(bob_address)) == 1
    assert summary.examples[("consent_withdrawn", f"purposes.{MARKETING}.basis")] == [alice]
    assert bob not in str(summary.examples)


def test_confirmation_page_asks_and_changes_nothing(
    client: TestClient, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_of(client)
    alice, address = collect(vault, "registration", 1)
    newsletter(gate_for, vault, "news-1", clock)
    token = token_in(sink, address)

    page = client.get(f"/unsubscribe/{token}", headers=HTML)
    assert page.status_code == 200
    assert "Unsubscribe from newsletter emails?" in page.text
    assert f'action="/unsubscribe/{token}"' in page.text
    assert 'name="scope" value="all"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert address not in page.text
    assert vault.consent_history(alice) == []


def test_stop_everything_from_the_confirmation_page(
    client: TestClient, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_of(client)
    alice, address = collect(vault, "registration", 1)
    newsletter(gate_for, vault, "news-1", clock)
    token = token_in(sink, address)

    done = client.post(f"/unsubscribe/{token}", data={"scope": "all"}, headers=HTML)
    assert done.status_code == 200
    assert "You will receive no more correspondence" in done.text
    assert vault.choices(alice).stop_all
    sink.received.clear()
    gate = gate_for(vault, "order_update")
    summary = run_campaign(gate, Segment(), "orders", dry_run=False, chunk_size=10)
    assert list(summary.skipped) == [
        ("stop_all", "purposes.essential.service.notifications.email.basis")
    ]


def test_a_token_for_one_person_cannot_unsubscribe_another(
    client: TestClient, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_of(client)
    alice, alice_address = collect(vault, "registration", 1)
    bob, _ = collect(vault, "registration", 2)
    newsletter(gate_for, vault, "news-1", clock)
    token = token_in(sink, alice_address)
    raw = bytearray(base64.b32decode(token.upper() + "===="))
    raw[1:17] = bytes.fromhex(bob)  # keep alice's signature, claim to be bob
    forged = base64.b32encode(bytes(raw)).decode().rstrip("=").lower()

    refused = one_click(client, forged)
    assert refused.status_code == 400
    assert MARKETING not in str(vault.choices(bob).withdrawn)
    one_click(client, token)
    assert f"purpose:{MARKETING}" in vault.choices(alice).withdrawn
    assert f"purpose:{MARKETING}" not in vault.choices(bob).withdrawn


def test_tampered_token_is_refused_as_problem_json_and_as_a_page(
    client: TestClient, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_of(client)
    alice, address = collect(vault, "registration", 1)
    newsletter(gate_for, vault, "news-1", clock)
    token = token_in(sink, address)
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")

    problem = one_click(client, tampered)
    assert problem.status_code == 400
    assert problem.headers["content-type"] == "application/problem+json"
    body = problem.json()
    assert body["code"] == "unsubscribe_token_invalid"
    assert body["type"].endswith("/unsubscribe_token_invalid")
    assert "damaged" in body["detail"]
    page = client.get(f"/unsubscribe/{tampered}", headers=HTML)
    assert page.status_code == 400
    assert "This unsubscribe link cannot be used" in page.text
    assert "info@zabbix.com" in page.text
    assert f"purpose:{MARKETING}" not in vault.choices(alice).withdrawn


def test_expired_link_is_refused_with_its_date(
    client: TestClient, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_of(client)
    _, address = collect(vault, "registration", 1)
    newsletter(gate_for, vault, "news-1", clock)
    token = token_in(sink, address)
    clock.advance(days=30)
    assert client.get(f"/unsubscribe/{token}").status_code == 200
    clock.advance(days=31)
    expired = one_click(client, token)
    assert expired.status_code == 400
    assert "expired on 2024-06-30" in expired.json()["detail"]


def test_router_needs_a_vault_or_an_unsubscribes_on_the_app() -> None:
    app = FastAPI()
    app.include_router(router)
    with (
        TestClient(app) as bare,
        pytest.raises(RuntimeError, match=r"app\.state"),
    ):
        bare.get("/unsubscribe/x")


# --- by email -------------------------------------------------------------------------------


class UnsubscribeMailbox:
    """The receiving end of the mailto: an SMTP server that hands each message to inbound."""

    def __init__(self, unsubscribes: Unsubscribes) -> None:
        self.unsubscribes = unsubscribes

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            inbound.handle(self.unsubscribes, bytes(envelope.original_content), envelope.rcpt_tos)
        except TokenInvalid as error:
            return f"550 5.1.1 {error.message}"
        return "250 Unsubscribed"


def test_email_to_the_unsubscribe_address_withdraws(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    alice, address = collect(vault, "registration", 1)
    newsletter(gate_for, vault, "news-1", clock)
    mailto = re.search(r"mailto:([^>]+)>", str(sink.to(address)[-1].message["List-Unsubscribe"]))
    assert mailto is not None
    port = free_port()
    controller = Controller(UnsubscribeMailbox(unsubscribes_for(vault)), hostname=HOST, port=port)
    controller.start()
    try:
        with smtplib.SMTP(HOST, port, timeout=5) as client:
            message = f"From: {address}\r\nTo: {mailto.group(1)}\r\nSubject: unsubscribe\r\n\r\n"
            client.sendmail(address, [mailto.group(1)], message.encode())
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail(address, ["unsubscribe+" + "a" * 52 + "@zabbix.com"], b"\r\n")
            assert refused.value.smtp_code == 550
    finally:
        controller.stop()
    [event] = [e for e in vault.consent_history(alice) if e.source == "unsubscribe:mail"]
    assert (event.choice, event.granted) == (f"purpose:{MARKETING}", False)


def test_inbound_reads_the_token_from_headers_when_the_envelope_has_none() -> None:
    token = "b" * 52
    message = f"Delivered-To: Unsubscribe+{token.upper()}@zabbix.com\r\nTo: list@zabbix.com\r\n\r\n"
    assert inbound.tokens_in(message.encode()) == [token]
    assert inbound.tokens_in(b"To: someone@zabbix.com\r\n\r\n") == []


def test_only_the_canonical_spelling_of_a_token_is_accepted(vault_factory: VaultFactory) -> None:
    tokens = tokens_for(vault_factory("zabbix"))
    token = tokens.issue("0" * 32, "stop:all", dt.date(2024, 5, 1))
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    for other in alphabet.replace(token[-1], ""):
        with pytest.raises(TokenInvalid):
            tokens.verify(token[:-1] + other, dt.date(2024, 5, 1))
