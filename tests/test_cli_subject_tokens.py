"""``pledge subjects token``: a website backend without API access gets the person's subject
token from the operator's CLI. The token works for the collector key it names and no other,
and the exit status tells a bad question (2) from an unknown subject or key (3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.api.keys import KeyStore
from pledge.cli.main import app
from pledge.errors import ExitCode
from pledge.settings import load_settings, open_vault
from pledge.store.vault import Vault

ZABBIX = Path(__file__).parents[1] / "examples" / "policies" / "zabbix.yaml"


def pledge(data: Path, *args: str) -> Result:
    return CliRunner().invoke(
        app, [*args, "--data-dir", str(data), "--policy", str(ZABBIX)], catch_exceptions=False
    )


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Vault]:
    vault = open_vault(load_settings(data_dir=tmp_path, policy=ZABBIX))
    return tmp_path, vault


def test_a_cli_token_lets_that_website_write_into_that_person_only(
    store: tuple[Path, Vault],
) -> None:
    data, vault = store
    try:
        keys = KeyStore(vault)
        website, website_text = keys.create("collector", None, "legacy site", by="test")
        _, other_text = keys.create("collector", None, "another site", by="test")
        alice = vault.collect("registration", _person("alice"), age=30).subject
        bob = vault.collect("registration", _person("bob"), age=30).subject
    finally:
        vault.close()
    minted = pledge(data, "subjects", "token", alice, "--audience", website.key_id, "--ttl", "60")
    assert minted.exit_code == 0, minted.output
    token = minted.stdout.strip()
    described = json.loads(
        pledge(data, "subjects", "token", alice, "--audience", website.key_id, "--json").stdout
    )
    assert described["subject"] == alice
    assert described["audience"] == website.key_id

    vault = open_vault(load_settings(data_dir=data, policy=ZABBIX))
    try:
        with TestClient(create_app(vault, settings=ApiSettings(data_dir=data))) as client:

            def write(subject: str, key: str) -> int:
                return client.post(
                    "/v1/collect/registration",
                    json={
                        "fields": {"name": "New Name", "email": "alice@example.org"},
                        "age": 30,
                        "subject": subject,
                        "subject_token": token,
                    },
                    headers={"Authorization": f"Bearer {key}"},
                ).status_code

            assert write(bob, website_text) == 403  # someone else
            assert write(alice, other_text) == 403  # another website's key
            assert write(alice, website_text) == 200
    finally:
        vault.close()


def _person(name: str) -> dict[str, str]:
    return {"name": name.title(), "email": f"{name}@example.org"}


def test_the_exit_status_names_what_was_wrong(store: tuple[Path, Vault]) -> None:
    data, vault = store
    try:
        keys = KeyStore(vault)
        website, _ = keys.create("collector", None, None, by="test")
        revoked, _ = keys.create("collector", None, None, by="test")
        keys.revoke(revoked.key_id, by="test")
        role, _ = keys.create("role", "support", None, by="test")
        alice = vault.collect("registration", _person("alice"), age=30).subject
    finally:
        vault.close()
    cases = {
        ("0" * 32, website.key_id, "60"): ExitCode.NOT_FOUND,  # no such subject
        (alice, "f" * 16, "60"): ExitCode.NOT_FOUND,  # no such key
        (alice, role.key_id, "60"): ExitCode.BAD_INPUT,  # staff keys never carry tokens
        (alice, revoked.key_id, "60"): ExitCode.BAD_INPUT,
        (alice, website.key_id, "3601"): ExitCode.BAD_INPUT,  # longer than an hour
        (alice, website.key_id, "0"): ExitCode.BAD_INPUT,
        ("ALICE", website.key_id, "60"): ExitCode.BAD_INPUT,
    }
    for (subject, audience, ttl), status in cases.items():
        result = pledge(data, "subjects", "token", subject, "--audience", audience, "--ttl", ttl)
        assert result.exit_code == status, (subject, audience, ttl, result.output)
        assert result.stdout == ""  # no token, and the error on stderr
