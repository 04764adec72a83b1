"""The audit log on a real database: tampering of every kind is caught and pinned to the first
bad entry, proofs check out against signed checkpoints, and when the log cannot be written
nothing happens at all (fail closed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from pledge.errors import AuditWriteError, NotFoundError
from pledge.store.audit import Record, encode, merkle
from pledge.store.audit.checkpoint import Checkpoint, parse_note, verify_checkpoint
from pledge.store.schema import (
    audit_checkpoints,
    audit_entries,
    personal_values,
    subjects,
)
from pledge.store.vault import Vault

SUPPORT = "essential.service.operations.support"
MARKETING = "marketing.communications.email"


def populate(vault: Vault, person_factory: Callable[[], Any], people: int = 4) -> list[str]:
    """A dozen and more entries, integrated one by one (so one checkpoint each)."""
    ids = []
    for _ in range(people):
        p = person_factory()
        subject = vault.collect(
            "registration", {"name": p.name, "email": p.email, "phone": p.phone}, age=p.age
        ).subject
        vault.audit.sync()
        vault.read(subject, SUPPORT, "support")
        vault.audit.sync()
        vault.withdraw(subject, MARKETING)
        vault.audit.sync()
        ids.append(subject)
    vault.export(ids[0])
    return ids


def size(vault: Vault) -> int:
    vault.audit.sync()
    with vault.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(audit_entries)).scalar_one()


def entry_row(vault: Vault, seq: int) -> Any:
    with vault.engine.connect() as connection:
        return connection.execute(select(audit_entries).where(audit_entries.c.seq == seq)).one()


def set_entry(vault: Vault, seq: int, **values: Any) -> None:
    with vault.engine.begin() as connection:
        connection.execute(update(audit_entries).where(audit_entries.c.seq == seq).values(**values))


def edited(entry: bytes) -> bytes:
    """The same entry with its actor changed: still well-formed, no longer what was written."""
    assert b'"actor":"' in entry
    return entry.replace(b'"actor":"', b'"actor":"mallory ', 1)


# --- tampering ------------------------------------------------------------------------------


def edit_entry(vault: Vault, n: int) -> tuple[int, str]:
    set_entry(vault, 5, entry=edited(entry_row(vault, 5).entry))
    return 5, "altered"


def edit_entry_and_leaf(vault: Vault, n: int) -> tuple[int, str]:
    new = edited(entry_row(vault, 5).entry)
    set_entry(vault, 5, entry=new, leaf_hash=merkle.leaf_hash(new))
    return 5, "altered"


def edit_last_entry_and_leaf(vault: Vault, n: int) -> tuple[int, str]:
    new = edited(entry_row(vault, n - 1).entry)
    set_entry(vault, n - 1, entry=new, leaf_hash=merkle.leaf_hash(new))
    return n - 1, "altered"


def delete_entry(vault: Vault, n: int) -> tuple[int, str]:
    with vault.engine.begin() as connection:
        connection.execute(delete(audit_entries).where(audit_entries.c.seq == 5))
    return 5, "removed"


def swap_entries(vault: Vault, n: int) -> tuple[int, str]:
    a, b = entry_row(vault, 3), entry_row(vault, 7)
    set_entry(vault, 3, entry=b.entry, leaf_hash=b.leaf_hash, subject_ref=b.subject_ref)
    set_entry(vault, 7, entry=a.entry, leaf_hash=a.leaf_hash, subject_ref=a.subject_ref)
    return 3, "reordered"


def truncate_tail(vault: Vault, n: int) -> tuple[int, str]:
    with vault.engine.begin() as connection:
        connection.execute(delete(audit_entries).where(audit_entries.c.seq >= n - 3))
    return n - 3, "truncated"


def alter_signature(vault: Vault, n: int) -> tuple[int, str]:
    with vault.engine.begin() as connection:
        signature = connection.execute(
            select(audit_checkpoints.c.signature).where(audit_checkpoints.c.size == n)
        ).scalar_one()
        forged = bytes([signature[0] ^ 1]) + signature[1:]
        connection.execute(
            update(audit_checkpoints).where(audit_checkpoints.c.size == n).values(signature=forged)
        )
    return n, "bad_signature"


def append_forged_entry(vault: Vault, n: int) -> tuple[int, str]:
    """A well-chained entry slipped in without the signing key: no checkpoint covers it."""
    last = entry_row(vault, n - 1)
    entry = encode(n, "2024-05-01T12:00:00+00:00", last.leaf_hash, Record("read", "role 'support'"))
    with vault.engine.begin() as connection:
        connection.execute(
            insert(audit_entries).values(
                seq=n, subject_ref=None, entry=entry, leaf_hash=merkle.leaf_hash(entry)
            )
        )
    return n, "unsigned"


TAMPERING = [
    edit_entry,
    edit_entry_and_leaf,
    edit_last_entry_and_leaf,
    delete_entry,
    swap_entries,
    truncate_tail,
    alter_signature,
    append_forged_entry,
]


@pytest.mark.parametrize("tamper", TAMPERING, ids=[t.__name__ for t in TAMPERING])
def test_tampering_is_caught_at_the_first_bad_entry(
    tamper: Callable[[Vault, int], tuple[int, str]],
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
) -> None:
    vault = vault_factory("zabbix")
    populate(vault, person_factory)
    n = size(vault)
    before = vault.audit.verify(vault.engine)
    assert before.ok
    assert before.entries == n
    assert n >= 12

    seq, kind = tamper(vault, n)
    for every in (False, True):
        verification = vault.audit.verify(vault.engine, full=True, every_checkpoint=every)
        assert not verification.ok
        assert verification.problem is not None
        assert (verification.problem.seq, verification.problem.kind) == (seq, kind), (
            verification.problem
        )
        assert verification.problem.message


# --- proofs ---------------------------------------------------------------------------------


def test_inclusion_and_consistency_proofs_verify(
    vault_factory: Callable[..., Vault], person_factory: Callable[[], Any]
) -> None:
    vault = vault_factory("zabbix")
    populate(vault, person_factory)
    audit, engine = vault.audit, vault.engine
    latest = audit.latest_checkpoint(engine)
    assert latest is not None
    assert latest.size == size(vault)
    assert verify_checkpoint(audit.public_key, latest)

    for seq in range(latest.size):
        proof = audit.prove(engine, seq)
        leaf = bytes.fromhex(proof["leaf_hash"])
        path = [bytes.fromhex(h) for h in proof["proof"]]
        root = bytes.fromhex(proof["root"])
        assert (proof["tree_size"], root) == (latest.size, latest.root)
        assert merkle.verify_inclusion(leaf, seq, latest.size, path, root)
        assert not merkle.verify_inclusion(leaf, (seq + 1) % latest.size, latest.size, path, root)
        # The entry shown is the one hashed: re-encoding it gives the proven leaf.
        e = proof["entry"]
        record = Record(e["action"], e["actor"], e["subject"], e["purpose"], e["detail"])
        assert merkle.leaf_hash(encode(e["seq"], e["at"], bytes.fromhex(e["prev"]), record)) == leaf
        signed = parse_note(proof["checkpoint"], audit.public_key)
        assert (signed.size, signed.root) == (latest.size, latest.root)
        assert signed.signature.hex() == proof["checkpoint_signature"]
    with pytest.raises(NotFoundError):
        audit.prove(engine, latest.size)

    leaves = audit.leaf_hashes(engine)
    with engine.connect() as connection:
        earlier = connection.execute(
            select(audit_checkpoints).where(audit_checkpoints.c.size < latest.size)
        ).all()
    assert len(earlier) >= 10
    for old in earlier:
        assert verify_checkpoint(
            audit.public_key, Checkpoint(audit.origin, old.size, old.root, old.signature)
        )
        assert old.root == merkle.root(leaves[: old.size])
        proof = merkle.consistency_proof(leaves, old.size)
        assert merkle.verify_consistency(old.size, latest.size, old.root, latest.root, proof)
        assert not merkle.verify_consistency(
            old.size, latest.size, merkle.leaf_hash(b"forged"), latest.root, proof
        )


# --- fail closed ----------------------------------------------------------------------------


def break_audit_writes(vault: Vault) -> None:
    """Make every insert into the log's queue fail inside the database, as a full disk would."""
    with vault.engine.begin() as connection:
        if vault.engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_queue "
                    "BEGIN SELECT RAISE(ABORT, 'audit disk full'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'audit disk full'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_queue "
                    "FOR EACH ROW EXECUTE FUNCTION fail_audit()"
                )
            )


def repair_audit_writes(vault: Vault) -> None:
    with vault.engine.begin() as connection:
        if vault.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER fail_audit"))
        else:
            connection.execute(text("DROP TRIGGER fail_audit ON audit_queue"))
            connection.execute(text("DROP FUNCTION fail_audit()"))


def snapshot(vault: Vault, subject: str) -> dict[str, Any]:
    """Everything an operation on ``subject`` could change, read without going through it."""
    with vault.engine.connect() as connection:
        row = connection.execute(select(subjects).where(subjects.c.subject_id == subject)).one()
        values = connection.execute(
            select(personal_values.c.field, personal_values.c.ciphertext)
            .where(personal_values.c.subject_id == subject)
            .order_by(personal_values.c.field)
        ).all()
        n = connection.execute(select(func.count()).select_from(subjects)).scalar_one()
    return {
        "subjects": n,
        "row": tuple(row),
        "values": [tuple(v) for v in values],
        "choices": vault.choices(subject),
        "history": vault.consent_history(subject),
        "disclosures": vault.disclosures(subject),
    }


def test_nothing_happens_when_the_log_cannot_be_written(
    vault_factory: Callable[..., Vault], person_factory: Callable[[], Any]
) -> None:
    vault = vault_factory("zabbix")
    ann, newcomer = person_factory(), person_factory()
    subject = vault.collect(
        "registration",
        {"name": ann.name, "email": ann.email, "phone": ann.phone},
        age=ann.age,
        choices={MARKETING: True},
    ).subject
    n = size(vault)
    before = snapshot(vault, subject)

    break_audit_writes(vault)
    attempts: dict[str, Callable[[], Any]] = {
        "read": lambda: vault.read(subject, SUPPORT, "support"),
        "collect": lambda: vault.collect("newsletter", {"email": newcomer.email}, age=30),
        "collect for the subject": lambda: vault.collect(
            "survey", {"name": ann.name, "email": ann.email}, age=30
        ),
        "withdraw": lambda: vault.withdraw(subject, MARKETING),
        "export": lambda: vault.export(subject),
        "rectify": lambda: vault.rectify(subject, "phone", newcomer.phone),
        "disclose": lambda: vault.disclose(
            [subject], "payment_gateway", "essential.service.payment_processing", ["user.name"]
        ),
        "erase": lambda: vault.erase(subject),
    }
    for name, attempt in attempts.items():
        with pytest.raises(AuditWriteError) as failed:
            attempt()
        assert "audit log could not be written" in failed.value.message, name
        for secret in ann.secrets():
            assert secret not in failed.value.message
        assert snapshot(vault, subject) == before, name
        assert vault.find("email", newcomer.email) is None
        assert size(vault) == n
    repair_audit_writes(vault)

    verification = vault.audit.verify(vault.engine)
    assert verification.ok
    assert verification.entries == n
    assert vault.read(subject, SUPPORT, "support").values["registration.email"] == ann.email_stored
    assert vault.choices(subject).granted == {f"purpose:{MARKETING}"}
    verification = vault.audit.verify(vault.engine)
    assert verification.ok
    assert verification.entries == n + 1
