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


@pytest.mark.parametrize("destroy_old", [False, True], ids=["keep-old", "destroy-old"])
def test_cli_rotation_swaps_the_key_file(tmp_path: Path, destroy_old: bool) -> None:
    """The old key file is kept as master.key.retired-<id>, or with --destroy-old no file holds
    the old key any more; either way the store opens under the new one."""
    runner = CliRunner()
    data = str(tmp_path / "data")
    made = runner.invoke(app, ["demo", "--subjects", "3", "--data-dir", data])
    assert made.exit_code == 0, made.output
    old_key = (tmp_path / "data" / "master.key").read_bytes()

    extra = ["--destroy-old"] if destroy_old else []
    rotated = runner.invoke(app, ["master-key", "rotate", *extra, "--data-dir", data])
    assert rotated.exit_code == 0, rotated.output
    assert "3 subject key(s)" in rotated.output
    assert (tmp_path / "data" / "master.key").read_bytes() != old_key
    holding = [
        p for p in (tmp_path / "data").rglob("*") if p.is_file() and old_key in p.read_bytes()
    ]
    assert [p.name.startswith("master.key.retired-") for p in holding] == (
        [] if destroy_old else [True]
    )

    verified = runner.invoke(app, ["audit", "verify", "--data-dir", data])
    assert verified.exit_code == 0, verified.output


def test_cli_rotation_destroys_only_a_key_file(tmp_path: Path) -> None:
    """An old key from the environment is not Pledge's to delete: said, not attempted."""
    runner = CliRunner()
    data = str(tmp_path / "data")
    made = runner.invoke(app, ["demo", "--subjects", "1", "--data-dir", data])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(
        app, ["master-key", "rotate", "--destroy-old", "--new-key-env", "X", "--data-dir", data]
    )
    assert refused.exit_code == 2
    assert "yours to destroy" in refused.output
