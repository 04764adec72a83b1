"""Checking a credential: the one thing the API does with a password or other secret.

The website's backend checks a sign-in here instead of keeping passwords itself. The answer is
yes or no; wrong attempts at one credential in a row are slowed down (429 with Retry-After)
whichever key or node they come through.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from pledge.api.deps import SignInKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import CredentialCheckIn, CredentialCheckOut

router = v1_router(tags=["credentials"])

Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


@router.post(
    "/subjects/{subject}/credentials/{point}/{field}/verify", responses=documented(404, 429)
)
def verify(
    subject: SubjectId,
    point: Name,
    field: Name,
    body: CredentialCheckIn,
    vault: VaultDep,
    key: SignInKey,
) -> CredentialCheckOut:
    """Whether ``candidate`` is the subject's secret ``point.field`` (audited, rate-limited)."""
    valid = vault.verify_credential(subject, point, field, body.candidate, actor=str(key))
    return CredentialCheckOut(subject=subject, field=f"{point}.{field}", valid=valid)
