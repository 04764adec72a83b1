"""``pledge policy publish`` and ``history``: a new version comes into force, every version stays
on record, and going back to an earlier version is refused (it must be a new version)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pledge.cli.main import app
from tests.policy_changes.derive import EXAMPLES, derived

runner = CliRunner()


def fewer_rights(d: dict[str, Any]) -> None:
    d["rights"]["offered"].remove("object")


def test_publish_history_and_no_going_back(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    first = runner.invoke(app, ["policy", "publish", str(EXAMPLES / "bitrix.yaml"), *data])
    assert first.exit_code == 0, first.output
    proposed = tmp_path / "next.yaml"
    proposed.write_text(derived("bitrix", fewer_rights, version="2026-12-01"))
    second = runner.invoke(app, ["policy", "publish", str(proposed), *data, "--json"])
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert report["version"] == "2026-12-01"
    assert report["previous"] == "2004-03-30"
    assert [c["kind"] for c in report["material"]] == ["right_removed"]

    listed = runner.invoke(app, ["policy", "history", *data, "--json"])
    assert [v["version"] for v in json.loads(listed.stdout)] == ["2004-03-30", "2026-12-01"]

    back = runner.invoke(app, ["policy", "publish", str(EXAMPLES / "bitrix.yaml"), *data])
    assert back.exit_code == 4
    assert "publish the old rules under a new version" in back.stderr
    in_force = runner.invoke(app, ["policy", "history", *data, "--json"])
    assert json.loads(in_force.stdout)[-1]["version"] == "2026-12-01"


def test_publishing_material_changes_prints_the_banner_and_queues_one_notice_each(
    tmp_path: Path,
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    made = runner.invoke(app, ["demo", "--policy", "bitrix", "--subjects", "12", *data, "--json"])
    assert made.exit_code == 0, made.output
    proposed = tmp_path / "next.yaml"
    proposed.write_text(derived("bitrix", fewer_rights, version="2026-12-01"))

    unset = runner.invoke(app, ["policy", "publish", str(proposed), *data])
    assert unset.exit_code == 0, unset.output
    assert "home-page banner: OOO Bitrix has changed its privacy policy" in unset.stdout
    assert "notices not mailed" in unset.stdout
    assert "PLEDGE_MAIL_NOTICE_COMMUNICATION" in unset.stdout

    env = {
        "PLEDGE_MAIL_NOTICE_COMMUNICATION": "service_alert",
        "PLEDGE_MAIL_NOTICE_URL": "https://privacy.example.test/policy-changes/opt-out",
        "PLEDGE_MAIL_FROM_ADDRESS": "Bitrix <privacy@bitrixsoft.com>",
    }
    sent = runner.invoke(app, ["policy", "notify", *data, "--json"], env=env)
    assert sent.exit_code == 0, sent.output
    notices = json.loads(sent.stdout)["notices"]
    skipped = sum(s["people"] for s in notices["skipped"])
    assert notices["queued"] + skipped == 12  # a right removed touches everyone, once
    assert notices["queued"] > 0
    again = runner.invoke(app, ["policy", "notify", *data, "--json"], env=env)
    assert json.loads(again.stdout)["notices"]["already_queued"] == notices["queued"]
