"""Service settings (TOML file, environment, options), the api_keys migration, and the
``pledge keys`` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import EXAMPLES, Sensitive
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from pledge.api.config import MIB, load_api_settings
from pledge.cli import keys
from pledge.errors import InputError
from pledge.store.database import open_engine
from pledge.store.schema import api_keys

ZABBIX = str(EXAMPLES / "zabbix.yaml")


def test_settings_come_from_the_file_then_the_environment_then_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pledge.toml"
    config.write_text('rate_limit_burst = 7\nmax_body_bytes = 4096\ndata_dir = "from-file"\n')
    monkeypatch.setenv("PLEDGE_MAX_BODY_BYTES", "8192")
    settings = load_api_settings(config, data_dir=tmp_path)
    assert settings.rate_limit_burst == 7
    assert settings.max_body_bytes == 8192
    assert settings.data_dir == tmp_path
    assert load_api_settings().max_body_bytes == 8192
    monkeypatch.delenv("PLEDGE_MAX_BODY_BYTES")
    assert load_api_settings().max_body_bytes == MIB


def test_a_bad_config_file_is_refused_by_name(tmp_path: Path) -> None:
    config = tmp_path / "pledge.toml"
    config.write_text("rate_limit_brust = 7\n")
    with pytest.raises(InputError, match=r"'rate_limit_brust' in .*pledge.toml"):
        load_api_settings(config)
    config.write_text("rate_limit_burst = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_api_settings(config)
    with pytest.raises(InputError, match="cannot read the config file"):
        load_api_settings(tmp_path / "missing.toml")
    config.write_text("rate_limit_burst = 0\n")
    with pytest.raises(InputError, match="rate_limit_burst"):
        load_api_settings(config)


def test_the_migration_creates_the_table_the_service_uses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    open_engine(url).dispose()
    engine = create_engine(url)
    found = inspect(engine).get_columns("api_keys")
    engine.dispose()
    assert [(c["name"], str(c["type"]), c["nullable"]) for c in found] == [
        (c.name, str(c.type.compile(dialect=engine.dialect)), c.nullable) for c in api_keys.columns
    ]


def test_keys_commands_create_list_and_revoke(tmp_path: Path, sensitive: Sensitive) -> None:
    runner = CliRunner()
    where = ["--policy", ZABBIX, "--data-dir", str(tmp_path)]
    created = runner.invoke(keys.app, ["create", "--role", "support", "--name", "desk", *where])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    sensitive.add(key)
    assert key.startswith("plg_")
    key_id = key.removeprefix("plg_").partition(".")[0]
    assert "only time it is shown" in created.stderr

    listed = runner.invoke(keys.app, ["list", "--json", *where])
    assert f'"key_id": "{key_id}"' in listed.stdout
    assert key.partition(".")[2] not in listed.stdout

    revoked = runner.invoke(keys.app, ["revoke", key_id, *where])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.stdout


def test_keys_create_needs_exactly_one_scope(tmp_path: Path) -> None:
    runner = CliRunner()
    where = ["--policy", ZABBIX, "--data-dir", str(tmp_path)]
    both = runner.invoke(keys.app, ["create", "--admin", "--role", "sales", *where])
    assert both.exit_code == 2
    assert "exactly one" in both.stderr
