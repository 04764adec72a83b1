"""A broken policy file gives one PolicyError that says where: file, line and column.

Each case is the Zabbix example with one small edit, so the edit alone explains the error.
The same files through ``pledge policy check`` exit 2 with that error and no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.errors import PolicyError
from pledge.policy import load_policy

EXAMPLE = Path(__file__).parents[1] / "examples" / "policies" / "zabbix.yaml"
TEXT = EXAMPLE.read_text()


def edit(old: str, new: str) -> str:
    """The example with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert TEXT.count(old) == 1, f"{old!r} is not unique in the example"
    return TEXT.replace(old, new)


def extension(key: str) -> str:
    """The example with ``key`` added to the policy's own data categories."""
    added = f"  data_categories:\n    {key}: {{name: Added}}\n"
    if "\ntaxonomy:\n" in TEXT:
        return edit("\ntaxonomy:\n", f"\ntaxonomy:\n{added}")
    return edit("\ncategories:\n", f"\ntaxonomy:\n{added}\ncategories:\n")


def position(text: str, at: str) -> tuple[int, int]:
    """Line and column (1-based) the error should point at: where ``at`` occurs in ``text``,
    or, when ``at`` reads ``context|target``, where target starts inside that context."""
    context, _, target = at.rpartition("|")
    whole = context + target
    assert text.count(whole) == 1, f"{whole!r} is not unique in the edited policy"
    offset = text.index(whole) + len(context)
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)


CASES = [
    # --- YAML and shape ---------------------------------------------------------------------
    pytest.param(
        "- pledge: 1\n", "- pledge",
        "a policy is a mapping of keys to values, not a list",
        id="not-a-mapping",
    ),
    pytest.param(
        edit("effective: 2015-04-13\n", "effective: 2015-04-13: x\n"), "2015-04-13|: x",
        "not valid YAML: mapping values are not allowed",
        id="yaml-syntax",
    ),
    pytest.param(
        edit("  name: Zabbix LLC\n", "  name: Zabbix LLC\n  name: Zabbix\n"), "name: Zabbix\n",
        "key 'name' appears twice; keep one",
        id="duplicate-key",
    ),
    pytest.param(
        edit("    min_age: 13   # COPPA", '    min_age: "old"   # COPPA'), '"old"',
        "Input should be a valid integer, unable to parse string as an integer (got 'old')",
        id="min-age-not-a-number",
    ),
    pytest.param(
        edit("effective: 2015-04-13\n", "effective: soon\n"), "soon",
        "Input should be a valid date",
        id="effective-not-a-date",
    ),
    pytest.param(
        edit("  response_days: 10\n", "  response_days: 1000\n"), "1000",
        "Input should be less than or equal to 365 (got 1000)",
        id="response-days-out-of-range",
    ),
    pytest.param(
        edit("    purposes: [essential.service.operations.support]\n",
             "    purpses: [essential.service.operations.support]\n"), "purpses",
        "unknown key 'purpses' (did you mean 'purposes'?)",
        id="typo-nested-key",
    ),
    pytest.param(
        edit("collection_points:\n", "collection_point:\n"), "collection_point:",
        "unknown key 'collection_point' (did you mean 'collection_points'?)",
        id="typo-top-level-key",
    ),
    pytest.param(
        edit("    kind: processor\n", "    kind: processor\n    condition: aggregate\n"),
        "kind: processor",
        "min_group_size is set exactly when condition is 'aggregate'",
        id="aggregate-without-min-group-size",
    ),
    # --- taxonomy ---------------------------------------------------------------------------
    pytest.param(
        edit("name: {category: user.name}\n      email: {category: user.contact.email",
             "name: {category: user.name}\n      email: {category: user.contact.emial"),
        "user.contact.emial",
        "unknown data category 'user.contact.emial' (did you mean 'user.contact.email'?)",
        id="unknown-category",
    ),
    pytest.param(
        edit("    subjects: [customer, prospect]\n", "    subjects: [customer, prospekt]\n"),
        "prospekt", "unknown subject 'prospekt' (did you mean 'prospect'?)",
        id="unknown-subject",
    ),
    pytest.param(
        extension("user.name"), "{name: Added}",
        "'user.name' is already in fideslang's taxonomy; remove it from here",
        id="extension-already-known",
    ),
    pytest.param(
        extension("telemetry"), "{name: Added}", "'telemetry' needs a parent key",
        id="extension-without-parent",
    ),
    pytest.param(
        extension("user.made_up.crash"), "{name: Added}",
        "the parent 'user.made_up' of 'user.made_up.crash' is not a known key",
        id="extension-unknown-parent",
    ),
    # --- contradictions between parts (consistency.py) ----------------------------------------
    pytest.param(
        edit("    purposes: [functional.service]\n", "    purposes: [essential.service]\n"),
        "functional.service]",
        "role 'marketing' is granted purpose 'functional.service', "
        "but no collection point collects data for it",
        id="role-purpose-never-collected-for",
    ),
    pytest.param(
        edit("    purposes: [essential.service.operations.support]\n",
             "    purposes: [essential.service.operations.suport]\n"),
        "essential.service.operations.suport",
        "purpose 'essential.service.operations.suport' is not declared under 'purposes' "
        "(did you mean 'essential.service.operations.support'?)",
        id="purpose-not-declared",
    ),
    pytest.param(
        edit("credit_card, user.contact.address]", "credit_card, user.financial.bank_account]"),
        "user.financial.bank_account",
        "recipient 'payment_gateway' is given category 'user.financial.bank_account', "
        "which no collection point collects",
        id="recipient-category-never-collected",
    ),
    pytest.param(
        edit("\nrights:\n", "\nretention:\n  - categories: [user.financial.credit_card]\n"
             "    days: 30\n\nrights:\n"), "categories: [|user.financial.credit_card]",
        "'user.financial.credit_card' is pass-through (never stored), so it cannot be retained",
        id="pass-through-retained",
    ),
    pytest.param(
        edit("    purposes: [functional.service]\n",
             "    purposes: [functional.service]\n    choices: [functional.service]\n"),
        "choices: [|functional.service]",
        "'functional.service' is offered as a choice but its basis is 'collection'; "
        "a choice needs opt_in or opt_out",
        id="choice-with-collection-basis",
    ),
    pytest.param(
        edit("    purposes: [functional.service]\n",
             "    purposes: [functional.service]\n    choices: [marketing.communications.email]\n"),
        "[functional.service]\n    choices: [|marketing",
        "choice 'marketing.communications.email' is not among this point's purposes",
        id="choice-not-a-purpose-of-the-point",
    ),
    pytest.param(
        edit("    purpose: marketing.communications.email\n",
             "    purpose: essential.service.notifications.email\n"),
        "purpose: |essential.service.notifications.email\n    advertisement_notice",
        "a marketing message cannot use 'essential.service.notifications.email' "
        "(basis collection); it needs basis opt_in or opt_out",
        id="marketing-message-on-collection-basis",
    ),
    pytest.param(
        edit("    purpose: essential.service.notifications.email\n",
             "    purpose: essential.service.operations.support\n"),
        "purpose: |essential.service.operations.support",
        "purpose 'essential.service.operations.support' has no channel",
        id="message-purpose-without-channel",
    ),
    pytest.param(
        edit("    purpose: essential.service.notifications.email\n",
             "    purpose: essential.service.notifications.email\n"
             "    advertisement_notice: true\n"),
        "notifications.email\n    advertisement_notice: |true",
        "advertisement_notice applies to marketing messages only",
        id="ad-notice-on-transactional-message",
    ),
    pytest.param(
        edit("    kind: processor\n", "    kind: processor\n    condition: subject_election\n"),
        "categories: [|user.name, user.financial.credit_card",
        "recipient 'payment_gateway' depends on the person's election, but no field of "
        "category 'user.name' offers a visibility_choice",
        id="election-without-visibility-choice",
    ),
    pytest.param(
        edit("\ncategories:\n", "\ncategories:\n  user.biometric: {}\n"), "user.biometric: |{}",
        "category 'user.biometric' is described but never collected",
        id="category-described-not-collected",
    ),
    pytest.param(
        edit("in during a visit\n", "in during a visit\n"
             "  - {name: session, lifetime: persistent, category: analytics, days: 30}\n"),
        "{name: |session, lifetime: persistent", "cookie 'session' is declared twice",
        id="cookie-twice",
    ),
]  # fmt: skip


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_unedited_example_loads() -> None:
    assert load_policy(EXAMPLE).version == "2015-04-13"


def test_position_counts_from_one() -> None:
    assert position("a: 1\nbb: [x, y]\n", "bb: [x, |y]") == (2, 9)


@pytest.mark.parametrize(("text", "at", "message"), CASES)
def test_one_error_at_the_place_of_the_edit(
    tmp_path: Path, text: str, at: str, message: str
) -> None:
    path = write(tmp_path, text)
    line, column = position(text, at)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(path), line, column)
    assert str(error).startswith(f"{path}:{line}:{column}: ")
    assert message in error.message


@pytest.mark.parametrize(("text", "at", "message"), CASES)
def test_cli_check_exits_2_with_the_error(tmp_path: Path, text: str, at: str, message: str) -> None:
    path = write(tmp_path, text)
    line, column = position(text, at)
    result = CliRunner().invoke(app, ["policy", "check", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}:{line}:{column}: ")
    assert message in result.stderr


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n"], ids=["empty", "comment-only"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    """An empty file has no line to point at; the error names the file and what to write."""
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match="the file is empty; a policy needs at least 'pledge: 1'"):
        load_policy(path)
    result = CliRunner().invoke(app, ["policy", "check", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: the file is empty")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(TEXT.encode("utf-16"))
    with pytest.raises(PolicyError, match="cannot read the file: not UTF-8 text"):
        load_policy(path)


def test_the_error_reports_the_first_problem_and_counts_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, edit("  functional.service:  ", "  functional.servce:  "))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.message == (
        "unknown data use 'functional.servce' (did you mean 'functional.service'?) "
        "(and 2 more problems)"
    )
    assert caught.value.path == "purposes.functional.servce"
