"""``pledge policy diff`` as a pull-request gate: exit 1 on a material change, 0 otherwise,
2 for a file that is not a policy; ``--json`` for tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pledge.cli.main import app
from tests.policy_changes.derive import EXAMPLES, derived

runner = CliRunner()
BITRIX = EXAMPLES / "bitrix.yaml"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def new_recipient(d: dict[str, Any]) -> None:
    d["recipients"]["data_broker"] = {
        "kind": "partner",
        "purposes": ["essential.service"],
        "categories": ["user.contact.email"],
    }


def reworded(d: dict[str, Any]) -> None:
    d["recipients"]["partners"]["description"] = "Companies whose offers you asked for"


def test_a_material_change_exits_1_and_names_both_paths(tmp_path: Path) -> None:
    new = write(tmp_path, "new.yaml", derived("bitrix", new_recipient))
    result = runner.invoke(app, ["policy", "diff", str(BITRIX), new], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "MATERIAL" in result.stdout
    assert "recipients.data_broker" in result.stdout
    assert "1 material change" in result.stdout


def test_rewording_only_exits_0(tmp_path: Path) -> None:
    new = write(tmp_path, "new.yaml", derived("bitrix", reworded))
    result = runner.invoke(app, ["policy", "diff", str(BITRIX), new, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["material"] is False
    assert [c["kind"] for c in data["changes"]] == ["wording_changed"]
    assert data["changes"][0]["old_path"] == "recipients.partners.description"


def test_same_file_says_no_changes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "diff", str(BITRIX), str(BITRIX)])
    assert result.exit_code == 0
    assert "no changes" in result.stdout


def test_a_broken_file_is_exit_2_with_its_location_and_no_traceback(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.yaml", "pledge: 1\nversion: [\n")
    result = runner.invoke(app, ["policy", "diff", str(BITRIX), broken])
    assert result.exit_code == 2
    assert "broken.yaml" in result.stderr
    assert "Traceback" not in result.output
