"""Fixtures of the website tests: the site policy and vaults enforcing it (the browser itself
is a fixture of ``tests/conftest.py``, shared with the privacy-center tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from site_policy import site_policy_text

from pledge.policy import Policy, load_policy_text
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.vault import Vault

VaultOpener = Callable[[], Vault]


@pytest.fixture(scope="session")
def site_policy() -> Policy:
    return load_policy_text(site_policy_text(), file="site.yaml").policy


@pytest.fixture
def site_vault(
    database_url: str,
    master_key: LocalKeyFileProvider,
    clock: Callable[..., object],
    tmp_path: Path,
) -> Iterator[Vault]:
    """A vault enforcing the site policy, on SQLite and on PostgreSQL."""
    vault = Vault.open(
        database_url,
        master_key,
        site_policy_text(),
        policy_file="site.yaml",
        clock=clock,
        key_store_url=default_key_store_url(database_url, tmp_path),
    )
    yield vault
    vault.close()


@pytest.fixture(scope="session")
def session_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    """One SQLite vault for the whole browser session (each browser test uses a fresh
    browser profile, so visitors never share receipts)."""
    folder: Path = tmp_path_factory.mktemp("site")
    vault = Vault.open(
        f"sqlite:///{folder / 'pledge.sqlite3'}",
        LocalKeyFileProvider(folder / "master.key", create=True),
        site_policy_text(),
        policy_file="site.yaml",
    )
    yield vault
    vault.close()
