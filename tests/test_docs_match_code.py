"""The docs say what the code does: every route and error code is in docs/api.md, the reason
codes documented are the ones the code gives, and the exit-code table is the one the error
hierarchy generates. Each test names what to add or remove when it fails."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from pledge import errors
from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.api.problems import _HTTP_CODES
from pledge.cli import exit_codes
from pledge.errors import PledgeError
from pledge.store.vault import Vault

ROOT = Path(__file__).parents[1]
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
EMAIL = (ROOT / "docs" / "email.md").read_text(encoding="utf-8")

ROUTE = re.compile(r"`((?:[A-Z]+/)*[A-Z]+) (/[^`?\s]*)")
REASON_IN_CODE = re.compile(r"\bReason\(\s*\"([a-z_]+)\"")
TABLE_ROW_CODE = re.compile(r"^\| `([a-z_]+)` \|", re.MULTILINE)


def _shape(path: str) -> str:
    """``/v1/subjects/{subject}/data`` and ``/v1/subjects/{id}/data`` are the same route."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented_routes() -> set[tuple[str, str]]:
    return {
        (method, _shape(path))
        for methods, path in ROUTE.findall(API)
        for method in methods.split("/")
    }


def error_codes() -> set[str]:
    classes = [v for v in vars(errors).values() if isinstance(v, type)]
    return {c.code for c in classes if issubclass(c, PledgeError)}


def table_after(text: str, header: str) -> str:
    """The Markdown table that starts with ``header``."""
    start = text.index(header)
    end = text.find("\n\n", start)
    return text[start : end if end != -1 else None]


def reason_codes_in_code() -> set[str]:
    return {
        code
        for path in (ROOT / "pledge").rglob("*.py")
        for code in REASON_IN_CODE.findall(path.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_route_of_the_openapi_document_is_in_the_api_docs(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    app = create_app(vault_factory("zabbix"), settings=ApiSettings(data_dir=tmp_path))
    routes = {
        (method.upper(), _shape(operations.get("x-pledge-template", path)))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if not method.startswith("x-")
    }
    assert len(routes) > 20
    missing = sorted(routes - documented_routes())
    assert not missing, f"add these to the endpoint table of docs/api.md: {missing}"
    gone = sorted(documented_routes() - routes)
    assert not gone, f"docs/api.md documents routes the service does not have: {gone}"


def test_every_error_code_is_in_the_api_docs() -> None:
    codes = error_codes() | set(_HTTP_CODES.values()) | {"internal_error"}
    assert {"integrity_error", "master_key_error", "not_found"} <= codes
    missing = sorted(code for code in codes if f"`{code}`" not in API)
    assert not missing, f"add these codes to the error table of docs/api.md: {missing}"


def test_documented_reason_codes_are_the_ones_the_code_gives() -> None:
    decision_table = table_after(REFERENCE, "| reason | allows or refuses |")
    gate_table = table_after(EMAIL, "| reason | meaning | policy path |")
    documented = set(TABLE_ROW_CODE.findall(decision_table + "\n" + gate_table))
    in_code = reason_codes_in_code()
    assert {"collected_under_earlier_version", "no_consent", "no_address"} <= in_code
    assert in_code == documented, (
        "reason tables of docs/policy-reference.md and docs/email.md: "
        f"undocumented {sorted(in_code - documented)}, "
        f"documented but never given {sorted(documented - in_code)}"
    )


def test_the_exit_code_table_in_the_docs_is_the_generated_one() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert exit_codes.section(operations) == exit_codes.table(), (
        "docs/operations.md is out of date: run `python -m pledge.cli.exit_codes`"
    )


def test_the_generated_table_gives_each_class_of_error_its_own_status() -> None:
    table = exit_codes.table()
    for status, code in [
        (2, "`invalid_input`"),
        (1, "`denied`"),
        (3, "`not_found`"),
        (5, "`integrity_error`"),
        (5, "`master_key_error`"),
        (6, "`audit_write_failed`"),
    ]:
        row = next(line for line in table.splitlines() if line.startswith(f"| {status} |"))
        assert code in row
