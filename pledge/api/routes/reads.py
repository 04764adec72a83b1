"""Purpose-bound reads: a role key reads a subject's data for a stated purpose, and gets what
the policy's decision releases for that role, purpose and the subject's choices; nothing else.

Only role keys read this way. An admin key answers access requests through the export
endpoint; a recipient gets data only as a recorded disclosure.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from pledge.api.deps import RoleKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import ReadOut, ReasonOut

router = v1_router(tags=["reads"])


@router.get("/subjects/{subject}/data", responses=documented(404))
async def read(
    subject: SubjectId,
    purpose: Annotated[str, Query(min_length=1, max_length=160, description="The data use.")],
    vault: VaultDep,
    key: RoleKey,
    category: Annotated[
        list[str] | None,
        Query(max_length=100, description="Only these data categories; repeat for more."),
    ] = None,
) -> ReadOut:
    """Read as the key's role, for ``purpose``. Withheld fields come with the reason; when
    nothing at all may be released the answer is 403 with the policy's reason."""
    assert key.acting_as is not None
    # The store waits for the leaf's durable commit without holding this loop (see
    # pledge.store.batch); other requests' reads join that commit meanwhile.
    result = await vault.read_async(subject, purpose, key.acting_as, categories=category)
    return ReadOut(
        subject=result.subject,
        purpose=result.purpose,
        values=result.values,
        withheld={name: ReasonOut.of(reason) for name, reason in result.withheld.items()},
    )
