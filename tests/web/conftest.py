"""Fixtures of the website tests: the site policy, vaults enforcing it, and (for the browser
tests) one headless Debian Chromium per session and the test site served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from site_policy import site_policy_text

from pledge.errors import PledgeError
from pledge.policy import Policy, load_policy_text
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.vault import Vault
from pledge.web.scan import launch

VaultOpener = Callable[[], Vault]


@pytest.fixture(scope="session")
def site_policy() -> Policy:
    return load_policy_text(site_policy_text(), file="site.yaml").policy


@pytest.fixture
def site_vault(
    database_url: str, master_key: LocalKeyFileProvider, clock: Callable[..., object]
) -> Iterator[Vault]:
    """A vault enforcing the site policy, on SQLite and on PostgreSQL."""
    vault = Vault.open(
        database_url, master_key, site_policy_text(), policy_file="site.yaml", clock=clock
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


@pytest.fixture(scope="session")
def chromium() -> Iterator[tuple[Any, str | None]]:
    """The session's browser, or why there is none."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        yield None, "Playwright is not installed: pip install -e '.[test]'"
        return
    try:
        with launch() as found:
            yield found, None
    except PledgeError as error:
        yield None, error.message


@pytest.fixture
def browser(chromium: tuple[Any, str | None], skip_or_fail: Any) -> Any:
    found, missing = chromium
    if found is None:
        skip_or_fail(f"no browser for the browser tests: {missing}")
    return found
