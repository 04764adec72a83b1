"""Fixtures of the privacy-center tests: a running SMTP server, and the service over a vault
of an example policy with a person in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from center_support import Center, Sink

from pledge.store.vault import Vault


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def center(vault_factory: Callable[..., Vault], sink: Sink) -> Center:
    return Center.start(vault_factory("zabbix"), sink)
