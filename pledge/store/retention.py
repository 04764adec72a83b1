"""Retention: delete what the policy no longer lets us keep, and say what went (not the values).

Six things end: values past their category's retention period, credentials (password
hashes) past theirs, counted from when each was set, legal holds of erased subjects past their
end (after which the subject's key is destroyed too), days of the minimised web log older
than the retention of what a visit keeps, cookie-banner answers of browsers silent for longer
than the policy keeps them, and expired sign-in links and ended sessions of the web pages (and,
though no rule sets it, the keys of erasure farewells that are over).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Table, delete, select, update

from pledge.policy.taxonomy import covers
from pledge.store import outbox, receipts, sessions, weblogs
from pledge.store.audit import Record
from pledge.store.rights import hold_days
from pledge.store.schema import credentials, personal_values, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault


@dataclass(frozen=True)
class RetentionReport:
    deleted: dict[str, int]  # category -> values deleted
    subjects: int
    keys_destroyed: int
    web_visits: int = 0
    sign_ins: int = 0  # expired sign-in links and ended sessions forgotten
    cookie_receipts: int = 0  # browsers whose banner answers aged out


def _expired(
    vault: Vault, category: str, collected_at: dt.datetime, status: str, now: dt.datetime
) -> bool:
    age = now - collected_at
    if status == "deactivated":
        days = hold_days(vault, category)
        return days is None or age > dt.timedelta(days=days)
    limits = [
        r.days
        for r in vault.policy.policy.retention
        if any(covers(c, category) for c in r.categories)
    ]
    return bool(limits) and age > dt.timedelta(days=min(limits))


def run(vault: Vault, *, actor: str = "retention") -> RetentionReport:
    now = vault.clock()
    deleted: dict[str, int] = defaultdict(int)
    touched = 0
    shredded_ids: list[str] = []
    with vault.write() as connection:
        by_subject: dict[str, list[tuple[Table, str, str, str]]] = defaultdict(list)
        status_of: dict[str, str] = {}
        for table, since in ((personal_values, "collected_at"), (credentials, "set_at")):
            rows = connection.execute(
                select(
                    table.c.subject_id,
                    table.c.point,
                    table.c.field,
                    table.c.category,
                    table.c[since].label("since"),
                    subjects.c.status,
                ).join(subjects, subjects.c.subject_id == table.c.subject_id)
            ).all()
            for r in rows:
                status_of[r.subject_id] = r.status
                if _expired(vault, r.category, r.since, r.status, now):
                    by_subject[r.subject_id].append((table, r.point, r.field, r.category))
        for subject, gone in by_subject.items():
            for table, point, field, category in gone:
                connection.execute(
                    delete(table).where(
                        table.c.subject_id == subject,
                        table.c.point == point,
                        table.c.field == field,
                    )
                )
                deleted[category] += 1
            left = any(
                connection.execute(
                    select(table.c.field).where(table.c.subject_id == subject)
                ).first()
                for table in (personal_values, credentials)
            )
            destroy = not left and status_of[subject] == "deactivated"
            if destroy:
                connection.execute(
                    update(subjects)
                    .where(subjects.c.subject_id == subject)
                    .values(status="erased", status_at=now)
                )
                shredded_ids.append(subject)
            touched += 1
            vault.record(
                connection,
                Record(
                    action="retention_delete",
                    actor=actor,
                    subject_ref=vault.subject_ref(subject),
                    detail={
                        "fields": sorted(f"{p}.{f}" for _, p, f, _ in gone),
                        "key_destroyed": destroy,
                    },
                ),
            )
        if shredded_ids:  # one key-store transaction, once the rest has succeeded
            vault.key_store.destroy(shredded_ids)
    web_visits = weblogs.expire(vault, now, actor=actor)
    outbox.sweep_farewells(vault, now)
    return RetentionReport(
        dict(deleted),
        touched,
        len(shredded_ids),
        web_visits,
        sessions.prune(vault, now),
        receipts.expire(vault, now, actor=actor),
    )
