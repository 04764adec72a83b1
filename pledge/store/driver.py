"""The read path's few hot SELECTs, written once per placeholder style and run on the driver.

Every audited read runs the same three or four small SELECTs. Through SQLAlchemy each costs
more Python (cache keys, expanding IN parameters, result processing, events) than the
database spends answering it; on the driver they cost a tenth. Only plain SELECTs whose
columns need no type processing beyond :func:`utc` belong here; everything else goes through
SQLAlchemy as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@lru_cache(maxsize=256)
def _sql(template: str, paramstyle: str, count: int) -> str:
    mark = _MARKS[paramstyle]
    return template.format(ids=", ".join([mark] * count))


def select_in(connection: Connection, template: str, ids: Sequence[str]) -> list[Any]:
    """Rows of ``template`` (a SELECT with ``{ids}`` where the list of ids goes), in
    ``connection``'s transaction if one was begun (several reads that must agree need one)."""
    if not ids:
        return []
    sql = _sql(template, connection.dialect.paramstyle, len(ids))
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, list(ids))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def utc(value: dt.datetime | str) -> dt.datetime:
    """A timestamp column as an aware UTC datetime (SQLite hands back text without offset)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
