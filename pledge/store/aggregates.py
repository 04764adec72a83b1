"""Aggregates: counts about a group that single no one out.

The recipient does not pick the people counted. The group is a segment the operator names
(``all``, or ``point:NAME``: the people whose data was collected at one collection point),
optionally within a window of whole calendar months (``2024-05``), so the same question always
describes the same group and no one can be added to or left out of it by hand. Only distinct,
active subjects count: a person is counted once however their data was collected. The
policy's minimum group size applies to the distinct group and to every count released.

A recipient whose policy entry sets ``noise_epsilon`` gets counts with differential-privacy
noise (OpenDP's discrete Laplace mechanism), and each answer spends that epsilon from the
recipient's ``privacy_budget``. The spending is a ledger (``privacy_spend``), written in the
transaction that releases the counts; when the budget is spent, nothing more is released.
With noise, even two overlapping segments that differ by one person tell little about that
person; without it, the fixed segments and windows are the only defence against differencing,
which docs/security.md says plainly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Select, func, insert, select

from pledge.errors import BudgetSpent, DeniedError, InputError, PledgeError
from pledge.policy import Actor
from pledge.policy.loader import suggest
from pledge.policy.model import Condition
from pledge.policy.taxonomy import covers
from pledge.store import release as read_path
from pledge.store.audit import Record
from pledge.store.schema import personal_values, privacy_spend, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault

CHUNK = 1000
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Segment:
    """A group the operator defines: everyone, or those collected at one point; optionally
    only data collected within whole calendar months ``since`` to ``until`` (inclusive)."""

    point: str | None = None
    since: str | None = None
    until: str | None = None

    @classmethod
    def parse(
        cls, vault: Vault, text: str, since: str | None = None, until: str | None = None
    ) -> Segment:
        point: str | None = None
        if text != "all":
            kind, sep, point = text.partition(":")
            points = vault.policy.policy.collection_points
            if kind != "point" or not sep or point not in points:
                raise InputError(
                    f"unknown segment '{text}'; use 'all' or 'point:<collection point>'"
                    f"{suggest(point, points) if kind == 'point' else ''}",
                    field="segment",
                )
        for name, month in (("since", since), ("until", until)):
            if month is not None and not _MONTH.fullmatch(month):
                raise InputError(f"'{name}' is a calendar month, like 2024-05", field=name)
        if since and until and since > until:
            raise InputError("'since' is after 'until'", field="since")
        return cls(point, since, until)

    def __str__(self) -> str:
        text = "all" if self.point is None else f"point:{self.point}"
        if self.since or self.until:
            text += f" [{self.since or ''}..{self.until or ''}]"
        return text

    def _filter(self, query: Select[tuple[str]]) -> Select[tuple[str]]:
        if self.point is not None:
            query = query.where(personal_values.c.point == self.point)
        if self.since is not None:
            query = query.where(personal_values.c.collected_at >= _month_start(self.since))
        if self.until is not None:
            query = query.where(personal_values.c.collected_at < _month_after(self.until))
        return query

    def members(self, connection: Connection) -> list[str]:
        """The distinct active subjects in the segment, in id order."""
        query = (
            select(personal_values.c.subject_id)
            .distinct()
            .join(subjects, subjects.c.subject_id == personal_values.c.subject_id)
            .where(subjects.c.status == "active")
        )
        return list(connection.scalars(self._filter(query).order_by(personal_values.c.subject_id)))


def _month_start(month: str) -> dt.datetime:
    year, number = (int(part) for part in month.split("-"))
    return dt.datetime(year, number, 1, tzinfo=dt.UTC)


def _month_after(month: str) -> dt.datetime:
    start = _month_start(month)
    return (start + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Aggregate:
    recipient: str  # the recipient's name, or the role's for staff limited to aggregates
    purpose: str
    segment: str
    counts: dict[str, int]
    epsilon: float | None = None
    budget_left: float | None = None


def aggregate(
    vault: Vault,
    recipient: str,
    purpose: str,
    categories: list[str],
    segment_text: str,
    *,
    since: str | None = None,
    until: str | None = None,
    role: bool = False,
) -> Aggregate:
    """Count, per category, the people of the segment (``segment_text``, within the months
    ``since`` to ``until``) whose data in it the policy lets ``recipient`` (with ``role``:
    staff in that role limited to aggregates) have for ``purpose``; refuse (on record) a
    group or count too small, or a question the recipient's privacy budget cannot pay for.
    Who asks is checked before what is asked: a recipient that is not aggregate-only learns
    nothing about the question."""
    policy = vault.policy.policy
    epsilon: float | None = None
    budget: float | None = None
    if role:
        staff = policy.roles.get(recipient)
        if staff is None or staff.min_group_size is None:
            raise InputError(
                f"'{recipient}' is not a role limited to aggregates in the policy", field="role"
            )
        minimum, actor = staff.min_group_size, Actor.role(recipient)
    else:
        spec = policy.recipients.get(recipient)
        if spec is None or spec.condition is not Condition.aggregate:
            # The recipient is the key's, not the request's: a refusal of the asker (403).
            raise DeniedError(
                f"'{recipient}' is not an aggregate-only recipient of the policy",
                recipient=recipient,
            )
        minimum, actor = spec.min_group_size or 0, Actor.recipient(recipient)
        epsilon, budget = spec.noise_epsilon, spec.privacy_budget
    segment = Segment.parse(vault, segment_text, since, until)
    if not categories:
        raise InputError("name at least one category to count", field="categories")
    refusal: DeniedError | None = None
    with vault.write() as connection:
        members = segment.members(connection)
        counts = dict.fromkeys(categories, 0)
        for start in range(0, len(members), CHUNK):
            # Each person is judged on everything but the group's size, which is checked
            # below on the distinct counts.
            grants = read_path.judge(
                vault,
                connection,
                members[start : start + CHUNK],
                actor,
                purpose,
                categories,
                group_size=minimum,
            )
            for grant in grants.values():
                if isinstance(grant, PledgeError):
                    continue  # erased since the segment was read: not counted
                for category in categories:
                    if any(covers(category, v.category) for v in grant.released):
                        counts[category] += 1
        smallest = min([len(members), *counts.values()])
        spent = _spent(connection, recipient) if epsilon is not None else 0.0
        if smallest < minimum:
            refusal = DeniedError(
                f"{actor} receives counts of at least {minimum} people only; this "
                f"segment gives {smallest}",
                recipient=recipient,
            )
        elif epsilon is not None and budget is not None and spent + epsilon > budget + 1e-9:
            refusal = BudgetSpent(
                f"'{recipient}' has spent {spent:g} of its privacy budget of {budget:g}; "
                f"another answer costs {epsilon:g}",
                recipient=recipient,
            )
        if refusal is not None:
            vault.record(
                connection,
                Record(
                    action="disclosure_refused",
                    actor=str(actor),
                    purpose=purpose,
                    detail={"reason": refusal.code, "segment": str(segment), "group": smallest},
                ),
            )
        else:
            if epsilon is not None:
                counts = _noisy(counts, epsilon)
                _spend(connection, recipient, epsilon, str(segment), vault.clock())
            vault.record(
                connection,
                Record(
                    action="disclose_aggregate",
                    actor=str(actor),
                    purpose=purpose,
                    detail={"counts": counts, "segment": str(segment), "epsilon": epsilon},
                ),
            )
    if refusal is not None:
        raise refusal  # once the transaction is over, so that the refusal stays on record
    left = None if budget is None or epsilon is None else round(budget - spent - epsilon, 9)
    return Aggregate(recipient, purpose, str(segment), counts, epsilon, left)


def _noisy(counts: dict[str, int], epsilon: float) -> dict[str, int]:
    """Discrete Laplace noise calibrated so the whole answer costs ``epsilon``: one person
    changes each count by at most one, so the L1 sensitivity is the number of counts."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    names = sorted(counts)
    mechanism = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)),
        dp.l1_distance(T=int),
        scale=len(names) / epsilon,
    )
    noisy = mechanism([counts[n] for n in names])
    return {name: max(0, int(value)) for name, value in zip(names, noisy, strict=True)}


def _spent(connection: Connection, recipient: str) -> float:
    total = connection.execute(
        select(func.coalesce(func.sum(privacy_spend.c.epsilon), 0.0)).where(
            privacy_spend.c.recipient == recipient
        )
    ).scalar_one()
    return float(total)


def _spend(
    connection: Connection, recipient: str, epsilon: float, segment: str, at: dt.datetime
) -> None:
    """One ledger line; concurrent spenders collide on (recipient, seq) and one fails, so the
    budget is never spent twice over."""
    last = connection.execute(
        select(func.max(privacy_spend.c.seq)).where(privacy_spend.c.recipient == recipient)
    ).scalar()
    connection.execute(
        insert(privacy_spend).values(
            recipient=recipient,
            seq=(last or 0) + 1,
            epsilon=epsilon,
            segment=segment[:200],
            at=at,
        )
    )
