"""A successor receives data only after a business transfer to it is recorded: refused with
the reason before, allowed as the policy says after, in this process at once and in another
within seconds; only a recipient that waits for a transfer can be given one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.errors import InputError
from pledge.policy import Actor
from pledge.store.release import Released
from pledge.store.vault import Vault
from tests.conftest import FakeClock
from tests.policy_changes.derive import EXAMPLES

SERVICE = "essential.service"


def successor_gets(vault: Vault, subject: str) -> Released:
    release = vault.release([subject], Actor.recipient("successor"), SERVICE, ["user.name"])
    [outcome] = release.outcomes
    assert isinstance(outcome, Released)
    return outcome


def test_the_successor_waits_for_the_recorded_transfer(
    vault_factory: Callable[..., Vault], clock: FakeClock
) -> None:
    vault = vault_factory("bitrix")
    other_node = vault_factory("bitrix")
    subject = vault.collect("purchase", {
        "name": "Ann Example", "email": "ann@example.com", "mailing_address": "1 Main St",
        "products": "Site Manager",
    }).subject  # fmt: skip
    assert other_node.policy.transfers == frozenset()
    before = successor_gets(vault, subject)
    assert not before.items
    assert next(iter(before.withheld.values())).code == "event_not_recorded"

    with pytest.raises(InputError, match="does not wait for a business transfer"):
        vault.record_business_transfer("partners", reference="not a successor")
    with pytest.raises(InputError, match="no recipient 'sucessor'"):
        vault.record_business_transfer("sucessor", reference="typo")
    with pytest.raises(InputError, match="reference"):
        vault.record_business_transfer("successor", reference="  ")
    vault.record_business_transfer("successor", reference="Asset purchase agreement, 2026-11-30")

    assert [v.value for v in successor_gets(vault, subject).items] == ["Ann Example"]
    clock.advance(seconds=6)  # another process sees it once its few seconds are up
    assert [v.value for v in successor_gets(other_node, subject).items] == ["Ann Example"]


def test_the_cli_records_a_transfer(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()
    made = runner.invoke(app, ["policy", "publish", str(EXAMPLES / "bitrix.yaml"), *data])
    assert made.exit_code == 0, made.output
    done = runner.invoke(
        app, ["policy", "record-transfer", "successor", "--reference", "Merger, 2026", *data]
    )
    assert done.exit_code == 0, done.output
    assert "business transfer to 'successor' recorded" in done.stdout
    wrong = runner.invoke(
        app, ["policy", "record-transfer", "partners", "--reference", "Merger", *data]
    )
    assert wrong.exit_code != 0
    assert "does not wait for a business transfer" in wrong.stderr
