"""The REST service in-process: a FastAPI app over a temporary SQLite vault, keys made on
demand, and a log capture that every test ends by scanning.

Each personal value a test sends and each API key it creates is remembered (see
``api_support.Sensitive``); after the test the captured log (Pledge's and the server's lines,
as JSON) must contain none of them.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from api_support import EXAMPLES, Sensitive, Service, ServiceFactory
from fastapi.testclient import TestClient

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.api.logs import configure_logging
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.vault import Vault


@pytest.fixture
def sensitive() -> Sensitive:
    return Sensitive()


@pytest.fixture(autouse=True)
def log_capture(sensitive: Sensitive) -> Iterator[io.StringIO]:
    """Capture every log line of the test, then check none holds a sensitive string."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()
    text = stream.getvalue()
    leaked = sorted(v for v in sensitive.values if v in text)
    assert not leaked, f"logged personal data or keys: {leaked}"


@pytest.fixture
def make_service(tmp_path: Path, sensitive: Sensitive) -> Iterator[ServiceFactory]:
    """``make_service("zabbix", rate_limit_burst=2)``: a service on a fresh database."""
    opened: list[tuple[Vault, TestClient]] = []

    def make(policy: str = "zabbix", **settings: Any) -> Service:
        folder = tmp_path / f"store{len(opened)}"
        path = EXAMPLES / f"{policy}.yaml"
        vault = Vault.open(
            f"sqlite:///{folder / 'pledge.sqlite3'}",
            LocalKeyFileProvider(tmp_path / "master.key", create=True),
            path.read_text(encoding="utf-8"),
            policy_file=str(path),
        )
        options = {"rate_limit_per_second": 1000.0, "rate_limit_burst": 1000, **settings}
        app = create_app(vault, settings=ApiSettings(data_dir=folder, **options))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append((vault, client))
        return Service(vault, client, sensitive)

    yield make
    for vault, client in opened:
        client.__exit__(None, None, None)
        vault.close()


@pytest.fixture
def service(make_service: ServiceFactory) -> Service:
    return make_service("zabbix")
