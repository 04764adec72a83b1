"""The two servers bench/http.py measures Pledge against, in the same run, on the same route
(``GET /v1/subjects/{subject}/data``) under the same uvicorn settings:

* ``trivial``: FastAPI answering one small JSON, no database: the ceiling of the stack;
* ``plain``: FastAPI doing what an unaudited store would, one primary-key SELECT of the subject
  and one durable INSERT + COMMIT per request (a log row), written the obvious way: a ``def``
  endpoint and one transaction on an engine with Pledge's own settings (WAL and
  ``synchronous=FULL`` on SQLite, a pool on PostgreSQL).

    BENCH_DATABASE_URL=... uvicorn --app-dir bench/http reference:plain --workers 2
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select

from pledge.store.database import open_engine
from pledge.store.schema import subjects

metadata = MetaData()
plain_log = Table(
    "bench_plain_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

trivial = FastAPI()


@trivial.get("/v1/subjects/{subject}/data")
async def trivial_read(subject: str) -> dict[str, Any]:
    return {"subject": subject, "values": {"registration.name": "A. Person"}}


@trivial.get("/healthz")
async def trivial_health() -> dict[str, str]:
    return {"status": "ok"}


plain = FastAPI()
_engine = (
    open_engine(os.environ["BENCH_DATABASE_URL"]) if "BENCH_DATABASE_URL" in os.environ else None
)


@plain.get("/v1/subjects/{subject}/data")
def plain_read(subject: str) -> dict[str, Any]:
    assert _engine is not None, "set BENCH_DATABASE_URL"
    with _engine.begin() as connection:
        row = connection.execute(
            select(subjects.c.subject_id, subjects.c.status).where(subjects.c.subject_id == subject)
        ).first()
        connection.execute(insert(plain_log).values(subject_id=subject, at=dt.datetime.now(dt.UTC)))
    return {"subject": subject, "found": row is not None}


@plain.get("/healthz")
async def plain_health() -> dict[str, str]:
    return {"status": "ok"}


def create_log_table(url: str) -> None:
    """Made once by the bench before the workers start, so that they do not race to."""
    engine = open_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
