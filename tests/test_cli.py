"""The pledge command: what it prints, the exit codes scripts rely on, and errors without
tracebacks. Most tests run in-process; a few run a real process to prove the exit codes and
stderr a shell sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from pledge.cli.main import app
from pledge.policy import load_policy

EXAMPLE = Path(__file__).parents[1] / "examples" / "policies" / "zabbix.yaml"
SUPPORT = "essential.service.operations.support"
MARKETING = "marketing.communications.email"

runner = CliRunner()


def pledge(*args: str) -> Result:
    """Run the CLI in-process; any exception other than a clean exit fails the test."""
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})


def decide(*args: str) -> Result:
    return pledge("decide", "--policy", str(EXAMPLE), *args)


def decide_json(*args: str) -> dict[str, Any]:
    result = decide(*args, "--json")
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_no_arguments_shows_help() -> None:
    result = pledge()
    assert "policy" in result.output
    assert "decide" in result.output


def test_version() -> None:
    result = pledge("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("pledge ")


def test_check_prints_a_summary() -> None:
    result = pledge("policy", "check", str(EXAMPLE))
    assert result.exit_code == 0
    assert "is a valid policy" in result.stdout
    for expected in ("Zabbix LLC", "2015-04-13", "collection points", "communications"):
        assert expected in result.stdout


def test_check_json_counts_every_part() -> None:
    result = pledge("policy", "check", str(EXAMPLE), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    policy = load_policy(EXAMPLE).policy
    assert data["valid"] is True
    assert data["organisation"] == "Zabbix LLC"
    assert data["effective"] == "2015-04-13"
    parts = ("collection_points", "purposes", "roles", "recipients", "communications", "cookies")
    assert data["counts"] == {part: len(getattr(policy, part)) for part in parts}


def test_explain_shows_each_part_of_the_policy() -> None:
    result = pledge("policy", "explain", str(EXAMPLE))
    assert result.exit_code == 0
    out = result.stdout
    policy = load_policy(EXAMPLE).policy
    titles = ["Purposes", "Roles", "Recipients", "Communications", "Retention", "Legal holds",
              "Rights", "Cookies", "Changes to this policy"]  # fmt: skip
    names = [*policy.purposes, *policy.roles, *policy.recipients, *policy.communications]
    names += [*policy.taxonomy.data_categories, *policy.taxonomy.data_uses]
    names += [f"Collection point '{name}'" for name in policy.collection_points]
    for expected in (*titles, *names, "required", "optional", "minimum age"):
        assert expected in out, expected
    assert "opt_out: until the person opts out" in out
    assert f"{policy.rights.response_days} days" in out


def test_explain_json_is_the_whole_policy() -> None:
    result = pledge("policy", "explain", str(EXAMPLE), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data == load_policy(EXAMPLE).policy.model_dump(mode="json", by_alias=True)
    assert data["communications"]["newsletter"]["class"] == "marketing"


def test_decide_allowed_exits_0() -> None:
    result = decide("--role", "sales", "--purpose", SUPPORT, "--category", "user.name")
    assert result.exit_code == 0
    assert result.stdout.startswith("ALLOWED")
    assert "[roles.sales.purposes]" in result.stdout


def test_decide_denied_exits_1_and_says_why() -> None:
    result = decide("--role", "support", "--purpose", MARKETING, "--category", "user.name")
    assert result.exit_code == 1
    assert result.stdout.startswith("DENIED")
    assert "may not act for" in result.stdout
    assert result.stderr == ""


def test_decide_json_lists_released_and_withheld() -> None:
    data = decide_json(
        "--recipient",
        "payment_gateway",
        "--purpose",
        "essential.service.payment_processing",
        "--category",
        "user.financial.credit_card",
        "--category",
        "user.contact.email",
    )
    assert data["allowed"] is False
    assert data["released"] == ["user.financial.credit_card"]
    assert data["withheld"] == {
        "user.contact.email": {
            "code": "category_not_granted",
            "message": "recipient 'payment_gateway' may not see 'user.contact.email'",
            "ref": "recipients.payment_gateway.categories",
        }
    }
    assert data["obligations"] == [{"code": "record_disclosure", "detail": "payment_gateway"}]


def test_decide_marketing_message_carries_its_obligations() -> None:
    data = decide_json(
        "--communication", "newsletter", "--purpose", MARKETING, "--category", "user.contact.email"
    )
    assert data["allowed"] is True
    codes = [o["code"] for o in data["obligations"]]
    assert codes == ["marketing_footer", "unsubscribe_link", "advertisement_notice"]


@pytest.mark.parametrize(
    ("choice", "code"),
    [
        (["--withdraw", MARKETING], "consent_withdrawn"),
        (["--withdraw", f"purpose:{MARKETING}"], "consent_withdrawn"),
        (["--withdraw", "marketing"], "consent_withdrawn"),
        (["--withdraw", "channel:email"], "channel_opted_out"),
        (["--stop-all"], "stop_all"),
    ],
)
def test_decide_withdrawn_choices_deny(choice: list[str], code: str) -> None:
    data = decide_json(
        "--communication", "newsletter", "--purpose", MARKETING, "--category", "user.contact.email",
        *choice,
    )  # fmt: skip
    assert data["allowed"] is False
    assert code in [r["code"] for r in data["reasons"]]


def test_decide_collected_under_an_unknown_version_is_denied() -> None:
    data = decide_json(
        "--role", "sales", "--purpose", SUPPORT, "--category", "user.name",
        "--collected-under", "2014-01-01",
    )  # fmt: skip
    assert data["allowed"] is False
    assert [r["code"] for r in data["reasons"]] == ["unknown_version"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "sale", "--purpose", SUPPORT, "--category", "user.name"],
            "has no role 'sale' (did you mean 'sales'?)",
        ),
        (
            ["--role", "sales", "--purpose", "essential.service.operations.suport"],
            f"unknown purpose 'essential.service.operations.suport' (did you mean '{SUPPORT}'?)",
        ),
        (
            ["--role", "sales", "--purpose", SUPPORT, "--category", "user.contact.emial"],
            "unknown data category 'user.contact.emial' (did you mean 'user.contact.email'?)",
        ),
        (
            ["--role", "sales", "--purpose", SUPPORT, "--consent", "marketing.comunications"],
            "no declared purpose 'marketing.comunications'",
        ),
        (
            ["--role", "sales", "--purpose", SUPPORT, "--consent", "recipient:gateway"],
            "no recipient 'gateway'",
        ),
        (
            ["--role", "sales", "--purpose", SUPPORT, "--consent", "fax:yes"],
            "start it with one of purpose:, recipient:, channel:, show:, policy:",
        ),
        (
            ["--role", "sales", "--purpose", SUPPORT, "--consent", MARKETING,
             "--withdraw", MARKETING],
            "--consent and --withdraw disagree",
        ),
    ],
    ids=["role", "purpose", "category", "consent", "recipient", "prefix", "both"],
)  # fmt: skip
def test_decide_bad_input_exits_2_with_a_hint(args: list[str], message: str) -> None:
    if "--category" not in args:
        args = [*args, "--category", "user.name"]
    result = decide(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


@pytest.mark.parametrize(
    "actors",
    [[], ["--role", "sales", "--recipient", "payment_gateway"]],
    ids=["none", "two"],
)
def test_decide_needs_exactly_one_actor(actors: list[str]) -> None:
    result = decide(*actors, "--purpose", SUPPORT, "--category", "user.name")
    assert result.exit_code == 2
    assert "exactly one" in result.stderr


def test_policy_error_names_file_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    text = EXAMPLE.read_text().replace("min_age: 13", "min_age: old", 1)
    broken.write_text(text)
    where = _line_and_column(text, "old")
    for args in (["policy", "check"], ["policy", "explain"]):
        result = pledge(*args, str(broken))
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: {broken}:{where}: Input should be a valid integer")


def test_missing_policy_file_exits_2(tmp_path: Path) -> None:
    result = pledge("policy", "check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file"


@pytest.mark.parametrize(
    ("args", "code", "stdout_starts"),
    [
        (["--role", "sales", "--purpose", SUPPORT], 0, "ALLOWED"),
        (["--role", "support", "--purpose", MARKETING], 1, "DENIED"),
        (["--role", "nobody", "--purpose", SUPPORT], 2, ""),
        (["--role", "sales", "--purpose", SUPPORT, "--group-size", "many"], 2, ""),
    ],
    ids=["allowed", "denied", "unknown-role", "bad-argument"],
)
def test_real_process_decide_exit_codes(args: list[str], code: int, stdout_starts: str) -> None:
    done = _run_pledge(["decide", "--policy", str(EXAMPLE), "--category", "user.name", *args])
    assert done.returncode == code, done.stderr
    assert done.stdout.startswith(stdout_starts)
    assert "Traceback" not in done.stderr
    assert bool(done.stderr) == (code == 2)


def test_real_process_malformed_policy(tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    text = EXAMPLE.read_text().replace(
        "    purposes: [essential.service.op", "    purpses: [essential.service.op"
    )
    broken.write_text(text)
    done = _run_pledge(["policy", "check", str(broken)])
    assert done.returncode == 2
    assert done.stdout == ""
    where = _line_and_column(text, "purpses")
    assert done.stderr.startswith(f"error: {broken}:{where}: unknown key 'purpses' (did you mean")
    assert "Traceback" not in done.stderr


def _line_and_column(text: str, word: str) -> str:
    """``line:column`` of the first ``word`` in ``text``, as the error message gives them."""
    offset = text.index(word)
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"{line}:{column}"


def _run_pledge(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pledge.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
