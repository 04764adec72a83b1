"""Erasure that survives files and backups: data keys in a key store of their own, an erasure
ledger beside them, and backups that a restore cannot use to bring an erased person back.

The attacker here holds everything the system holds after the erasure (the master key, the
live files, every key store snapshot) plus a backup taken before it, and tries every key on
every ciphertext of the erased person found anywhere."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from postgres_support import live_files, wal_position
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from pledge.errors import InputError, IntegrityError, MasterKeyError, NotFoundError
from pledge.store import backup
from pledge.store.collect import aad
from pledge.store.crypto import SubjectCipher
from pledge.store.database import _MIGRATIONS
from pledge.store.keys import (
    DataKeyStore,
    KeyProvider,
    LocalKeyFileProvider,
    default_key_store_url,
)
from pledge.store.schema import personal_values
from pledge.store.vault import Vault

SUPPORT = "essential.service.operations.support"
ZABBIX = Path(__file__).parents[1] / "examples" / "policies" / "zabbix.yaml"


def sign_up(vault: Vault, person: Any) -> str:
    return vault.collect(
        "registration",
        {"name": person.name, "email": person.email, "phone": person.phone},
        age=person.age,
    ).subject


def ciphertexts(vault: Vault, subject: str) -> list[tuple[str, str, bytes]]:
    with vault.engine.connect() as connection:
        return [
            (r.point, r.field, r.ciphertext)
            for r in connection.execute(
                select(personal_values).where(personal_values.c.subject_id == subject)
            )
        ]


def every_data_key(store: DataKeyStore, keys: KeyProvider) -> list[bytes]:
    """Every data key the system holds: the live key store and each of its snapshots."""
    with store.engine.connect() as connection:
        wrapped = list(
            connection.execute(text("SELECT wrapped_key FROM pledge_data_keys")).scalars()
        )
    snapshots = store.snapshots
    for snapshot in snapshots.iterdir() if snapshots and snapshots.is_dir() else []:
        with closing(sqlite3.connect(snapshot)) as raw:
            wrapped += [r[0] for r in raw.execute("SELECT wrapped_key FROM pledge_data_keys")]
    return [keys.unwrap(w) for w in wrapped]


def none_opens(data_keys: list[bytes], found: list[tuple[str, str, bytes]], subject: str) -> None:
    """The attack's last step: every key tried on every ciphertext found; none may open."""
    for key in data_keys:
        for point, field, blob in found:
            with pytest.raises(IntegrityError):
                SubjectCipher(key).decrypt(blob, aad(subject, point, field), context="attack")


def files_of(url: str, store: DataKeyStore, *extra: Path) -> list[Path]:
    """The live database files (main, WAL), the key store's files and its snapshots."""
    found = list(extra)
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database:
        found += [p for p in Path(database).parent.iterdir() if p.is_file()]
    if store.snapshots is not None and store.snapshots.is_dir():
        found += list(store.snapshots.iterdir())
    return found


def contains(path: Path, blob: bytes) -> bool:
    data = path.read_bytes()
    return blob in data or blob.hex().encode() in data


def test_backup_erase_restore_brings_nobody_back(
    database_url: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    master_key: KeyProvider,
    tmp_path: Path,
) -> None:
    vault = vault_factory("zabbix")
    alice_person, bob_person = person_factory(), person_factory()
    alice, bob = sign_up(vault, alice_person), sign_up(vault, bob_person)
    wrapped = vault.key_store.get([alice])[alice]
    stolen = ciphertexts(vault, alice)
    backup_file = tmp_path / "backups" / "before-erasure.backup"
    snapshot = vault.backup(backup_file)
    assert any(contains(backup_file, c) for _, _, c in stolen), "the backup holds the values"
    assert not contains(backup_file, wrapped), "a backup never holds a data key"
    if snapshot is not None:
        assert contains(snapshot, wrapped), "the snapshot holds the key until the erasure"

    vault.erase(alice)
    vault.close()
    store = DataKeyStore.open(default_key_store_url(database_url, tmp_path))
    try:
        restored = backup.restore(database_url, backup_file, store)
    finally:
        store.close()
    assert restored.subjects == 2  # the backup had both; the ledger takes Alice out again

    vault = vault_factory("zabbix")
    assert vault.replayed_erasures == 1
    with pytest.raises(NotFoundError):
        vault.export(alice)
    assert vault.find("email", alice_person.email) is None
    assert ciphertexts(vault, alice) == []
    assert (
        vault.read(bob, SUPPORT, "support").values["registration.email"] == bob_person.email_stored
    )

    for path in files_of(database_url, vault.key_store, backup_file):
        assert not contains(path, wrapped), f"{path.name} still holds the erased key"
    everywhere = files_of(database_url, vault.key_store, backup_file)
    found = [c for c in stolen if any(contains(path, c[2]) for path in everywhere)]
    assert found, "the erased values are still in the backup: the keys are what protects them"
    none_opens(every_data_key(vault.key_store, master_key), found, alice)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_lost_key_store_comes_back_from_its_snapshot_without_the_erased(
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    tmp_path: Path,
) -> None:
    """The database and the key store are both lost: the backup and the key store's
    snapshot bring everyone back but the person erased after them."""
    url = f"sqlite:///{tmp_path / 'pledge.sqlite3'}"
    vault = vault_factory("zabbix")
    people = [person_factory() for _ in range(3)]
    ids = [sign_up(vault, p) for p in people]
    vault.backup(tmp_path / "b.sqlite3")
    vault.erase(ids[0])
    vault.close()
    for name in ("pledge.sqlite3", "pledge-keys.sqlite3"):
        (tmp_path / name).unlink()
    store = DataKeyStore.open(default_key_store_url(url))
    try:
        done = backup.restore(url, tmp_path / "b.sqlite3", store)
    finally:
        store.close()
    assert done.keys_recovered == 2
    vault = vault_factory("zabbix")
    for subject, person in zip(ids[1:], people[1:], strict=True):
        assert vault.read(subject, SUPPORT, "support").values["registration.name"] == person.name
    with pytest.raises(NotFoundError):
        vault.read(ids[0], SUPPORT, "support")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_key_store_snapshots_are_short_lived(
    vault_factory: Callable[..., Vault],
    clock: Any,
    person_factory: Callable[[], Any],
    tmp_path: Path,
) -> None:
    vault = vault_factory("zabbix")
    sign_up(vault, person_factory())
    first = vault.backup(tmp_path / "1.backup")
    assert first is not None
    assert first.exists()
    clock.advance(days=8)
    second = vault.backup(tmp_path / "2.backup")
    assert second is not None
    assert second.exists()
    assert not first.exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_backup_refuses_to_overwrite(vault_factory: Callable[..., Vault], tmp_path: Path) -> None:
    vault = vault_factory("zabbix")
    (tmp_path / "taken").write_text("precious")
    with pytest.raises(Exception, match="already exists"):
        vault.backup(tmp_path / "taken")
    assert (tmp_path / "taken").read_text() == "precious"


def test_restore_refuses_a_file_that_is_no_backup(
    database_url: str, vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    vault_factory("zabbix").close()
    bogus = tmp_path / "bogus"
    bogus.write_bytes(b"not a backup at all")
    store = DataKeyStore.open(default_key_store_url(database_url, tmp_path))
    try:
        with pytest.raises(Exception, match="is not a backup"):
            backup.restore(database_url, bogus, store)
    finally:
        store.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_upgrade_moves_wrapped_keys_out_of_the_database(
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    master_key: KeyProvider,
    tmp_path: Path,
) -> None:
    """A store written before 0005 (keys in ``subjects.wrapped_key``) opens with its keys in
    the key store, readable, and no copy left in the database file."""
    url = f"sqlite:///{tmp_path / 'pledge.sqlite3'}"
    vault = vault_factory("zabbix")
    person = person_factory()
    subject = sign_up(vault, person)
    wrapped = vault.key_store.get([subject])[subject]
    vault.close()
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        connection.execute(
            text("UPDATE subjects SET wrapped_key = :k WHERE subject_id = :s"),
            {"k": wrapped, "s": subject},
        )
    engine.dispose()
    (tmp_path / "pledge-keys.sqlite3").unlink()  # as before 0005: no key store at all

    vault = vault_factory("zabbix")
    assert vault.read(subject, SUPPORT, "support").values["registration.name"] == person.name
    assert vault.key_store.get([subject]) == {subject: wrapped}
    for name in ("pledge.sqlite3", "pledge.sqlite3-wal"):
        path = tmp_path / name
        assert not path.exists() or wrapped not in path.read_bytes()


def test_a_crash_between_key_and_rows_is_finished_at_the_next_open(
    vault_factory: Callable[..., Vault], person_factory: Callable[[], Any]
) -> None:
    """The key store destroyed the key but the database never recorded the erasure."""
    vault = vault_factory("zabbix")
    subject = sign_up(vault, person_factory())
    vault.key_store.destroy([subject])
    vault.close()
    vault = vault_factory("zabbix")
    assert vault.replayed_erasures == 1
    assert ciphertexts(vault, subject) == []
    with pytest.raises(NotFoundError):
        vault.export(subject)


def postgres_journey(
    database_url: str,
    key_store_url: str,
    master_key: KeyProvider,
    person_factory: Callable[[], Any],
    folder: Path,
) -> tuple[str, bytes, list[tuple[str, str, bytes]], list[Path]]:
    """Collect two people, back up, erase one, restore: the erased subject, its wrapped key
    and ciphertexts as they were, and the server's live files since the start (relations of
    the schema and WAL). Skips, saying why, where the server's files cannot be read."""
    since = wal_position(database_url)

    def opened() -> Vault:
        return Vault.open(
            database_url,
            master_key,
            ZABBIX.read_text(encoding="utf-8"),
            key_store_url=key_store_url,
        )

    vault = opened()
    try:
        alice, _ = sign_up(vault, person_factory()), sign_up(vault, person_factory())
        wrapped = vault.key_store.get([alice])[alice]
        stolen = ciphertexts(vault, alice)
        backup_file = folder / "before-erasure.backup"
        vault.backup(backup_file)
        vault.erase(alice)
    finally:
        vault.close()
    store = DataKeyStore.open(key_store_url)
    try:
        backup.restore(database_url, backup_file, store)
    finally:
        store.close()
    opened().close()  # the next open replays the erasure ledger
    files, unreadable = live_files(database_url, since)
    if unreadable:
        pytest.skip(f"cannot search the server's live files: {unreadable}")
    return alice, wrapped, stolen, files


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_on_postgres_the_default_key_store_leaves_nothing_that_opens_the_erased(
    database_url: str,
    person_factory: Callable[[], Any],
    master_key: KeyProvider,
    tmp_path: Path,
) -> None:
    """With the default key store (a SQLite file in the data directory, which overwrites what
    it deletes), the server's live files (every relation of the schema, dead tuples included,
    and every WAL segment written since the start) hold the erased subject's ciphertexts but
    not its key, and no key the system holds opens them."""
    key_store_url = default_key_store_url(database_url, tmp_path)
    assert key_store_url == f"sqlite:///{tmp_path / 'pledge-keys.sqlite3'}"
    alice, wrapped, stolen, files = postgres_journey(
        database_url, key_store_url, master_key, person_factory, tmp_path
    )
    key_files = [p for p in tmp_path.rglob("pledge-keys*") if p.is_file()]
    for path in [*files, *key_files]:
        assert not contains(path, wrapped), f"{path} still holds the erased key"
    found = [c for c in stolen if any(contains(f, c[2]) for f in files)]
    assert found, "the erased values are still in the server's files: the key is what protects them"
    store = DataKeyStore.open(key_store_url)
    try:
        held = every_data_key(store, master_key)
    finally:
        store.close()
    assert held  # the other person's key, at least
    none_opens(held, found, alice)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_on_postgres_a_key_store_in_the_database_opens_nothing_once_the_master_key_is_rotated(
    database_url: str,
    person_factory: Callable[[], Any],
    master_key: KeyProvider,
    tmp_path: Path,
) -> None:
    """A key store in PostgreSQL (configured, for several API nodes) keeps an erased
    subject's wrapped key in the server's WAL: no SQL statement overwrites it, and with the
    master key it opens the erased values. Rotating the master key and destroying the old one
    is what erases then: every key the system still holds is tried on the key found in the
    files and on every erased ciphertext, and none opens."""
    alice, wrapped, stolen, files = postgres_journey(
        database_url, database_url, master_key, person_factory, tmp_path
    )
    holding = [f for f in files if contains(f, wrapped)]
    assert any(f.parent.name == "pg_wal" for f in holding), "the WAL keeps the erased key"
    found = [c for c in stolen if any(contains(f, c[2]) for f in files)]
    assert found
    key = master_key.unwrap(wrapped)
    point, field, blob = found[0]
    assert SubjectCipher(key).decrypt(blob, aad(alice, point, field), context="attack")

    new = LocalKeyFileProvider(tmp_path / "next.key", create=True)
    vault = Vault.open(database_url, master_key, None, key_store_url=database_url)
    try:
        vault.rotate_master_key(new)
        held = every_data_key(vault.key_store, new)
    finally:
        vault.close()
    assert held  # the other person's key, under the new master key
    with pytest.raises(MasterKeyError):
        new.unwrap(wrapped)
    none_opens(held, found, alice)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_keys_kept_in_a_postgres_database_move_apart_at_the_next_open(
    database_url: str,
    vault_factory: Callable[..., Vault],
    person_factory: Callable[[], Any],
    master_key: KeyProvider,
    tmp_path: Path,
) -> None:
    """A PostgreSQL store from when its keys lived in its own tables: the next open with the
    default moves keys and erasures to the key store apart and drops the tables; readers read,
    the erased stay erased. A key store that is not this database's is then refused."""
    policy = ZABBIX.read_text(encoding="utf-8")
    vault = Vault.open(database_url, master_key, policy, key_store_url=database_url)
    alice_person = person_factory()
    alice, carol = sign_up(vault, alice_person), sign_up(vault, person_factory())
    vault.erase(carol)
    wrapped = vault.key_store.get([alice])[alice]
    vault.close()

    vault = vault_factory("zabbix")
    assert vault.key_store.engine.dialect.name == "sqlite"
    assert vault.key_store.get([alice]) == {alice: wrapped}
    assert [s for _, s in vault.key_store.ledger()] == [carol]
    assert vault.read(alice, SUPPORT, "support").values["registration.name"] == alice_person.name
    with pytest.raises(NotFoundError):
        vault.export(carol)
    with vault.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert not tables & {"pledge_data_keys", "pledge_erasure_ledger"}
    vault.close()

    elsewhere = f"sqlite:///{tmp_path / 'another' / 'pledge-keys.sqlite3'}"
    with pytest.raises(IntegrityError, match="not the key store they were written with"):
        Vault.open(database_url, master_key, policy, key_store_url=elsewhere)


def test_a_postgres_store_names_its_key_store() -> None:
    """No silent default inside the database: the caller is told what to set."""
    with pytest.raises(InputError, match="PLEDGE_KEY_STORE_URL"):
        default_key_store_url("postgresql+psycopg://pledge@db.internal/pledge")
