"""The minimised web log: counted visits in, group-size-gated counts out, old days deleted.

Rows arrive already minimised (:mod:`pledge.logs`); this module only keeps them, under the
policy's ``web_logs`` rules. Reports count distinct visitors per group and release a group
only when it reaches the policy's ``min_group_size``: a page one person read is not shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from pledge.errors import InputError
from pledge.policy.model import LogElement, WebLogs
from pledge.policy.taxonomy import covers
from pledge.store import collect
from pledge.store.audit import Record
from pledge.store.database import reading
from pledge.store.schema import web_visits

if TYPE_CHECKING:
    from pledge.store.vault import Vault

DIMENSIONS = ("page", "referrer", "browser", "day")
_COLUMNS = ("day", "hour", "visitor", "page", "referrer", "browser", "isp", "status")


@dataclass(frozen=True)
class GroupCount:
    value: str
    visitors: int
    hits: int


@dataclass(frozen=True)
class Report:
    dimension: str
    min_group_size: int
    counted: str  # "visitors" (distinct kept addresses) or "requests" when none are kept
    groups: list[GroupCount]
    withheld_groups: int
    withheld_hits: int


def rules(vault: Vault) -> WebLogs:
    found = vault.policy.policy.web_logs
    if found is None:
        raise InputError(
            "the policy has no 'web_logs' section, so no access log may be kept; "
            "add one (see docs/policy-reference.md)"
        )
    return found


def minimum_age(vault: Vault) -> int | None:
    """The web-log point's minimum age: the same rule as every collection point's, so a
    policy that keeps children out anywhere keeps their visits out of the log too."""
    return collect.minimum_age(vault.policy.policy, rules(vault).point)


def hasher(key: bytes) -> Callable[[str], str]:
    """A keyed hash of an address (BLAKE2b in its keyed mode, a MAC that hashes once where
    HMAC hashes twice): distinct visitors stay countable, and without the key no address can
    be recovered or guessed from the short list of possible ones."""
    base = hashlib.blake2b(key=key, digest_size=16)

    def keyed(address: str) -> str:
        mac = base.copy()
        mac.update(address.encode())
        return mac.hexdigest()

    return keyed


def store(vault: Vault, counts: Iterable[tuple[Sequence[object], int]], *, actor: str) -> int:
    """Keep one batch of counted visits (tuples in ``_COLUMNS`` order) in one transaction."""
    rules(vault)
    rows = [(*visit, n) for visit, n in counts]
    if not rows:
        return 0
    with vault.write() as connection:
        # Straight to the driver's executemany: SQLAlchemy's per-row parameter handling
        # cost more than the parsing of the lines themselves.
        connection.exec_driver_sql(_insert_sql(connection.dialect.paramstyle), rows)
        vault.record(
            connection,
            Record(
                action="web_log_ingest",
                actor=actor,
                detail={"rows": len(rows), "visits": sum(row[-1] for row in rows)},
            ),
        )
    return len(rows)


def _insert_sql(paramstyle: str) -> str:
    marks = ", ".join(["?" if paramstyle == "qmark" else "%s"] * (len(_COLUMNS) + 1))
    columns = ", ".join(_COLUMNS)
    return f"INSERT INTO {web_visits.name} ({columns}, hits) VALUES ({marks})"  # noqa: S608


def report(vault: Vault, dimension: str, *, limit: int = 50, actor: str) -> Report:
    """Counts per ``dimension`` value; groups smaller than the policy allows are withheld.
    Each report is an audit entry (who asked, by what, how much came out), as every read of
    what the store keeps about people is, though no group in it is a person."""
    if dimension not in DIMENSIONS:
        raise InputError(f"no report by '{dimension}'; choose one of {', '.join(DIMENSIONS)}")
    policy_rules = rules(vault)
    column = web_visits.c[dimension]
    by_visitor = LogElement.ip_address in policy_rules.keep
    size = (
        func.count(func.distinct(web_visits.c.visitor))
        if by_visitor
        else func.coalesce(func.sum(web_visits.c.hits), 0)
    )
    grouped = (
        select(
            column.label("value"),
            size.label("size"),
            func.sum(web_visits.c.hits).label("hits"),
        )
        .where(column.is_not(None))
        .group_by(column)
        .subquery()
    )
    least = policy_rules.min_group_size
    with reading(vault.engine) as connection:
        shown = connection.execute(
            select(grouped)
            .where(grouped.c.size >= least)
            .order_by(grouped.c.hits.desc(), grouped.c.value)
            .limit(limit)
        ).all()
        withheld = connection.execute(
            select(func.count(), func.coalesce(func.sum(grouped.c.hits), 0)).where(
                grouped.c.size < least
            )
        ).one()
    with vault.write() as connection:  # on record before anyone sees it; no lock while counting
        vault.record(
            connection,
            Record(
                action="web_log_report",
                actor=actor,
                detail={"by": dimension, "groups": len(shown), "withheld_groups": withheld[0]},
            ),
        )
    return Report(
        dimension,
        least,
        "visitors" if by_visitor else "requests",
        [GroupCount(str(r.value), int(r.size), int(r.hits)) for r in shown],
        int(withheld[0]),
        int(withheld[1]),
    )


def retention_days(vault: Vault) -> int | None:
    """The shortest retention rule covering the category of any field a visit is kept as."""
    policy = vault.policy.policy
    if policy.web_logs is None:
        return None
    point = policy.collection_points[policy.web_logs.point]
    categories = [point.fields[f].category for f in policy.web_logs.keep.values()]
    limits = [
        rule.days
        for rule in policy.retention
        if any(covers(c, kept) for c in rule.categories for kept in categories)
    ]
    return min(limits) if limits else None


def expire(vault: Vault, now: dt.datetime, *, actor: str) -> int:
    """Delete the days older than the retention period; the count of rows deleted."""
    days = retention_days(vault)
    if days is None:
        return 0
    before = (now - dt.timedelta(days=days)).strftime("%Y-%m-%d")
    with vault.write() as connection:
        gone = connection.execute(delete(web_visits).where(web_visits.c.day < before)).rowcount
        if gone:
            vault.record(
                connection,
                Record(
                    action="retention_delete",
                    actor=actor,
                    detail={"web_visits": gone, "days_before": before},
                ),
            )
    return int(gone or 0)
