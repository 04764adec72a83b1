"""Collections share their commit with other requests' (pledge.store.batch) and keep their
promises: a failing submission fails alone, and two people racing with the same email do not
merge into one subject.

The first collection of each test is held for a moment inside its batch, so the others queue
behind it and are written together in the next one: the cases below run inside one shared
transaction, not one after another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection

from pledge.errors import NotFoundError
from pledge.store import collect
from pledge.store.collect import Collected
from pledge.store.vault import Vault
from tests.conftest import VaultFactory

Batches = list[tuple[Connection, bool]]


def held_batches(monkeypatch: pytest.MonkeyPatch, first_call: Callable[[], object]) -> Batches:
    """Start ``first_call`` and hold its batch for a moment, so that what the caller does
    next queues behind it; record each collection's batch (its connection) and whether it
    succeeded."""
    real = collect.store_many
    seen: Batches = []
    first = threading.Event()

    def store_many(vault: Vault, connection: Connection, *args: Any, **kwargs: Any) -> Any:
        if not first.is_set():
            first.set()
            time.sleep(0.5)  # the others hand theirs in meanwhile: one batch after this
        try:
            done = real(vault, connection, *args, **kwargs)
        except Exception:
            seen.append((connection, False))
            raise
        seen.append((connection, True))
        return done

    monkeypatch.setattr(collect, "store_many", store_many)
    threading.Thread(target=first_call).start()
    first.wait()
    return seen


def together(calls: list[Callable[[], Collected]]) -> list[Collected | BaseException]:
    """Run ``calls`` at once (each in a thread); each one's result or error, in order."""
    results: list[Collected | BaseException] = [RuntimeError("not run")] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def person(vault: Vault, email: str, name: str = "Ada Racer") -> Callable[[], Collected]:
    return lambda: vault.collect("registration", {"name": name, "email": email}, age=30)


def test_a_failing_collection_fails_alone_in_a_shared_batch(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_factory("zabbix")
    gone = person(vault, "gone@example.com")().subject
    vault.erase(gone)
    before = vault.verify_audit().entries
    batches = held_batches(monkeypatch, person(vault, "first@example.com"))

    def into_gone() -> Collected:
        fields = {"name": "X", "email": "x@example.com"}
        return vault.collect("registration", fields, subject=gone, age=30)

    results = together([into_gone, *(person(vault, f"p{i}@example.com") for i in range(6))])
    assert isinstance(results[0], NotFoundError)
    assert all(isinstance(r, Collected) and r.created for r in results[1:])
    failed = next(c for c, ok in batches if not ok)
    assert any(ok for c, ok in batches if c is failed)  # others committed in its very batch
    for i, result in enumerate(results[1:]):
        assert isinstance(result, Collected)
        assert vault.find("email", f"p{i}@example.com") == result.subject
    assert vault.find("email", "x@example.com") is None  # nothing of the failed one stayed
    check = vault.verify_audit()
    assert check.ok
    assert check.entries == before + 7  # the held one and the six; not the failed one


def test_racing_collections_with_one_email_make_one_subject_and_wait_for_the_rest(
    vault_factory: VaultFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_factory("zabbix")
    batches = held_batches(monkeypatch, person(vault, "held@example.com"))
    results = together([person(vault, "same@example.com", name=f"Claimant {i}") for i in range(8)])
    assert not [r for r in results if isinstance(r, BaseException)]
    done = [r for r in results if isinstance(r, Collected)]
    created = [r for r in done if r.created]
    assert len(created) == 1  # one person; the others did not become (or merge into) it
    owner = created[0].subject
    assert vault.find("email", "same@example.com") == owner
    waiting = [r for r in done if not r.created]
    assert len(waiting) == 7
    assert all(r.pending is not None for r in waiting)  # each waits for the owner's say-so
    assert len({r.pending for r in waiting}) == 7
    assert len({id(c) for c, _ in batches[1:]}) < 8  # they did share batches
    assert vault.verify_audit().ok
