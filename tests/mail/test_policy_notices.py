"""Publishing a version with material changes mails one notice to each person a change
touches and to nobody else, through the email gate and a real SMTP server; the notice says
what changed in the diff's words and carries a link that opts the person out, once."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from mail_support import EXAMPLE_POLICIES, HOST, Sink, clock_sleep, settings_for

from pledge.errors import ConfirmationInvalid, InputError, PledgeError
from pledge.mail.policy_notice import send_policy_notices
from pledge.mail.sender import Sender, SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.store.vault import Vault

NOTICE_URL = "https://privacy.example.test/policy-changes/opt-out"
REFERENCE = "marketing.customer_reference"


def next_version(tmp_path: Path, version: str = "2026-12-01") -> Path:
    """Bitrix, with data given at product registration now also usable in case studies."""
    data = yaml.safe_load((EXAMPLE_POLICIES / "bitrix.yaml").read_text(encoding="utf-8"))
    data["collection_points"]["product_registration"]["purposes"].append(REFERENCE)
    data["version"] = version
    path = tmp_path / f"bitrix-{version}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def notice_settings(vault: Vault, mail_settings: MailSettings) -> MailSettings:
    return settings_for(
        vault, mail_settings, notice_communication="service_alert", notice_url=NOTICE_URL
    )


def people(vault: Vault) -> dict[str, str]:
    """Address -> subject: three registered products, two bought, one did both, one has an
    account only."""
    made: dict[str, str] = {}
    for i in range(3):
        address = f"reg{i}@example.com"
        made[address] = vault.collect(
            "product_registration", {"name": f"Reg {i}", "email": address}
        ).subject
    for i in range(2):
        address = f"buyer{i}@example.com"
        made[address] = vault.collect(
            "purchase",
            {"name": f"Buyer {i}", "email": address, "mailing_address": "1 Main St",
             "products": "Site Manager"},
        ).subject  # fmt: skip
    both = made["buyer1@example.com"]
    vault.collect(
        "product_registration", {"name": "Buyer 1", "email": "buyer1@example.com"}, subject=both
    )
    made["account@example.com"] = vault.collect(
        "personal_account",
        {"login": "acct", "password": "correct horse battery", "email": "account@example.com"},
    ).subject
    return made


def deliver(vault: Vault, settings: MailSettings, clock: Any) -> None:
    transport = SmtpTransport(HOST, settings.smtp_port, timeout=5)
    Sender(vault, transport, settings, sleep=clock_sleep(clock)).run()


def opt_out_token(sink: Sink, address: str) -> str:
    [received] = sink.to(address)
    body = received.message.get_body(("plain",))
    assert body is not None
    found = re.search(re.escape(NOTICE_URL) + r"/([A-Za-z0-9_-]+)", body.get_content())
    assert found is not None
    return found.group(1)


def test_each_person_a_change_touches_gets_exactly_one_notice_and_nobody_else_any(
    vault_factory: Callable[..., Vault],
    mail_settings: MailSettings,
    sink: Sink,
    clock: Any,
    tmp_path: Path,
) -> None:
    people(vault_factory("bitrix"))
    clock.advance(days=1)
    vault = vault_factory(next_version(tmp_path))
    settings = notice_settings(vault, mail_settings)

    first = send_policy_notices(vault, settings, chunk_size=2)
    again = send_policy_notices(vault, settings, chunk_size=2)  # a retry queues nobody twice
    deliver(vault, settings, clock)

    assert first is not None
    assert first.summary is not None
    assert first.summary.queued == 4
    assert again is not None
    assert again.summary is not None
    assert (again.summary.queued, again.summary.already_queued) == (0, 4)
    touched = {"reg0@example.com", "reg1@example.com", "reg2@example.com", "buyer1@example.com"}
    counts = Counter(address for r in sink.received for address in r.rcpt_tos)
    assert counts == dict.fromkeys(touched, 1)
    message = sink.to("reg0@example.com")[0].message
    assert message["Subject"] == "OOO Bitrix is changing how it uses your data"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert (
        'What you gave us for "Subscribing to a service or registering a product (rights to '
        'support)" may now also be used for: Public announcements.'
    ) in " ".join(text.split())
    assert "unless you opt out before then" in text
    assert first.banner.startswith("OOO Bitrix has changed its privacy policy (version 2026-12-01)")


def test_the_opt_out_link_records_one_refusal_for_its_person_only(
    vault_factory: Callable[..., Vault],
    mail_settings: MailSettings,
    sink: Sink,
    clock: Any,
    tmp_path: Path,
) -> None:
    made = people(vault_factory("bitrix"))
    vault = vault_factory(next_version(tmp_path))
    settings = notice_settings(vault, mail_settings)
    send_policy_notices(vault, settings)
    deliver(vault, settings, clock)
    token = opt_out_token(sink, "reg0@example.com")
    reg0, reg1 = made["reg0@example.com"], made["reg1@example.com"]

    assert vault.check_opt_out(token) == (reg0, "2026-12-01")  # looking changes nothing
    assert "policy:2026-12-01" not in vault.choices(reg0).withdrawn
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for hostile in (forged, token + "A", "", "%00", "x" * 500, "é" * 40):
        with pytest.raises(ConfirmationInvalid):
            vault.opt_out_by_link(hostile)

    outcomes: list[object] = []
    start = threading.Barrier(8)

    def click() -> None:
        start.wait()
        try:
            outcomes.append(vault.opt_out_by_link(token))
        except PledgeError as error:  # pragma: no cover - reported by the assertion below
            outcomes.append(error)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(not isinstance(o, PledgeError) for o in outcomes)
    refusals = [e for e in vault.consent_history(reg0) if e.choice == "policy:2026-12-01"]
    assert [(e.granted, e.source) for e in refusals] == [(False, "notice:2026-12-01")]
    assert "policy:2026-12-01" not in vault.choices(reg1).withdrawn  # nobody else's

    clock.advance(days=91)  # 30 days' notice, then the link's 60 days
    with pytest.raises(ConfirmationInvalid, match="expired"):
        vault.opt_out_by_link(token)


def test_without_mail_settings_nothing_is_mailed_and_the_reason_says_what_to_set(
    vault_factory: Callable[..., Vault], mail_settings: MailSettings, tmp_path: Path
) -> None:
    people(vault_factory("bitrix"))
    vault = vault_factory(next_version(tmp_path))
    with pytest.raises(InputError, match="PLEDGE_MAIL_NOTICE_COMMUNICATION"):
        send_policy_notices(vault, settings_for(vault, mail_settings))
    marketing = settings_for(
        vault, mail_settings, notice_communication="offers", notice_url=NOTICE_URL
    )
    with pytest.raises(PledgeError, match="service message"):
        send_policy_notices(vault, marketing)
