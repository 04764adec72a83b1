"""The pledge command as a script uses it: output through a pipe is not wrapped, ``--json``
parses on every command that prints a table or a summary, and the exit status tells each
class of error apart (the table is in docs/operations.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from pledge.cli.main import app
from pledge.errors import ExitCode

EXAMPLES = Path(__file__).parents[1] / "examples" / "policies"
ZABBIX = EXAMPLES / "zabbix.yaml"
PLEDGE = Path(sys.executable).with_name("pledge")
SUBJECT_ID = re.compile(r"\b[0-9a-f]{32}\b")
HEX_RUN = re.compile(r"[0-9a-f]{12,}")


def pledge(*args: str, data: Path | None = None, input: str | None = None) -> Result:
    """In-process, with a narrow terminal that output to a pipe must ignore."""
    where = ["--data-dir", str(data)] if data is not None else []
    return CliRunner().invoke(
        app, [*args, *where], input=input, catch_exceptions=False, env={"COLUMNS": "40"}
    )


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, list[str]]:
    """A store with a few demo subjects; their ids."""
    data = tmp_path / "data"
    made = as_json(pledge("demo", "--subjects", "6", "--json", data=data))
    return data, [s["subject"] for s in made["subjects"]]


def test_a_pipe_gets_whole_lines_whatever_the_terminal_width(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "40", "PLEDGE_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [str(PLEDGE), "demo", "--subjects", "12"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    ids = SUBJECT_ID.findall(done.stdout)
    assert len(ids) >= 8
    assert all(len(run) == 32 for run in HEX_RUN.findall(done.stdout)), "a subject id was folded"
    assert any(len(line) > 40 for line in done.stdout.splitlines())
    assert "\x1b[" not in done.stdout  # no colour codes into a file
    assert f"pledge subjects export {ids[0]}" in done.stdout


def test_demo_erase_and_retention_speak_json(demo: tuple[Path, list[str]]) -> None:
    data, ids = demo
    erased = as_json(pledge("subjects", "erase", ids[0], "--yes", "--json", data=data))
    assert erased["subject"] == ids[0]
    assert erased["key_destroyed"] is True
    assert erased["deleted"]
    kept = as_json(pledge("retention", "run", "--json", data=data))
    assert set(kept) == {"deleted", "subjects", "keys_destroyed", "web_visits", "cookie_receipts"}
    verified = as_json(pledge("audit", "verify", "--json", data=data))
    assert verified["ok"] is True
    assert verified["entries"] == 7  # six collections and one erasure


def test_keys_and_master_key_speak_json(demo: tuple[Path, list[str]]) -> None:
    data, _ = demo
    created = pledge("keys", "create", "--role", "support", data=data)
    assert created.exit_code == 0
    key_id = as_json(pledge("keys", "list", "--json", data=data))[0]["key_id"]
    assert created.stdout.strip().startswith(f"plg_{key_id}.")
    assert as_json(pledge("keys", "revoke", key_id, "--json", data=data)) == {
        "key_id": key_id,
        "scope": "role",
        "revoked": True,
    }
    rotated = as_json(pledge("master-key", "rotate", "--json", data=data))
    assert rotated["old_key_id"] != rotated["new_key_id"]
    assert rotated["subject_keys"] == 6


def test_erase_of_an_unknown_subject_says_so_before_asking(demo: tuple[Path, list[str]]) -> None:
    data, _ = demo
    result = pledge("subjects", "erase", "0" * 32, data=data, input="y\n")
    assert result.exit_code == ExitCode.NOT_FOUND == 3
    assert "Erase subject" not in result.output
    assert result.stderr.strip() == f"error: no subject '{'0' * 32}'"


def test_erase_asks_and_a_no_keeps_the_subject(demo: tuple[Path, list[str]]) -> None:
    data, ids = demo
    declined = pledge("subjects", "erase", ids[1], data=data, input="n\n")
    assert declined.exit_code == ExitCode.DENIED
    assert f"Erase subject {ids[1]}?" in declined.output
    assert as_json(pledge("subjects", "export", ids[1], data=data))["subject"] == ids[1]
    again = pledge("subjects", "erase", ids[1], data=data, input="y\n")
    assert again.exit_code == 0
    assert pledge("subjects", "export", ids[1], data=data).exit_code == ExitCode.NOT_FOUND


def test_not_found_exits_3(demo: tuple[Path, list[str]]) -> None:
    data, _ = demo
    result = pledge("subjects", "export", "f" * 32, data=data)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert pledge("audit", "prove", "999", data=data).exit_code == 3


def test_conflict_exits_4(demo: tuple[Path, list[str]]) -> None:
    data, _ = demo
    pledge("keys", "create", "--admin", data=data)
    pledge("keys", "create", "--admin", data=data)  # the last admin key is never revoked
    key_id = as_json(pledge("keys", "list", "--json", data=data))[0]["key_id"]
    assert pledge("keys", "revoke", key_id, data=data).exit_code == 0
    twice = pledge("keys", "revoke", key_id, data=data)
    assert twice.exit_code == ExitCode.CONFLICT == 4
    assert "already revoked" in twice.stderr


def test_a_wrong_master_key_exits_5_not_2(demo: tuple[Path, list[str]], tmp_path: Path) -> None:
    data, ids = demo
    other = tmp_path / "other"
    pledge("demo", "--subjects", "1", data=other)
    (data / "master.key").write_bytes((other / "master.key").read_bytes())
    result = pledge("subjects", "export", ids[0], data=data)
    assert result.exit_code == ExitCode.INTEGRITY == 5
    assert result.stderr.startswith("error: ")


def test_a_database_that_does_not_answer_exits_6(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"  # the discard port: refused
    result = CliRunner().invoke(
        app,
        ["subjects", "export", "0" * 32, "--database-url", url, "--data-dir", str(tmp_path)],
        catch_exceptions=False,
    )
    assert result.exit_code == ExitCode.UNAVAILABLE == 6
    assert result.stderr.startswith("error: cannot open the database at ")
    assert "Traceback" not in result.output
