"""THE read path: every value that leaves the store (a read, a disclosure, an export, an email
address for the mail gate) leaves through :func:`judge`, with its audit leaf.

For a set of subjects it loads the values with the point and policy version each was collected
under, asks the decision function once per (version, point) group (in bulk across subjects),
has one audit leaf per subject written, and only then may anything be decrypted. A value is
released only if the point it was collected at collects it for the purpose asked: the same
category given at another point, for other purposes, stays withheld.
Same-named fields from different points are kept apart by their ``point.field`` key.

:meth:`Vault.release <pledge.store.vault.Vault.release>` (:func:`release`) decides on a snapshot
of its own and has its leaves committed together with other reads' (:mod:`pledge.store.batch`,
which decides again should a subject change in between); it decrypts after that commit, so a
read the log cannot record returns nothing. Callers that hand the values on inside a
transaction of theirs (a disclosure row, a message in the outbox) use :func:`within`, which
queues the leaves in that transaction, and open the values there: nothing they write outlives
a transaction whose leaf did not commit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import Connection, bindparam, select

from pledge.errors import AuditWriteError, DeniedError, NotFoundError, PledgeError
from pledge.policy import Actor, Choices, Decision, Obligation, Reason, Request, decide_many
from pledge.store import consents as consent_ledger
from pledge.store import driver
from pledge.store.audit import Record
from pledge.store.batch import Mark, Ticket
from pledge.store.crypto import SubjectCipher
from pledge.store.schema import subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault


class SubjectAccess:
    """The person themselves, under the right of access: every value they gave is theirs to
    see, whatever the purposes of its point. Only the export uses it."""

    def __str__(self) -> str:
        return "subject"


SUBJECT = SubjectAccess()
RIGHT_OF_ACCESS = Reason("right_of_access", "the person's own data", "rights.access")
NOT_ALLOWED = Reason("denied", "not allowed", "policy")


@dataclass(frozen=True, slots=True)
class StoredValue:
    """One value as stored, still encrypted, with the point and policy it was collected under."""

    point: str
    field: str
    category: str
    ciphertext: bytes
    policy_version: str
    collected_at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.point}.{self.field}"


@dataclass(frozen=True, slots=True)
class Value:
    """One released value, decrypted."""

    point: str
    field: str
    category: str
    value: str
    policy_version: str
    collected_at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.point}.{self.field}"


@dataclass(frozen=True)
class Released:
    """One subject's outcome: the values released (oldest first), those withheld by
    ``point.field`` with the reason, and the decisions behind them."""

    subject: str
    purpose: str
    items: tuple[Value, ...]
    withheld: dict[str, Reason]
    decisions: tuple[Decision, ...]

    @property
    def values(self) -> dict[str, str]:
        """Released values by ``point.field``."""
        return {v.key: v.value for v in self.items}

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        """What the caller must do, from every decision that released something."""
        return tuple(dict.fromkeys(o for d in self.decisions if d.released for o in d.obligations))


@dataclass(frozen=True)
class Release:
    """The outcome for each subject asked, in the order asked: what was released (possibly
    nothing), or the error that refused the subject (unknown or erased)."""

    outcomes: list[Released | PledgeError]


@dataclass
class Grant:
    """One subject's decision inside the transaction: the values it may open, not yet open."""

    subject: str
    released: list[StoredValue]
    withheld: dict[str, Reason]
    decisions: list[Decision]
    withheld_values: list[StoredValue] = field(default_factory=list)
    leaf: int | None = None
    mark: Mark | None = None  # the subject's state the decision saw
    _cipher: SubjectCipher | None = field(default=None, repr=False)

    def cipher(self, vault: Vault) -> SubjectCipher:
        """The subject's cipher, its key fetched and unwrapped once however often it is used
        (see :func:`prime` to fetch many at once)."""
        if self._cipher is None:
            self._cipher = vault.ciphers([self.subject]).get(self.subject)
            if self._cipher is None:
                raise NotFoundError(
                    f"subject '{self.subject}' was erased: its key is destroyed",
                    subject=self.subject,
                )
        return self._cipher

    def denial(self) -> Reason:
        """Why nothing was released, for a one-line refusal."""
        first = next((d.denial for d in self.decisions if d.denial), None)
        return first or Reason(
            "no_data", "the subject has no data in those categories", "collection_points"
        )


Actorish = Actor | SubjectAccess
Recorder = Callable[[Grant, str], Record]
"""Builds a subject's audit leaf from its grant and its pseudonym in the log."""

_SUBJECTS = select(subjects.c.subject_id, subjects.c.status).where(
    subjects.c.subject_id.in_(bindparam("ids", expanding=True))
)
_SUBJECTS_SQL = "SELECT subject_id, status FROM subjects WHERE subject_id IN ({ids})"
_VALUES_SQL = (
    "SELECT subject_id, point, field, category, ciphertext, policy_version, collected_at "
    "FROM personal_values WHERE subject_id IN ({ids})"
)


def load(
    connection: Connection, subject_ids: Sequence[str], categories: Iterable[str] | None = None
) -> dict[str, list[StoredValue]]:
    """The subjects' values still encrypted, by subject; only those under ``categories``."""
    wanted = None if categories is None else tuple(categories)
    prefixes = None if wanted is None else tuple(f"{c}." for c in wanted)
    found: dict[str, list[StoredValue]] = defaultdict(list)
    for subject, point, name, category, ciphertext, version, at in driver.select_in(
        connection, _VALUES_SQL, list(subject_ids)
    ):
        if wanted is None or category in wanted or category.startswith(prefixes):
            found[subject].append(
                StoredValue(point, name, category, bytes(ciphertext), version, driver.utc(at))
            )
    return found


def judge(
    vault: Vault,
    connection: Connection,
    subject_ids: Sequence[str],
    actor: Actorish,
    purpose: str,
    categories: Iterable[str] | None = None,
    *,
    legal_ref: str | None = None,
    group_size: int | None = None,
    lock: bool = False,
) -> dict[str, Grant | PledgeError]:
    """Decide for each subject without recording or opening anything (a count, a dry run)."""
    ids = list(dict.fromkeys(subject_ids))
    if not ids:
        return {}
    held = vault.for_legal_obligation(purpose)
    if lock:
        found = list(connection.execute(_SUBJECTS.with_for_update(), {"ids": ids}))
    else:
        found = driver.select_in(connection, _SUBJECTS_SQL, ids)
    status: dict[str, str] = {subject: state for subject, state in found}
    outcomes: dict[str, Grant | PledgeError] = {}
    live: list[str] = []
    for subject in ids:
        state = status.get(subject)
        if state is None:
            outcomes[subject] = NotFoundError(f"no subject '{subject}'", subject=subject)
        elif state == "erased" or (state == "deactivated" and not held):
            outcomes[subject] = NotFoundError(f"subject '{subject}' was erased", subject=subject)
        else:
            live.append(subject)
    if not live:
        return outcomes
    values = load(connection, live, categories)
    if isinstance(actor, SubjectAccess):
        for subject in live:
            mark = (status[subject], None)
            outcomes[subject] = Grant(subject, values[subject], {}, [], mark=mark)
        return outcomes
    choices, latest = consent_ledger.current_and_latest(connection, live)
    grants = {s: Grant(s, [], {}, [], mark=(status[s], latest[s])) for s in live}
    _decide(vault, grants, values, choices, actor, purpose, legal_ref, group_size)
    outcomes.update(grants)
    return outcomes


def _decide(
    vault: Vault,
    grants: dict[str, Grant],
    values: dict[str, list[StoredValue]],
    choices: dict[str, Choices],
    actor: Actor,
    purpose: str,
    legal_ref: str | None,
    group_size: int | None,
) -> None:
    """One bulk decision per (version, point, categories): each subject's values at a point
    are judged against that point's purposes only."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[Grant, list[StoredValue]]]] = (
        defaultdict(list)
    )
    for subject, grant in grants.items():
        by_point: dict[tuple[str, str], list[StoredValue]] = defaultdict(list)
        for value in values.get(subject, ()):
            by_point[value.policy_version, value.point].append(value)
        for (version, point), found in by_point.items():
            cats = tuple(sorted({v.category for v in found}))
            groups[version, point, cats].append((grant, found))
    for (version, point, cats), members in groups.items():
        request = Request(
            actor,
            purpose,
            cats,
            collected_under=version,
            points=frozenset((point,)),
            legal_ref=legal_ref,
            group_size=group_size,
        )
        decisions = decide_many(
            vault.policy, request, [choices[grant.subject] for grant, _ in members]
        )
        why: dict[int, tuple[dict[str, Reason], Reason]] = {}  # decide_many shares outcomes
        for (grant, found), decision in zip(members, decisions, strict=True):
            grant.decisions.append(decision)
            released = decision.released
            for value in found:
                if value.category in released:
                    grant.released.append(value)
                    continue
                known = why.get(id(decision))
                if known is None:
                    known = why[id(decision)] = (
                        dict(decision.withheld),
                        decision.denial or NOT_ALLOWED,
                    )
                grant.withheld_values.append(value)
                grant.withheld[value.key] = known[0].get(value.category) or known[1]


def read_record(actor: Actorish, purpose: str, action: str = "read") -> Recorder:
    """The leaf of a plain read: what was released and what withheld, by ``point.field``."""

    def record(grant: Grant, ref: str) -> Record:
        return Record(
            action=action,
            actor=str(actor),
            subject_ref=ref,
            purpose=purpose,
            detail={
                "released": sorted(v.key for v in grant.released),
                "withheld": {k: r.code for k, r in sorted(grant.withheld.items())},
            },
        )

    return record


def within(
    vault: Vault,
    connection: Connection,
    subject_ids: Sequence[str],
    actor: Actorish,
    purpose: str,
    categories: Iterable[str] | None = None,
    *,
    record: Recorder | None = None,
    legal_ref: str | None = None,
    group_size: int | None = None,
    lock: bool = False,
) -> dict[str, Grant | PledgeError]:
    """Decide and queue one audit leaf per subject found, in ``connection``'s transaction
    (which must come from ``vault.write()``). Open the grants with :func:`open_grant`."""
    outcomes = judge(
        vault,
        connection,
        subject_ids,
        actor,
        purpose,
        categories,
        legal_ref=legal_ref,
        group_size=group_size,
        lock=lock,
    )
    grants = [g for g in outcomes.values() if isinstance(g, Grant)]
    if grants:
        make = record or read_record(actor, purpose)
        records = [make(g, vault.subject_ref(g.subject)) for g in grants]
        for grant, leaf in zip(grants, vault.record(connection, *records), strict=True):
            grant.leaf = leaf
    return outcomes


def open_grant(
    vault: Vault,
    grant: Grant,
    purpose: str,
    only: Sequence[StoredValue] | None = None,
) -> Released:
    """Decrypt what ``grant`` released (or the part of it in ``only``), oldest first."""
    chosen = grant.released if only is None else [v for v in only if v in grant.released]
    items: tuple[Value, ...] = ()
    if chosen:
        cipher = grant.cipher(vault)
        items = tuple(
            Value(
                v.point,
                v.field,
                v.category,
                vault.open_value(cipher, grant.subject, v),
                v.policy_version,
                v.collected_at,
            )
            for v in sorted(chosen, key=lambda v: v.collected_at)
        )
    return Released(grant.subject, purpose, items, grant.withheld, tuple(grant.decisions))


class Pending:
    """A release decided on a snapshot whose leaves are not written yet: :func:`prepare`,
    then the leaves committed (``vault.commit_leaves``), then :meth:`finish`."""

    def __init__(
        self,
        vault: Vault,
        subject_ids: Sequence[str],
        purpose: str,
        decide: Callable[[Connection], dict[str, Grant | PledgeError]],
        make: Recorder,
    ) -> None:
        self._vault, self._subject_ids, self._purpose = vault, subject_ids, purpose
        self._decide, self._make = decide, make
        with vault.snapshot() as connection, connection.begin():  # one snapshot for all
            self._outcomes = decide(connection)
        grants, records = self._leaves()
        self._grants = grants
        self.ticket = (
            Ticket(records, {g.subject: g.mark for g in grants if g.mark}, self._redo)
            if grants
            else None
        )

    def _leaves(self) -> tuple[list[Grant], list[Record]]:
        grants = [g for g in self._outcomes.values() if isinstance(g, Grant)]
        return grants, [self._make(g, self._vault.subject_ref(g.subject)) for g in grants]

    def _redo(self, connection: Connection) -> list[Record]:
        """Decide again inside the batch's transaction: a subject changed since the snapshot."""
        self._outcomes = self._decide(connection)
        self._grants, records = self._leaves()
        return records

    def finish(self) -> Release:
        """Decrypt what was allowed; only once the ticket's leaves are durable."""
        if self.ticket is not None:
            if not self.ticket.done.is_set() or self.ticket.error is not None:
                raise AuditWriteError("the audit leaves were not written, so nothing is released")
            for grant, leaf in zip(self._grants, self.ticket.ids, strict=True):
                grant.leaf = leaf
        outcomes = self._outcomes
        prime(self._vault, [o for o in outcomes.values() if isinstance(o, Grant)])
        return Release(
            [_opened(self._vault, outcomes[s], self._purpose) for s in self._subject_ids]
        )


def prepare(
    vault: Vault,
    subject_ids: Sequence[str],
    actor: Actorish,
    purpose: str,
    categories: Iterable[str] | None = None,
    *,
    record: Recorder | None = None,
    legal_ref: str | None = None,
    group_size: int | None = None,
) -> Pending:
    """Decide for each subject on a snapshot of its own, and make the leaves to write."""

    def decide(connection: Connection) -> dict[str, Grant | PledgeError]:
        return judge(
            vault,
            connection,
            subject_ids,
            actor,
            purpose,
            categories,
            legal_ref=legal_ref,
            group_size=group_size,
        )

    return Pending(vault, subject_ids, purpose, decide, record or read_record(actor, purpose))


def release(
    vault: Vault,
    subject_ids: Sequence[str],
    actor: Actorish,
    purpose: str,
    categories: Iterable[str] | None = None,
    *,
    record: Recorder | None = None,
    legal_ref: str | None = None,
    group_size: int | None = None,
) -> Release:
    """Decide on a snapshot, commit the leaves together with other reads' (see
    :mod:`pledge.store.batch`), and decrypt only once they are durable."""
    pending = prepare(
        vault,
        subject_ids,
        actor,
        purpose,
        categories,
        record=record,
        legal_ref=legal_ref,
        group_size=group_size,
    )
    if pending.ticket is not None:
        vault.commit_leaves(pending.ticket)
    return pending.finish()


async def read_async(
    vault: Vault, subject: str, purpose: str, actor: Actor, categories: Iterable[str] | None
) -> Released:
    """:meth:`Vault.read <pledge.store.vault.Vault.read>` for a caller on an event loop.

    With both databases in local SQLite files, deciding and decrypting are a few reads of
    pages in memory: they run right here, and the wait for the leaf's commit holds no thread
    (a hop to a thread and back costs more than the reads). A database across the network
    would stall the loop for every round trip, so there the whole read runs in a thread."""
    if not _local(vault):
        read = partial(vault.read, subject, purpose, actor, categories=categories)
        return await anyio.to_thread.run_sync(read)
    pending = prepare(vault, [subject], actor, purpose, categories)
    if pending.ticket is not None:
        await vault.commit_leaves_async(pending.ticket)
    [outcome] = as_reads(actor, purpose, pending.finish())
    if isinstance(outcome, PledgeError):
        raise outcome
    return outcome


def _local(vault: Vault) -> bool:
    return vault.engine.dialect.name == "sqlite" and vault.key_store.engine.dialect.name == "sqlite"


def _opened(vault: Vault, outcome: Grant | PledgeError, purpose: str) -> Released | PledgeError:
    if isinstance(outcome, PledgeError):
        return outcome
    try:
        return open_grant(vault, outcome, purpose)
    except NotFoundError as erased:  # its key destroyed after the decision
        return erased


def prime(vault: Vault, grants: Sequence[Grant]) -> None:
    """Fetch the keys of the grants that released something in one key-store query."""
    found = vault.ciphers(g.subject for g in grants if g.released and g._cipher is None)
    for grant in grants:
        if grant.subject in found:
            grant._cipher = found[grant.subject]


def refusal(actor: Actorish, purpose: str, subject: str, released: Released) -> DeniedError:
    """The error for a read that released nothing: the policy's most specific reason."""
    first = next((d.denial for d in released.decisions if d.denial), None)
    message = str(first) if first else "the subject has no data in those categories"
    return DeniedError(
        f"{actor} may not read this subject's data for '{purpose}': {message}",
        decision=released.decisions[0] if released.decisions else None,
        subject=subject,
    )


def as_reads(actor: Actorish, purpose: str, release: Release) -> list[Released | PledgeError]:
    """A read that released nothing at all is a refusal."""
    return [
        o if isinstance(o, PledgeError) or o.items else refusal(actor, purpose, o.subject, o)
        for o in release.outcomes
    ]
