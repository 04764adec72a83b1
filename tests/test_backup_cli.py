"""``pledge backup`` and the master key file as a shell sees them: the journey through the
CLI, and a lost key file that stops the store instead of being replaced."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from pledge.cli.main import app
from pledge.settings import load_settings, open_vault

EXAMPLE = Path(__file__).parents[1] / "examples" / "policies" / "zabbix.yaml"
SUPPORT = "essential.service.operations.support"

runner = CliRunner()


def pledge(data_dir: Path, *args: str) -> Result:
    return runner.invoke(
        app,
        [*args, "--data-dir", str(data_dir), "--policy", str(EXAMPLE)],
        catch_exceptions=False,
        env={"COLUMNS": "200"},
    )


def test_backup_erase_restore_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    vault = open_vault(load_settings(data_dir=data, policy=EXAMPLE))
    try:
        kept = vault.collect(
            "registration", {"name": "Kept Person", "email": "k@example.org"}, age=40
        )
        gone = vault.collect(
            "registration", {"name": "Gone Person", "email": "g@example.org"}, age=40
        )
    finally:
        vault.close()
    made = pledge(data, "backup", "create", str(tmp_path / "b.sqlite3"))
    assert made.exit_code == 0, made.output
    assert "key store snapshot" in made.output
    assert pledge(data, "subjects", "erase", gone.subject, "--yes").exit_code == 0

    restored = pledge(data, "backup", "restore", str(tmp_path / "b.sqlite3"), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "2 subject(s); 1 erased again" in restored.output
    exported = pledge(data, "subjects", "export", kept.subject)
    assert "Kept Person" in exported.stdout
    refused = pledge(data, "subjects", "export", gone.subject)
    assert refused.exit_code != 0
    assert "Gone Person" not in refused.output


def test_a_missing_master_key_file_stops_the_store_and_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert pledge(data, "audit", "verify").exit_code == 0  # a new store: its key is made
    key = data / "master.key"
    assert key.exists()
    key.unlink()
    refused = pledge(data, "audit", "verify")
    assert refused.exit_code != 0
    assert "master key file" in refused.output
    assert "missing" in refused.output
    assert not key.exists()
    assert not list(data.glob(".master.key*"))
