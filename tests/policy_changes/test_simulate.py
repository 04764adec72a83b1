"""``pledge policy simulate``: before a version is published, how many values and people each
material change would touch, counted in a real store, and which new uses wait for consent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.policy import load_policy_text
from pledge.policy.diff import diff_policies
from pledge.policy.impact import impact
from tests.conftest import VaultFactory
from tests.policy_changes.derive import derived

runner = CliRunner()


def broker(d: dict[str, Any]) -> None:
    """A new recipient of email addresses, for a purpose the registrations were collected for."""
    d["recipients"]["data_broker"] = {
        "kind": "partner",
        "purposes": ["essential.service.operations.support"],
        "categories": ["user.contact.email"],
        "condition": "consent",
    }


def fewer_rights(d: dict[str, Any]) -> None:
    d["rights"]["offered"].remove("object")


def collect_people(vault: Any) -> None:
    for i in range(3):
        vault.collect("product_registration", {"name": f"Reg {i}", "email": f"reg{i}@example.com"})
    for i in range(2):
        vault.collect(
            "purchase",
            {
                "name": f"Buyer {i}",
                "email": f"buyer{i}@example.com",
                "mailing_address": "1 Main St",
                "products": "Site Manager",
            },
        )


def test_each_material_change_is_counted_where_the_data_is(vault_factory: VaultFactory) -> None:
    vault = vault_factory("bitrix")
    collect_people(vault)
    old = vault.policy.policy
    new = load_policy_text(derived("bitrix", lambda d: (broker(d), fewer_rights(d)))).policy
    touches = {
        t.change.kind: t for t in impact(old, new, diff_policies(old, new), vault.holdings())
    }

    added = touches["recipient_added"]
    assert added.values == 5  # five email addresses, at both points
    assert added.by_version == {old.version: 5}
    assert added.points == {"product_registration", "purchase"}
    assert vault.people_holding(added.points) == 5
    # Held under the old version, which named no such recipient: Bitrix's version reaches it
    # when the notice period is over, for those who did not opt out (no consent asked).
    assert added.waits_for_notice
    assert not added.waits_for_consent

    rights = touches["right_removed"]
    assert rights.points is None  # everyone
    assert vault.people_holding(None) == 5
    assert not rights.waits_for_consent
    assert not rights.waits_for_notice


def test_erased_people_are_not_counted(vault_factory: VaultFactory) -> None:
    vault = vault_factory("bitrix")
    collect_people(vault)
    subject = vault.find("email", "reg0@example.com")
    assert subject is not None
    vault.erase(subject, actor="test")
    assert vault.people_holding(None) == 4
    assert vault.people_holding({"product_registration"}) == 2
    assert sum(h.values for h in vault.holdings() if h.point == "product_registration") == 4


def test_cli_reports_values_people_and_notices(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = runner.invoke(
        app, ["demo", "--policy", "bitrix", "--subjects", "12", "--data-dir", str(data), "--json"]
    )
    assert made.exit_code == 0, made.output
    proposed = tmp_path / "new.yaml"
    proposed.write_text(derived("bitrix", fewer_rights))
    result = runner.invoke(
        app, ["policy", "simulate", str(proposed), "--data-dir", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["new_version"] == "next"
    [change] = report["changes"]
    assert change["kind"] == "right_removed"
    assert change["people"] == 12
    assert report["notices"] == 12
    table = runner.invoke(
        app,
        ["policy", "simulate", str(proposed), "--data-dir", str(data)],
        env={"COLUMNS": "200"},
    )
    assert "12 people would be sent a notice" in table.stdout
