"""Backups of the database that an erasure still reaches.

A backup holds the database only: ciphertexts, never a data key (those live in the key store,
which keeps its own short-lived snapshots, see ``pledge.store.keys``). So a backup taken
before an erasure cannot bring the erased person back: their key is gone from the key store
and from its snapshots, and without it their ciphertexts in the backup open for nobody.

Restoring puts the database back as it was and leaves the key store as it is now; the next
open replays the erasure ledger, so whoever was erased since the backup is erased again, and
everyone else is back with their keys (from the live key store or, if it was lost too, from a
snapshot that still has them).

SQLite: the online backup API (a consistent copy while the store runs), then VACUUM on the
copy so it carries no free pages. PostgreSQL: ``pg_dump``/``pg_restore`` (custom format) of
the store's schema, without the key store's tables.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL, make_url

from pledge.errors import InputError, PledgeError
from pledge.store.database import open_engine
from pledge.store.keys import DataKeyStore
from pledge.store.keys.datakeys import key_metadata
from pledge.store.keys.sync import restart_replay
from pledge.store.schema import subjects

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class Restored:
    subjects: int  # subjects not erased in the restored database
    keys_recovered: int  # keys brought back from key-store snapshots


def create(engine: Engine, path: Path) -> None:
    """Write a backup of the database at ``engine`` to ``path`` (which must not exist)."""
    if path.exists():
        raise InputError(f"{path} already exists; give a new file name for the backup")
    path.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        _sqlite_backup(engine, path)
    elif engine.dialect.name == "postgresql":
        _pg_dump(engine, path)
    else:
        raise InputError(f"cannot back up a {engine.dialect.name} database")


def restore(url: str, path: Path, key_store: DataKeyStore) -> Restored:
    """Replace the database at ``url`` with the backup at ``path``. Stop every process using
    the store first; the next :meth:`Vault.open` replays the erasure ledger."""
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise InputError(f"cannot read the backup {path}: {exc.strerror}") from None
    backend = make_url(url).get_backend_name()
    engine = open_engine(url)
    try:
        if backend == "sqlite" and head.startswith(_SQLITE_MAGIC):
            _sqlite_restore(engine, path)
        elif backend == "postgresql" and head.startswith(_PG_MAGIC):
            _pg_restore(engine, path)
        else:
            raise InputError(
                f"{path} is not a backup of a {backend} store (made by `pledge backup create`)"
            )
        engine.dispose()
        engine = open_engine(url)  # brings an older backup's schema up to date
        restart_replay(engine)
        with engine.connect() as connection:
            kept = list(
                connection.execute(
                    select(subjects.c.subject_id).where(subjects.c.status != "erased")
                ).scalars()
            )
        return Restored(len(kept), key_store.recover(kept))
    finally:
        engine.dispose()


def _sqlite_backup(engine: Engine, path: Path) -> None:
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        with closing(sqlite3.connect(path)) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            target.execute("VACUUM")
    finally:
        raw.close()


def _sqlite_restore(engine: Engine, path: Path) -> None:
    raw = engine.raw_connection()
    try:
        target = raw.driver_connection
        assert isinstance(target, sqlite3.Connection)
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source:
            source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as a libpq URI (without its password) and the environment for the tools."""
    url: URL = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InputError(
            f"{name} is not installed; install the PostgreSQL client tools (Debian: "
            "apt-get install postgresql-client) to back up or restore a PostgreSQL store"
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise PledgeError(f"{what} failed: {last}")


def _pg_dump(engine: Engine, path: Path) -> None:
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    uri, env = _libpq(engine)
    # Uncompressed: ciphertexts do not compress, and an auditor can search the file.
    command = [_tool("pg_dump"), "--format=custom", "--compress=0", "--no-owner", f"--file={path}"]
    command.append(f"--table={schema}.*")
    # The key store's tables and their sequences, when it shares the database.
    command += [f"--exclude-table={schema}.{table}*" for table in key_metadata.tables]
    _run([*command, uri], env, "pg_dump")
    path.chmod(0o600)


def _pg_restore(engine: Engine, path: Path) -> None:
    uri, env = _libpq(engine)
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*command, f"--dbname={uri}", str(path)], env, "pg_restore")
