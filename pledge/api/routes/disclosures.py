"""Disclosures: a recipient key requests data for itself, and sees only what the policy lets
that recipient have; a subject's disclosures list who received what.

A recipient key never names the recipient: it is the key's. So no recipient can request data
as another by changing a field.
"""

from __future__ import annotations

from pledge.api.deps import RecipientKey, StaffKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import DisclosedOut, DisclosureIn, DisclosureOut, ReasonOut

router = v1_router(tags=["disclosures"])


@router.post("/disclosures", responses=documented(404))
def disclose(body: DisclosureIn, vault: VaultDep, key: RecipientKey) -> DisclosedOut:
    """Release to the key's recipient what the policy allows of each subject, and record it.
    Subjects refused are listed with the reason."""
    assert key.actor is not None
    done = vault.disclose(
        body.subjects, key.actor, body.purpose, body.categories, legal_ref=body.legal_ref
    )
    return DisclosedOut(
        recipient=done.recipient,
        purpose=done.purpose,
        released=done.released,
        refused={subject: ReasonOut.of(reason) for subject, reason in done.refused.items()},
    )


@router.get("/subjects/{subject}/disclosures", responses=documented(404))
def listing(subject: SubjectId, vault: VaultDep, _key: StaffKey) -> list[DisclosureOut]:
    """Who received this subject's data, what, why and when; oldest first."""
    return [DisclosureOut.model_validate(d) for d in vault.disclosures(subject)]
