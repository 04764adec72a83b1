"""The security suite: every attack runs against a real ``pledge serve`` in a subprocess, once
on SQLite and once on PostgreSQL, with keys of every scope (see ``served``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from served import Server, start

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
