"""The security suite: every attack runs against a real ``pledge serve`` in a subprocess, once
on SQLite and once on PostgreSQL, with keys of every scope (see ``served``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.served import Server, start

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per test module and database; failures are not limited here (the flood
    tests start their own)."""
    yield from start(
        request,
        tmp_path_factory.mktemp("served"),
        PLEDGE_FAILURES_BURST="100000",
        PLEDGE_FAILURES_PER_MINUTE="100000",
    )


@pytest.fixture(params=DATABASES)
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own, for attacks that count what the whole store holds or that
    exhaust a limit; failures are limited as configured by default."""
    yield from start(request, tmp_path)
