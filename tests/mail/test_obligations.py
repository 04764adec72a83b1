"""What the gate adds to a marketing message and what it refuses, seen at the SMTP server."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mail_support import (
    HOST,
    UNSUBSCRIBE_URL,
    GateFactory,
    Sink,
    clock_sleep,
    collect,
    write_template,
)
from sqlalchemy import select

from pledge.errors import InputError, MessageRefused
from pledge.mail.campaign import run_campaign
from pledge.mail.gate import Gate, message_id_for
from pledge.mail.segments import Segment
from pledge.mail.sender import Sender, SmtpTransport
from pledge.store.schema import mail_outbox
from pledge.store.vault import Vault

VaultFactory = Callable[..., Vault]
MARKETING = "marketing.communications.email"


def send(gate: Gate, campaign: str, clock: Any, segment: str = "all") -> None:
    run_campaign(
        gate, Segment.parse(segment, gate.vault.policy), campaign, dry_run=False, chunk_size=100
    )
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    Sender(gate.vault, transport, gate.settings, sleep=clock_sleep(clock)).run()


def test_marketing_message_carries_footer_and_one_click_headers(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    subject, address = collect(vault, "registration", 1)
    send(gate_for(vault, "newsletter"), "news-1", clock)

    [received] = sink.to(address)
    message = received.message
    assert received.mail_from == "news@zabbix.com"
    assert message["From"] == "News <news@zabbix.com>"
    assert message["To"] == f"Person 1 <{address}>"
    assert message["Subject"] == "News from Zabbix LLC"
    assert message["Message-ID"] == message_id_for("news-1", subject, "zabbix.com")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (u.strip() for u in str(message["List-Unsubscribe"]).split(","))
    token = re.fullmatch(rf"<{re.escape(UNSUBSCRIBE_URL)}/([a-z2-7]{{52}})>", https)
    assert token is not None, https
    assert mailto == f"<mailto:unsubscribe+{token.group(1)}@zabbix.com>"
    assert subject not in https  # no personal data in the URL
    assert address not in https

    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "Dzelzavas 117, Riga, LV-1029, Latvia" in body
        assert "This message is an advertisement from Zabbix LLC." in body
        assert f"{UNSUBSCRIBE_URL}/{token.group(1)}" in body
    assert text.startswith("Hello Person 1,")
    assert html.index("Unsubscribe") < html.index("</body>")


def test_transactional_message_has_no_footer_and_reaches_an_opted_out_person(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    _, address = collect(vault, "registration", 1, choices={MARKETING: False})
    send(gate_for(vault, "newsletter"), "news-1", clock)
    send(gate_for(vault, "order_update"), "order-1", clock)

    [received] = sink.to(address)
    message = received.message
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Dzelzavas" not in body
    assert "advertisement" not in body


def test_stop_all_silences_transactional_but_not_legal_mail(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("bitrix")
    subject, address = collect(vault, "purchase", 1, choices={MARKETING: True})
    vault.grant(subject, "stop:all")
    for communication in ("registration_confirmation", "offers", "legal_notice"):
        send(gate_for(vault, communication), communication, clock)
    [received] = sink.to(address)
    assert received.message["List-Unsubscribe"] is None
    assert received.message_id == message_id_for("legal_notice", subject, "bitrixsoft.com")


def test_name_is_used_only_when_the_policy_releases_it(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    _, address = collect(vault, "newsletter", 1)  # the newsletter form asks no name
    send(gate_for(vault, "newsletter"), "news-1", clock)
    [received] = sink.to(address)
    assert received.message["To"] == address
    assert received.message.get_body(("plain",)).get_content().startswith("Hello there,")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "subject",
    ["Re: your account", "RE : news", "Fwd: a deal", "FW: offer", "fwd:deal", "   ", ""],
)
def test_misleading_or_empty_marketing_subject_is_refused(
    subject: str, vault_factory: VaultFactory, gate_for: GateFactory, tmp_path: Path
) -> None:
    vault = vault_factory("zabbix")
    template = write_template(tmp_path / "bad", subject, "Hello\n")
    with pytest.raises(MessageRefused, match="subject"):
        gate_for(vault, "newsletter", template)


@pytest.mark.parametrize("shout", ["URGENT: REPLY NOW", "RE-OPENING SALE", "FWD THINKING"])
def test_shouting_subject_is_not_misleading_so_it_goes_out_as_written(
    vault_factory: VaultFactory,
    gate_for: GateFactory,
    sink: Sink,
    clock: Any,
    tmp_path: Path,
    shout: str,
) -> None:
    """Loud is allowed; only a fake reply or forward marker misleads (CAN-SPAM)."""
    vault = vault_factory("zabbix")
    _, address = collect(vault, "registration", 1)
    gate = gate_for(vault, "newsletter", write_template(tmp_path / "t", shout, "Hi\n"))
    send(gate, "loud", clock)
    [received] = sink.to(address)
    assert received.message["Subject"] == shout


def test_a_subject_made_misleading_by_a_variable_skips_that_person(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any, tmp_path: Path
) -> None:
    vault = vault_factory("zabbix")
    collect(vault, "registration", 1)
    gate = gate_for(vault, "newsletter", write_template(tmp_path / "t", "{{ name }}", "Hi\n"))
    vault.rectify(vault.find("email", "person1@example.com") or "", "name", "Re: hello")
    summary = run_campaign(gate, Segment(), "c", dry_run=False, chunk_size=10)
    assert list(summary.skipped) == [("subject_refused", "communications")]


def test_marketing_from_a_domain_the_policy_does_not_list_is_refused(
    vault_factory: VaultFactory, gate_for: GateFactory
) -> None:
    vault = vault_factory("zabbix")
    with pytest.raises(MessageRefused, match=r"sender_domains lists zabbix\.com"):
        gate_for(vault, "newsletter", from_address="Deals <deals@zabbix-offers.biz>")
    gate_for(vault, "newsletter", from_address="News <news@mail.zabbix.com>")  # a subdomain
    gate_for(vault, "order_update", from_address="Shop <orders@zabbix-offers.biz>")


def test_marketing_without_an_https_unsubscribe_url_is_refused(
    vault_factory: VaultFactory, gate_for: GateFactory
) -> None:
    vault = vault_factory("zabbix")
    for url in (None, "http://privacy.example.test/unsubscribe"):
        with pytest.raises(MessageRefused, match="PLEDGE_MAIL_UNSUBSCRIBE_URL"):
            gate_for(vault, "newsletter", unsubscribe_url=url)


def test_unknown_communication_type_gets_a_hint(
    vault_factory: VaultFactory, gate_for: GateFactory
) -> None:
    vault = vault_factory("zabbix")
    with pytest.raises(InputError, match=r"no communication type 'newsleter'.*newsletter"):
        gate_for(vault, "newsleter")


def test_outbox_holds_no_address_in_clear_and_each_decision_is_audited(
    vault_factory: VaultFactory, gate_for: GateFactory
) -> None:
    vault = vault_factory("zabbix")
    keen, address = collect(vault, "registration", 1)
    out, _ = collect(vault, "registration", 2, choices={MARKETING: False})
    gate = gate_for(vault, "newsletter")
    run_campaign(gate, Segment(), "news-1", dry_run=False, chunk_size=10)
    with vault.engine.connect() as connection:
        rows = connection.execute(select(mail_outbox)).all()
    assert [r.subject_id for r in rows] == [keen]
    assert address.encode() not in rows[0].payload
    assert b"Person 1" not in rows[0].payload
    entries = [e for e in vault.audit.entries_for(vault.engine, vault.subject_ref(keen))]
    assert entries[-1]["action"] == "mail"
    assert entries[-1]["detail"]["outcome"] == "queued"
    [skip] = [
        e
        for e in vault.audit.entries_for(vault.engine, vault.subject_ref(out))
        if e["action"] == "mail"
    ]
    assert skip["detail"] | {} == {
        "campaign": "news-1",
        "communication": "newsletter",
        "outcome": "skipped",
        "reason": "consent_withdrawn",
        "ref": f"purposes.{MARKETING}.basis",
    }
    assert vault.audit.verify(vault.engine).ok


def test_running_a_campaign_again_queues_nobody_twice(
    vault_factory: VaultFactory, gate_for: GateFactory
) -> None:
    vault = vault_factory("zabbix")
    for n in range(5):
        collect(vault, "registration", n)
    gate = gate_for(vault, "newsletter")
    first = run_campaign(gate, Segment(), "news-1", dry_run=False, chunk_size=2)
    again = run_campaign(gate, Segment(), "news-1", dry_run=False, chunk_size=2)
    assert (first.queued, first.already_queued) == (5, 0)
    assert (again.queued, again.already_queued) == (0, 5)


def test_segment_by_collection_point(vault_factory: VaultFactory, gate_for: GateFactory) -> None:
    vault = vault_factory("zabbix")
    newsletter = {collect(vault, "newsletter", n)[0] for n in range(3)}
    collect(vault, "registration", 9)
    segment = Segment.parse("point:newsletter", vault.policy)
    assert segment.count(vault) == 3
    assert {s for chunk in segment.chunks(vault, 2) for s in chunk} == newsletter
    with pytest.raises(InputError, match=r"no collection point 'newsleter'.*newsletter"):
        Segment.parse("point:newsleter", vault.policy)
