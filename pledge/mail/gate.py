"""The email gate: every message is sent as one of the policy's communication types, and goes
only to the people the decision function allows.

For a chunk of recipients, in one transaction, the gate reads their choices, decides in bulk
(:func:`pledge.policy.decide_many`), decrypts the address of each person it may write to,
renders the message with the obligations the decision carries (footer, advertisement notice,
unsubscribe link and headers), and writes it to the outbox together with one audit entry per
recipient, sent or skipped. Either all of that commits or none of it does, so a crash leaves
no message without its decision on record and no decision without its message.

A skipped recipient is reported with the decision's reason code and the policy path behind
it (``consent_withdrawn`` at ``purposes.marketing.communications.email.basis``...).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select

from pledge.errors import InputError, MessageRefused
from pledge.mail import recipients
from pledge.mail.compose import Composer, Footer, check_sender, list_unsubscribe, sender_domain
from pledge.mail.compose import subject_problem as misleading
from pledge.mail.recipients import EMAIL, NAME, Person, Value
from pledge.mail.settings import MailSettings
from pledge.mail.tables import PENDING, mail_outbox
from pledge.mail.templates import TemplateSet
from pledge.policy import Actor, Choices, Decision, Reason, Request, decide_many, purpose_choice
from pledge.policy.loader import suggest
from pledge.policy.model import Basis, Channel, MessageClass
from pledge.policy.taxonomy import ancestors, covers
from pledge.store.audit import Record
from pledge.store.collect import aad
from pledge.store.consents import STOP_ALL
from pledge.store.crypto import SubjectCipher
from pledge.store.vault import Vault

if TYPE_CHECKING:
    from pledge.mail.tokens import UnsubscribeTokens

SALE_OR_SHARING = ("marketing.advertising.third_party", "third_party_sharing")
GPC_SOURCE = "gpc"

NO_ADDRESS = Reason("no_address", "the person gave no email address", "collection_points")
SUBJECT_REFUSED = Reason(
    "subject_refused",
    "the rendered subject would mislead (a fake reply or forward marker)",
    "communications",
)


def record_gpc(vault: Vault, subject: str) -> list[str]:
    """Record a Global Privacy Control / Do Not Track signal: the person opts out of every
    purpose the policy has for selling or sharing their data (the ``SALE_OR_SHARING`` trees).

    Purposes the law requires (basis ``legal_obligation``) are not the person's to refuse and
    are left alone. Returns the choice keys withdrawn; a repeated signal withdraws nothing new.
    """
    policy = vault.policy.policy
    current = vault.choices(subject).withdrawn
    withdrawn: list[str] = []
    for purpose, spec in policy.purposes.items():
        key = purpose_choice(purpose)
        if spec.basis is Basis.legal_obligation or key in current:
            continue
        if any(covers(tree, purpose) for tree in SALE_OR_SHARING):
            withdrawn.append(vault.withdraw(subject, key, source=GPC_SOURCE))
    return withdrawn


@dataclass(frozen=True)
class Skip:
    """A recipient the gate did not write to, and the policy's reason."""

    subject: str
    code: str
    ref: str
    message: str


@dataclass(frozen=True)
class ChunkResult:
    queued: list[str]
    skipped: list[Skip]
    already_queued: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """One person's decision: the values it lets the gate use, or why it skips them."""

    person: Person
    email: Value | None
    name: Value | None
    decision: Decision | None
    skip: Reason | None


class Gate:
    """Sends one communication type with one template. Refuses up front (MessageRefused)
    what would break a promise for every recipient: a misleading subject, a From domain the
    policy does not list, a marketing message with no way to unsubscribe."""

    def __init__(
        self,
        vault: Vault,
        communication: str,
        template: TemplateSet,
        settings: MailSettings,
        tokens: UnsubscribeTokens | None = None,
    ) -> None:
        policy = vault.policy.policy
        spec = policy.communications.get(communication)
        if spec is None:
            raise InputError(
                f"the policy has no communication type '{communication}'"
                f"{suggest(communication, policy.communications)}",
                communication=communication,
            )
        purpose = policy.purposes[spec.purpose]
        if purpose.channel is not Channel.email:
            raise MessageRefused(
                f"communication '{communication}' is sent for '{spec.purpose}', whose channel "
                f"is {purpose.channel or 'not set'}; the email gate sends email only",
                communication=communication,
            )
        if not settings.from_address:
            raise InputError("set PLEDGE_MAIL_FROM_ADDRESS (the From of every message)")
        self.vault = vault
        self.name = communication
        self.actor = Actor.communication(communication)
        self.purpose = spec.purpose
        self.message_class = spec.message_class
        self.template = template
        self.settings = settings
        self.tokens = tokens
        self.organisation = policy.organisation
        self.sender = settings.from_address
        self.envelope_sender = settings.from_address.rpartition("<")[2].rstrip(">").strip()
        self.domain = sender_domain(self.sender)
        self.composer = Composer(self.sender)
        self.stop_keys = self._stop_keys(purpose.basis)
        self.address_points = self._points(EMAIL, purpose.basis)
        self.name_points = self._points(NAME, purpose.basis)
        if self.message_class is MessageClass.marketing:
            self._check_marketing()

    # --- refusals that hold for every recipient ---------------------------------------------

    def _check_marketing(self) -> None:
        if not self.organisation.postal_address:
            raise MessageRefused(
                "marketing email must carry the organisation's postal address: set "
                "organisation.postal_address in the policy"
            )
        check_sender(self.sender, list(self.organisation.sender_domains))
        problem = misleading(self.template.subject_source)
        if problem:
            raise MessageRefused(f"template '{self.template.name}': {problem}")
        url = self.settings.unsubscribe_url or ""
        if not url.startswith("https://"):
            raise MessageRefused(
                "marketing needs a one-click unsubscribe link: set PLEDGE_MAIL_UNSUBSCRIBE_URL "
                "to the https:// address where pledge.mail.web's router is mounted"
            )
        if self.tokens is None:
            raise MessageRefused("marketing needs unsubscribe tokens; pass the gate its tokens")

    def _stop_keys(self, basis: Basis) -> list[str]:
        """Choices whose withdrawal (or, for stop:all, grant) must stop this message even
        after it was queued; the same choices the decision function tests."""
        if self.message_class is MessageClass.legal or basis is Basis.legal_obligation:
            return []
        keys = [STOP_ALL]
        if basis in (Basis.opt_in, Basis.opt_out):
            keys += [purpose_choice(p) for p in ancestors(self.purpose)]
            keys.append(f"channel:{Channel.email}")
        return keys

    def _points(self, category: str, basis: Basis) -> frozenset[str] | None:
        if basis is Basis.legal_obligation:
            return None
        return frozenset(self.vault.policy.points_collecting_for(category, self.purpose, None))

    # --- deciding -------------------------------------------------------------------------

    def judge(self, people: Sequence[Person]) -> list[Verdict]:
        """The decision for each person, made in bulk per (points, versions) group."""
        verdicts: dict[str, Verdict] = {}
        groups: dict[tuple[object, ...], list[tuple[Person, Value, Value | None]]] = defaultdict(
            list
        )
        for person in people:
            email = person.best(EMAIL, self.address_points)
            if email is None:
                verdicts[person.subject] = Verdict(person, None, None, None, NO_ADDRESS)
                continue
            name = person.best(NAME, self.name_points)
            key = (email.point, email.policy_version) + (
                (name.point, name.policy_version) if name else ()
            )
            groups[key].append((person, email, name))
        for members in groups.values():
            _, email, name = members[0]
            choices = [self._choices(person.choices) for person, _, _ in members]
            by_category = self._decide(email, name, choices)
            for i, (person, email_value, name_value) in enumerate(members):
                decision = by_category[EMAIL][i]
                skip = None
                if EMAIL not in decision.released:
                    skip = dict(decision.withheld).get(EMAIL) or decision.denial or NO_ADDRESS
                usable_name = (
                    name_value if name_value and NAME in by_category[NAME][i].released else None
                )
                verdicts[person.subject] = Verdict(person, email_value, usable_name, decision, skip)
        return [verdicts[p.subject] for p in people]

    def _choices(self, choices: Choices) -> Choices:
        """A message the law requires still reaches people who asked for no correspondence."""
        if self.message_class is MessageClass.legal and choices.stop_all:
            return Choices(choices.granted, choices.withdrawn, False)
        return choices

    def _decide(
        self, email: Value, name: Value | None, choices: list[Choices]
    ) -> dict[str, list[Decision]]:
        """Decisions for the address (and the name): one request per policy version the
        values were collected under, each limited to the point it came from."""
        by_version: dict[str, list[Value]] = defaultdict(list)
        for value in (email, name):
            if value is not None:
                by_version[value.policy_version].append(value)
        result: dict[str, list[Decision]] = {}
        for version, values in by_version.items():
            request = Request(
                self.actor,
                self.purpose,
                tuple(v.category for v in values),
                collected_under=version,
                points=frozenset(v.point for v in values),
            )
            decisions = decide_many(self.vault.policy, request, choices)
            for value in values:
                result[value.category] = decisions
        result.setdefault(NAME, result[EMAIL])
        return result

    # --- queuing ---------------------------------------------------------------------------

    def process(self, campaign: str, subject_ids: Sequence[str], *, dry_run: bool) -> ChunkResult:
        """Gate one chunk: decide, and (unless ``dry_run``) render into the outbox and audit,
        all in one transaction. People already queued for ``campaign`` are left alone."""
        if dry_run:
            with self.vault.engine.connect() as connection:
                return self._process(connection, campaign, subject_ids, dry_run=True)
        with self.vault.engine.begin() as connection:
            return self._process(connection, campaign, subject_ids, dry_run=False)

    def _process(
        self, connection: Connection, campaign: str, subject_ids: Sequence[str], *, dry_run: bool
    ) -> ChunkResult:
        done = set(
            connection.execute(
                select(mail_outbox.c.subject_id).where(
                    mail_outbox.c.campaign_id == campaign,
                    mail_outbox.c.subject_id.in_(list(subject_ids)),
                )
            ).scalars()
        )
        pending = [s for s in subject_ids if s not in done]
        people = recipients.load(connection, pending)
        verdicts = self.judge([people[s] for s in pending if s in people])
        now = self.vault.clock()
        queued: list[str] = []
        skipped: list[Skip] = []
        rows: list[dict[str, object]] = []
        records: list[Record] = []
        for verdict in verdicts:
            subject = verdict.person.subject
            reason = verdict.skip
            row = None
            if reason is None and not dry_run:
                row = self._render(campaign, verdict, now)
                reason = None if row is not None else SUBJECT_REFUSED
            if reason is not None:
                skipped.append(Skip(subject, reason.code, reason.ref, reason.message))
            else:
                queued.append(subject)
            if dry_run:
                continue
            if row is not None:
                rows.append(row)
            records.append(self._record(campaign, subject, reason, row))
        if records:
            self.vault.record(connection, *records)
        if rows:
            connection.execute(insert(mail_outbox), rows)
        return ChunkResult(queued, skipped, len(done))

    def _record(
        self, campaign: str, subject: str, reason: Reason | None, row: dict[str, object] | None
    ) -> Record:
        detail: dict[str, object] = {"campaign": campaign, "communication": self.name}
        if row is not None:
            detail |= {"outcome": "queued", "message_id": row["message_id"]}
        elif reason is not None:
            detail |= {"outcome": "skipped", "reason": reason.code, "ref": reason.ref}
        return Record(
            action="mail",
            actor=str(self.actor),
            subject_ref=self.vault.subject_ref(subject),
            purpose=self.purpose,
            detail=detail,
        )

    def _render(
        self, campaign: str, verdict: Verdict, now: dt.datetime
    ) -> dict[str, object] | None:
        person, email = verdict.person, verdict.email
        assert email is not None
        assert verdict.decision is not None
        subject = person.subject
        assert person.wrapped_key is not None  # only active subjects are loaded
        opened = SubjectCipher(self.vault.keys.unwrap(person.wrapped_key))
        address = self._open(opened, subject, email)
        name = self._open(opened, subject, verdict.name) if verdict.name else None
        rendered = self.template.render(
            name=name, organisation=self.organisation.name, communication=self.name
        )
        obligations = {o.code for o in verdict.decision.obligations}
        headers: list[tuple[str, str]] = []
        if "unsubscribe_link" in obligations or "marketing_footer" in obligations:
            if misleading(rendered.subject):
                return None
            assert self.tokens is not None
            assert self.settings.unsubscribe_url
            token = self.tokens.issue(subject, purpose_choice(self.purpose), now.date())
            url = f"{self.settings.unsubscribe_url.rstrip('/')}/{token}"
            mailbox = f"unsubscribe+{token}@{self.settings.unsubscribe_domain or self.domain}"
            assert self.organisation.postal_address  # checked in _check_marketing
            rendered = Footer(
                self.organisation.name,
                self.organisation.postal_address,
                "advertisement_notice" in obligations,
                url,
            ).apply(rendered)
            headers = list_unsubscribe(url, mailbox)
        message_id = message_id_for(campaign, subject, self.domain)
        message = self.composer.compose(
            recipient=address,
            recipient_name=name,
            rendered=rendered,
            message_id=message_id,
            date=now,
            headers=headers,
        )
        payload = opened.encrypt(address.encode() + b"\n" + message, payload_aad(subject, campaign))
        return {
            "subject_id": subject,
            "campaign_id": campaign,
            "communication": self.name,
            "message_id": message_id,
            "sender": self.envelope_sender,
            "payload": payload,
            "stop_keys": self.stop_keys,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "queued_at": now,
        }

    @staticmethod
    def _open(cipher: SubjectCipher, subject: str, value: Value) -> str:
        return cipher.decrypt(
            value.ciphertext,
            aad(subject, value.point, value.field),
            context=f"subject {subject}, field {value.point}.{value.field}",
        ).decode()


def message_id_for(campaign: str, subject: str, domain: str) -> str:
    """The Message-ID of a campaign's message to one subject: the same every time it is
    rendered or sent, so a resend after a crash is recognisable as the same message."""
    digest = hashlib.sha256(f"pledge-mail/v1|{campaign}|{subject}".encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def payload_aad(subject: str, campaign: str) -> bytes:
    """Binds an outbox payload to its row: it cannot be moved to another person's message."""
    return f"outbox|{subject}|{campaign}".encode()
