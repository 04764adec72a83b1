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
from pledge.policy.model import Basis, MessageClass
from pledge.policy.taxonomy import ancestors, covers
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


def sign_up_point(vault: Vault) -> str:
    """A form that collects an email address and offers a marketing choice."""
    for name, point in vault.policy.policy.collection_points.items():
        has_email = any(f.category == "user.contact.email" for f in point.fields.values())
        if has_email and any(c.startswith("marketing.") for c in point.choices):
            return name
    raise AssertionError("no sign-up point with a marketing choice")


def expected(vault: Vault, point: str, communication: str) -> dict[str, str | None]:
    """Each person's fate under the policy: None (receives it) or the skip reason code."""
    policy = vault.policy.policy
    spec = policy.communications[communication]
    basis = policy.purposes[spec.purpose].basis
    offered = set(policy.collection_points[point].choices)
    covered = any(a in offered for a in ancestors(spec.purpose))
    collects = basis is Basis.legal_obligation or any(
        covers(p, spec.purpose) for p in policy.collection_points[point].purposes
    )
    if not collects:
        return dict.fromkeys(PEOPLE, "not_collected_for_purpose")
    if spec.message_class is MessageClass.legal or basis is Basis.legal_obligation:
        return dict.fromkeys(PEOPLE)
    fate: dict[str, str | None] = {"keen": None, "silent": None, "opted_out": None}
    fate["stopped"] = "stop_all"
    if basis in (Basis.opt_in, Basis.opt_out) and covered:
        fate["opted_out"] = "consent_withdrawn"
    if basis is Basis.opt_in:
        fate["silent"] = "no_consent"
        if not covered:
            fate["keen"] = "no_consent"
    return fate


@pytest.mark.parametrize("policy", SEED_POLICIES)
def test_who_receives_what(
    policy: str, vault_factory: Callable[..., Vault], gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory(policy)
    point = sign_up_point(vault)
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

    for communication, spec in vault.policy.policy.communications.items():
        if (
            spec.message_class is MessageClass.marketing
            and not vault.policy.policy.organisation.postal_address
        ):
            # The seed gives no postal address, so no marketing can lawfully go out.
            with pytest.raises(MessageRefused, match="postal address"):
                gate_for(vault, communication)
            continue
        gate = gate_for(vault, communication)
        summary = campaign(gate, f"{communication}-1")
        deliver(gate, clock)
        fate = expected(vault, point, communication)
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
