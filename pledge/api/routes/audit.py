"""The audit log for auditors: verify it end to end, prove one entry is in it, and list the
entries about one subject. Admin keys only: entries say who did what to whom."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from pledge.api.deps import AdminKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import (
    AuditEntryOut,
    AuditProblemOut,
    CheckpointOut,
    ProofOut,
    VerificationOut,
)

router = v1_router(tags=["audit"])


@router.get("/audit/verify")
def verify(vault: VaultDep, _key: AdminKey) -> VerificationOut:
    """Recompute the whole log and check it against its signed checkpoints. ``ok`` false
    names the first entry altered, removed or reordered."""
    result = vault.verify_audit()
    checkpoint, problem = result.checkpoint, result.problem
    return VerificationOut(
        ok=result.ok,
        entries=result.entries,
        checkpoint=None
        if checkpoint is None
        else CheckpointOut(
            size=checkpoint.size,
            root=checkpoint.root.hex(),
            note=checkpoint.note(vault.audit.public_key),
        ),
        problem=None
        if problem is None
        else AuditProblemOut(seq=problem.seq, kind=problem.kind, message=problem.message),
    )


@router.get("/audit/entries/{seq}/proof", responses=documented(404))
def proof(seq: Annotated[int, Path(ge=0, le=2**62)], vault: VaultDep, _key: AdminKey) -> ProofOut:
    """An RFC 6962 inclusion proof of entry ``seq`` against the latest signed checkpoint."""
    return ProofOut.model_validate(vault.prove_entry(seq))


@router.get("/subjects/{subject}/audit")
def subject_entries(subject: SubjectId, vault: VaultDep, _key: AdminKey) -> list[AuditEntryOut]:
    """Entries about this subject, by its pseudonym; they outlive its erasure."""
    entries = vault.audit_entries_for(subject)
    return [AuditEntryOut.model_validate(entry) for entry in entries]
