"""Keeping the database in step with the key store it depends on.

Two things can leave them apart. Migration 0005 moves the wrapped keys out of the database,
but a migration cannot know where the key store is, so it parks them in ``key_handover`` for
:func:`hand_over`. And the key store's erasure ledger can be ahead of the database: after a
restore from a backup taken before some erasures, or a crash between destroying a key and
committing the rest of an erasure. :func:`replay` finishes those erasures, so an erased
subject stays erased and nobody else is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, insert, select

from pledge.store.keys.datakeys import DataKeyStore
from pledge.store.rights import forget
from pledge.store.schema import key_handover, ledger_replay, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault

_CHUNK = 500


def hand_over(engine: Engine, store: DataKeyStore) -> int:
    """Move keys parked by migration 0005 into ``store``, then compact the database so their
    old pages leave its files too; how many moved."""
    with engine.begin() as connection:
        parked = dict(
            connection.execute(select(key_handover.c.subject_id, key_handover.c.wrapped_key)).all()
        )
        if not parked:
            return 0
        have = store.get(parked)
        store.put({s: k for s, k in parked.items() if s not in have})
        connection.execute(delete(key_handover))
    compact(engine)
    return len(parked)


def compact(engine: Engine) -> None:
    """Rewrite the database without its free pages and old row versions: what deleted rows
    left behind in the files is gone afterwards (SQLite: its WAL emptied too)."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        if engine.dialect.name == "sqlite":
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            driver.execute("VACUUM")
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif engine.dialect.name == "postgresql":
            raw.rollback()
            driver.autocommit = True
            try:
                for table in (subjects.name, key_handover.name):
                    driver.execute(f"VACUUM FULL {table}")
            finally:
                driver.autocommit = False
    finally:
        raw.close()


def replay(vault: Vault, *, actor: str = "erasure-ledger") -> int:
    """Finish every erasure in the key store's ledger that this database has not applied;
    how many subjects it erased."""
    with vault.write() as connection:
        done = connection.execute(
            select(ledger_replay.c.seq).where(ledger_replay.c.id == 1)
        ).scalar()
    entries = vault.key_store.ledger(after=done or 0)
    if not entries:
        return 0
    erased = 0
    ids = [subject for _, subject in entries]
    with vault.write() as connection:
        for start in range(0, len(ids), _CHUNK):
            live = connection.execute(
                select(subjects.c.subject_id).where(
                    subjects.c.subject_id.in_(ids[start : start + _CHUNK]),
                    subjects.c.status != "erased",
                )
            ).scalars()
            for subject in list(live):
                forget(vault, connection, subject, actor=actor)
                erased += 1
        connection.execute(delete(ledger_replay))
        connection.execute(insert(ledger_replay).values(id=1, seq=entries[-1][0]))
    return erased


def restart_replay(engine: Engine) -> None:
    """Replay the whole ledger at the next open: after a restore, sequence numbers recorded
    in the restored database may belong to another copy of the ledger."""
    with engine.begin() as connection:
        connection.execute(delete(ledger_replay))
