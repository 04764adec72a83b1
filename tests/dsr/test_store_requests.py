"""Data-subject requests in the store, on SQLite and PostgreSQL: the steps, their deadlines,
their audit leaves and emails, expiry of the unverified, and failures kept to one request."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dsr_support import outbox_campaigns, policy_under
from mail_support import HOST, Sink
from sqlalchemy import inspect, select

from pledge.errors import ConflictError, InputError, NotFoundError
from pledge.mail.gate import Gate
from pledge.mail.request_notices import send_request_notices
from pledge.mail.sender import Sender, SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.policy.deadlines import Urgency
from pledge.store import requests as request_store
from pledge.store.outbox import payload_aad
from pledge.store.schema import mail_outbox, requests
from pledge.store.vault import Vault

Person = Callable[[Vault, int], str]


def steps_audited(vault: Vault, subject: str, request_id: str) -> list[str]:
    return [
        e["detail"]["step"]
        for e in vault.audit_entries_for(subject)
        if e["action"] == "request" and e["detail"]["request"] == request_id
    ]


def email_text(vault: Vault, subject: str, campaign: str) -> str:
    with vault.snapshot() as connection:
        payload = connection.execute(
            select(mail_outbox.c.payload).where(
                mail_outbox.c.subject_id == subject, mail_outbox.c.campaign_id == campaign
            )
        ).scalar_one()
    raw = vault.ciphers([subject])[subject].decrypt(
        payload, payload_aad(subject, campaign), context="test"
    )
    message = email.message_from_bytes(raw.partition(b"\n")[2], policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    return f"{message['Subject']}\n{body.get_content()}"


def test_a_complaint_is_verified_worked_and_answered_each_step_audited_and_emailed(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    request_mail: MailSettings,
    clock: object,
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    opened = vault.open_request(subject, "complaint", "You sent me mail after I opted out.")
    assert opened.state == "verified"
    assert opened.respond_by == dt.date(2024, 5, 31)  # received 1 May, GDPR month and policy
    assert opened.acknowledge_by == dt.date(2024, 5, 15)
    assert opened.urgency is Urgency.later

    vault.start_request(opened.request_id, actor="staff:ann")
    done = vault.answer_request(
        opened.request_id, "We found the cause and fixed it.", actor="staff:ann"
    )
    assert done.state == "done"
    assert done.closed_at is not None
    assert done.urgency is None

    assert steps_audited(vault, subject, opened.request_id) == [
        "received",
        "verified",
        "in_progress",
        "done",
    ]
    report = send_request_notices(vault, request_mail)
    assert report.queued == 4
    assert not report.failed
    rid = opened.request_id
    assert outbox_campaigns(vault, subject) == [f"request-{rid}-{n}" for n in (1, 2, 3, 4)]
    assert "fixed it" in email_text(vault, subject, f"request-{rid}-4")
    # Sent once: running again queues nothing more.
    assert send_request_notices(vault, request_mail).queued == 0

    (mine,) = vault.requests_of(subject)
    assert [s.step for s in mine.steps] == ["received", "verified", "in_progress", "done"]
    assert mine.steps[0].message == "You sent me mail after I opted out."


def test_an_extension_under_gdpr_tells_the_person_why_and_is_refused_after_a_month(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    request_mail: MailSettings,
    clock: object,
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    first = vault.open_request(subject, "access")
    late = vault.open_request(subject, "inquiry", "What do you keep about me?")
    extended = vault.extend_request(first.request_id, "Your data is in three systems.", actor="x")
    assert extended.extended
    assert extended.state == "in_progress"
    assert extended.respond_by == dt.date(2024, 8, 1)
    with pytest.raises(ConflictError, match="already"):
        vault.extend_request(first.request_id, "again", actor="x")

    clock.advance(days=32)  # type: ignore[attr-defined]
    with pytest.raises(ConflictError, match="has passed"):
        vault.extend_request(late.request_id, "too late", actor="x")
    send_request_notices(vault, request_mail)
    text = email_text(vault, subject, f"request-{first.request_id}-3")
    assert "2024-08-01" in text
    assert "Your data is in three systems." in text


def test_without_a_law_no_deadline_moves(
    vault_factory: Callable[..., Vault], tmp_path: Path, person: Person
) -> None:
    vault = vault_factory(policy_under(tmp_path, None, days=10))
    subject = person(vault, 1)
    opened = vault.open_request(subject, "complaint", "Slow answers.")
    assert opened.respond_by == dt.date(2024, 5, 11)
    with pytest.raises(ConflictError, match="no law"):
        vault.extend_request(opened.request_id, "busy", actor="x")


def test_the_queue_puts_overdue_first_then_this_week_and_leaves_closed_ones_out(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person, clock: object
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    old = vault.open_request(subject, "access")
    clock.advance(days=25)  # type: ignore[attr-defined]
    newer = vault.open_request(subject, "inquiry", "A question")
    closed = vault.open_request(subject, "complaint", "A complaint")
    vault.refuse_request(closed.request_id, "Not about data we hold.", actor="x")
    clock.advance(days=7)  # type: ignore[attr-defined]
    queue = vault.request_queue()
    assert [(r.request_id, r.urgency) for r in queue] == [
        (old.request_id, Urgency.overdue),
        (newer.request_id, Urgency.later),
    ]
    assert [r.request_id for r in vault.request_queue(closed=True)] == [closed.request_id]


def test_unverified_requests_expire_and_leave_the_queue_verified_ones_stay(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    request_mail: MailSettings,
    clock: object,
) -> None:
    vault = vault_factory(gdpr_policy)
    subject, other = person(vault, 1), person(vault, 2)
    waiting = vault.open_request(subject, "erase", actor="cli", verified=False)
    confirmed = vault.open_request(other, "erase", actor="cli", verified=False)
    assert waiting.state == "received"
    assert waiting.expires_at is not None
    with pytest.raises(ConflictError, match="received"):
        vault.answer_request(waiting.request_id, "done", actor="x")  # identity first
    assert vault.verify_waiting_requests(other) == 1

    clock.advance(days=15)  # type: ignore[attr-defined]
    report = vault.run_requests()
    assert report.expired == 1
    assert not report.failed
    assert [r.request_id for r in vault.request_queue()] == [confirmed.request_id]
    assert steps_audited(vault, subject, waiting.request_id) == ["received", "expired"]
    send_request_notices(vault, request_mail)
    assert f"request-{waiting.request_id}-2" in outbox_campaigns(vault, subject)
    vault.require_subject(subject)  # an expired erasure request erased nothing


def test_one_failing_request_never_blocks_the_others(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    clock: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = vault_factory(gdpr_policy)
    broken = vault.open_request(person(vault, 1), "access", verified=False)
    fine = vault.open_request(person(vault, 2), "access", verified=False)
    clock.advance(days=15)  # type: ignore[attr-defined]
    original = request_store.record_step

    def failing(vault_: Vault, connection: Any, row: Any, step: str, *a: Any, **k: Any) -> None:
        if row.request_id == broken.request_id:
            raise RuntimeError("the disk is full")  # a fault no deliberate error covers
        original(vault_, connection, row, step, *a, **k)

    monkeypatch.setattr(request_store, "record_step", failing)
    report = vault.run_requests()
    assert report.expired == 1
    assert report.failed == {broken.request_id: "RuntimeError"}
    with vault.snapshot() as connection:
        row = connection.execute(
            select(requests).where(requests.c.request_id == broken.request_id)
        ).one()
    assert row.state == "received"
    assert row.attempts == 1
    assert row.last_error == "RuntimeError"
    assert vault.request(fine.request_id, actor="x").state == "expired"
    monkeypatch.undo()
    assert vault.run_requests().expired == 1  # the next run gets the one that failed


def test_an_answered_erasure_erases_and_cannot_be_answered_twice(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    request_mail: MailSettings,
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    opened = vault.open_request(subject, "erase")
    done = vault.answer_request(opened.request_id, "Erased.", actor="staff:ann")
    assert done.state == "done"
    with pytest.raises(NotFoundError):
        vault.require_subject(subject)
    with pytest.raises(ConflictError):
        vault.answer_request(opened.request_id, "again", actor="staff:ann")
    # The steps before the erasure were told; the last one has no address left to go to.
    report = send_request_notices(vault, request_mail)
    assert not report.failed


def test_at_once_requests_are_done_when_they_return(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    exported = vault.export_request(subject)
    assert exported["subject"] == subject
    vault.rectify_request(subject, "name", "Person One")
    vault.choices_request(subject, {"marketing.communications.email": False})
    kinds = {(r.kind, r.state) for r in vault.requests_of(subject)}
    assert kinds == {("export", "done"), ("rectify", "done"), ("choices", "done")}
    assert vault.request_queue() == []


def test_bad_requests_are_refused_with_what_to_fix(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    with pytest.raises(InputError, match="unknown kind"):
        vault.open_request(subject, "anything")
    with pytest.raises(InputError, match="empty"):
        vault.open_request(subject, "complaint", "   ")
    with pytest.raises(InputError, match="longer than"):
        vault.open_request(subject, "complaint", "x" * 5000)
    with pytest.raises(NotFoundError):
        vault.open_request("0" * 32, "complaint", "who?")
    with pytest.raises(NotFoundError):
        vault.answer_request("f" * 32, "no such", actor="x")
    assert vault.requests_of(subject) == []


def test_the_persons_words_are_sealed_and_reading_them_is_audited(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 1)
    opened = vault.open_request(subject, "complaint", "My neighbour Jane sees my orders.")
    with vault.snapshot() as connection:
        blobs = b"".join(
            r.message or b"" for r in connection.execute(select(request_store.request_events))
        )
    assert b"Jane" not in blobs
    shown = vault.request(opened.request_id, actor="staff:ann")
    assert shown.steps[0].message == "My neighbour Jane sees my orders."
    actions = [e["action"] for e in vault.audit_entries_for(subject)]
    assert "request_read" in actions


@pytest.mark.parametrize("table", [requests, request_store.request_events], ids=lambda t: t.name)
def test_migration_0011_creates_the_tables_the_store_uses(
    vault_factory: Callable[..., Vault], table: Any
) -> None:
    engine = vault_factory("zabbix").engine
    found = {c["name"]: c for c in inspect(engine).get_columns(table.name)}
    assert list(found) == [c.name for c in table.columns]
    for column in table.columns:
        assert found[column.name]["nullable"] == column.nullable, column.name
    primary = inspect(engine).get_pk_constraint(table.name)["constrained_columns"]
    assert primary == [c.name for c in table.primary_key.columns]
    assert {i["name"] for i in inspect(engine).get_indexes(table.name)} == {
        i.name for i in table.indexes
    }


def test_two_staff_answering_at_once_answer_once(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person
) -> None:
    vault = vault_factory(gdpr_policy)
    opened = vault.open_request(person(vault, 1), "inquiry", "Anyone there?")
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def answer(n: int) -> None:
        start.wait()
        try:
            vault.answer_request(opened.request_id, f"Answer {n}", actor=f"staff:{n}")
            outcomes.append("done")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "done"]
    steps = [s.step for s in vault.request(opened.request_id, actor="x").steps]
    assert steps == ["received", "verified", "done"]


def test_the_person_receives_each_step_over_smtp(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person
) -> None:
    sink = Sink()
    sink.start()
    try:
        vault = vault_factory(gdpr_policy)
        subject = person(vault, 7)
        opened = vault.open_request(subject, "inquiry", "How long do you keep orders?")
        vault.refuse_request(opened.request_id, "We hold no orders of yours.", actor="x")
        settings = MailSettings(
            smtp_host=HOST,
            smtp_port=sink.port,
            smtp_timeout=5,
            from_address="Zabbix privacy <privacy@zabbix.com>",
        )  # no communication named: the policy's first transactional one
        assert send_request_notices(vault, settings).queued == 3
        Sender(vault, SmtpTransport(HOST, sink.port, timeout=5), settings).run()
        got = [r.message for r in sink.received if r.rcpt_tos == ["person7@example.com"]]
        subjects = [str(m["Subject"]) for m in got]
        assert len(subjects) == 3
        assert any("cannot act" in s for s in subjects)
        refusal = next(m for m in got if "cannot act" in str(m["Subject"]))
        body = refusal.get_body(("plain",))
        assert body is not None
        assert "We hold no orders of yours." in body.get_content()
    finally:
        sink.stop()


def test_an_email_that_fails_to_queue_holds_up_no_other_and_is_retried(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    request_mail: MailSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = vault_factory(gdpr_policy)
    broken = vault.open_request(person(vault, 1), "complaint", "One")
    fine_subject = person(vault, 2)
    fine = vault.open_request(fine_subject, "complaint", "Two")
    original = Gate.process

    def process(self: Gate, campaign: str, *args: Any, **kwargs: Any) -> Any:
        if broken.request_id in campaign:
            raise RuntimeError("template exploded")
        return original(self, campaign, *args, **kwargs)

    monkeypatch.setattr(Gate, "process", process)
    report = send_request_notices(vault, request_mail)
    assert report.queued == 2
    assert report.failed == {
        f"{broken.request_id}/1": "RuntimeError",
        f"{broken.request_id}/2": "RuntimeError",
    }
    assert outbox_campaigns(vault, fine_subject) == [
        f"request-{fine.request_id}-1",
        f"request-{fine.request_id}-2",
    ]
    monkeypatch.undo()
    assert send_request_notices(vault, request_mail).queued == 2  # the failed ones, next run
