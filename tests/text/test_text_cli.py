"""``pledge policy import`` and ``pledge policy lint`` from the shell: outputs a person and a
script can use, exit codes a CI gate can trust, and a clear error (never a traceback) for
input that is not a readable English policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_text_lint import COMPLETE
from text_support import EXAMPLES, seed_path
from typer.testing import CliRunner, Result

from pledge.cli.main import app
from pledge.text.extract import CONDITIONS, KINDS, RECIPIENTS

runner = CliRunner()


def pledge(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_import_writes_a_draft_that_check_accepts_and_the_practices(tmp_path: Path) -> None:
    out, practices = tmp_path / "draft.yaml", tmp_path / "practices.json"
    seed = seed_path("webix")
    result = pledge("policy", "import", str(seed), "-o", str(out), "--practices", str(practices))
    assert result.exit_code == 0, result.output
    assert "sentences not mapped" in result.output
    checked = pledge("policy", "check", str(out))
    assert checked.exit_code == 0, checked.output
    found = json.loads(practices.read_text(encoding="utf-8"))
    assert found
    source = seed.read_text(encoding="utf-8")
    for practice in found:
        assert set(practice) == {
            "kind", "categories", "purposes", "recipient", "condition", "context", "sentence",
        }  # fmt: skip
        assert practice["kind"] in KINDS
        assert practice["condition"]["type"] in CONDITIONS
        if practice["kind"] in ("share", "not_shared"):
            assert practice["recipient"] in RECIPIENTS
        else:
            assert practice["recipient"] is None
        sentence = practice["sentence"]
        assert source[sentence["start"] : sentence["end"]] == sentence["text"]
    assert {"share", "collect", "not_shared"} <= {p["kind"] for p in found}


def test_import_to_stdout_prints_the_draft() -> None:
    result = pledge("policy", "import", str(seed_path("zabbix")))
    assert result.exit_code == 0, result.output
    assert "pledge: 1" in result.output
    assert "info@zabbix.com" in result.output


def test_import_reads_html(tmp_path: Path) -> None:
    page = tmp_path / "privacy.html"
    page.write_text(
        "<html><body><h1>Privacy</h1><p>Write to <a href='mailto:p@x.example'>p@x.example</a>."
        "</p><p>We collect your <b>email address</b> when you sign up for our newsletter.</p>"
        "<p>You can unsubscribe at any time.</p></body></html>",
        encoding="utf-8",
    )
    out = tmp_path / "draft.yaml"
    result = pledge("policy", "import", str(page), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert pledge("policy", "check", str(out)).exit_code == 0
    assert "<b>email address</b>" in out.read_text(encoding="utf-8")


def test_lint_exits_1_on_a_seed_with_serious_gaps() -> None:
    result = pledge("policy", "lint", str(seed_path("zabbix")))
    assert result.exit_code == 1, result.output
    assert "GDPR Art. 13(2)(a)" in result.output
    assert "fix:" in result.output


def test_lint_exits_0_when_nothing_serious(tmp_path: Path) -> None:
    text = tmp_path / "complete.md"
    text.write_text(COMPLETE, encoding="utf-8")
    result = pledge("policy", "lint", str(text), "--json")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)["findings"]
    assert all(f["severity"] != "serious" for f in findings)


def test_lint_a_policy_file_with_its_text() -> None:
    result = pledge(
        "policy",
        "lint",
        str(EXAMPLES / "bitrix.yaml"),
        "--text",
        str(seed_path("bitrix")),
        "--json",
    )
    assert result.exit_code == 1
    wheres = {f["where"] for f in json.loads(result.output)["findings"]}
    assert "collection_points" in wheres
    assert "text" in wheres


BAD_INPUTS = {
    "empty.txt": b"",
    "blank.txt": b"\n\n   \n",
    "image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "latin1.txt": "Nous collectons vos donn\xe9es.".encode("latin-1"),
    "german.txt": (
        "Wir erheben Ihre personenbezogenen Daten nur, wenn Sie uns diese freiwillig mitteilen. "
        "Die Daten werden ausschließlich zur Bearbeitung Ihrer Anfrage verwendet und nicht an "
        "Dritte weitergegeben."
    ).encode(),
    "huge.txt": b"We collect your name and use it to answer you. " * 110_000,
}


@pytest.mark.parametrize("command", ["import", "lint"])
@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_a_clear_error_with_exit_2(tmp_path: Path, command: str, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BAD_INPUTS[name])
    result = pledge("policy", command, str(path))
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert name in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_huge_input_is_five_megabytes() -> None:
    assert len(BAD_INPUTS["huge.txt"]) > 5_000_000


@pytest.mark.parametrize(
    "args",
    [
        ("policy", "import", "missing-file.txt"),
        ("policy", "lint", "missing-file.txt"),
        ("policy", "import", "README.md", "--format", "pdf"),
    ],
)
def test_missing_files_and_bad_options_exit_2(args: tuple[str, ...]) -> None:
    result = pledge(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_lint_of_a_malformed_policy_file_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    broken.write_text("pledge: 1\norganisation: [unclosed\n", encoding="utf-8")
    result = pledge("policy", "lint", str(broken))
    assert result.exit_code == 2
    assert "policy.yaml" in result.output
