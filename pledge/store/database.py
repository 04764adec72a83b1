"""Opening the database: SQLite (WAL) by default, PostgreSQL through a URL; schema by Alembic.

The same code serves both. SQLite gets the pragmas that make each commit durable and let
readers run beside the one writer; PostgreSQL needs nothing special.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from pledge.errors import InputError, Unhealthy

_MIGRATIONS = Path(__file__).parent / "migrations"
# Every thread serving requests (the server's pool has 40) may hold a connection to a SQLite
# file at once. A connection the pool cannot keep is closed on return, and its replacement
# opens the file again, sets the pragmas and starts with a cold page cache: keep them all.
SQLITE_POOL: dict[str, Any] = {"pool_size": 40, "max_overflow": 40, "pool_use_lifo": True}
_READ_ONLY = "pledge_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for transactions that only read. On SQLite they then run beside the
    writer instead of queueing for its lock; elsewhere nothing changes."""
    return engine.connect().execution_options(**{_READ_ONLY: True})


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def open_engine(url: str) -> Engine:
    """An engine for ``url`` with the schema brought up to date."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            "the database URL is malformed; expected e.g. sqlite:///path/pledge.sqlite3 or "
            "postgresql+psycopg://user@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed.database)
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, pool_pre_ping=True, pool_size=16, max_overflow=16)
    else:
        raise InputError(
            f"unsupported database '{parsed.get_backend_name()}'; use sqlite or postgresql"
        )
    try:
        migrate(engine)
    except OperationalError as exc:
        raise _unreachable(parsed, exc) from None
    return engine


def _unreachable(parsed: URL, exc: OperationalError) -> Unhealthy:
    return Unhealthy(
        f"cannot open the database at {parsed.render_as_string(hide_password=True)}: {exc.orig}"
    )


def _sqlite_engine(database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    memory = not database or database == ":memory:"
    engine = create_engine(
        f"sqlite:///{database}",
        connect_args={"timeout": 30, "check_same_thread": False},
        **({"poolclass": NullPool} if memory else SQLITE_POOL),
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN reach SQLite so transactions are real (see SQLAlchemy's
        # "serializable isolation / savepoints" recipe for pysqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # SQLite's default page cache is 2 MB; at a million subjects the indexes are far
        # larger, and random subject ids would make every insert a cache miss.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers never deadlock on an upgrade.
        # Connections from reading() only read, and take no lock at all (WAL readers).
        # On the driver: through SQLAlchemy a BEGIN costs a statement's Python (an execution
        # context, events) and every audited read begins one.
        read_only = connection.get_execution_options().get(_READ_ONLY)
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("subjects")


def is_new_store(url: str) -> bool:
    """Whether nothing was ever stored at ``url``: the one case a master key may be made."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        return not database or database == ":memory:" or not Path(database).exists()
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        return not inspect(engine).has_table("meta")
    except OperationalError as exc:  # say so now, rather than "the key file is missing"
        raise _unreachable(parsed, exc) from None
    finally:
        engine.dispose()
