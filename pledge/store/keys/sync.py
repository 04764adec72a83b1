"""Keeping the database in step with the key store it depends on.

Three things can leave them apart. Migration 0005 moves the wrapped keys out of the database,
but a migration cannot know where the key store is, so it parks them in ``key_handover`` for
:func:`hand_over`. And the key store's erasure ledger can be ahead of the database: after a
restore from a backup taken before some erasures, or a crash between destroying a key and
committing the rest of an erasure. :func:`replay` finishes those erasures, so an erased
subject stays erased and nobody else is touched. And a PostgreSQL store from before the key
store moved out of the database keeps its key tables inside: :func:`move_out` empties them into
the key store apart. :func:`check_pairing` then refuses a key store that is not this
database's (a new empty file on a second API node, a path mistyped), before anyone collects
into it and splits the keys between two places.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine, delete, insert, inspect, select, text

from pledge.errors import IntegrityError
from pledge.store.keys.datakeys import DataKeyStore, data_keys, erasure_ledger
from pledge.store.rights import forget
from pledge.store.schema import key_handover, ledger_replay, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault

_CHUNK = 500
_log = structlog.get_logger(__name__)


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


def move_out(engine: Engine, store: DataKeyStore) -> int:
    """Move the key tables a PostgreSQL database kept inside (before the key store's default
    moved apart) into ``store``, erasures included, then drop them; how many keys moved.

    Their old rows stay in the server's WAL and files, wrapped by the master key, until it is
    rotated: the warning logged says so."""
    if _same_database(store.engine, engine) or not inspect(engine).has_table(data_keys.name):
        return 0
    with engine.connect() as connection:
        keys = dict(
            connection.execute(select(data_keys.c.subject_id, data_keys.c.wrapped_key)).all()
        )
        erased = list(
            connection.execute(
                select(erasure_ledger.c.subject_id).order_by(erasure_ledger.c.seq)
            ).scalars()
        )
    have = store.get(keys)
    store.put({s: bytes(k) for s, k in keys.items() if s not in have})
    if erased:
        store.destroy(erased)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {data_keys.name}"))
        connection.execute(text(f"DROP TABLE {erasure_ledger.name}"))
    restart_replay(engine)
    _log.warning(
        "key_store_moved_out",
        keys=len(keys),
        erasures=len(erased),
        advice="the database's files and backups still hold the old wrapped keys: rotate the "
        "master key (pledge master-key rotate --destroy-old) so that they open nothing",
    )
    return len(keys)


def check_pairing(engine: Engine, store: DataKeyStore) -> None:
    """Refuse a key store that lacks the key of a live subject of this database."""
    with engine.connect() as connection:
        subject = connection.execute(
            select(subjects.c.subject_id).where(subjects.c.status != "erased").limit(1)
        ).scalar()
    if subject is not None and not store.get([subject]):
        raise IntegrityError(
            f"the key store at {store.engine.url.render_as_string()} does not hold the keys of "
            "this database's subjects: it is not the key store they were written with. Point "
            "PLEDGE_KEY_STORE_URL at that one (several API nodes must share one key store); if "
            "it was lost, restore the database with `pledge backup restore`, which brings keys "
            "back from the key store's snapshots"
        )


def _same_database(one: Engine, other: Engine) -> bool:
    """Whatever driver each names, do both engines reach the same database?"""
    return one.url.set(drivername="-") == other.url.set(drivername="-")
