"""The personal-data store: the one place personal data is written, read, handed on or erased.

Every method keeps a promise of the policy at the moment it acts: collection takes only what a
collection point declares; a read states a purpose and gets only what the decision function
allows; consents are an append-only ledger whose latest event wins; disclosures happen only as
the policy says; erasure destroys the subject's key. Each of these writes an audit entry in the
same transaction, so nothing happens that the log does not show.

The REST API, the web pages and the CLI all call this class; it is the Python API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from pledge.errors import (
    CollectionError,
    ConflictError,
    DeniedError,
    InputError,
    NotFoundError,
)
from pledge.policy import (
    Actor,
    Choices,
    CompiledPolicy,
    Decision,
    Reason,
    Request,
    decide,
)
from pledge.policy.loader import suggest
from pledge.policy.model import Storage
from pledge.policy.taxonomy import covers
from pledge.store import consents as consent_ledger
from pledge.store import disclosure, retention, rights
from pledge.store.audit import AuditLog, Record
from pledge.store.bootstrap import activate_policy, latest_policy, load_secrets
from pledge.store.crypto import BlindIndex, SubjectCipher, new_data_key
from pledge.store.database import open_engine
from pledge.store.keys import KeyProvider
from pledge.store.schema import personal_values, subject_lookup, subjects
from pledge.store.shapes import check_value, shape_of

Clock = Callable[[], dt.datetime]
LOOKUP_KINDS = {"user.contact.email": "email", "user.account.username": "username"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Collection:
    """One submission at a collection point, as a website would send it."""

    point: str
    fields: Mapping[str, object]
    subject: str | None = None
    choices: Mapping[str, bool] = field(default_factory=dict)
    age: int | None = None


@dataclass(frozen=True)
class Collected:
    subject: str
    point: str
    fields: tuple[str, ...]
    policy_version: str
    created: bool


@dataclass(frozen=True)
class ReadResult:
    subject: str
    purpose: str
    values: dict[str, str]
    withheld: dict[str, Reason]
    decisions: tuple[Decision, ...]


@dataclass
class _Row:
    point: str
    field: str
    category: str
    ciphertext: bytes
    policy_version: str
    collected_at: dt.datetime


class Vault:
    """Open with :meth:`open`; one instance per process, safe to share between threads."""

    def __init__(
        self,
        engine: Engine,
        keys: KeyProvider,
        policy: CompiledPolicy,
        index: BlindIndex,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.policy = policy
        self.index = index
        self.audit = audit
        self.clock = clock

    @classmethod
    def open(
        cls,
        url: str,
        keys: KeyProvider,
        policy_text: str | None,
        *,
        policy_file: str = "<policy>",
        clock: Clock = utc_now,
    ) -> Vault:
        """Open (creating on first use) the store at ``url``; enforce ``policy_text``, or the
        policy most recently activated there when it is None."""
        engine = open_engine(url)
        secrets = load_secrets(engine, keys)
        if policy_text is None:
            policy_text = latest_policy(engine)
            policy_file = "<recorded policy>"
            if policy_text is None:
                raise InputError(
                    "this store has no policy yet: pass --policy FILE (or set PLEDGE_POLICY)"
                )
        policy = activate_policy(engine, policy_text, policy_file, clock())
        audit = AuditLog(secrets.signing_key, lambda: clock().isoformat())
        return cls(engine, keys, policy, BlindIndex(secrets.index_key), audit, clock)

    def close(self) -> None:
        self.engine.dispose()

    # --- helpers ----------------------------------------------------------------------------

    def subject_ref(self, subject: str) -> str:
        """The subject's name in the audit log: a keyed pseudonym of its id."""
        return self.index.pseudonym(subject)

    def _record(self, connection: Connection, *records: Record) -> list[int]:
        return self.audit.append(connection, records)

    def _subject_row(self, connection: Connection, subject: str, *, lock: bool = False) -> Any:
        query = select(subjects).where(subjects.c.subject_id == subject)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(f"no subject '{subject}'", subject=subject)
        if row.status == "erased":
            raise NotFoundError(f"subject '{subject}' was erased", subject=subject)
        return row

    def cipher(self, subject_row: Any) -> SubjectCipher:
        return SubjectCipher(self.keys.unwrap(subject_row.wrapped_key))

    @staticmethod
    def _aad(subject: str, point: str, field_name: str) -> bytes:
        return f"{subject}|{point}|{field_name}".encode()

    # --- collection -------------------------------------------------------------------------

    def _validate(self, item: Collection) -> tuple[dict[str, tuple[str, str]], dict[str, bool]]:
        """The submission in normal form: (category, value) by field, and its choices."""
        policy = self.policy.policy
        point = policy.collection_points.get(item.point)
        if point is None:
            raise InputError(
                f"unknown collection point '{item.point}'"
                f"{suggest(item.point, policy.collection_points)}",
                point=item.point,
            )
        if point.min_age is not None:
            if item.age is None:
                raise CollectionError(
                    f"collection point '{item.point}' needs the person's age "
                    f"(minimum {point.min_age})",
                    field="age",
                )
            if item.age < point.min_age:
                raise CollectionError(
                    f"collection point '{item.point}' does not collect from people under "
                    f"{point.min_age}",
                    field="age",
                )
        clean: dict[str, tuple[str, str]] = {}
        for name, value in item.fields.items():
            spec = point.fields.get(name)
            if spec is None:
                raise CollectionError(
                    f"field '{name}' is not declared at collection point '{item.point}'"
                    f"{suggest(name, point.fields)}",
                    field=name,
                )
            if self._pass_through(spec.category):
                raise CollectionError(
                    f"field '{item.point}.{name}' ({spec.category}) is pass-through: hand it to "
                    "the recipient directly; Pledge never stores it",
                    field=name,
                )
            clean[name] = (
                spec.category,
                check_value(item.point, name, shape_of(spec.category, spec.shape), value),
            )
        for name, spec in point.fields.items():
            if spec.required and name not in clean and not self._pass_through(spec.category):
                raise CollectionError(f"field '{item.point}.{name}' is required", field=name)
        choices = {
            consent_ledger.check_offered(self.policy, item.point, key): bool(granted)
            for key, granted in item.choices.items()
        }
        return clean, choices

    def _pass_through(self, category: str) -> bool:
        return any(
            covers(key, category) and handling.storage is Storage.pass_through
            for key, handling in self.policy.policy.categories.items()
        )

    def collect(
        self,
        point: str,
        fields: Mapping[str, object],
        *,
        subject: str | None = None,
        choices: Mapping[str, bool] | None = None,
        age: int | None = None,
    ) -> Collected:
        """Store what ``point`` declares, for a new or known subject; refuse anything else."""
        return self.collect_many([Collection(point, fields, subject, choices or {}, age)])[0]

    def collect_many(self, items: Sequence[Collection]) -> list[Collected]:
        """Several collections in one transaction: all stored, or (on any error) none."""
        cleaned = [self._validate(item) for item in items]
        now = self.clock()
        with self.engine.begin() as connection:
            results = [
                self._store(connection, item, values, choices, now)
                for item, (values, choices) in zip(items, cleaned, strict=True)
            ]
        return results

    def _store(
        self,
        connection: Connection,
        item: Collection,
        values: dict[str, tuple[str, str]],
        choices: dict[str, bool],
        now: dt.datetime,
    ) -> Collected:
        version = self.policy.version
        tokens = {
            self.index.token(LOOKUP_KINDS[category], value): LOOKUP_KINDS[category]
            for category, value in values.values()
            if category in LOOKUP_KINDS
        }
        subject = item.subject or self._find_by_tokens(connection, tokens)
        created = subject is None
        if subject is None:
            subject = uuid.uuid4().hex
            data_key = new_data_key()
            connection.execute(
                insert(subjects).values(
                    subject_id=subject,
                    created_at=now,
                    policy_version=version,
                    wrapped_key=self.keys.wrap(data_key),
                    status="active",
                    status_at=now,
                )
            )
            cipher = SubjectCipher(data_key)
        else:
            cipher = self.cipher(self._subject_row(connection, subject, lock=True))
        connection.execute(
            delete(personal_values).where(
                personal_values.c.subject_id == subject,
                personal_values.c.point == item.point,
                personal_values.c.field.in_(list(values)),
            )
        )
        if values:
            connection.execute(
                insert(personal_values),
                [
                    {
                        "subject_id": subject,
                        "point": item.point,
                        "field": name,
                        "category": category,
                        "policy_version": version,
                        "collected_at": now,
                        "ciphertext": cipher.encrypt(
                            value.encode(), self._aad(subject, item.point, name)
                        ),
                        "visible": False,
                    }
                    for name, (category, value) in values.items()
                ],
            )
        self._add_tokens(connection, subject, tokens)
        events = consent_ledger.append(
            connection,
            subject,
            choices.items(),
            source=f"point:{item.point}",
            version=version,
            at=now,
        )
        self._record(
            connection,
            Record(
                action="collect",
                actor=f"point:{item.point}",
                subject_ref=self.subject_ref(subject),
                detail={
                    "fields": sorted(values),
                    "categories": sorted({c for c, _ in values.values()}),
                    "policy_version": version,
                    "new_subject": created,
                    "choices": dict(events),
                },
            ),
        )
        return Collected(subject, item.point, tuple(sorted(values)), version, created)

    def _find_by_tokens(self, connection: Connection, tokens: Mapping[str, str]) -> str | None:
        if not tokens:
            return None
        found = set(
            connection.execute(
                select(subject_lookup.c.subject_id).where(subject_lookup.c.token.in_(list(tokens)))
            ).scalars()
        )
        if len(found) > 1:
            raise ConflictError(
                "the email and username given belong to different subjects; collect for one "
                "subject by passing its id"
            )
        return found.pop() if found else None

    def _add_tokens(self, connection: Connection, subject: str, tokens: Mapping[str, str]) -> None:
        existing = dict(
            connection.execute(
                select(subject_lookup.c.token, subject_lookup.c.subject_id).where(
                    subject_lookup.c.token.in_(list(tokens))
                )
            ).all()
        )
        for token, kind in tokens.items():
            owner = existing.get(token)
            if owner is None:
                connection.execute(
                    insert(subject_lookup).values(token=token, subject_id=subject, kind=kind)
                )
            elif owner != subject:
                raise ConflictError(f"that {kind} already belongs to another subject", field=kind)

    def find(self, kind: str, value: str) -> str | None:
        """The subject whose ``kind`` (email or username) is ``value``, through the blind index."""
        if kind not in LOOKUP_KINDS.values():
            raise InputError(f"cannot look subjects up by '{kind}'; use email or username")
        with self.engine.connect() as connection:
            found: str | None = connection.execute(
                select(subject_lookup.c.subject_id).where(
                    subject_lookup.c.token == self.index.token(kind, value)
                )
            ).scalar()
        return found

    # --- purpose-bound reads ----------------------------------------------------------------

    def _rows(self, connection: Connection, subject: str) -> list[_Row]:
        return [
            _Row(r.point, r.field, r.category, r.ciphertext, r.policy_version, r.collected_at)
            for r in connection.execute(
                select(personal_values).where(personal_values.c.subject_id == subject)
            )
        ]

    def decide_for(
        self,
        connection: Connection,
        subject: str,
        actor: Actor,
        purpose: str,
        rows: Sequence[_Row],
        *,
        legal_ref: str | None = None,
        group_size: int | None = None,
    ) -> tuple[list[_Row], dict[str, Reason], list[Decision]]:
        """Which of ``rows`` this actor may have for ``purpose``: one decision per policy
        version the rows were collected under, limited to the points they came from."""
        choices = consent_ledger.current(connection, subject)
        groups: dict[str, list[_Row]] = defaultdict(list)
        for row in rows:
            groups[row.policy_version].append(row)
        released: list[_Row] = []
        withheld: dict[str, Reason] = {}
        decisions: list[Decision] = []
        for version, group in groups.items():
            decision = decide(
                self.policy,
                Request(
                    actor,
                    purpose,
                    tuple(sorted({r.category for r in group})),
                    choices,
                    collected_under=version,
                    points=frozenset(r.point for r in group),
                    legal_ref=legal_ref,
                    group_size=group_size,
                ),
            )
            decisions.append(decision)
            reasons = dict(decision.withheld)
            for row in group:
                if row.category in decision.released:
                    released.append(row)
                else:
                    withheld[row.field] = (
                        reasons.get(row.category)
                        or decision.denial
                        or Reason("denied", "not allowed", "policy")
                    )
        return released, withheld, decisions

    def read(
        self,
        subject: str,
        purpose: str,
        actor: Actor | str,
        *,
        categories: Iterable[str] | None = None,
    ) -> ReadResult:
        """The subject's values this actor may use for ``purpose``; the rest are withheld with
        the reason. Nothing released at all is a DeniedError. Audited either way."""
        actor = Actor.role(actor) if isinstance(actor, str) else actor
        wanted = None if categories is None else list(categories)
        with self.engine.begin() as connection:
            row = self._subject_row(connection, subject)
            rows = [
                r
                for r in self._rows(connection, subject)
                if wanted is None or any(covers(w, r.category) for w in wanted)
            ]
            released, withheld, decisions = self.decide_for(
                connection, subject, actor, purpose, rows
            )
            self._record(
                connection,
                Record(
                    action="read",
                    actor=str(actor),
                    subject_ref=self.subject_ref(subject),
                    purpose=purpose,
                    detail={
                        "released": sorted(r.field for r in released),
                        "withheld": {f: r.code for f, r in sorted(withheld.items())},
                    },
                ),
            )
        if not released:
            first = next((d.denial for d in decisions if d.denial), None)
            message = str(first) if first else "the subject has no data in those categories"
            raise DeniedError(
                f"{actor} may not read this subject's data for '{purpose}': {message}",
                decision=decisions[0] if decisions else None,
                subject=subject,
            )
        cipher = self.cipher(row)
        values = {
            r.field: self._open(cipher, subject, r)
            for r in sorted(released, key=lambda r: r.collected_at)
        }
        return ReadResult(subject, purpose, values, withheld, tuple(decisions))

    def _open(self, cipher: SubjectCipher, subject: str, row: _Row) -> str:
        return cipher.decrypt(
            row.ciphertext,
            self._aad(subject, row.point, row.field),
            context=f"subject {subject}, field {row.point}.{row.field}",
        ).decode()

    # --- consent ------------------------------------------------------------------------------

    def set_choice(self, subject: str, choice: str, granted: bool, *, source: str) -> str:
        """Grant or withdraw one choice; the latest event wins from the moment this returns."""
        key = consent_ledger.normalise(self.policy, choice)
        with self.engine.begin() as connection:
            self._subject_row(connection, subject, lock=True)
            consent_ledger.append(
                connection,
                subject,
                [(key, granted)],
                source=source,
                version=self.policy.version,
                at=self.clock(),
            )
            self._record(
                connection,
                Record(
                    action="consent",
                    actor=source,
                    subject_ref=self.subject_ref(subject),
                    detail={"choice": key, "granted": granted},
                ),
            )
        return key

    def grant(self, subject: str, choice: str, *, source: str = "api") -> str:
        return self.set_choice(subject, choice, True, source=source)

    def withdraw(self, subject: str, choice: str, *, source: str = "api") -> str:
        return self.set_choice(subject, choice, False, source=source)

    def choices(self, subject: str) -> Choices:
        with self.engine.connect() as connection:
            self._subject_row(connection, subject)
            return consent_ledger.current(connection, subject)

    def consent_history(self, subject: str) -> list[consent_ledger.ConsentEvent]:
        with self.engine.connect() as connection:
            self._subject_row(connection, subject)
            return consent_ledger.history(connection, subject)

    # --- rights, disclosures, retention (see their modules) ----------------------------------

    def export(self, subject: str, *, actor: str = "subject") -> dict[str, Any]:
        return rights.export(self, subject, actor=actor)

    def rectify(self, subject: str, field: str, value: str, *, actor: str = "subject") -> list[str]:
        return rights.rectify(self, subject, field, value, actor=actor)

    def erase(self, subject: str, *, actor: str = "subject") -> rights.Erasure:
        return rights.erase(self, subject, actor=actor)

    def disclose(
        self,
        subjects: list[str],
        recipient: str,
        purpose: str,
        categories: list[str],
        *,
        legal_ref: str | None = None,
    ) -> disclosure.Disclosed:
        return disclosure.disclose(
            self, subjects, recipient, purpose, categories, legal_ref=legal_ref
        )

    def disclosures(self, subject: str) -> list[dict[str, Any]]:
        return disclosure.listing(self, subject)

    def run_retention(self) -> retention.RetentionReport:
        return retention.run(self)
