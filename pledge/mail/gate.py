"""The email gate: every message is sent as one of the policy's communication types, and goes
only to the people the decision function allows.

For a chunk of recipients, in one transaction, the gate asks the store's one release operation
(:mod:`pledge.store.release`) for their addresses and names: it decides in bulk, per point and
policy version, and queues one audit leaf per recipient, queued or skipped. The gate then
decrypts the address of each person it may write to, renders the message with the obligations
the decision carries (footer, advertisement notice, unsubscribe link and headers), and writes
it to the outbox. Either all of that commits or none of it does, so a crash leaves no message
without its decision on record and no decision without its message.

A skipped recipient is reported with the decision's reason code and the policy path behind
it (``consent_withdrawn`` at ``purposes.marketing.communications.email.basis``...).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pledge.errors import InputError, MessageRefused, NotFoundError
from pledge.mail.compose import Composer, Footer, check_sender, list_unsubscribe, sender_domain
from pledge.mail.compose import subject_problem as misleading
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.policy import Actor, Reason, purpose_choice
from pledge.policy.cookies import sale_or_sharing_purposes
from pledge.policy.frequency import exceeded, since
from pledge.policy.loader import suggest
from pledge.policy.model import Basis, Channel, MessageClass
from pledge.policy.taxonomy import ancestors
from pledge.store import outbox
from pledge.store import release as read_path
from pledge.store.audit import Record
from pledge.store.consents import STOP_ALL
from pledge.store.release import Grant, StoredValue
from pledge.store.vault import Vault

if TYPE_CHECKING:
    from pledge.mail.tokens import UnsubscribeTokens

EMAIL = "user.contact.email"
NAME = "user.name"
CATEGORIES = (EMAIL, NAME)
GPC_SOURCE = "gpc"

NO_ADDRESS = Reason("no_address", "the person gave no email address", "collection_points")
SUBJECT_REFUSED = Reason(
    "subject_refused",
    "the rendered subject would mislead (a fake reply or forward marker)",
    "communications",
)


def record_gpc(vault: Vault, subject: str) -> list[str]:
    """Record a Global Privacy Control / Do Not Track signal: the person opts out of every
    purpose the policy has for selling or sharing their data
    (:func:`pledge.policy.cookies.sale_or_sharing_purposes`).

    Purposes the law requires (basis ``legal_obligation``) are not the person's to refuse and
    are left alone. Returns the choice keys withdrawn; a repeated signal withdraws nothing new.
    """
    current = vault.choices(subject).withdrawn
    return [
        vault.withdraw(subject, purpose_choice(purpose), source=GPC_SOURCE)
        for purpose in sale_or_sharing_purposes(vault.policy.policy)
        if purpose_choice(purpose) not in current
    ]


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

    grant: Grant
    email: StoredValue | None
    name: StoredValue | None
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
        self.spec = spec
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

    def verdict(self, grant: Grant, already: int = 0) -> Verdict:
        """The newest address (and name) the decisions released, or why there is none: the
        reason given for an address collected for this purpose before any other. ``already``:
        messages of this kind the person got within the policy's frequency period."""
        email = _newest(grant.released, EMAIL)
        too_often = exceeded(self.name, self.spec, already)
        if too_often is not None:
            return Verdict(grant, None, None, too_often)
        if email is None:
            given = sorted(
                (v for v in grant.withheld_values if v.category == EMAIL),
                key=lambda v: (v.point not in (self.address_points or {v.point}), -_when(v)),
            )
            reason = grant.withheld[given[0].key] if given else NO_ADDRESS
            return Verdict(grant, None, None, reason)
        return Verdict(grant, email, _newest(grant.released, NAME), None)

    # --- queuing ---------------------------------------------------------------------------

    def process(
        self,
        campaign: str,
        subject_ids: Sequence[str],
        *,
        dry_run: bool,
        context: Mapping[str, object] | None = None,
        per_subject: Callable[[str], Mapping[str, object]] | None = None,
        farewell: bool = False,
    ) -> ChunkResult:
        """Gate one chunk: decide, and (unless ``dry_run``) render into the outbox and audit,
        all in one transaction. People already queued for ``campaign`` are left alone.
        ``context`` adds template variables (a confirmation link); ``per_subject(id)`` adds
        those of one recipient (their own opt-out link). ``farewell`` queues each message
        held, under a key of its own, for the person's erasure to release (see
        :mod:`pledge.store.outbox`)."""
        extra = dict(context or {})
        with outbox.queueing(
            self.vault, campaign, self.name, dry_run=dry_run, farewell=farewell
        ) as chunk:
            return self._process(chunk, subject_ids, dry_run, extra, per_subject)

    def _process(
        self,
        chunk: outbox.Queueing,
        subject_ids: Sequence[str],
        dry_run: bool,
        extra: dict[str, object],
        per_subject: Callable[[str], Mapping[str, object]] | None = None,
    ) -> ChunkResult:
        campaign = chunk.campaign
        done = chunk.already_queued(subject_ids)
        pending = [s for s in subject_ids if s not in done]
        verdicts: dict[str, Verdict] = {}
        ids: dict[str, str] = {}  # the Message-ID each queued leaf names
        sent: dict[str, int] | None = None

        def leaf(grant: Grant, ref: str) -> Record:
            nonlocal sent
            if sent is None:  # counted once the chunk's people are locked (see lock= below)
                sent = self._sent_recently(chunk, pending)
            verdict = verdicts[grant.subject] = self.verdict(grant, sent.get(grant.subject, 0))
            if verdict.skip is not None:
                return self._record(campaign, ref, verdict.skip, None)
            message_id = ids[grant.subject] = message_id_for(campaign, grant.subject, self.domain)
            return self._record(campaign, ref, None, message_id)

        if dry_run:
            outcomes = chunk.judge(pending, self.actor, self.purpose, CATEGORIES)
            counted = self._sent_recently(chunk, pending)
            verdicts = {
                g.subject: self.verdict(g, counted.get(g.subject, 0))
                for g in outcomes.values()
                if isinstance(g, Grant)
            }
        else:
            chunk.decide(
                pending,
                self.actor,
                self.purpose,
                CATEGORIES,
                record=leaf,
                # Two campaigns of a limited kind at once must not both pass the count.
                lock=self.spec.frequency is not None,
            )
        if not dry_run:  # the keys of everyone to be rendered, in one key-store query
            read_path.prime(self.vault, [v.grant for v in verdicts.values() if v.skip is None])
        now = self.vault.clock()
        queued: list[str] = []
        skipped: list[Skip] = []
        refused: list[Record] = []
        for subject in pending:
            verdict = verdicts.get(subject)
            if verdict is None:
                continue  # unknown or erased
            reason = verdict.skip
            if reason is None and not dry_run:
                message_id = ids.get(subject) or message_id_for(campaign, subject, self.domain)
                own = extra if per_subject is None else {**extra, **per_subject(subject)}
                try:
                    message = self._render(verdict, message_id, now, own)
                    if message is not None:
                        chunk.add(message, now)
                except NotFoundError:
                    continue  # erased since the decision: its key is gone
                if message is None:
                    reason = SUBJECT_REFUSED
                    refused.append(
                        self._record(campaign, self.vault.subject_ref(subject), reason, None)
                    )
            if reason is not None:
                skipped.append(Skip(subject, reason.code, reason.ref, reason.message))
            else:
                queued.append(subject)
        if refused:
            chunk.record(*refused)
        return ChunkResult(queued, skipped, len(done))

    def _sent_recently(self, chunk: outbox.Queueing, subject_ids: list[str]) -> dict[str, int]:
        """Messages of this kind queued for each person within the frequency period."""
        start = since(self.spec, self.vault.clock())
        if start is None:
            return {}
        return chunk.sent_since(subject_ids, start)

    def _record(
        self, campaign: str, ref: str, reason: Reason | None, message_id: str | None
    ) -> Record:
        """The leaf of one recipient: the message queued for them, or why they were skipped
        (a second leaf follows when the rendered message itself is refused)."""
        detail: dict[str, object] = {"campaign": campaign, "communication": self.name}
        if reason is None:
            detail |= {"outcome": "queued", "message_id": message_id}
        else:
            detail |= {"outcome": "skipped", "reason": reason.code, "ref": reason.ref}
        return Record(
            action="mail",
            actor=str(self.actor),
            subject_ref=ref,
            purpose=self.purpose,
            detail=detail,
        )

    def _render(
        self,
        verdict: Verdict,
        message_id: str,
        now: dt.datetime,
        extra: Mapping[str, object],
    ) -> outbox.Message | None:
        grant, email = verdict.grant, verdict.email
        assert email is not None
        subject = grant.subject
        wanted = [email] if verdict.name is None else [email, verdict.name]
        opened = read_path.open_grant(self.vault, grant, self.purpose, wanted)
        address = next(v.value for v in opened.items if v.category == EMAIL)
        name = next((v.value for v in opened.items if v.category == NAME), None)
        rendered = self.template.render(
            name=name, organisation=self.organisation.name, communication=self.name, **extra
        )
        obligations = {o.code for o in opened.obligations}
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
        message = self.composer.compose(
            recipient=address,
            recipient_name=name,
            rendered=rendered,
            message_id=message_id,
            date=now,
            headers=headers,
        )
        return outbox.Message(
            grant, message_id, self.envelope_sender, address, message, self.stop_keys
        )


def _newest(values: Sequence[StoredValue], category: str) -> StoredValue | None:
    found = [v for v in values if v.category == category]
    return max(found, key=lambda v: v.collected_at) if found else None


def _when(value: StoredValue) -> float:
    return value.collected_at.timestamp()


def message_id_for(campaign: str, subject: str, domain: str) -> str:
    """The Message-ID of a campaign's message to one subject: the same every time it is
    rendered or sent, so a resend after a crash is recognisable as the same message."""
    digest = hashlib.sha256(f"pledge-mail/v1|{campaign}|{subject}".encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"
