"""Master-key rotation re-wraps keys only: the data stays as it was, readable under the new
key, and the old key is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.demo import example_policy
from pledge.errors import MasterKeyError
from pledge.store.database import sqlite_url
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.schema import personal_values
from pledge.store.vault import Vault

POLICY = example_policy("zabbix").read_text()


def _ciphertexts(vault: Vault) -> list[bytes]:
    with vault.engine.connect() as connection:
        return list(connection.execute(select(personal_values.c.ciphertext)).scalars())


def test_rotation_rewraps_keys_and_leaves_data_untouched(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "pledge.sqlite3")
    old = LocalKeyFileProvider(tmp_path / "old.key", create=True)
    vault = Vault.open(url, old, POLICY)
    subject = vault.collect(
        "registration", {"name": "Ilze Berzina", "email": "ilze@example.lv"}, age=40
    ).subject
    before = _ciphertexts(vault)

    new = LocalKeyFileProvider(tmp_path / "new.key", create=True)
    done = vault.rotate_master_key(new)
    assert (done.old_key_id, done.new_key_id) == (old.key_id, new.key_id)
    assert done.subject_keys == 1
    assert _ciphertexts(vault) == before
    vault.close()

    reopened = Vault.open(url, new, None)
    read = reopened.read(subject, "essential.service.operations.support", "support")
    assert read.values["registration.email"] == "ilze@example.lv"
    assert reopened.find("email", "ILZE@example.lv") == subject
    assert reopened.audit.verify(reopened.engine).ok
    reopened.close()

    with pytest.raises(MasterKeyError) as refused:
        Vault.open(url, old, None)
    assert old.key_id in refused.value.message
    assert new.key_id in refused.value.message


def test_cli_rotation_swaps_the_key_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "data")
    made = runner.invoke(app, ["demo", "--subjects", "3", "--data-dir", data])
    assert made.exit_code == 0, made.output
    old_key = (tmp_path / "data" / "master.key").read_bytes()

    rotated = runner.invoke(app, ["master-key", "rotate", "--data-dir", data])
    assert rotated.exit_code == 0, rotated.output
    assert "3 subject key(s)" in rotated.output
    assert (tmp_path / "data" / "master.key").read_bytes() != old_key
    retired = list((tmp_path / "data").glob("master.key.retired-*"))
    assert [p.read_bytes() for p in retired] == [old_key]

    verified = runner.invoke(app, ["audit", "verify", "--data-dir", data])
    assert verified.exit_code == 0, verified.output


def test_cli_rotation_can_destroy_the_old_key(tmp_path: Path) -> None:
    """--destroy-old leaves no file that holds the old key, and the store opens under the new."""
    runner = CliRunner()
    data = str(tmp_path / "data")
    made = runner.invoke(app, ["demo", "--subjects", "2", "--data-dir", data])
    assert made.exit_code == 0, made.output
    old_key = (tmp_path / "data" / "master.key").read_bytes()

    rotated = runner.invoke(app, ["master-key", "rotate", "--destroy-old", "--data-dir", data])
    assert rotated.exit_code == 0, rotated.output
    held = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert not [p for p in held if old_key in p.read_bytes()]
    verified = runner.invoke(app, ["audit", "verify", "--data-dir", data])
    assert verified.exit_code == 0, verified.output

    refused = runner.invoke(
        app, ["master-key", "rotate", "--destroy-old", "--new-key-env", "X", "--data-dir", data]
    )
    assert refused.exit_code == 2
    assert "yours to destroy" in refused.output
