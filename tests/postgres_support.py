"""PostgreSQL for tests: the server's URL, and a fresh schema per test (see
:func:`fresh_postgres_schema`). Apart from ``conftest.py`` so that any test folder can import
it, whatever its own conftest is called."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("PLEDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def fresh_postgres_schema(admin: Engine) -> Iterator[str]:
    """A URL whose every connection lives in a new, empty schema (its ``search_path``) and
    carries the schema's name as ``application_name`` (tests read it back from the URL's
    query), so that the sessions a test leaves behind (a killed process, a leaked pool) can
    be found and ended before the drop.

    A schema per test isolates as well as a database per test does, in a twentieth the time.
    """
    name = f"pledge_test_{uuid.uuid4().hex}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(postgres_url()).update_query_dict(
        {"options": f"-csearch_path={name}", "application_name": name}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def live_files(url: str, since_lsn: str) -> tuple[list[Path], str | None]:
    """The files of the PostgreSQL server behind ``url`` that hold what its schema wrote since
    WAL position ``since_lsn``: each relation of the schema (tables, indexes, TOAST, their
    free-space and visibility maps) and the WAL segments since. After a CHECKPOINT, so what
    the server holds in memory is in them. With the reason they cannot be read instead (a
    server on another machine, or a data directory this user may not read)."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
            root = Path(connection.execute(text("SHOW data_directory")).scalar_one())
            relations = connection.execute(text(_RELATIONS)).scalars().all()
            first, last = connection.execute(
                text("SELECT pg_walfile_name(:since), pg_walfile_name(pg_current_wal_lsn())"),
                {"since": since_lsn},
            ).one()
    finally:
        engine.dispose()
    if not os.access(root, os.R_OK | os.X_OK):
        return [], f"the server's data directory {root} is not readable by this user"
    found = [
        path
        for relation in relations
        for path in sorted((root / relation).parent.glob(Path(relation).name + "*"))
        if path.name.partition(".")[0].partition("_")[0] == Path(relation).name
    ]
    found += [p for p in sorted((root / "pg_wal").iterdir()) if first <= p.name <= last]
    return found, None


def wal_position(url: str) -> str:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())
    finally:
        engine.dispose()


_RELATIONS = """
SELECT pg_relation_filepath(c.oid) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'm')
UNION
SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.reltoastrelid <> 0
UNION
SELECT pg_relation_filepath(i.indexrelid) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indrelid = c.reltoastrelid
WHERE n.nspname = current_schema()
"""
