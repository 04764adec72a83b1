"""What an auditor does from the command line: verify the log, prove an entry is in it, and
prove the log only grew since a checkpoint they kept."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.store.audit import merkle

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_inclusion_and_consistency_proofs_verify_against_the_signed_root(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    _run("demo", "--subjects", "4", "--data-dir", data)
    early = json.loads(_run("audit", "prove", "1", "--data-dir", data))
    _run("demo", "--subjects", "6", "--data-dir", data)

    proof = json.loads(_run("audit", "prove", "2", "--data-dir", data))
    assert proof["tree_size"] == 10
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        2,
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(proof["root"]),
    )

    grown = json.loads(_run("audit", "consistency", str(early["tree_size"]), "--data-dir", data))
    assert grown["old_root"] == early["root"]
    assert merkle.verify_consistency(
        early["tree_size"],
        grown["tree_size"],
        bytes.fromhex(early["root"]),
        bytes.fromhex(grown["root"]),
        [bytes.fromhex(h) for h in grown["proof"]],
    )


def test_verify_exits_5_and_names_the_entry_when_the_log_was_edited(tmp_path: Path) -> None:
    import sqlite3

    data = tmp_path / "data"
    _run("demo", "--subjects", "5", "--data-dir", str(data))
    db = sqlite3.connect(data / "pledge.sqlite3")
    entry = db.execute("SELECT entry FROM audit_entries WHERE seq = 3").fetchone()[0]
    db.execute(
        "UPDATE audit_entries SET entry = ? WHERE seq = 3", (entry.replace(b"collect", b"c0llect"),)
    )
    db.commit()
    db.close()

    result = runner.invoke(app, ["audit", "verify", "--full", "--json", "--data-dir", str(data)])
    assert result.exit_code == 5
    report = json.loads(result.output)
    assert report["problem"] == {
        "entry": 3,
        "kind": "altered",
        "message": "entry 3 was altered (entry 4 no longer links to it)",
    }
