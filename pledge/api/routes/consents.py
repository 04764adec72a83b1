"""The consent ledger of one subject: grant, withdraw, the current state and the history.

Who may record a choice, and with what proof:

- a collector key (the website relays the person's own click) with the person's subject token;
- an agent key (staff acting on a call or a letter) or an admin key, with a stated reason
  that goes into the audit log.

Role and recipient keys record nothing. Each event names the key that recorded it as its
source. A grant of a ``double_opt_in`` purpose waits for the person's emailed confirmation.
"""

from __future__ import annotations

from pledge.api.deps import ChoiceWriterKey, StaffKey, SubjectId, VaultDep
from pledge.api.keys import ApiKey
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import ChoiceIn, ChoiceOut, ChoicesOut, ConsentEventOut
from pledge.errors import ProofRequired
from pledge.mail.confirmations import send_confirmations
from pledge.store.vault import Vault

router = v1_router(tags=["consents"])


@router.get("/subjects/{subject}/consents", responses=documented(404))
def current(subject: SubjectId, vault: VaultDep, _key: StaffKey) -> ChoicesOut:
    """The latest event per choice."""
    choices = vault.choices(subject)
    return ChoicesOut(
        granted=sorted(choices.granted),
        withdrawn=sorted(choices.withdrawn),
        stop_all=choices.stop_all,
    )


@router.get("/subjects/{subject}/consents/history", responses=documented(404))
def history(subject: SubjectId, vault: VaultDep, _key: StaffKey) -> list[ConsentEventOut]:
    """Every event, oldest first."""
    return [
        ConsentEventOut(
            seq=e.seq,
            choice=e.choice,
            granted=e.granted,
            source=e.source,
            policy_version=e.policy_version,
            at=e.at,
        )
        for e in vault.consent_history(subject)
    ]


def _record(vault: Vault, key: ApiKey, subject: str, body: ChoiceIn, granted: bool) -> ChoiceOut:
    if key.scope == "collector":
        vault.check_subject_token(body.subject_token, subject, key.key_id)
    elif body.reason is None:
        # The reason is the proof an agent or admin key gives, as a token is a website's.
        raise ProofRequired(
            f"a {key.scope} key records a choice on the person's behalf: say why in 'reason'",
            field="reason",
        )
    done = vault.record_choice(
        subject, body.choice, granted, source=f"api:{key.key_id}", reason=body.reason
    )
    send_confirmations(vault, [(subject, done.pending)])
    return ChoiceOut(
        subject=subject, choice=done.choice, granted=done.granted, pending=done.pending
    )


@router.post("/subjects/{subject}/consents/grant", responses=documented(404))
def grant(subject: SubjectId, body: ChoiceIn, vault: VaultDep, key: ChoiceWriterKey) -> ChoiceOut:
    """Record that the person gives this choice; it applies from the moment this returns."""
    return _record(vault, key, subject, body, True)


@router.post("/subjects/{subject}/consents/withdraw", responses=documented(404))
def withdraw(
    subject: SubjectId, body: ChoiceIn, vault: VaultDep, key: ChoiceWriterKey
) -> ChoiceOut:
    """Record that the person withdraws this choice; as easy as giving it."""
    return _record(vault, key, subject, body, False)
