"""``pledge requests`` as a shell sees it: the queue, a step out of order, an extension the
law allows, an answer; each refusal ends with the exit status of its class."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from dsr_support import policy_under
from typer.testing import CliRunner, Result

from pledge.cli.main import app
from pledge.errors import ExitCode
from pledge.settings import load_settings, open_vault

runner = CliRunner()


def test_the_queue_worked_from_the_command_line(tmp_path: Path) -> None:
    data, policy = tmp_path / "data", policy_under(tmp_path, "ccpa")

    def pledge(*args: str) -> Result:
        return runner.invoke(
            app,
            [*args, "--data-dir", str(data), "--policy", str(policy)],
            catch_exceptions=False,
            env={"COLUMNS": "200"},
        )

    vault = open_vault(load_settings(data_dir=data, policy=policy))
    try:
        subject = vault.collect(
            "registration", {"name": "Cli Person", "email": "c@example.org"}, age=40
        ).subject
    finally:
        vault.close()
    opened = pledge("requests", "open", subject, "--kind", "inquiry", "--text", "Hi?", "--json")
    assert opened.exit_code == 0, opened.output
    rid = json.loads(opened.stdout)["request"]
    listed = pledge("requests", "list")
    assert rid in listed.stdout
    assert "later" in listed.stdout

    early = pledge("requests", "answer", rid, "--text", "Hello")
    assert early.exit_code == ExitCode.CONFLICT
    assert "received" in early.output
    assert pledge("requests", "verify", rid).exit_code == 0
    extended = json.loads(
        pledge("requests", "extend", rid, "--reason", "Archive lookup.", "--json").stdout
    )
    assert extended["extended"] is True
    received = dt.date.fromisoformat(extended["received_at"][:10])
    assert dt.date.fromisoformat(extended["respond_by"]) - received == dt.timedelta(days=90)
    answered = pledge("requests", "answer", rid, "--text", "Nothing more is kept.")
    assert answered.exit_code == 0, answered.output
    shown = pledge("requests", "show", rid)
    assert "Archive lookup." in shown.stdout
    assert "Nothing more is kept." in shown.stdout
    assert pledge("requests", "show", "f" * 32).exit_code == ExitCode.NOT_FOUND
    assert pledge("requests", "list").stdout.strip() == "no requests"
    assert "expired 0" in pledge("requests", "run").stdout
