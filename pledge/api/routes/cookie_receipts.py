"""Linking a visitor's cookie receipt to the subject who signed in.

The site's backend calls this when a visitor signs in, with the receipt id from their consent
cookie, and again after a signed-in visitor answers the banner: linking puts the latest answer
in the subject's consent ledger. Answers sent straight from the browser under a linked receipt
reach the ledger only as refusals and privacy signals, since a receipt id proves nobody. Only
the website's backend (a collector key) links, and only with the person's subject token:
linking writes choices into a person, so it needs the same proof as any other write into
them. Staff never link a browser to a person.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pledge.api.deps import CollectorKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import ProofToken
from pledge.store.receipts import RECEIPT_PATTERN

router = v1_router(tags=["consents"])


class ReceiptLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt: str = Field(pattern=RECEIPT_PATTERN, description="From the pledge_consent cookie.")
    subject_token: ProofToken = Field(
        description="The person's subject token, from POST /v1/subject-tokens at sign-in."
    )


class ReceiptLinkOut(BaseModel):
    subject: str
    allowed: list[str] = Field(description="Cookie categories the latest answer allowed.")
    refused: list[str]


@router.post("/subjects/{subject}/cookie-receipts", responses=documented(404, 409))
def link(
    subject: SubjectId, body: ReceiptLinkIn, vault: VaultDep, key: CollectorKey
) -> ReceiptLinkOut:
    """Link the receipt to the subject and relay its latest answer into their choices; linking
    it again to the same subject relays the answers given since."""
    vault.check_subject_token(body.subject_token, subject, key.key_id)
    latest = vault.link_cookie_receipt(body.receipt, subject)
    return ReceiptLinkOut(
        subject=subject,
        allowed=list(latest.allowed) if latest else [],
        refused=list(latest.refused) if latest else [],
    )
