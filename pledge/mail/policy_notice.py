"""Notices of a material policy change, mailed to exactly the people a change touches.

Who: :func:`pledge.policy.impact.impact` places each material change at the collection points
whose data it reaches (or everyone, for a right taken away); the people holding values there
are told, each once, of the changes that reach their own data, in the diff's words, with when
the changes take effect and a link that opts them out (:mod:`pledge.store.notices`).

How: through the email gate, as the policy's service communication named by
``PLEDGE_MAIL_NOTICE_COMMUNICATION``, so the decision function still says whose address may be
used for it. The campaign id is derived from the version: sending again (a retry, a second
``pledge policy notify``) queues only people not yet queued, so nobody gets two notices.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pledge.errors import InputError, MessageRefused
from pledge.mail.campaign import Summary
from pledge.mail.gate import Gate
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.policy.announce import Announcement
from pledge.policy.impact import Touch, impact
from pledge.policy.model import MessageClass
from pledge.store.vault import Vault

TEMPLATE = Path(__file__).parent / "templates" / "policy_notice"
_READABLE = re.compile(r"[A-Za-z0-9._:-]{1,50}")


@dataclass
class NoticeRun:
    """What sending the notices of one version did."""

    version: str
    banner: str
    summary: Summary | None = None
    reached: int = 0
    not_sent: str | None = None  # why nothing was mailed, when nothing was

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "banner": self.banner,
            "people_touched": self.reached,
            "notices": self.summary.to_dict() if self.summary else None,
            "not_sent": self.not_sent,
        }


def campaign_for(version: str) -> str:
    """The campaign id of a version's notices (readable when the version allows it)."""
    if _READABLE.fullmatch(version):
        return f"policy-{version}"
    return f"policy-{hashlib.sha256(version.encode()).hexdigest()[:32]}"


def touches_of(vault: Vault, change: Announcement) -> list[Touch]:
    """The material changes that reach data the store holds (or everyone)."""
    before = vault.policy.history[change.previous].policy
    return [
        t
        for t in impact(before, vault.policy.policy, change.diff, vault.holdings())
        if t.points is None or t.values
    ]


def send_policy_notices(
    vault: Vault, settings: MailSettings, *, chunk_size: int | None = None
) -> NoticeRun | None:
    """Queue one notice per person a material change of the version in force touches; None
    when the version has no earlier one to compare with."""
    change = vault.policy_change()
    if change is None:
        return None
    run = NoticeRun(change.version, change.banner())
    touches = touches_of(vault, change)
    if not touches:
        run.not_sent = "no material change reaches data this store holds"
        return run
    gate = _gate(vault, settings)
    points: set[str] | None = set()
    for touch in touches:
        points = None if touch.points is None or points is None else points | touch.points
    base = (settings.notice_url or "").rstrip("/")
    campaign = campaign_for(change.version)
    summary = Summary(campaign, gate.name, "touched by the change", dry_run=False)
    size = chunk_size or settings.chunk_size
    after = ""
    while page := vault.notice_holders(points, after=after, limit=size):
        after = page[-1]
        held = vault.points_held(page)
        # Made before the gate's transaction: the first link creates the links' secret.
        links = {s: f"{base}/{vault.opt_out_token(s, change.version)}" for s in page}

        def own(
            subject: str, held: dict[str, set[str]] = held, links: dict[str, str] = links
        ) -> dict[str, object]:
            return {
                "changes": change.lines_for(touches, held.get(subject, ())),
                "opt_out_url": links[subject],
            }

        summary.add(
            gate.process(
                campaign,
                page,
                dry_run=False,
                context={"version": change.version, "when": change.when()},
                per_subject=own,
            )
        )
        run.reached += len(page)
    run.summary = summary
    return run


def _gate(vault: Vault, settings: MailSettings) -> Gate:
    name = settings.notice_communication
    if not name or not settings.notice_url or not settings.from_address:
        raise InputError(
            "to mail notices of a policy change, set PLEDGE_MAIL_NOTICE_COMMUNICATION (the "
            "policy's service message they go as), PLEDGE_MAIL_NOTICE_URL (the https:// base "
            "of the opt-out pages) and PLEDGE_MAIL_FROM_ADDRESS"
        )
    if not settings.notice_url.startswith("https://"):
        raise InputError("PLEDGE_MAIL_NOTICE_URL must be an https:// address")
    spec = vault.policy.policy.communications.get(name)
    if spec is not None and spec.message_class is not MessageClass.service:
        raise MessageRefused(
            f"notices of a policy change go as a service message; communication '{name}' is "
            f"{spec.message_class.value}",
            communication=name,
        )
    return Gate(vault, name, TemplateSet(TEMPLATE), settings)
