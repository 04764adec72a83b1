"""Personal data at rest: nothing readable in the database files or a dump, the master key
guarded, and a damaged ciphertext refused by name without showing any value."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from pledge.errors import IntegrityError, MasterKeyError
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.schema import personal_values
from pledge.store.vault import Vault

SUPPORT = "essential.service.operations.support"


def write_people(vault: Vault, person_factory: Callable[[], Any], n: int = 8) -> list[Any]:
    """Several people through every zabbix point, with the operations that touch their data:
    reads, consents, a disclosure, a correction, an export."""
    people = [person_factory() for _ in range(n)]
    for i, p in enumerate(people):
        reg = vault.collect(
            "registration",
            {"name": p.name, "email": p.email, "phone": p.phone, "mailing_address": p.address},
            age=p.age,
            choices={"marketing.communications.email": i % 2 == 0},
        )
        vault.collect(
            "order",
            {"name": p.name, "email": p.email, "mailing_address": p.address},
            age=p.age,
        )
        vault.collect("survey", {"name": p.name, "email": p.email}, age=p.age)
        vault.read(reg.subject, SUPPORT, "support")
        vault.withdraw(reg.subject, "marketing.communications.email")
        vault.disclose(
            [reg.subject],
            "payment_gateway",
            "essential.service.payment_processing",
            ["user.name", "user.contact.address"],
        )
        vault.export(reg.subject)
    corrected = person_factory()
    first = vault.find("email", people[0].email)
    assert first is not None
    vault.rectify(first, "phone", corrected.phone)
    return [*people, corrected]


def assert_nothing_in_clear(blob: bytes, people: list[Any], where: str) -> None:
    """No personal string, as text or as the hex a dump shows bytea in, appears in ``blob``."""
    lowered = blob.lower()
    for person in people:
        for secret in person.secrets():
            raw = secret.encode()
            assert raw not in blob, f"a personal value of {person.name!r} is in clear in {where}"
            assert raw.hex().encode() not in lowered, f"a personal value is hex-encoded in {where}"


def sqlite_bytes(path: Path) -> bytes:
    blob = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            blob += part.read_bytes()
    return blob


def schema_of(url: str) -> str:
    """The schema of a PostgreSQL ``database_url`` (conftest names it in application_name)."""
    return str(make_url(url).query["application_name"])


def pg_dump(url: str, skip_or_fail: Callable[[str], None]) -> bytes:
    program = shutil.which("pg_dump")
    if program is None:
        skip_or_fail("pg_dump is not installed; install the PostgreSQL client to run this test")
    parsed = make_url(url)
    libpq = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    done = subprocess.run(
        [program, "--no-owner", "--schema", schema_of(url), libpq],
        capture_output=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_no_personal_value_in_clear_at_rest(
    database_url: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    skip_or_fail: Callable[[str], None],
) -> None:
    vault = vault_factory("zabbix")
    people = write_people(vault, person_factory)
    if vault.engine.dialect.name == "sqlite":
        path = Path(make_url(database_url).database or "")
        live = sqlite_bytes(path)  # main file and -wal, as a copy taken now would hold them
        assert b"Zabbix LLC" in live  # the scan sees real content: the policy text is stored
        assert_nothing_in_clear(live, people, "the SQLite files while open")
        vault.close()
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert_nothing_in_clear(sqlite_bytes(path), people, "the SQLite files after a checkpoint")
    else:
        dump = pg_dump(database_url, skip_or_fail)
        assert b"Zabbix LLC" in dump
        assert b"COPY" in dump
        assert_nothing_in_clear(dump, people, "a pg_dump of the database")


def test_master_key_file_is_private(
    tmp_path: Path, vault_factory: Callable[..., Vault], master_key: LocalKeyFileProvider
) -> None:
    vault_factory("zabbix")
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    assert master_key.path == tmp_path / "master.key"


def test_wrong_master_key_is_refused_clearly(
    tmp_path: Path,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    master_key: LocalKeyFileProvider,
) -> None:
    vault = vault_factory("zabbix")
    ann = person_factory()
    vault.collect("newsletter", {"email": ann.email}, age=30)
    vault.close()

    other = LocalKeyFileProvider(tmp_path / "other.key", create=True)
    with pytest.raises(MasterKeyError) as refused:
        vault_factory("zabbix", keys=other)
    error = refused.value
    assert "master key does not match" in error.message
    assert error.fields == {
        "expected_key_id": master_key.key_id,
        "found_key_id": other.key_id,
    }
    for key_file in (tmp_path / "master.key", tmp_path / "other.key"):
        assert key_file.read_text().strip() not in error.message
    assert ann.email not in error.message

    # The right key still opens it, and nothing was written by the refused attempt.
    again = vault_factory("zabbix")
    assert again.find("email", ann.email) is not None
    assert again.audit.verify(again.engine).ok


def open_database_handles(vault: Vault, database_url: str) -> int:
    """Connections to this test's database: PostgreSQL sessions, or SQLite file handles."""
    if vault.engine.dialect.name == "sqlite":
        fds = Path("/proc/self/fd")
        if not fds.is_dir():
            pytest.skip("open files are counted through /proc (Linux)")
        target = str(Path(make_url(database_url).database or "").resolve())
        return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == target)
    with vault.engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": schema_of(database_url)},
        ).scalar_one()


def test_refused_open_leaves_no_connection_behind(
    database_url: str, tmp_path: Path, vault_factory: Callable[..., Vault]
) -> None:
    """A server retrying a start with the wrong key must not pile up database connections.

    One refused start comes first: SQLite keeps the descriptor of a closed connection while
    another connection of the process has the file open (POSIX locks are per process), and
    reuses it, so the count settles after one attempt; it must not grow after that.
    """
    probe = vault_factory("zabbix")
    wrong = LocalKeyFileProvider(tmp_path / "other.key", create=True)
    with pytest.raises(MasterKeyError):
        vault_factory("zabbix", keys=wrong)
    before = open_database_handles(probe, database_url)
    for _ in range(3):
        with pytest.raises(MasterKeyError):
            vault_factory("zabbix", keys=wrong)
    assert open_database_handles(probe, database_url) == before


def test_corrupted_ciphertext_is_refused_by_name(
    vault_factory: Callable[..., Vault], person_factory: Callable[[], Any]
) -> None:
    vault = vault_factory("zabbix")
    ann, bob = person_factory(), person_factory()
    a = vault.collect("registration", {"name": ann.name, "email": ann.email}, age=30).subject
    b = vault.collect("registration", {"name": bob.name, "email": bob.email}, age=30).subject
    where = (
        personal_values.c.subject_id == a,
        personal_values.c.point == "registration",
        personal_values.c.field == "email",
    )
    with vault.engine.begin() as connection:
        blob = bytearray(
            connection.execute(select(personal_values.c.ciphertext).where(*where)).scalar_one()
        )
        blob[len(blob) // 2] ^= 0x40
        connection.execute(update(personal_values).where(*where).values(ciphertext=bytes(blob)))

    for attempt in (lambda: vault.read(a, SUPPORT, "support"), lambda: vault.export(a)):
        with pytest.raises(IntegrityError) as refused:
            attempt()
        message = refused.value.message
        assert a in message
        assert "registration.email" in message
        for secret in ann.secrets():
            assert secret not in message
        assert ann.email_stored.lower() not in message.lower()
    # Other subjects, and the intact values, are unaffected.
    assert vault.read(b, SUPPORT, "support").values == {
        "registration.name": bob.name,
        "registration.email": bob.email_stored,
    }
    verification = vault.audit.verify(vault.engine)
    assert verification.ok, verification.problem
