"""Who receives what, per seed policy, through the whole path: the gate decides, renders and
queues; the worker sends to a real SMTP server; the server's mailbox is the truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mail_support import EXAMPLE_POLICIES, HOST, GateFactory, Sink, clock_sleep, collect

from pledge.errors import MessageRefused
from pledge.mail.campaign import Summary, run_campaign
from pledge.mail.gate import Gate
from pledge.mail.segments import Segment
from pledge.mail.sender import Delivery, Sender, SmtpTransport
from pledge.policy.model import MessageClass
from pledge.store.vault import Vault

SEED_POLICIES = sorted(p.stem for p in EXAMPLE_POLICIES.glob("*.yaml"))
PEOPLE = ("keen", "silent", "opted_out", "stopped")


def campaign(gate: Gate, name: str, segment: str = "all", *, dry_run: bool = False) -> Summary:
    return run_campaign(
        gate, Segment.parse(segment, gate.vault.policy), name, dry_run=dry_run, chunk_size=3
    )


def deliver(gate: Gate, clock: Any) -> Delivery:
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    return Sender(gate.vault, transport, gate.settings, sleep=clock_sleep(clock)).run()


def skipped(summary: Summary) -> dict[str, set[str]]:
    """Reason code -> subject ids (all of them: the tests keep campaigns small)."""
    found: dict[str, set[str]] = {}
    for (code, _), ids in summary.examples.items():
        found.setdefault(code, set()).update(ids)
    return found


# Each person's fate, stated: None (receives it once) or the reason the summary gives.
ALL_BUT_STOPPED = {"keen": None, "silent": None, "opted_out": None, "stopped": "stop_all"}
OPT_IN = {"keen": None, "silent": "no_consent", "opted_out": "consent_withdrawn",
          "stopped": "stop_all"}  # fmt: skip
OPT_OUT = {"keen": None, "silent": None, "opted_out": "consent_withdrawn", "stopped": "stop_all"}
EVERYONE = dict.fromkeys(PEOPLE)
NO_POSTAL_ADDRESS = "refused"  # the seed gives none, so no marketing can lawfully go out

# policy -> (the sign-up form people use, {communication type: fates})
FATES: dict[str, tuple[str, dict[str, dict[str, str | None] | str]]] = {
    "3cx": ("registration", {"assistance_reply": ALL_BUT_STOPPED,
                             "promotional": NO_POSTAL_ADDRESS}),
    "bitrix": ("purchase", {"registration_confirmation": ALL_BUT_STOPPED,
                            "service_alert": ALL_BUT_STOPPED,
                            "offers": OPT_IN,
                            "legal_notice": EVERYONE}),
    "webix": ("signup", {"service_bulletin": ALL_BUT_STOPPED,
                         "newsletter": NO_POSTAL_ADDRESS,
                         "product_news": NO_POSTAL_ADDRESS}),
    "zabbix": ("registration", {"order_update": ALL_BUT_STOPPED,
                                "newsletter": OPT_OUT,
                                "product_information": OPT_OUT}),
    "zimbra": ("registration", {"requested_information": ALL_BUT_STOPPED,
                                "product_notices": NO_POSTAL_ADDRESS}),
}  # fmt: skip


def test_every_seed_policy_and_communication_has_a_stated_answer() -> None:
    assert sorted(FATES) == SEED_POLICIES


@pytest.mark.parametrize("policy", SEED_POLICIES)
def test_who_receives_what(
    policy: str, vault_factory: Callable[..., Vault], gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory(policy)
    point, fates = FATES[policy]
    assert set(fates) == set(vault.policy.policy.communications)
    offered = vault.policy.policy.collection_points[point].choices
    people: dict[str, tuple[str, str]] = {}
    for n, who in enumerate(PEOPLE):
        choices = {
            "keen": dict.fromkeys(offered, True),
            "silent": {},
            "opted_out": dict.fromkeys(offered, False),
            "stopped": dict.fromkeys(offered, True),
        }[who]
        people[who] = collect(vault, point, n, choices=choices)
    vault.grant(people["stopped"][0], "stop:all")

    for communication, fate in fates.items():
        if fate == NO_POSTAL_ADDRESS:
            with pytest.raises(MessageRefused, match="postal address"):
                gate_for(vault, communication)
            continue
        assert isinstance(fate, dict)
        spec = vault.policy.policy.communications[communication]
        gate = gate_for(vault, communication)
        summary = campaign(gate, f"{communication}-1")
        deliver(gate, clock)
        reasons = skipped(summary)
        for who, (subject, address) in people.items():
            got = sink.to(address)
            if fate[who] is None:
                assert len(got) == 1, f"{communication}: {who} should get it once"
                unsubscribe = got[0].message["List-Unsubscribe"] is not None
                assert unsubscribe == (spec.message_class is MessageClass.marketing)
            else:
                assert not got, f"{communication}: {who} should be skipped"
                assert subject in reasons.get(fate[who] or "", set()), (
                    f"{communication}: {who} should be skipped for {fate[who]}: {reasons}"
                )
        sink.received.clear()
