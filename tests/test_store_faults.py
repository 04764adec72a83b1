"""The store under faults: a process killed mid-batch, several processes writing at once, an
operation that fails half-way, and retention deleting what the policy no longer lets us keep.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pledge.errors import CollectionError, ConflictError, NotFoundError
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.schema import (
    audit_entries,
    consent_events,
    consent_state,
    personal_values,
    subjects,
)
from pledge.store.vault import Vault

ZABBIX = Path(__file__).resolve().parent.parent / "examples" / "policies" / "zabbix.yaml"
MARKETING = "marketing.communications.email"
SUPPORT = "essential.service.operations.support"


def count(vault: Vault, table: Any, *where: Any) -> int:
    with vault.engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(table).where(*where)
        ).scalar_one()


def verified(vault: Vault) -> int:
    verification = vault.audit.verify(vault.engine)
    assert verification.ok, verification.problem
    return verification.entries


# --- a process killed in the middle of a batch --------------------------------------------

BATCH_SCRIPT = r"""
import sys, time
from pathlib import Path
from faker import Faker
from sqlalchemy import event
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.vault import Collection, Vault

url, key, policy, marker = sys.argv[1:5]
vault = Vault.open(
    url,
    LocalKeyFileProvider(key),
    Path(policy).read_text(),
    key_store_url=default_key_store_url(url, Path(key).parent),
)

@event.listens_for(vault.engine, "after_cursor_execute")
def stall(conn, cursor, statement, parameters, context, executemany):
    # The batch's subjects and values are written, not committed: the moment to die.
    if statement.startswith("INSERT INTO personal_values"):
        Path(marker).write_text("writing")
        time.sleep(120)

fake = Faker()
fake.seed_instance(500)
batch = [
    Collection(
        "registration",
        {"name": fake.name(), "email": f"batch{i}.{fake.user_name()}@example.org"},
        age=30,
    )
    for i in range(500)
]
vault.collect_many(batch)
print("committed")
"""


def test_process_killed_mid_batch_leaves_no_partial_subject(
    tmp_path: Path,
    database_url: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
) -> None:
    vault = vault_factory("zabbix")
    before = [person_factory() for _ in range(3)]
    for p in before:
        vault.collect("registration", {"name": p.name, "email": p.email}, age=p.age)
    entries = verified(vault)

    marker = tmp_path / "writing"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            BATCH_SCRIPT,
            database_url,
            str(tmp_path / "master.key"),
            str(ZABBIX),
            str(marker),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                _out, err = child.communicate(timeout=5)
                pytest.fail(f"the batch never started writing: {err.decode()[-2000:]}")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL

    reopened = vault_factory("zabbix")
    assert count(reopened, subjects) == len(before)
    assert count(reopened, personal_values) == 2 * len(before)
    assert verified(reopened) == entries
    for p in before:
        assert reopened.find("email", p.email) is not None
    # Nothing is left locked: the store takes writes again at once.
    late = person_factory()
    reopened.collect("newsletter", {"email": late.email}, age=late.age)
    assert verified(reopened) == entries + 1


# --- several processes at once ------------------------------------------------------------

WORKERS = 4
PER_WORKER = 50
EVERY = 10  # a round of consent changes on the shared subjects after every 10th collection


def _worker(url: str, key: str, worker: int, shared: list[str], barrier: Any, results: Any) -> None:
    """One process: collect PER_WORKER subjects, and flip marketing on the shared ones."""
    try:
        from faker import Faker

        vault = Vault.open(
            url,
            LocalKeyFileProvider(key),
            ZABBIX.read_text(),
            key_store_url=default_key_store_url(url, Path(key).parent),
        )
        fake = Faker()
        fake.seed_instance(1000 + worker)
        barrier.wait(timeout=120)
        consents = 0
        for i in range(PER_WORKER):
            vault.collect(
                "registration",
                {"name": fake.name(), "email": f"w{worker}.{i}.{fake.user_name()}@example.org"},
                age=30,
                choices={MARKETING: i % 2 == 0},
            )
            if i % EVERY == 0:
                for subject in shared:
                    (vault.grant if (worker + i) % 2 else vault.withdraw)(subject, MARKETING)
                    consents += 1
        vault.close()
        results.put(("ok", worker, consents))
    except BaseException:
        results.put(("error", worker, traceback.format_exc()))


def test_concurrent_processes_lose_no_consent_event(
    tmp_path: Path,
    database_url: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
) -> None:
    vault = vault_factory("zabbix")
    shared = []
    for p in [person_factory() for _ in range(3)]:
        shared.append(
            vault.collect(
                "registration",
                {"name": p.name, "email": p.email},
                age=p.age,
                choices={MARKETING: True},
            ).subject
        )
    start_entries = verified(vault)

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    key = str(tmp_path / "master.key")
    processes = [
        context.Process(target=_worker, args=(database_url, key, w, shared, barrier, results))
        for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [o[2] for o in outcomes if o[0] != "ok"]
    assert not errors, errors[0]
    consents_written = sum(o[2] for o in outcomes)
    assert consents_written == WORKERS * (PER_WORKER // EVERY) * len(shared)

    # No event lost: every collection's choice, every grant and withdrawal.
    total_subjects = len(shared) + WORKERS * PER_WORKER
    assert count(vault, subjects) == total_subjects
    expected_events = len(shared) + consents_written + WORKERS * PER_WORKER
    assert count(vault, consent_events) == expected_events
    with vault.engine.connect() as connection:
        events = connection.execute(
            select(
                consent_events.c.subject_id,
                consent_events.c.seq,
                consent_events.c.choice,
                consent_events.c.granted,
            ).order_by(consent_events.c.subject_id, consent_events.c.seq)
        ).all()
        state = {
            (r.subject_id, r.choice): (r.granted, r.seq)
            for r in connection.execute(select(consent_state))
        }
    last: dict[tuple[str, str], tuple[bool, int]] = {}
    seqs: dict[str, list[int]] = {}
    for e in events:
        last[(e.subject_id, e.choice)] = (e.granted, e.seq)
        seqs.setdefault(e.subject_id, []).append(e.seq)
    # Each subject's current choice is the last event written for it, numbered without gaps.
    assert state == last
    assert all(s == list(range(len(s))) for s in seqs.values())
    for subject in shared:
        assert len(seqs[subject]) == 1 + consents_written // len(shared)
        granted = last[(subject, f"purpose:{MARKETING}")][0]
        assert (f"purpose:{MARKETING}" in vault.choices(subject).granted) == granted

    writes = WORKERS * PER_WORKER + consents_written
    assert verified(vault) == start_entries + writes


# --- a failed operation gives the database back ---------------------------------------------


def assert_write_lock_free(vault: Vault, database_url: str) -> None:
    """Another connection can take the write lock (and the audit head) at once."""
    if vault.engine.dialect.name == "sqlite":
        path = make_url(database_url).database
        with closing(sqlite3.connect(str(path), timeout=0.2)) as other:
            other.isolation_level = None
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        return
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT"))
    finally:
        engine.dispose()


def test_failed_operations_release_the_database(
    database_url: str, vault_factory: Callable[..., Vault], person_factory: Callable[[], Any]
) -> None:
    vault = vault_factory("zabbix")
    ann, bob = person_factory(), person_factory()
    a = vault.collect("registration", {"name": ann.name, "email": ann.email}, age=30).subject
    b = vault.collect("registration", {"name": bob.name, "email": bob.email}, age=30).subject
    entries = verified(vault)
    failing: list[tuple[type[Exception], Callable[[], Any]]] = [
        (NotFoundError, lambda: vault.withdraw("0" * 32, MARKETING)),
        (NotFoundError, lambda: vault.erase("0" * 32)),
        (CollectionError, lambda: vault.rectify(a, "email", "not an address")),
        (ConflictError, lambda: vault.rectify(a, "email", bob.email)),
        (ConflictError, lambda: vault.collect("survey", {"email": bob.email}, subject=a, age=30)),
    ]
    for error, attempt in failing:
        with pytest.raises(error):
            attempt()
        assert_write_lock_free(vault, database_url)
    assert vault.find("email", ann.email) == a
    assert vault.find("email", bob.email) == b
    assert verified(vault) == entries


# --- retention --------------------------------------------------------------------------------


def test_retention_deletes_expired_values_only(
    tmp_path: Path,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    clock: Any,
) -> None:
    data = yaml.safe_load(ZABBIX.read_text())
    data["retention"] = [{"categories": ["user.contact.phone_number"], "days": 30}]
    policy = tmp_path / "zabbix-retention.yaml"
    policy.write_text(yaml.safe_dump(data, sort_keys=False))
    vault = vault_factory(policy)

    old = [person_factory() for _ in range(2)]
    ids = [
        vault.collect(
            "registration",
            {"name": p.name, "email": p.email, "phone": p.phone, "mailing_address": p.address},
            age=p.age,
        ).subject
        for p in old
    ]
    clock.advance(days=10)
    young = person_factory()
    young_id = vault.collect(
        "registration", {"name": young.name, "email": young.email, "phone": young.phone}, age=40
    ).subject
    entries = verified(vault)

    clock.advance(days=21)  # 31 days after the first two, 21 after the third
    report = vault.run_retention()
    assert report.deleted == {"user.contact.phone_number": 2}
    assert (report.subjects, report.keys_destroyed) == (2, 0)
    for subject, p in zip(ids, old, strict=True):
        values = vault.read(subject, "essential.service.notifications.email", "sales").values
        assert values == {
            "registration.name": p.name,
            "registration.email": p.email_stored,
            "registration.mailing_address": p.address,
        }
    assert (
        vault.read(young_id, "essential.service.notifications.email", "sales").values[
            "registration.phone"
        ]
        == young.phone_e164
    )

    log = [vault.audit.entry(vault.engine, seq) for seq in range(entries, entries + 2)]
    assert [e["action"] for e in log] == ["retention_delete", "retention_delete"]
    assert {e["subject"] for e in log} == {vault.subject_ref(s) for s in ids}
    assert all(e["detail"]["fields"] == ["registration.phone"] for e in log)
    with vault.engine.connect() as connection:
        raw = b"".join(
            connection.execute(
                select(audit_entries.c.entry).where(audit_entries.c.seq >= entries)
            ).scalars()
        )
    for p in old:
        for secret in p.secrets():
            assert secret.encode() not in raw

    assert vault.run_retention().deleted == {}  # nothing left to do until the third expires
    clock.advance(days=10)
    assert vault.run_retention().deleted == {"user.contact.phone_number": 1}
    assert count(vault, personal_values, personal_values.c.field == "phone") == 0
    assert count(vault, personal_values) == 3 * 2 + 2
    verified(vault)
