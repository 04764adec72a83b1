"""Pending changes are confirmed by the person, through a link mailed to the address on record:
a stranger who knows someone's email cannot rewrite their data, a double opt-in grant counts
only once confirmed, and a link works once, unaltered, before it expires."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mail_support import EXAMPLE_POLICIES, HOST, Sink, clock_sleep, settings_for, write_template

from pledge.errors import ConfirmationInvalid, PledgeError
from pledge.mail.confirmations import send_confirmations
from pledge.mail.sender import Sender, SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.store.vault import Vault

MARKETING = "marketing.communications.email"
CONFIRM_URL = "https://privacy.example.test/confirm"
ALICE = {"name": "Alice Liddell", "email": "alice@example.com"}


def double_opt_in_policy(tmp_path: Path) -> Path:
    text = (EXAMPLE_POLICIES / "zabbix.yaml").read_text(encoding="utf-8")
    text = re.sub(
        r"(  marketing\.communications\.email:\n(?:    #.*\n)*)    basis: opt_out\n",
        r"\1    basis: opt_in\n    double_opt_in: true\n",
        text,
        count=1,
    )
    text = text.replace(
        "    purposes: [marketing.communications.email]\n"
        "    choices: [marketing.communications.email]\n  survey:",
        "    purposes: [marketing.communications.email, essential.service.notifications.email]\n"
        "    choices: [marketing.communications.email]\n  survey:",
    )
    assert "double_opt_in" in text
    path = tmp_path / "zabbix-double-opt-in.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def confirm_settings(
    mail_settings: MailSettings, tmp_path: Path
) -> Callable[[Vault], MailSettings]:
    write_template(
        tmp_path / "templates" / "confirm",
        "Please confirm",
        "Someone asked us to change your data. Confirm: {{ confirm_url }}\n",
    )

    def make(vault: Vault) -> MailSettings:
        return settings_for(
            vault,
            mail_settings,
            confirm_communication="order_update",
            confirm_url=CONFIRM_URL,
            templates_dir=tmp_path / "templates",
        )

    return make


def mailed_token(vault: Vault, settings: MailSettings, sink: Sink, address: str, clock: Any) -> str:
    transport = SmtpTransport(HOST, settings.smtp_port, timeout=5)
    Sender(vault, transport, settings, sleep=clock_sleep(clock)).run()
    body = sink.to(address)[-1].message.get_body(("plain",))
    assert body is not None
    found = re.search(re.escape(CONFIRM_URL) + r"/([A-Za-z0-9_-]+)", body.get_content())
    assert found is not None
    return found.group(1)


def name_of(vault: Vault, subject: str) -> str:
    data = vault.export(subject)["data"]
    return str(
        next(v["value"] for v in data if (v["point"], v["field"]) == ("registration", "name"))
    )


def test_a_stranger_with_someones_email_changes_nothing_until_that_person_confirms(
    vault_factory: Callable[..., Vault],
    confirm_settings: Callable[[Vault], MailSettings],
    sink: Sink,
    clock: Any,
) -> None:
    vault = vault_factory("zabbix")
    alice = vault.collect("registration", ALICE, age=30).subject
    stranger = vault.collect(
        "registration", {"name": "Mallory Other", "email": "ALICE@example.com"}, age=30
    )
    assert stranger.subject == alice
    assert stranger.pending is not None
    assert not stranger.created
    assert name_of(vault, alice) == "Alice Liddell"  # nothing merged

    settings = confirm_settings(vault)
    assert send_confirmations(vault, [(alice, stranger.pending)], settings) == 1
    token = mailed_token(vault, settings, sink, ALICE["email"], clock)

    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(ConfirmationInvalid, match="damaged"):
        vault.confirm(forged)
    done = vault.confirm(token)
    assert done.subject == alice
    assert name_of(vault, alice) == "Mallory Other"  # Alice herself said yes
    with pytest.raises(ConfirmationInvalid, match="already used"):
        vault.confirm(token)


def test_a_link_expires(vault_factory: Callable[..., Vault], clock: Any) -> None:
    vault = vault_factory("zabbix")
    alice = vault.collect("registration", ALICE, age=30).subject
    waiting = vault.collect("registration", {**ALICE, "name": "Later Name"}, age=30).pending
    assert waiting is not None
    token = vault.confirmation_token(waiting)
    clock.advance(days=4)
    with pytest.raises(ConfirmationInvalid, match="expired"):
        vault.confirm(token)
    assert name_of(vault, alice) == "Alice Liddell"


def test_twenty_concurrent_clicks_apply_a_change_once(
    vault_factory: Callable[..., Vault],
) -> None:
    vault = vault_factory("zabbix")
    alice = vault.collect("registration", ALICE, age=30).subject
    waiting = vault.collect(
        "registration", {**ALICE, "name": "Clicked Name"}, choices={MARKETING: True}, age=30
    ).pending
    assert waiting is not None
    token = vault.confirmation_token(waiting)
    outcomes: list[object] = []
    start = threading.Barrier(20)

    def click() -> None:
        start.wait()
        try:
            outcomes.append(vault.confirm(token))
        except PledgeError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=click) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(not isinstance(o, PledgeError) for o in outcomes) == 1
    assert all(isinstance(o, ConfirmationInvalid) for o in outcomes if isinstance(o, PledgeError))
    grants = [e for e in vault.consent_history(alice) if e.granted]
    assert len(grants) == 1


def test_double_opt_in_grants_count_once_confirmed_by_mail(
    vault_factory: Callable[..., Vault],
    confirm_settings: Callable[[Vault], MailSettings],
    sink: Sink,
    clock: Any,
    tmp_path: Path,
) -> None:
    vault = vault_factory(double_opt_in_policy(tmp_path))
    signed = vault.collect(
        "newsletter", {"email": "bob@example.com"}, choices={MARKETING: True}, age=30
    )
    assert signed.created
    assert signed.pending is not None
    assert f"purpose:{MARKETING}" not in vault.choices(signed.subject).granted
    assert vault.grant(signed.subject, MARKETING) == f"purpose:{MARKETING}"  # waits as well
    assert f"purpose:{MARKETING}" not in vault.choices(signed.subject).granted

    settings = confirm_settings(vault)
    send_confirmations(vault, [(signed.subject, signed.pending)], settings)
    vault.confirm(mailed_token(vault, settings, sink, "bob@example.com", clock))
    history = vault.consent_history(signed.subject)
    assert [(e.choice, e.granted, e.source) for e in history] == [
        (f"purpose:{MARKETING}", True, f"confirmed:{signed.pending}")
    ]
