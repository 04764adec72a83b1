"""The personal-data store: the one place personal data is written, read, handed on or erased.

Every method keeps a promise of the policy at the moment it acts: collection takes only what a
collection point declares; a read states a purpose and gets only what the decision function
allows; consents are an append-only ledger whose latest event wins; disclosures happen only as
the policy says; erasure destroys the subject's key. Each of these writes an audit entry in the
same transaction, so nothing happens that the log does not show.

The REST API, the web pages and the CLI all call this class; it is the Python API.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from pledge.errors import (
    InputError,
    NotFoundError,
    PledgeError,
    Unhealthy,
)
from pledge.policy import (
    Actor,
    Choices,
    CompiledPolicy,
)
from pledge.policy.announce import Announcement, announcement
from pledge.policy.model import Basis, WebLogs
from pledge.store import (
    aggregates,
    backup,
    collect,
    credentials,
    disclosure,
    holdings,
    notices,
    pending,
    receipts,
    request_work,
    requests,
    retention,
    rights,
    sessions,
    staff,
    subject_tokens,
    transfers,
    weblogs,
)
from pledge.store import consents as consent_ledger
from pledge.store import release as read_path
from pledge.store.audit import AuditLog, Record
from pledge.store.audit.checkpoint import Checkpoint
from pledge.store.audit.settings import AuditSettings
from pledge.store.audit.verify import Verification
from pledge.store.batch import BatchCommit, Ticket
from pledge.store.bootstrap import (
    activate_policy,
    latest_policy,
    load_secrets,
    policy_history,
    recorded_policy_text,
)
from pledge.store.collect import LOOKUP_KINDS, Collected, Collection, aad
from pledge.store.commit import GroupCommit
from pledge.store.crypto import BlindIndex, SubjectCipher, new_data_key
from pledge.store.database import open_engine, reading
from pledge.store.keys import DataKeyStore, KeyProvider, default_key_store_url, sync
from pledge.store.release import Recorder, Release, Released, StoredValue, SubjectAccess
from pledge.store.rotation import Rotation, rotate_master_key
from pledge.store.schema import subject_lookup, subjects
from pledge.store.signing import named_secret
from pledge.store.subject_tokens import SubjectToken, SubjectTokens

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _beside_sqlite(engine: Engine) -> Path | None:
    """Checkpoints of a SQLite store go next to its file; PostgreSQL needs a setting."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    return Path(database).parent / "checkpoints"


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
        web_log_key: bytes,
        key_store: DataKeyStore,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.key_store = key_store
        self._policy = policy
        self._known_transfers: tuple[frozenset[str], dt.datetime | None] = (frozenset(), None)
        self.index = index
        self.audit = audit
        self.clock = clock
        self._web_log_key = web_log_key
        self._commits = GroupCommit(engine)
        self._batches = BatchCommit(
            engine, lambda connection, records: self.record(connection, *records)
        )
        self.hasher = PasswordHasher()  # argon2id, today's recommended parameters
        self.replayed_erasures = 0  # erasures from the key store's ledger finished at open

    @property
    def policy(self) -> CompiledPolicy:
        """The policy in force, as it decides now: a notice window that has closed since the
        store opened lets the new version's uses reach older data from that moment, and a
        business transfer recorded (here at once, elsewhere within a few seconds) lets its
        successor receive data."""
        now = self.clock()
        return self._policy.at(now, self._transfers(now))

    def _transfers(self, now: dt.datetime) -> frozenset[str]:
        known, checked = self._known_transfers
        if checked is None or not checked <= now < checked + transfers.REFRESH:
            with reading(self.engine) as connection:
                known = transfers.recorded(connection)
            self._known_transfers = (known, now)
        return known

    def record_business_transfer(
        self, recipient: str, *, reference: str, actor: str = "operator"
    ) -> str:
        """Record that the business passed to ``recipient`` (a successor): from now on it may
        receive data as the policy says. Audited; the id of the record."""
        transfer = transfers.record(self, recipient, reference, actor=actor)
        self._known_transfers = (frozenset(), None)
        return transfer

    def write(self) -> AbstractContextManager[Connection]:
        """A transaction shared with concurrent writers (group commit); durable on exit."""
        return self._commits.write()

    def commit_leaves(self, ticket: Ticket) -> None:
        """Write a read's audit leaves together with other reads' (see :mod:`.batch`);
        returns once they are durable."""
        self._batches.commit(ticket)

    async def commit_leaves_async(self, ticket: Ticket) -> None:
        """:meth:`commit_leaves` for a caller on an event loop."""
        await self._batches.commit_async(ticket)

    def snapshot(self) -> AbstractContextManager[Connection]:
        """A read-only transaction: for looking, never for releasing (nothing is audited)."""
        return reading(self.engine)

    @classmethod
    def open(
        cls,
        url: str,
        keys: KeyProvider,
        policy_text: str | None,
        *,
        policy_file: str = "<policy>",
        clock: Clock = utc_now,
        audit: AuditSettings | None = None,
        key_store_url: str | None = None,
    ) -> Vault:
        """Open (creating on first use) the store at ``url``, its data keys in the key store
        at ``key_store_url`` (default: see :func:`default_key_store_url`; PostgreSQL stores
        must name theirs); enforce
        ``policy_text``, or the policy most recently activated there when it is None. Unless
        ``audit`` says not to, this process runs an audit sequencer in the background (one at
        a time per database does the work; see :mod:`pledge.store.audit.sequencer`)."""
        audit = audit or AuditSettings()
        engine = open_engine(url)
        key_store: DataKeyStore | None = None
        try:
            secrets = load_secrets(engine, keys)
            key_store = DataKeyStore.open(key_store_url or default_key_store_url(url))
            sync.hand_over(engine, key_store)
            sync.move_out(engine, key_store)
            if policy_text is None:
                policy_text = latest_policy(engine)
                policy_file = "<recorded policy>"
                if policy_text is None:
                    raise InputError(
                        "this store has no policy yet: pass --policy FILE (or set PLEDGE_POLICY)"
                    )
            policy = activate_policy(engine, policy_text, policy_file, clock())
        except BaseException:
            engine.dispose()  # a refused start (wrong key, bad policy) keeps no connections
            if key_store is not None:
                key_store.close()
            raise
        log = AuditLog(
            engine,
            secrets.signing_key,
            audit.checkpoint_dir or _beside_sqlite(engine),
            publish_url=audit.checkpoint_url,
            clock=lambda: clock().isoformat(),
            max_wait=audit.max_wait,
            batch_size=audit.batch_size,
        )
        index = BlindIndex(secrets.index_key)
        vault = cls(engine, keys, policy, index, log, clock, secrets.web_log_key, key_store)
        try:
            if audit.sequencer:
                log.sequencer.start()
            key_store.prune(clock())
            vault.replayed_erasures = sync.replay(vault)
            sync.check_pairing(engine, key_store)
        except BaseException:
            vault.close()
            raise
        return vault

    def close(self) -> None:
        """Stop this process's sequencer (integrating what is queued, if it is the one), then
        let the database go."""
        self.audit.close()
        self._commits.close()
        self._batches.close()
        self.engine.dispose()
        self.key_store.close()

    # --- helpers ----------------------------------------------------------------------------

    def subject_ref(self, subject: str) -> str:
        """The subject's name in the audit log: a keyed pseudonym of its id."""
        return self.index.pseudonym(subject)

    def record(self, connection: Connection, *records: Record) -> list[int]:
        """Queue audit leaves inside ``connection``'s transaction (see :meth:`write`): the one
        way anything enters the log. Returns their queue ids; the sequencer gives them their
        indices in the tree later (:func:`pledge.store.audit.queue.leaf_index`)."""
        return self.audit.append(connection, records)

    def subject_row(
        self, connection: Connection, subject: str, *, lock: bool = False, held: bool = False
    ) -> Any:
        """The subject's row; an erased subject is not found. One whose erasure left values
        under a legal hold (``deactivated``) is found only when ``held`` (a legal use)."""
        query = select(subjects).where(subjects.c.subject_id == subject)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(f"no subject '{subject}'", subject=subject)
        if row.status == "erased" or (row.status == "deactivated" and not held):
            raise NotFoundError(f"subject '{subject}' was erased", subject=subject)
        return row

    def require_subject(self, subject: str) -> None:
        """NotFoundError unless ``subject`` is held and not erased: checked before a person is
        asked to confirm something irreversible about it."""
        with reading(self.engine) as connection:
            self.subject_row(connection, subject)

    def for_legal_obligation(self, purpose: str) -> bool:
        """Whether ``purpose`` is one the law imposes: the only use of values under a hold."""
        spec = self.policy.policy.purposes.get(purpose)
        return spec is not None and spec.basis is Basis.legal_obligation

    def ciphers(self, subject_ids: Iterable[str]) -> dict[str, SubjectCipher]:
        """The one way to a subject's data key: a cipher for each of ``subject_ids`` whose key
        the key store still has (an erased subject has none)."""
        return {
            subject: SubjectCipher(self.keys.unwrap(wrapped))
            for subject, wrapped in self.key_store.get(set(subject_ids)).items()
        }

    def new_keys(self, subject_ids: Iterable[str]) -> dict[str, SubjectCipher]:
        """Fresh data keys for new subjects, stored (wrapped) in the key store before any
        value is encrypted under them."""
        made = {subject: new_data_key() for subject in subject_ids}
        self.key_store.put({subject: self.keys.wrap(key) for subject, key in made.items()})
        return {subject: SubjectCipher(key) for subject, key in made.items()}

    # --- collection -------------------------------------------------------------------------

    def collect(
        self,
        point: str,
        fields: Mapping[str, object],
        *,
        subject: str | None = None,
        choices: Mapping[str, bool] | None = None,
        age: int | None = None,
        jurisdiction: str | None = None,
        parental_consent: bool = False,
    ) -> Collected:
        """Store what ``point`` declares, for a new or known subject; refuse anything else.
        ``jurisdiction`` and ``parental_consent`` matter for a child (see the policy's
        ``children``)."""
        item = Collection(
            point, fields, subject, choices or {}, age, jurisdiction, parental_consent
        )
        return self.collect_many([item])[0]

    def collect_many(self, items: Sequence[Collection]) -> list[Collected]:
        """Several collections in one transaction: all stored, or (on any error) none."""
        today = self.clock().date()
        checked = [collect.check(self.policy, item, today, self.hasher) for item in items]
        # Keys for whoever may turn out to be new are made and stored before the transaction:
        # the key store's commit is then shared by concurrent callers, and is never waited
        # for while the database's writers queue behind this one.
        ids = {i: collect.new_subject_id() for i, c in enumerate(checked) if c.item.subject is None}
        ciphers = self.new_keys(ids.values())
        made = {i: (subject, ciphers[subject]) for i, subject in ids.items()}
        ticket = Ticket(
            work=lambda connection: collect.store_many(
                self, connection, checked, self.clock(), made
            )
        )
        try:
            # Committed with other requests' collections and reads' leaves (see .batch).
            self._batches.commit(ticket)
        except BaseException:
            self.key_store.discard(ciphers)
            raise
        done = cast(list[Collected], ticket.result)
        self.key_store.discard(set(ciphers) - {c.subject for c in done if c.created})
        return done

    def find(self, kind: str, value: str) -> str | None:
        """The subject whose ``kind`` (email or username) is ``value``, through the blind index."""
        if kind not in LOOKUP_KINDS.values():
            raise InputError(f"cannot look subjects up by '{kind}'; use email or username")
        with reading(self.engine) as connection:
            found: str | None = connection.execute(
                select(subject_lookup.c.subject_id).where(
                    subject_lookup.c.token == self.index.token(kind, value)
                )
            ).scalar()
        return found

    def policy_history(self) -> list[tuple[str, dt.datetime]]:
        """Every policy version this store has enforced and when it was first activated."""
        return policy_history(self.engine)

    # --- the audit log, for auditors (see pledge.store.audit.log) ---------------------------

    def verify_audit(
        self,
        *,
        full: bool = False,
        every_checkpoint: bool = False,
        outside: Checkpoint | None = None,
    ) -> Verification:
        return self.audit.verify(
            self.engine, full=full, every_checkpoint=every_checkpoint, outside=outside
        )

    def prove_entry(self, seq: int) -> dict[str, Any]:
        return self.audit.prove(self.engine, seq)

    def prove_consistency(self, old_size: int) -> dict[str, Any]:
        return self.audit.consistency(self.engine, old_size)

    def audit_entries_for(self, subject: str) -> list[dict[str, Any]]:
        return self.audit.entries_for(self.engine, self.subject_ref(subject))

    def policy_text(self) -> str:
        """The enforced policy's file, exactly as recorded when it was activated."""
        return recorded_policy_text(self.engine, self.policy.version)

    def ping(self) -> None:
        """Raise Unhealthy unless the database answers."""
        try:
            with reading(self.engine) as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise Unhealthy(f"the database does not answer ({type(exc).__name__})") from None

    def holdings(self) -> list[holdings.Holding]:
        """Counts of the values held per point, field, category and version (no one named)."""
        with reading(self.engine) as connection:
            return holdings.holdings(connection)

    def people_holding(self, points: Iterable[str] | None) -> int:
        """How many active subjects hold a value from any of ``points`` (None: all of them)."""
        with reading(self.engine) as connection:
            return holdings.people(connection, points)

    def notice_holders(
        self, points: Iterable[str] | None, *, after: str = "", limit: int = 1000
    ) -> list[str]:
        """One page of the active subjects holding values from ``points`` (None: everyone),
        in id order after ``after``: the people a policy change must be told of."""
        with reading(self.engine) as connection:
            return holdings.holders(connection, points, after, limit)

    def points_held(self, subject_ids: Iterable[str]) -> dict[str, set[str]]:
        """The collection points each subject gave values at (points only, nothing opened)."""
        with reading(self.engine) as connection:
            return holdings.points_held(connection, subject_ids)

    # --- policy changes: the announcement and opting out (see pledge.store.notices) --------

    def policy_change(self) -> Announcement | None:
        """What changed in the version in force against the one before it, with its banner
        text and when its new uses reach older data; None for a store's first version."""
        return announcement(self.policy)

    @cached_property
    def _opt_out_links(self) -> notices.OptOutLinks:
        return notices.OptOutLinks(named_secret(self.engine, self.keys, notices.KEY_NAME))

    def opt_out_token(self, subject: str, version: str) -> str:
        """The token of the link in ``subject``'s notice of ``version`` that refuses it."""
        return self._opt_out_links.token(subject, version, notices.link_expiry(self, version))

    def check_opt_out(self, token: str) -> tuple[str, str]:
        """The (subject, version) of a genuine, unexpired opt-out link, without using it."""
        subject, version = self._opt_out_links.check(self, token)
        self.require_subject(subject)
        return subject, version

    def opt_out_by_link(self, token: str) -> notices.OptOut:
        subject, version = self.check_opt_out(token)
        return notices.opt_out(self, subject, version, source=f"notice:{version}")

    def opt_out_of_change(
        self, subject: str, version: str, *, source: str = "privacy_center"
    ) -> notices.OptOut:
        """``subject`` refuses the changes of ``version``: data they gave before it keeps the
        earlier limits. Recorded once, however often asked."""
        return notices.opt_out(self, subject, version, source=source)

    # --- purpose-bound reads ----------------------------------------------------------------

    def release(
        self,
        subject_ids: Sequence[str],
        actor: Actor | SubjectAccess,
        purpose: str,
        categories: Iterable[str] | None = None,
        *,
        legal_ref: str | None = None,
        group_size: int | None = None,
        record: Recorder | None = None,
    ) -> Release:
        """THE read path (see :mod:`pledge.store.release`): decide per (version, point), queue
        one audit leaf per subject, commit, then decrypt only what was allowed."""
        return read_path.release(
            self,
            subject_ids,
            actor,
            purpose,
            categories,
            record=record,
            legal_ref=legal_ref,
            group_size=group_size,
        )

    def read(
        self,
        subject: str,
        purpose: str,
        actor: Actor | str,
        *,
        categories: Iterable[str] | None = None,
    ) -> Released:
        """The subject's values this actor may use for ``purpose``; the rest are withheld with
        the reason. Nothing released at all is a DeniedError. Audited either way."""
        result = self.read_many([subject], purpose, actor, categories=categories)[0]
        if isinstance(result, PledgeError):
            raise result
        return result

    async def read_async(
        self,
        subject: str,
        purpose: str,
        actor: Actor,
        *,
        categories: Iterable[str] | None = None,
    ) -> Released:
        """:meth:`read` from an event loop: other requests are served while it waits."""
        return await read_path.read_async(self, subject, purpose, actor, categories)

    def read_many(
        self,
        subject_ids: Sequence[str],
        purpose: str,
        actor: Actor | str,
        *,
        categories: Iterable[str] | None = None,
    ) -> list[Released | PledgeError]:
        """:meth:`read` for many subjects in one audited transaction; each subject's outcome
        (its values, or the error that refused it) in order."""
        actor = Actor.role(actor) if isinstance(actor, str) else actor
        return read_path.as_reads(
            actor, purpose, self.release(subject_ids, actor, purpose, categories)
        )

    def open_value(self, cipher: SubjectCipher, subject: str, row: StoredValue) -> str:
        """Decrypt one value; a ciphertext that fails to open names its subject and field."""
        return cipher.decrypt(
            row.ciphertext,
            aad(subject, row.point, row.field),
            context=f"subject {subject}, field {row.point}.{row.field}",
        ).decode()

    def verify_credential(
        self, subject: str, point: str, field: str, candidate: str, *, actor: str = "api"
    ) -> bool:
        """Whether ``candidate`` is the subject's secret ``point.field``; the only use of a
        credential. Audited; repeated failures are slowed down (TooManyAttempts)."""
        return credentials.verify(self, subject, point, field, candidate, actor=actor)

    # --- consent ------------------------------------------------------------------------------

    def set_choice(
        self, subject: str, choice: str, granted: bool, *, source: str, change_only: bool = False
    ) -> str:
        """Grant or withdraw one choice; the latest event wins from the moment this returns
        (a grant the policy wants confirmed waits: see :meth:`record_choice`)."""
        recorded = self.record_choice(
            subject, choice, granted, source=source, change_only=change_only
        )
        return recorded.choice

    def record_choice(
        self,
        subject: str,
        choice: str,
        granted: bool,
        *,
        source: str,
        reason: str | None = None,
        change_only: bool = False,
    ) -> pending.RecordedChoice:
        """Grant or withdraw one choice. A grant of a ``double_opt_in`` purpose is not
        recorded but kept as a pending change until the person confirms it; ``reason`` (why
        someone records it on the person's behalf) goes into the audit log. With
        ``change_only``, a choice already in that state records nothing: decided under the
        subject's lock, so any number of concurrent repeats record one event."""
        key = consent_ledger.normalise(self.policy, choice)
        with self.write() as connection:
            self.subject_row(connection, subject, lock=True)
            if change_only and consent_ledger.state_of(connection, subject, key) == granted:
                return pending.RecordedChoice(key, granted, None)
            if pending.needs_confirmation(self.policy, key, granted):
                waiting = pending.propose(
                    self,
                    connection,
                    subject,
                    self.ciphers([subject])[subject],
                    pending.Change(None, {}, {key: True}),
                    actor=source,
                    now=self.clock(),
                )
                return pending.RecordedChoice(key, False, waiting)
            consent_ledger.append(
                connection,
                subject,
                [(key, granted)],
                source=source,
                version=self.policy.version,
                at=self.clock(),
            )
            detail: dict[str, Any] = {"choice": key, "granted": granted}
            if reason is not None:
                detail["reason"] = reason
            self.record(
                connection,
                Record(
                    action="consent",
                    actor=source,
                    subject_ref=self.subject_ref(subject),
                    detail=detail,
                ),
            )
        return pending.RecordedChoice(key, granted, None)

    def grant(
        self, subject: str, choice: str, *, source: str = "api", change_only: bool = False
    ) -> str:
        return self.set_choice(subject, choice, True, source=source, change_only=change_only)

    def withdraw(
        self, subject: str, choice: str, *, source: str = "api", change_only: bool = False
    ) -> str:
        return self.set_choice(subject, choice, False, source=source, change_only=change_only)

    def choices(self, subject: str) -> Choices:
        with reading(self.engine) as connection:
            self.subject_row(connection, subject)
            return consent_ledger.current(connection, subject)

    def consent_history(self, subject: str) -> list[consent_ledger.ConsentEvent]:
        with reading(self.engine) as connection:
            self.subject_row(connection, subject)
            return consent_ledger.history(connection, subject)

    # --- the website's cookie banner (see pledge.store.receipts) -------------------------------

    def record_cookie_choice(
        self, receipt: str | None, allowed: list[str], *, gpc: bool = False, dnt: bool = False
    ) -> receipts.CookieReceipt:
        """Record a visitor's answer to the banner under their receipt (a new one when
        ``receipt`` is None or unknown); in the subject's ledger too once it is linked."""
        return receipts.record(self, receipt, allowed, gpc=gpc, dnt=dnt)

    def link_cookie_receipt(self, receipt: str, subject: str) -> receipts.CookieReceipt | None:
        """The visitor with this receipt signed in as ``subject``: their answers become theirs."""
        return receipts.link(self, receipt, subject)

    def cookie_receipt(self, receipt: str) -> list[receipts.CookieReceipt]:
        return receipts.history(self, receipt)

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

    def aggregate(
        self,
        recipient: str,
        purpose: str,
        categories: list[str],
        segment: str = "all",
        *,
        since: str | None = None,
        until: str | None = None,
    ) -> aggregates.Aggregate:
        """Counts about a segment for an aggregate-only recipient (see :mod:`.aggregates`)."""
        return aggregates.aggregate(
            self, recipient, purpose, categories, segment, since=since, until=until
        )

    def role_aggregate(
        self,
        role: str,
        purpose: str,
        categories: list[str],
        segment: str = "all",
        *,
        since: str | None = None,
        until: str | None = None,
    ) -> aggregates.Aggregate:
        """Counts about a segment for staff in a role limited to aggregates (the role's
        ``min_group_size``): what such a role sees instead of anyone's data."""
        return aggregates.aggregate(
            self, role, purpose, categories, segment, since=since, until=until, role=True
        )

    def disclosures(self, subject: str) -> list[dict[str, Any]]:
        """The subject's disclosures, each with its audit entry: what was queued before is
        integrated first, so a disclosure just made is listed with its entry."""
        self.audit.sync()
        return disclosure.listing(self, subject)

    def prove_disclosure(self, subject: str, index: int) -> dict[str, Any]:
        """The inclusion proof of the audit entry that records the subject's ``index``-th
        disclosure (in :meth:`disclosures` order), with the log's public key: what a person
        needs to check for themselves that the disclosure is on the record."""
        listed = self.disclosures(subject)
        seq = listed[index]["audit_entry"] if 0 <= index < len(listed) else None
        if seq is None:
            raise NotFoundError(f"no disclosure {index} on record yet", index=index)
        proof = self.prove_entry(seq)
        proof["public_key"] = base64.b64encode(self.audit.public_key.public_bytes_raw()).decode()
        return proof

    # --- data-subject requests with deadlines (see pledge.store.requests) ------------------

    def open_request(
        self,
        subject: str,
        kind: str,
        text: str | None = None,
        *,
        actor: str = "subject",
        verified: bool = True,
    ) -> requests.Request:
        return requests.open_request(self, subject, kind, text, actor=actor, verified=verified)

    def export_request(self, subject: str, *, actor: str = "subject") -> dict[str, Any]:
        """The right of access answered at once: the export, recorded as a request done."""
        exported = rights.export(self, subject, actor=actor)
        requests.fulfilled(self, subject, "export", actor=actor)
        return exported

    def rectify_request(
        self, subject: str, field: str, value: str, *, actor: str = "subject"
    ) -> list[str]:
        """A correction made at once, recorded as a request done."""
        changed = rights.rectify(self, subject, field, value, actor=actor)
        requests.fulfilled(self, subject, "rectify", actor=actor)
        return changed

    def choices_request(
        self, subject: str, choices: Mapping[str, bool], *, source: str = "subject"
    ) -> list[str]:
        """Choices changed at once (an objection, an opt-in), recorded as a request done."""
        recorded = [
            self.set_choice(subject, choice, granted, source=source, change_only=True)
            for choice, granted in choices.items()
        ]
        requests.fulfilled(self, subject, "choices", actor=source)
        return recorded

    def requests_of(self, subject: str) -> list[requests.Request]:
        return requests.of_subject(self, subject)

    def verify_waiting_requests(self, subject: str, *, actor: str = "subject") -> int:
        return requests.verify_waiting(self, subject, actor=actor)

    def request_queue(self, *, closed: bool = False) -> list[requests.Request]:
        return requests.queue(self, closed=closed)

    def request(self, request_id: str, *, actor: str) -> requests.Request:
        return requests.detail(self, request_id, actor=actor)

    def request_header(self, request_id: str) -> requests.Request:
        return requests.header(self, request_id)

    def verify_request(self, request_id: str, *, actor: str) -> requests.Request:
        return requests.verify(self, request_id, actor=actor)

    def start_request(self, request_id: str, *, actor: str) -> requests.Request:
        return requests.start(self, request_id, actor=actor)

    def extend_request(self, request_id: str, reason: str, *, actor: str) -> requests.Request:
        return requests.extend(self, request_id, reason, actor=actor)

    def answer_request(self, request_id: str, text: str, *, actor: str) -> requests.Request:
        return requests.answer(self, request_id, text, actor=actor)

    def refuse_request(self, request_id: str, reason: str, *, actor: str) -> requests.Request:
        return requests.refuse(self, request_id, reason, actor=actor)

    def run_requests(self, *, actor: str = "requests") -> request_work.RunReport:
        return request_work.run_due(self, actor=actor)

    def request_notices(self, *, limit: int = 200) -> list[request_work.Notice]:
        return request_work.unsent(self, limit=limit)

    def request_notice_done(self, notice: request_work.Notice, *, error: str | None = None) -> None:
        request_work.notice_done(self, notice, error=error)

    # --- web-server logs (minimised by pledge.logs before they get here) -------------------

    def web_log_rules(self) -> WebLogs:
        """The policy's ``web_logs`` section; an InputError when it has none."""
        return weblogs.rules(self)

    def web_log_minimum_age(self) -> int | None:
        """The youngest age the web-log point collects from (see collect.minimum_age)."""
        return weblogs.minimum_age(self)

    def web_log_hasher(self) -> Callable[[str], str]:
        """The keyed hash that stands in for an address when the policy says ``hash``."""
        return weblogs.hasher(self._web_log_key)

    def store_web_visits(
        self, counts: Iterable[tuple[Sequence[object], int]], *, actor: str = "logs"
    ) -> int:
        """Keep one batch of counted, already minimised visits; audited."""
        return weblogs.store(self, counts, actor=actor)

    def web_log_report(
        self, dimension: str, *, limit: int = 50, actor: str = "operator"
    ) -> weblogs.Report:
        return weblogs.report(self, dimension, limit=limit, actor=actor)

    def run_retention(self) -> retention.RetentionReport:
        return retention.run(self)

    def backup(self, path: Path, *, actor: str = "operator") -> Path | None:
        """Back the database up to ``path`` (no data keys in it) and snapshot the key store;
        the snapshot's path, where the key store keeps snapshots."""
        backup.create(self.engine, path)
        snapshot = self.key_store.snapshot(self.clock())
        with self.write() as connection:
            self.record(
                connection,
                Record(action="backup", actor=actor, detail={"key_snapshot": snapshot is not None}),
            )
        return snapshot

    def rotate_master_key(self, new: KeyProvider, *, actor: str = "operator") -> Rotation:
        return rotate_master_key(self, new, actor=actor)

    # --- proof that a write is the person's (see subject_tokens and pending) ----------------

    @cached_property
    def _subject_tokens(self) -> SubjectTokens:
        return SubjectTokens(named_secret(self.engine, self.keys, subject_tokens.KEY_NAME))

    @cached_property
    def _confirmations(self) -> pending.Confirmations:
        return pending.Confirmations(named_secret(self.engine, self.keys, pending.KEY_NAME))

    def subject_token(
        self, subject: str, audience: str, ttl: dt.timedelta = subject_tokens.DEFAULT_TTL
    ) -> SubjectToken:
        """A token proving ``subject`` to the API key ``audience``, for ``ttl``."""
        with reading(self.engine) as connection:
            self.subject_row(connection, subject)
        return self._subject_tokens.issue(subject, audience, self.clock(), ttl)

    def check_subject_token(self, token: str | None, subject: str, audience: str) -> None:
        self._subject_tokens.check(token, subject, audience, self.clock())

    def confirmation_token(self, pending_id: str) -> str:
        """The token of the link that confirms pending change ``pending_id``."""
        return self._confirmations.link_token(self, pending_id)

    def check_confirmation(self, token: str) -> str:
        """The pending id of a genuine, unexpired link (without using it)."""
        return self._confirmations.check(self, token)

    def confirm(self, token: str) -> pending.Confirmed:
        """Apply the pending change the link names; a link works once."""
        return self._confirmations.confirm(self, token)

    # --- staff of the console (see pledge.store.staff) ------------------------------------

    @cached_property
    def _staff(self) -> staff.Staff:
        return staff.Staff(self)

    def add_staff(self, email: str, roles: list[str], *, actor: str = "cli") -> staff.Enrolled:
        return self._staff.add(self, email, roles, actor=actor)

    def find_staff(self, email: str) -> str | None:
        return self._staff.find(self, email)

    def staff_member(self, staff_id: str) -> staff.StaffMember:
        return self._staff.member(self, staff_id)

    def staff_address(self, staff_id: str) -> str:
        return self._staff.address(self, staff_id)

    def read_as_staff(self, staff_id: str, role: str, subject: str, purpose: str) -> Released:
        """:meth:`read` as ``role``, the audit leaf naming the staff member who asked."""
        return staff.read_as(self, staff_id, role, subject, purpose)

    def check_staff_code(self, staff_id: str, code: str, role: str) -> None:
        """Accept a TOTP code once, for a role the staff member holds (see staff.Staff)."""
        self._staff.check_code(self, staff_id, code, role)

    # --- sign-in links and sessions of the web pages (see pledge.store.sessions) ------------

    @cached_property
    def _sign_ins(self) -> sessions.SignIns:
        return sessions.SignIns(named_secret(self.engine, self.keys, sessions.KEY_NAME))

    def sign_in_link(self, kind: str, principal: str, ttl: dt.timedelta = sessions.LINK_TTL) -> str:
        """The token of a new one-time sign-in link for ``principal`` (a subject id, or a
        staff id); the caller mails it to the address on record, never to one typed in."""
        return self._sign_ins.issue(self, kind, principal, ttl)

    def check_sign_in(self, token: str) -> str:
        """The link id of a genuine, unexpired sign-in link (without using it)."""
        return self._sign_ins.check(self, token)

    def sign_in(
        self,
        token: str,
        kind: str,
        *,
        ttl: dt.timedelta = sessions.SESSION_TTL,
        role: str | None = None,
    ) -> sessions.Opened:
        """Use a sign-in link of a ``kind`` principal (once) and open a session for it;
        audited."""
        return self._sign_ins.redeem(self, token, kind, ttl=ttl, role=role)

    def web_session(self, session_id: str) -> sessions.Session | None:
        """The live session a cookie's id names, or None (unknown, expired or revoked)."""
        return self._sign_ins.find(self, session_id)

    def session_second_factor(self, key: str, *, role: str | None = None) -> None:
        """Record that session ``key`` passed its second factor (and the role it acts as)."""
        self._sign_ins.second_factor(self, key, role=role)

    def end_session(self, key: str) -> None:
        self._sign_ins.end(self, key)

    def end_sessions(self, kind: str, principal: str) -> int:
        """Revoke every session and unused link of a principal; how many sessions were live."""
        return self._sign_ins.end_all(self, kind, principal)

    # --- secrets of the edges (see pledge.store.signing) ----------------------------------

    def named_secret(self, name: str) -> bytes:
        """The store secret ``name`` (made on first use, wrapped by the master key): what an
        edge signs its own tokens with (the email gate's unsubscribe links)."""
        return named_secret(self.engine, self.keys, name)
