"""Collection: a collection point takes exactly what the policy declares for it, and nothing else.

Each submission is checked in full before anything is written: the point exists, the person is
old enough, every field is declared, stored (not pass-through), present when mandatory and of
the right shape, and every choice is one the point offers. An optional field sent empty, as a
browser sends an input left blank, counts as not given; a mandatory one is refused by name.
Then a whole batch is written with a handful of statements (one per table), in one
transaction, stamped with the policy version.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from sqlalchemy import Connection, delete, insert, select

from pledge.errors import CollectionError, ConflictError, InputError, NotFoundError
from pledge.policy import CompiledPolicy, children
from pledge.policy.loader import suggest
from pledge.policy.model import Policy
from pledge.store import consents as consent_ledger
from pledge.store import credentials
from pledge.store.audit import Record
from pledge.store.credentials import Hashed
from pledge.store.crypto import BlindIndex, SubjectCipher
from pledge.store.pending import Change, needs_confirmation, propose
from pledge.store.schema import personal_values, subject_lookup, subjects
from pledge.store.shapes import SECRET, check_secret, check_value, shape_of

if TYPE_CHECKING:
    from pledge.store.vault import Vault

LOOKUP_KINDS = {"user.contact.email": "email", "user.account.username": "username"}
DATE_OF_BIRTH = "user.demographic.date_of_birth"
AGE = "user.demographic.age_range"
_LEADING_NUMBER = re.compile(r"\s*(\d{1,3})")


@dataclass(frozen=True)
class Collection:
    """One submission at a collection point, as a website would send it."""

    point: str
    fields: Mapping[str, object]
    subject: str | None = None
    choices: Mapping[str, bool] = field(default_factory=dict)
    age: int | None = None
    jurisdiction: str | None = None  # where the person is (ISO 3166), for the consent age
    parental_consent: bool = False  # the website obtained a parent's consent for a child


@dataclass(frozen=True)
class Collected:
    subject: str
    point: str
    fields: tuple[str, ...]
    policy_version: str
    created: bool
    pending: str | None = None  # the change waits for the person's confirmation


@dataclass(frozen=True)
class _Checked:
    item: Collection
    values: dict[str, tuple[str, str]]  # field -> (category, value in normal form)
    choices: dict[str, bool]
    secrets: dict[str, Hashed]  # field -> its argon2id hash; the secret itself is not kept

    @property
    def fields(self) -> list[str]:
        return sorted([*self.values, *self.secrets])

    def tokens(self, index: BlindIndex) -> dict[str, str]:
        return {
            index.token(LOOKUP_KINDS[category], value): LOOKUP_KINDS[category]
            for category, value in self.values.values()
            if category in LOOKUP_KINDS
        }


def check(
    policy: CompiledPolicy,
    item: Collection,
    today: dt.date,
    hasher: PasswordHasher,
    *,
    hashed: Mapping[str, str] | None = None,
) -> _Checked:
    """The submission in normal form, or a CollectionError naming what is wrong.

    ``hashed`` holds credentials already hashed (field -> argon2id hash) by an earlier check
    of the same submission, which waited as a pending change: they count as given, and must
    still be credentials the point declares."""
    point = policy.policy.collection_points.get(item.point)
    if point is None:
        raise InputError(
            f"unknown collection point '{item.point}'"
            f"{suggest(item.point, policy.policy.collection_points)}",
            point=item.point,
        )
    if point.min_age is not None and item.age is None:
        raise CollectionError(
            f"collection point '{item.point}' needs the person's age (minimum {point.min_age})",
            field="age",
        )
    values: dict[str, tuple[str, str]] = {}
    secrets: dict[str, Hashed] = {}
    for name, value in item.fields.items():
        spec = point.fields.get(name)
        if spec is None:
            raise CollectionError(
                f"field '{name}' is not declared at collection point '{item.point}'"
                f"{suggest(name, point.fields)}",
                field=name,
            )
        if _blank(value):
            continue  # an empty input of a form: not given (refused below if required)
        if policy.is_pass_through(spec.category):
            raise CollectionError(
                f"field '{item.point}.{name}' ({spec.category}) is pass-through: hand it to the "
                "recipient directly; Pledge never stores it",
                field=name,
            )
        shape = shape_of(spec.category, spec.shape)
        if shape == SECRET:
            secret = check_secret(item.point, name, value)
            secrets[name] = Hashed(spec.category, hasher.hash(secret))
            continue
        values[name] = (spec.category, check_value(item.point, name, shape, value))
    for name, held in (hashed or {}).items():
        spec = point.fields.get(name)
        if spec is None or shape_of(spec.category, spec.shape) != SECRET:
            raise CollectionError(
                f"'{item.point}.{name}' is no longer a credential of collection point "
                f"'{item.point}'",
                field=name,
            )
        secrets[name] = Hashed(spec.category, held)
    for name, spec in point.fields.items():
        given = name in values or name in secrets
        if spec.required and not given and not policy.is_pass_through(spec.category):
            raise CollectionError(f"field '{item.point}.{name}' is required", field=name)
    _check_age(policy, item, values, today)
    choices = {
        consent_ledger.check_offered(policy, item.point, key): bool(granted)
        for key, granted in item.choices.items()
    }
    return _Checked(item, values, choices, secrets)


def minimum_age(policy: Policy, point: str) -> int | None:
    """The youngest age ``point`` collects from: its own minimum or the policy's, whichever
    is higher. A policy without one of its own takes the lowest any point states: a policy
    that keeps children out somewhere does not mean to collect from them elsewhere."""
    spec = policy.collection_points[point]
    stated = [p.min_age for p in policy.collection_points.values() if p.min_age is not None]
    floor = policy.min_age if policy.min_age is not None else min(stated, default=None)
    limits = [a for a in (spec.min_age, floor) if a is not None]
    return max(limits) if limits else None


def _check_age(
    policy: CompiledPolicy, item: Collection, values: dict[str, tuple[str, str]], today: dt.date
) -> None:
    """Every age the submission states (the ``age`` given, an age or a date of birth among its
    fields) must reach the minimum, at every point, whether or not the point asks for one; a
    child below the consent age where they live needs a parent's consent, where the policy
    allows one (:mod:`pledge.policy.children`)."""
    minimum = minimum_age(policy.policy, item.point)
    if minimum is None and policy.policy.children is None:
        return
    stated = [("age", item.age)] if item.age is not None else []
    for name, (category, value) in values.items():
        if category == DATE_OF_BIRTH:
            born = dt.date.fromisoformat(value)
            years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            stated.append((name, years))
        elif category == AGE and (found := _LEADING_NUMBER.match(value)):
            stated.append((name, int(found.group(1))))
    for name, years in stated:
        if minimum is not None and years < minimum:
            raise CollectionError(
                f"collection point '{item.point}' does not collect from people under {minimum}",
                field=name,
            )
        why = children.refusal(policy.policy, years, item.jurisdiction, item.parental_consent)
        if why is not None:
            raise CollectionError(f"collection point '{item.point}': {why}", field=name)


def _blank(value: object) -> bool:
    """What an HTML form sends for an input left empty (and JSON's null)."""
    return value is None or (isinstance(value, str) and not value.strip())


def new_subject_id() -> str:
    """32 hex digits, time-ordered like a UUIDv7 (milliseconds, then 80 random bits): new
    subjects land at the end of every index keyed by subject, instead of on random pages."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def aad(subject: str, point: str, field_name: str) -> bytes:
    """Binds a ciphertext to its row: moved to another subject or field, it will not open."""
    return f"{subject}|{point}|{field_name}".encode()


def store_many(
    vault: Vault,
    connection: Connection,
    batch: Sequence[_Checked],
    now: dt.datetime,
    new_keys: Mapping[int, tuple[str, SubjectCipher]],
    *,
    confirmed: bool = False,
) -> list[Collected]:
    """Write a checked batch: resolve each submission to a new or known subject, then insert
    every table's rows at once. ``new_keys`` holds, by position in ``batch``, the id and
    (already stored) key a submission that turns out to be a new person gets.

    A submission that names its subject is written into it (the caller vouches for the
    person: a subject token at the API). One that names none but carries an email or
    username an existing subject has is not merged: it waits as a pending change for that
    person's confirmation (see :mod:`pledge.store.pending`), as do grants of double opt-in
    purposes unless ``confirmed``."""
    version = vault.policy.version
    tokens = [checked.tokens(vault.index) for checked in batch]
    owners = _owners(connection, {t for ts in tokens for t in ts})
    fresh: dict[str, SubjectCipher] = {}  # new subjects, in order
    assigned: list[str] = []
    proposed: set[int] = set()
    for i, (checked, item_tokens) in enumerate(zip(batch, tokens, strict=True)):
        found = {owners[t] for t in item_tokens if t in owners}
        subject = _resolve(checked.item.subject, found)
        if subject is None:
            subject, fresh[subject] = new_keys[i]
        elif checked.item.subject is None and subject not in fresh:
            proposed.add(i)
        for token in item_tokens:
            owners.setdefault(token, subject)
        assigned.append(subject)
    known = {s for s in assigned if s not in fresh}
    _check_known(connection, known)
    ciphers = vault.ciphers(known) | fresh
    if fresh:
        connection.execute(
            insert(subjects),
            [
                {
                    "subject_id": s,
                    "created_at": now,
                    "policy_version": version,
                    "status": "active",
                    "status_at": now,
                }
                for s in fresh
            ],
        )
    pending_ids: dict[int, str] = {}
    for i in sorted(proposed):
        checked, subject = batch[i], assigned[i]
        change = Change(
            checked.item.point,
            {name: value for name, (_, value) in checked.values.items()},
            checked.choices,
            checked.item.age,
            {name: hashed.hash for name, hashed in checked.secrets.items()},
        )
        pending_ids[i] = propose(
            vault,
            connection,
            subject,
            ciphers[subject],
            change,
            actor=f"point:{checked.item.point}",
            now=now,
        )
    written = [
        (i, s, b) for i, (s, b) in enumerate(zip(assigned, batch, strict=True)) if i not in proposed
    ]
    immediate: dict[int, dict[str, bool]] = {}
    for i, subject, checked in written:
        waiting = {
            c: g
            for c, g in checked.choices.items()
            if not confirmed and needs_confirmation(vault.policy, c, g)
        }
        immediate[i] = {c: g for c, g in checked.choices.items() if c not in waiting}
        if waiting:
            pending_ids[i] = propose(
                vault,
                connection,
                subject,
                ciphers[subject],
                Change(None, {}, waiting),
                actor=f"point:{checked.item.point}",
                now=now,
            )
    value_rows: dict[tuple[str, str, str], dict[str, object]] = {}
    for _, subject, checked in written:
        point = checked.item.point
        if subject in known and checked.values:
            connection.execute(
                delete(personal_values).where(
                    personal_values.c.subject_id == subject,
                    personal_values.c.point == point,
                    personal_values.c.field.in_(list(checked.values)),
                )
            )
        for name, (category, value) in checked.values.items():
            value_rows[(subject, point, name)] = {
                "subject_id": subject,
                "point": point,
                "field": name,
                "category": category,
                "policy_version": version,
                "collected_at": now,
                "visible": False,
                "ciphertext": ciphers[subject].encrypt(value.encode(), aad(subject, point, name)),
            }
    if value_rows:
        connection.execute(insert(personal_values), list(value_rows.values()))
    for _, subject, checked in written:
        credentials.store(
            connection,
            subject,
            checked.item.point,
            checked.secrets,
            ciphers[subject],
            version=version,
            now=now,
        )
    _add_tokens(
        connection,
        owners,
        [t for i, t in enumerate(tokens) if i not in proposed],
        [s for i, s in enumerate(assigned) if i not in proposed],
    )
    consent_ledger.append_many(
        connection,
        [
            (s, c, g, f"point:{b.item.point}")
            for i, s, b in written
            for c, g in immediate[i].items()
        ],
        version=version,
        at=now,
        fresh=set(fresh),
    )
    vault.record(
        connection,
        *(
            Record(
                action="collect",
                actor=f"point:{b.item.point}",
                subject_ref=vault.subject_ref(s),
                detail={
                    "fields": b.fields,
                    "categories": sorted({c for c, _ in b.values.values()}),
                    "policy_version": version,
                    "new_subject": s in fresh,
                    "choices": immediate[i],
                    **({"parental_consent": True} if b.item.parental_consent else {}),
                },
            )
            for i, s, b in written
        ),
    )
    return [
        Collected(
            s,
            b.item.point,
            tuple(b.fields),
            version,
            s in fresh,
            pending_ids.get(i),
        )
        for i, (s, b) in enumerate(zip(assigned, batch, strict=True))
    ]


def _owners(connection: Connection, tokens: set[str]) -> dict[str, str]:
    if not tokens:
        return {}
    return dict(
        connection.execute(
            select(subject_lookup.c.token, subject_lookup.c.subject_id).where(
                subject_lookup.c.token.in_(list(tokens))
            )
        ).all()
    )


def _resolve(given: str | None, found: set[str]) -> str | None:
    """The subject a submission belongs to: the one named, or the one its email/username
    already identifies; None for a new person."""
    if given is not None:
        if found - {given}:
            raise ConflictError("that email or username already belongs to another subject")
        return given
    if len(found) > 1:
        raise ConflictError(
            "the email and username given belong to different subjects; collect for one "
            "subject by passing its id"
        )
    return next(iter(found), None)


def _check_known(connection: Connection, known: set[str]) -> None:
    """Known subjects must still be active; their rows stay locked until the commit."""
    if not known:
        return
    rows = {
        r.subject_id: r
        for r in connection.execute(
            select(subjects).where(subjects.c.subject_id.in_(list(known))).with_for_update()
        )
    }
    for subject in known:
        row = rows.get(subject)
        if row is None or row.status != "active":
            state = "no subject" if row is None else f"{row.status} subject"
            raise NotFoundError(f"{state} '{subject}'", subject=subject)


def _add_tokens(
    connection: Connection,
    owners: dict[str, str],
    tokens: list[dict[str, str]],
    assigned: list[str],
) -> None:
    """Insert the lookup tokens this batch introduced (those not yet in the table)."""
    already = _owners(connection, set(owners))
    new: dict[str, dict[str, str]] = {}
    for subject, item_tokens in zip(assigned, tokens, strict=True):
        for token, kind in item_tokens.items():
            if token not in already:
                new[token] = {"token": token, "subject_id": subject, "kind": kind}
    if new:
        connection.execute(insert(subject_lookup), list(new.values()))
