"""``pledge logs`` as a person runs it: from a file or stdin, bad lines named, never fatal."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pledge.cli.main import app

ZIMBRA = Path(__file__).parents[2] / "examples" / "policies" / "zimbra.yaml"


def line(i: int) -> str:
    return f'203.0.113.{i} - - [10/Oct/2026:13:55:36 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "-"'


def test_ingest_from_stdin_names_bad_lines_and_reports_in_aggregate(tmp_path: Path) -> None:
    common = ["--policy", str(ZIMBRA), "--data-dir", str(tmp_path / "data")]
    log = "\n".join([line(1), "garbage", *(line(i) for i in range(2, 12)), "more garbage"])
    runner = CliRunner()
    result = runner.invoke(app, ["logs", "ingest", "-", *common], input=log)
    assert result.exit_code == 0, result.output
    assert "13 line(s) read, 11 visit(s) kept" in result.stdout
    assert "2 malformed line(s) skipped: line 2, 13" in result.stderr
    report = runner.invoke(app, ["logs", "report", "--json", *common])
    assert report.exit_code == 0, report.output
    assert '"value": "/pricing"' in report.stdout
    assert '"visitors": 11' in report.stdout


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "logs",
            "ingest",
            str(tmp_path / "nope.log"),
            "--policy",
            str(ZIMBRA),
            "--data-dir",
            str(tmp_path / "data"),
        ],
    )
    assert result.exit_code == 2
    assert "cannot read the log" in result.stderr
    assert "Traceback" not in result.output


def test_ingest_says_how_many_visits_were_dropped_for_the_minimum_age(tmp_path: Path) -> None:
    common = ["--policy", str(ZIMBRA), "--data-dir", str(tmp_path / "data")]
    child = line(1).replace("/pricing", "/signup?age=12")
    result = CliRunner().invoke(
        app, ["logs", "ingest", "-", *common], input="\n".join([child, line(2)])
    )
    assert result.exit_code == 0, result.output
    assert "2 line(s) read, 1 visit(s) kept" in result.stdout
    assert "1 visit(s) not kept: they state an age under the policy's minimum of 13" in (
        result.stderr
    )
