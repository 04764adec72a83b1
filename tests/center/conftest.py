"""Fixtures of the privacy-center tests: a running SMTP server, and the service over a vault
of an example policy with a person in it."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from center_support import Center, Sink
from mail_support import sink

from pledge.api.logs import configure_logging
from pledge.store.vault import Vault


@pytest.fixture
def center(vault_factory: Callable[..., Vault], sink: Sink) -> Center:
    return Center.start(vault_factory("zabbix"), sink)


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Every log line of the test (Pledge's and the server's, as JSON), to search after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def screenshots(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """The folder every page's screenshot goes to: ``$PLEDGE_ARTIFACTS/privacy-center`` (CI
    keeps it), else a temporary one; printed at the end of the run."""
    base = os.environ.get("PLEDGE_ARTIFACTS")
    folder = Path(base) / "privacy-center" if base else tmp_path_factory.mktemp("privacy-center")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        count = len(list(folder.glob("*.png")))
        reporter.write_line(f"privacy-center screenshots ({count}): {folder}")
