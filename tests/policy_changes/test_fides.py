"""Fides interoperability: each example policy exports to a manifest that fideslang's own models
accept, and imports back with everything Fides can carry intact; what it cannot carry is listed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fideslang import models as fides
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.errors import InputError
from pledge.policy import Policy, load_policy, load_policy_text
from pledge.policy.fides import export_fides, import_fides, not_carried
from tests.policy_changes.derive import EXAMPLES, SEEDS

runner = CliRunner()
TODAY = dt.date(2026, 11, 30)


def round_trip(policy: Policy) -> tuple[Policy, tuple[str, ...]]:
    manifest = yaml.safe_load(yaml.safe_dump(export_fides(policy)))
    imported = import_fides(manifest, today=TODAY)
    text = yaml.safe_dump(
        imported.policy.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    )
    return load_policy_text(text).policy, imported.assumed  # the draft passes every check


@pytest.mark.parametrize("name", SEEDS)
def test_export_is_a_manifest_fides_accepts(name: str) -> None:
    manifest = export_fides(load_policy(EXAMPLES / f"{name}.yaml").policy)
    fides.Taxonomy.model_validate(
        {key: manifest.get(key, []) for key in ("system", "dataset", "data_category", "data_use")}
    )


@pytest.mark.parametrize("name", SEEDS)
def test_round_trip_keeps_everything_fides_can_carry(name: str) -> None:
    before = load_policy(EXAMPLES / f"{name}.yaml").policy
    after, assumed = round_trip(before)
    assert after.version == before.version
    assert after.effective == before.effective
    assert after.organisation.name == before.organisation.name
    assert after.organisation.postal_address == before.organisation.postal_address
    assert after.organisation.privacy_contact == before.organisation.privacy_contact
    assert after.taxonomy == before.taxonomy
    used = {p for point in before.collection_points.values() for p in point.purposes}
    assert {k: p.basis for k, p in after.purposes.items()} == {
        k: p.basis for k, p in before.purposes.items() if k in used
    }
    assert after.collection_points.keys() == before.collection_points.keys()
    for key, point in before.collection_points.items():
        got = after.collection_points[key]
        assert {f: s.category for f, s in got.fields.items()} == {
            f: s.category for f, s in point.fields.items()
        }
        assert set(got.purposes) == set(point.purposes)
        assert got.subjects == point.subjects
        assert got.description == point.description
    for key, recipient in after.recipients.items():
        original = before.recipients[key]
        assert set(recipient.purposes) <= set(original.purposes) | used
        assert set(original.categories) <= set(recipient.categories)  # broader, never narrower
    assert any("recipients" in line for line in assumed) == bool(after.recipients)
    assert any("rights" in line for line in assumed)


def test_what_cannot_be_carried_is_listed() -> None:
    lost = not_carried(load_policy(EXAMPLES / "bitrix.yaml").policy)
    text = " ".join(lost)
    for part in ("roles", "recipient conditions", "communications", "cookies", "legal holds"):
        assert part in text


def test_a_declaration_without_legal_basis_is_drafted_as_opt_in() -> None:
    manifest: dict[str, Any] = {
        "system": [
            {
                "fides_key": "shop",
                "name": "Shop",
                "system_type": "Service",
                "privacy_declarations": [
                    {
                        "name": "orders",
                        "data_use": "marketing.advertising",
                        "data_categories": ["user.contact.email"],
                        "data_subjects": ["customer"],
                        "dataset_references": ["shop_db"],
                    }
                ],
            }
        ],
        "dataset": [
            {
                "fides_key": "shop_db",
                "collections": [
                    {
                        "name": "signup",
                        "fields": [{"name": "email", "data_categories": ["user.contact.email"]}],
                    }
                ],
            }
        ],
    }
    imported = import_fides(manifest, today=TODAY)
    assert imported.policy.purposes["marketing.advertising"].basis.value == "opt_in"
    assert imported.policy.collection_points["signup"].purposes == ["marketing.advertising"]
    assert any("privacy_contact" in line for line in imported.assumed)
    assert imported.policy.version == "imported-2026-11-30"


def test_a_broken_manifest_names_the_place() -> None:
    with pytest.raises(InputError, match=r"system\[0\]\.fides_key"):
        import_fides({"system": [{"name": "x", "system_type": "Service"}]}, today=TODAY)
    with pytest.raises(InputError, match="no 'system'"):
        import_fides({"dataset": []}, today=TODAY)


def test_cli_export_then_import_gives_a_valid_policy(tmp_path: Path) -> None:
    manifest = tmp_path / "fides.yaml"
    result = runner.invoke(
        app, ["policy", "export", str(EXAMPLES / "webix.yaml"), "--fides", "-o", str(manifest)]
    )
    assert result.exit_code == 0, result.output
    assert "not carried" in result.stdout
    draft = tmp_path / "draft.yaml"
    result = runner.invoke(app, ["policy", "import-fides", str(manifest), "-o", str(draft)])
    assert result.exit_code == 0, result.output
    assert load_policy(draft).policy.organisation.name == "Webix"
    result = runner.invoke(app, ["policy", "import-fides", str(manifest), "--json"])
    assert json.loads(result.stdout)["policy"]["pledge"] == 1


def test_cli_import_of_a_non_manifest_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    result = runner.invoke(app, ["policy", "import-fides", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_declarations_without_datasets_are_refused_with_the_fix() -> None:
    manifest = {
        "system": [
            {
                "fides_key": "shop",
                "system_type": "Service",
                "privacy_declarations": [
                    {"data_use": "essential.service", "data_categories": ["user.name"]}
                ],
            }
        ]
    }
    with pytest.raises(InputError, match="dataset_references"):
        import_fides(manifest, today=TODAY)
