"""Audited reads decide on a snapshot and commit their leaves in batches (pledge.store.batch).

The attacker's cases: a consent withdrawn, or the subject erased, after a read decided but
before its leaf was committed must not release what the withdrawal or erasure forbids, and
the leaf must record the decision that was actually applied; a leaf insert that fails releases
nothing to any read in its batch; many concurrent reads each get exactly one leaf.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from pledge.errors import AuditWriteError, NotFoundError
from pledge.policy import Actor
from pledge.store.audit import Record
from pledge.store.batch import Ticket
from pledge.store.vault import Vault
from tests.conftest import VaultFactory
from tests.test_release import FORUM

SHOWN = Actor.recipient("forum_members_email")


def member(vault: Vault, n: int = 0) -> str:
    """A forum member who elected to show their forum email (``f<n>@example.com``)."""
    subject = vault.collect(
        "registration",
        {
            "name": "Ada Member",
            "username": f"ada{n}",
            "email": f"r{n}@example.com",
            "password": "correct horse",
        },
        age=30,
    ).subject
    vault.collect(
        "forum", {"username": f"f{n}", "email": f"f{n}@example.com"}, subject=subject, age=30
    )
    vault.grant(subject, "show:user.contact.email")
    return subject


def between_decision_and_commit(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, act: Callable[[], object]
) -> list[Ticket]:
    """Run ``act`` after a read decided and before its leaf is written; the tickets seen."""
    real = vault.commit_leaves
    seen: list[Ticket] = []

    def late(ticket: Ticket) -> None:
        seen.append(ticket)
        act()
        real(ticket)

    monkeypatch.setattr(vault, "commit_leaves", late)
    return seen


def reads_of(vault: Vault, subject: str) -> list[dict[str, object]]:
    return [e for e in vault.audit_entries_for(subject) if e["action"] == "read"]


def test_a_withdrawal_between_decision_and_commit_releases_nothing_it_forbids(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault)
    tickets = between_decision_and_commit(
        vault, monkeypatch, lambda: vault.withdraw(subject, "show:user.contact.email")
    )
    [outcome] = vault.release([subject], SHOWN, FORUM).outcomes
    assert not isinstance(outcome, Exception)
    assert outcome.values == {}  # decided again on the committed withdrawal
    assert "f0@example.com" not in str(outcome)
    assert tickets[0].redone
    [leaf] = reads_of(vault, subject)
    assert leaf["detail"]["released"] == []  # the log shows what was applied, not the stale one


def test_an_erasure_between_decision_and_commit_releases_nothing(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_factory("zimbra")
    subject = member(vault)
    between_decision_and_commit(vault, monkeypatch, lambda: vault.erase(subject))
    [outcome] = vault.release([subject], SHOWN, FORUM).outcomes
    assert isinstance(outcome, NotFoundError)
    assert vault.verify_audit().ok


def test_an_unrelated_change_keeps_the_decision(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another subject's withdrawal does not make this read decide twice."""
    vault = vault_factory("zimbra")
    subject = member(vault)
    other = member(vault, 1)
    tickets = between_decision_and_commit(
        vault, monkeypatch, lambda: vault.withdraw(other, "show:user.contact.email")
    )
    [outcome] = vault.release([subject], SHOWN, FORUM).outcomes
    assert not isinstance(outcome, Exception)
    assert outcome.values == {"forum.email": "f0@example.com"}
    assert not tickets[0].redone


def test_a_failed_leaf_insert_releases_nothing_to_any_read_in_the_batch(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_factory("zimbra")
    subjects = [member(vault, i) for i in range(4)]
    opened: list[str] = []
    real_open = vault.open_value
    monkeypatch.setattr(vault, "open_value", lambda *a: opened.append("x") or real_open(*a))
    real_record = vault.record
    calls: list[int] = []

    def broken(connection: object, *records: Record) -> list[int]:
        calls.append(len(records))
        real_record(connection, *records)  # inserted, then the batch fails: rolled back
        raise RuntimeError("disk full")

    monkeypatch.setattr(vault, "record", broken)
    before = vault.verify_audit().entries
    failures: list[BaseException] = []
    start = threading.Barrier(len(subjects) * 4)

    def read(subject: str) -> None:
        start.wait()
        try:
            vault.release([subject], SHOWN, FORUM)
        except RuntimeError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=read, args=(s,)) for s in subjects * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(failures) == len(threads)  # every read failed, none half-done
    assert opened == []
    assert sum(calls) == len(threads)  # each read's leaf was in a failed batch
    monkeypatch.setattr(vault, "record", real_record)
    assert vault.verify_audit().entries == before  # nothing of the failed batches stayed


def test_a_database_failure_in_a_batch_is_an_audit_write_error(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    vault = vault_factory("zimbra")
    subject = member(vault)

    def broken(connection: object, *records: Record) -> list[int]:
        connection.execute(text("SELECT * FROM no_such_table"))  # type: ignore[attr-defined]
        return []

    monkeypatch.setattr(vault, "record", broken)
    with pytest.raises(AuditWriteError, match="not carried out"):
        vault.release([subject], SHOWN, FORUM)


def test_concurrent_reads_share_commits_and_each_gets_one_leaf(
    vault_factory: VaultFactory,
) -> None:
    vault = vault_factory("zimbra")
    subjects = [member(vault, i) for i in range(8)]
    before = vault.verify_audit().entries
    results: list[object] = []
    lock = threading.Lock()

    def read(subject: str) -> None:
        for _ in range(10):
            [outcome] = vault.release([subject], SHOWN, FORUM).outcomes
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=read, args=(s,)) for s in subjects * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 160
    assert not [r for r in results if isinstance(r, Exception)]
    check = vault.verify_audit()
    assert check.ok
    assert check.entries == before + 160
    assert sum(len(reads_of(vault, s)) for s in subjects) == 160


def test_an_awaited_read_is_audited_once_and_fails_closed(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event loop's read (the API's): one leaf when it succeeds; nothing opened when its
    leaf cannot be written."""
    vault = vault_factory("zimbra")
    subject = member(vault)
    read = asyncio.run(vault.read_async(subject, FORUM, SHOWN))
    assert read.values == {"forum.email": "f0@example.com"}
    assert len(reads_of(vault, subject)) == 1
    opened: list[str] = []
    real_open = vault.open_value
    monkeypatch.setattr(vault, "open_value", lambda *a: opened.append("x") or real_open(*a))

    def broken(connection: object, *records: Record) -> list[int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(vault, "record", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        asyncio.run(vault.read_async(subject, FORUM, SHOWN))
    assert opened == []
