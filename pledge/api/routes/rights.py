"""A data subject's rights, answered by an admin key: export, rectify, erase.

These act on everything held about a person, outside any purpose, so only admin keys call
them; each is written to the audit log with the key that asked.
"""

from __future__ import annotations

from pledge.api.deps import AdminKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import ErasureOut, ExportOut, RectifiedOut, RectifyIn

router = v1_router(tags=["rights"])


@router.get("/subjects/{subject}/export", responses=documented(404))
def export(subject: SubjectId, vault: VaultDep, key: AdminKey) -> ExportOut:
    """Everything held about the subject: values, choices, disclosures (right of access)."""
    return ExportOut.model_validate(vault.export(subject, actor=str(key)))


@router.patch("/subjects/{subject}/data/{field}", responses=documented(404))
def rectify(
    subject: SubjectId, field: str, body: RectifyIn, vault: VaultDep, key: AdminKey
) -> RectifiedOut:
    """Correct ``field`` wherever it was collected; the value is checked as at collection."""
    return RectifiedOut(
        subject=subject, fields=vault.rectify(subject, field, body.value, actor=str(key))
    )


@router.delete("/subjects/{subject}", responses=documented(404))
def erase(subject: SubjectId, vault: VaultDep, key: AdminKey) -> ErasureOut:
    """Erase the subject: its key is destroyed and its data deleted, except legal holds."""
    done = vault.erase(subject, actor=str(key))
    return ErasureOut(
        subject=done.subject,
        deleted_fields=list(done.deleted_fields),
        held_fields=list(done.held_fields),
        held_until=done.held_until,
        key_destroyed=done.key_destroyed,
    )
