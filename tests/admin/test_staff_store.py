"""Staff in the store, on SQLite and PostgreSQL: enrolment, the sealed secret, one use per
code even when two browsers send it at once, and ``pledge staff add``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from admin_support import policy_under
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.errors import ConflictError, ExitCode, InputError, SecondFactorInvalid
from pledge.store.schema import staff
from pledge.store.vault import Vault


def test_enrolment_seals_the_address_and_secret_and_finds_only_the_whole_address(
    vault_factory: Callable[..., Vault],
) -> None:
    vault = vault_factory("zabbix")
    made = vault.add_staff("Ann.Smith@Zabbix.com", ["sales", "support"], actor="test")
    secret = pyotp.parse_uri(made.otpauth_uri).secret
    with vault.snapshot() as connection:
        row = connection.execute(select(staff)).one()
    assert b"Ann" not in row.email
    assert b"zabbix" not in row.email.lower()
    assert secret.encode() not in row.totp_secret
    assert vault.find_staff("ann.smith@zabbix.com") == made.staff_id
    assert vault.find_staff("ann.smith") is None
    assert vault.find_staff("zabbix.com") is None
    assert vault.staff_address(made.staff_id) == "Ann.Smith@Zabbix.com"
    assert vault.staff_member(made.staff_id).roles == ("sales", "support")
    with pytest.raises(ConflictError):
        vault.add_staff("ann.smith@zabbix.com", ["sales"], actor="test")
    with pytest.raises(InputError, match="no role 'sale'"):
        vault.add_staff("bob@zabbix.com", ["sale"], actor="test")
    with pytest.raises(InputError):
        vault.add_staff("not an address", ["sales"], actor="test")


def test_a_code_sent_twice_at_once_is_accepted_once(vault_factory: Callable[..., Vault]) -> None:
    vault = vault_factory("zabbix")
    made = vault.add_staff("ann@zabbix.com", ["sales"], actor="test")
    code = pyotp.parse_uri(made.otpauth_uri).at(vault.clock().timestamp())
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def send() -> None:
        start.wait()
        try:
            vault.check_staff_code(made.staff_id, code, "sales")
            outcomes.append("passed")
        except SecondFactorInvalid as error:
            outcomes.append(error.fields["reason"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["passed", "reused", "reused", "reused"]


def test_pledge_staff_add_prints_the_secret_once(tmp_path: Path) -> None:
    policy = policy_under(tmp_path, "gdpr")
    args = ["--data-dir", str(tmp_path / "data"), "--policy", str(policy)]
    runner = CliRunner()
    added = runner.invoke(app, ["staff", "add", "ann@zabbix.com", "--role", "sales", *args])
    assert added.exit_code == 0, added.output
    uri = next(line for line in added.stdout.splitlines() if line.startswith("otpauth://"))
    assert pyotp.parse_uri(uri).issuer == "Pledge"
    again = runner.invoke(app, ["staff", "add", "ann@zabbix.com", "--role", "sales", *args])
    assert again.exit_code == ExitCode.CONFLICT
    unknown = runner.invoke(app, ["staff", "add", "bob@zabbix.com", "--role", "ceo", *args])
    assert unknown.exit_code == ExitCode.BAD_INPUT
    assert "no role 'ceo'" in unknown.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_migration_0011_creates_the_staff_table(vault_factory: Callable[..., Vault]) -> None:
    engine = vault_factory("zabbix").engine
    found = {c["name"]: c for c in inspect(engine).get_columns("staff")}
    assert list(found) == [c.name for c in staff.columns]
    for column in staff.columns:
        assert found[column.name]["nullable"] == column.nullable, column.name
    assert {i["name"] for i in inspect(engine).get_indexes("staff")} == {
        i.name for i in staff.indexes
    }
