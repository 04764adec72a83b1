"""Frequency limits: a communication the policy limits to N messages per person per period is
refused, with the reason, for the message that would exceed it; the period moving on lets the
next one through; two campaigns racing for the last message send one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mail_support import GateFactory, collect

from pledge.mail.gate import ChunkResult
from pledge.store.vault import Vault


def test_the_message_that_would_exceed_the_limit_is_refused(
    vault_factory: Callable[..., Vault], gate_for: GateFactory, clock: Any
) -> None:
    vault = vault_factory("bitrix")
    subject, _ = collect(vault, "purchase", 1)
    other, _ = collect(vault, "purchase", 2)
    gate = gate_for(vault, "service_alert")  # at most four in 30 days
    for n in range(4):
        assert gate.process(f"alert-{n}", [subject], dry_run=False).queued == [subject]
        clock.advance(days=1)
    refused = gate.process("alert-4", [subject, other], dry_run=False)
    assert refused.queued == [other]
    [skip] = refused.skipped
    assert (skip.subject, skip.code, skip.ref) == (
        subject,
        "frequency_limit",
        "communications.service_alert.frequency",
    )
    assert "at most 4 times in 30 days" in skip.message
    assert gate.process("alert-4b", [subject], dry_run=True).skipped[0].code == "frequency_limit"
    clock.advance(days=27)  # the first alert is now more than 30 days old
    assert gate.process("alert-5", [subject], dry_run=False).queued == [subject]
    other_kind = gate_for(vault, "registration_confirmation")  # limits count per kind
    assert other_kind.process("welcome", [subject], dry_run=False).queued == [subject]


def test_two_campaigns_racing_for_the_last_allowed_message_send_one(
    vault_factory: Callable[..., Vault], gate_for: GateFactory
) -> None:
    vault = vault_factory("bitrix")
    subject, _ = collect(vault, "purchase", 1)
    gates = [gate_for(vault, "registration_confirmation") for _ in range(6)]  # once a day
    results: list[ChunkResult] = []
    start = threading.Barrier(len(gates))

    def send(n: int) -> None:
        start.wait()
        results.append(gates[n].process(f"welcome-{n}", [subject], dry_run=False))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(gates))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r.queued) for r in results) == 1
    assert {s.code for r in results for s in r.skipped} == {"frequency_limit"}
