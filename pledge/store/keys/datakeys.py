"""The data-key store: each subject's wrapped data key, kept apart from the database that holds
the subject's ciphertexts, with the erasure ledger beside it.

Erasure destroys a subject's data key, which only erases if no copy of the key outlives it.
The main database cannot promise that: its WAL, its free pages, PostgreSQL's dead tuples and
every backup ever taken keep old rows. So keys live in a store of their own, whose deletes
leave nothing behind and whose backups are few and short-lived:

- SQLite (the default, a file beside the database): ``secure_delete`` overwrites a deleted
  key with zeros, and after every erasure a TRUNCATE checkpoint writes the zeroed page home
  and empties the WAL, the only other place an old version of the page was. (WAL rather than
  a rollback journal: a commit is one fsync instead of three, and every collection commits
  a new key here.)
- PostgreSQL (only when configured, for several API nodes sharing one key store): a deleted
  key stays in a dead tuple until VACUUM, which :meth:`destroy` runs on the key table straight
  away; what VACUUM cannot reach (the WAL, base backups) stops opening anything once the master
  key is rotated and the old one destroyed, see docs/operations.md.

Snapshots (SQLite) are the key store's backups: kept for ``retention`` and then deleted, and
scrubbed by every :meth:`DataKeyStore.destroy` while they exist, so no snapshot brings an
erased subject's key back. The erasure ledger (subject ids only, in order) lets a restored
main database catch up with erasures made after its backup.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from pledge.errors import InputError, IntegrityError
from pledge.store import driver
from pledge.store.database import SQLITE_POOL

DEFAULT_SNAPSHOT_DAYS = 7
KEY_STORE_FILE = "pledge-keys.sqlite3"
_CHUNK = 500
_SNAPSHOT_GLOB = "keys-*.sqlite3"
_READ_ONLY = "pledge_keys_read_only"

key_metadata = MetaData()

data_keys = Table(
    "pledge_data_keys",
    key_metadata,
    Column("subject_id", String(32), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
)

erasure_ledger = Table(
    "pledge_erasure_ledger",
    key_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), nullable=False, unique=True),
)

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA secure_delete=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=30000",
)
# Snapshots are written rarely and read almost never: a rollback journal, gone after each write.
_SNAPSHOT_PRAGMAS = (
    "PRAGMA journal_mode=DELETE",
    "PRAGMA secure_delete=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=30000",
)
_CHECKPOINT_TRIES = 100
_GET = "SELECT subject_id, wrapped_key FROM pledge_data_keys WHERE subject_id IN ({ids})"


def default_key_store_url(database_url: str, home: Path | None = None) -> str:
    """Where data keys live unless configured: a SQLite file of their own, never the database.

    Beside a SQLite database (``pledge.sqlite3`` -> ``pledge-keys.sqlite3``); with PostgreSQL,
    ``pledge-keys.sqlite3`` in ``home`` (the data directory), because a key deleted from a
    PostgreSQL table stays in its WAL, dead tuples and base backups, where the master key
    would open it again. Several API nodes need one key store they all reach: name it."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite":
        if home is None:
            raise InputError(
                "a PostgreSQL store keeps its data keys apart from the database: name the key "
                "store (PLEDGE_KEY_STORE_URL, or key_store_url=) or a data directory for it"
            )
        return f"sqlite:///{home / KEY_STORE_FILE}"
    database = parsed.database
    if not database or database == ":memory:":
        return "sqlite://"
    path = Path(database)
    suffix = path.suffix or ".sqlite3"
    return f"sqlite:///{path.with_name(f'{path.stem}-keys{suffix}')}"


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
    ordered = list(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


@dataclass
class _Pending:
    """Keys waiting for a shared commit, and how it went."""

    keys: dict[str, bytes]
    done: bool = False
    error: BaseException | None = None


class DataKeyStore:
    """Wrapped data keys by subject, and the ledger of subjects whose key was destroyed.

    Open with :meth:`open`. Keys go in and out wrapped: the master key never comes here.
    """

    def __init__(self, engine: Engine, snapshots: Path | None, retention: dt.timedelta) -> None:
        self.engine = engine
        self.snapshots = snapshots
        self.retention = retention
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._flush_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, snapshot_days: int = DEFAULT_SNAPSHOT_DAYS) -> DataKeyStore:
        parsed = make_url(url)
        retention = dt.timedelta(days=snapshot_days)
        if parsed.get_backend_name() != "sqlite":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            # Every read fetches keys here: connections closed on return would each fork a
            # new server backend for the next.
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=16, max_overflow=16)
            key_metadata.create_all(engine)
            return cls(engine, None, retention)
        path = parsed.database
        if not path or path == ":memory:":
            engine = _sqlite_engine("sqlite://", poolclass=StaticPool)
            key_metadata.create_all(engine)
            return cls(engine, None, retention)
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))
        engine = _sqlite_engine(f"sqlite:///{file}", **SQLITE_POOL)
        key_metadata.create_all(engine)
        return cls(engine, file.with_name(file.name + ".snapshots"), retention)

    def close(self) -> None:
        self.engine.dispose()

    # --- keys ---------------------------------------------------------------------------------

    def put(self, wrapped: Mapping[str, bytes]) -> None:
        """Store new subjects' wrapped keys; durable when this returns.

        Every collection of a new subject comes here, so concurrent calls share a commit
        (as the database's writes do, see ``pledge.store.commit``): whoever takes the flush
        lock writes everything queued by then, and the others find their keys written."""
        if not wrapped:
            return
        mine = _Pending(dict(wrapped))
        with self._queue_lock:
            self._queue.append(mine)
        with self._flush_lock:
            if not mine.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    with self.engine.begin() as connection:
                        connection.execute(
                            insert(data_keys),
                            [
                                {"subject_id": s, "wrapped_key": k}
                                for pending in batch
                                for s, k in pending.keys.items()
                            ],
                        )
                except BaseException as error:
                    for pending in batch:
                        pending.error = error
                    raise
                finally:
                    for pending in batch:
                        pending.done = True
        if mine.error is not None:
            raise mine.error

    def get(self, subject_ids: Collection[str]) -> dict[str, bytes]:
        """The wrapped keys of those of ``subject_ids`` that have one."""
        found: dict[str, bytes] = {}
        with _reading(self.engine) as connection:
            for chunk in _chunks(set(subject_ids)):
                rows = driver.select_in(connection, _GET, chunk)
                found.update((subject, bytes(wrapped)) for subject, wrapped in rows)
        return found

    def discard(self, subject_ids: Collection[str]) -> None:
        """Drop keys made for subjects that were never stored (the submission was someone
        known, or its collection failed). Nothing was ever encrypted under them, so unlike
        :meth:`destroy` this leaves no trace in the ledger and needs no checkpoint."""
        if not subject_ids:
            return
        with self.engine.begin() as connection:
            for chunk in _chunks(subject_ids):
                connection.execute(delete(data_keys).where(data_keys.c.subject_id.in_(chunk)))

    def destroy(self, subject_ids: Collection[str]) -> None:
        """Destroy the subjects' keys here and in every snapshot, and enter them in the
        ledger; a subject already destroyed is left as it is."""
        with self.engine.begin() as connection:
            _destroy(connection, subject_ids)
        self._vacuum()
        for snapshot in self._snapshot_files():
            with closing(_snapshot_connection(snapshot)) as raw:
                _destroy_raw(raw, subject_ids)

    def ledger(self, after: int = 0) -> list[tuple[int, str]]:
        """Erasures in order, as (sequence number, subject id), after sequence ``after``."""
        with _reading(self.engine) as connection:
            return [
                (seq, subject)
                for seq, subject in connection.execute(
                    select(erasure_ledger.c.seq, erasure_ledger.c.subject_id)
                    .where(erasure_ledger.c.seq > after)
                    .order_by(erasure_ledger.c.seq)
                )
            ]

    def rewrap(self, change: Callable[[bytes], bytes]) -> int:
        """Re-wrap every key with ``change`` in one transaction (master-key rotation)."""
        with self.engine.begin() as connection:
            rows = connection.execute(select(data_keys).with_for_update()).all()
            for subject, wrapped in rows:
                connection.execute(
                    update(data_keys)
                    .where(data_keys.c.subject_id == subject)
                    .values(wrapped_key=change(wrapped))
                )
        for snapshot in self._snapshot_files():
            snapshot.unlink()  # wrapped under the old master key: of no use after rotation
        return len(rows)

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self, now: dt.datetime) -> Path | None:
        """A copy of the store (SQLite online backup) kept for ``retention``; older copies are
        deleted first. None where the store is not a SQLite file (see the module docstring)."""
        if self.snapshots is None:
            return None
        self.prune(now)
        self.snapshots.mkdir(mode=0o700, exist_ok=True)
        target = self.snapshots / f"keys-{now.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}.sqlite3"
        os.close(os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        with closing(_snapshot_connection(target)) as copy, self.engine.connect() as live:
            source = live.connection.driver_connection
            assert isinstance(source, sqlite3.Connection)
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # the copy took the live file's WAL mode
        return target

    def prune(self, now: dt.datetime) -> int:
        """Delete snapshots older than the retention; how many went."""
        gone = 0
        for snapshot in self._snapshot_files():
            taken = dt.datetime.strptime(snapshot.stem, "keys-%Y%m%dT%H%M%S%fZ")
            if now - taken.replace(tzinfo=dt.UTC) > self.retention:
                snapshot.unlink()
                gone += 1
        return gone

    def recover(self, subject_ids: Collection[str]) -> int:
        """Bring back from the newest snapshot that has them the keys of subjects missing
        here and never erased (after the live store was lost), and the snapshots' erasures
        into the ledger; how many keys came back."""
        snapshots = sorted(self._snapshot_files(), reverse=True)
        for snapshot in snapshots:  # the live ledger may be a new, empty one
            with closing(_snapshot_connection(snapshot)) as raw:
                logged = [r[0] for r in raw.execute("SELECT subject_id FROM pledge_erasure_ledger")]
            with self.engine.begin() as connection:
                _destroy(connection, logged)
        erased = {s for _, s in self.ledger()}
        missing = set(subject_ids) - set(self.get(subject_ids)) - erased
        recovered: dict[str, bytes] = {}
        for snapshot in snapshots:
            if not missing:
                break
            with closing(_snapshot_connection(snapshot)) as raw:
                for chunk in _chunks(missing):
                    marks = ",".join("?" * len(chunk))
                    recovered.update(
                        raw.execute(
                            "SELECT subject_id, wrapped_key FROM pledge_data_keys "  # noqa: S608
                            f"WHERE subject_id IN ({marks})",
                            chunk,
                        ).fetchall()
                    )
            missing -= set(recovered)
        self.put(recovered)
        return len(recovered)

    def _snapshot_files(self) -> list[Path]:
        if self.snapshots is None or not self.snapshots.is_dir():
            return []
        return sorted(self.snapshots.glob(_SNAPSHOT_GLOB))

    def _vacuum(self) -> None:
        """Leave no old copy of a deleted key. SQLite: ``secure_delete`` zeroed it in the new
        version of its page; a TRUNCATE checkpoint writes that page home and empties the WAL,
        where the old versions were. PostgreSQL: turn the dead tuples into free space now,
        not whenever autovacuum comes by."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql(f"VACUUM {data_keys.name}")
            return
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            for _ in range(_CHECKPOINT_TRIES):  # a reader in the way: its read is short
                busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return
                time.sleep(0.01)
            raise IntegrityError(
                "the key store's WAL could not be emptied after an erasure (a reader held it "
                "for over a second); the erasure is recorded and the next one retries"
            )
        finally:
            raw.close()


def _destroy(connection: Any, subject_ids: Collection[str]) -> None:
    for chunk in _chunks(subject_ids):
        connection.execute(delete(data_keys).where(data_keys.c.subject_id.in_(chunk)))
        known = set(
            connection.execute(
                select(erasure_ledger.c.subject_id).where(erasure_ledger.c.subject_id.in_(chunk))
            ).scalars()
        )
        new = [{"subject_id": s} for s in dict.fromkeys(chunk) if s not in known]
        if new:
            connection.execute(insert(erasure_ledger), new)


def _destroy_raw(raw: sqlite3.Connection, subject_ids: Collection[str]) -> None:
    with raw:
        for subject in subject_ids:
            raw.execute("DELETE FROM pledge_data_keys WHERE subject_id = ?", (subject,))
            raw.execute(
                "INSERT OR IGNORE INTO pledge_erasure_ledger (subject_id) VALUES (?)", (subject,)
            )


def _reading(engine: Engine) -> Any:
    """A connection that only reads: on SQLite it takes a shared lock, not the write lock."""
    return engine.connect().execution_options(**{_READ_ONLY: True})


def _snapshot_connection(path: Path) -> sqlite3.Connection:
    raw = sqlite3.connect(path, timeout=30)
    for pragma in _SNAPSHOT_PRAGMAS:
        raw.execute(pragma)
    return raw


def _sqlite_engine(url: str, **options: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        for pragma in _SQLITE_PRAGMAS:
            dbapi_connection.execute(pragma)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        reads_only = connection.get_execution_options().get(_READ_ONLY)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

    return engine
