"""What every privacy-center page shares: the signed-in person and the center's sections.

Every section is there whatever ``rights.offered`` lists: access, a copy, correction,
objection and erasure are the person's under the law (GDPR Art. 15-17 and 20-21, CCPA
sections 1798.100-106), not favours a policy may leave out. The policy still decides the
words (an account is *deactivated* where that is what it promises) and what is kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pledge.policy.model import Right
from pledge.store.sessions import SUBJECT
from pledge.store.vault import Vault
from pledge.web.session import SignedIn, signed_in

Person = Annotated[SignedIn, Depends(signed_in(SUBJECT))]
ACTOR = "subject"  # what the audit log calls the person acting for themselves
NAV = (
    ("/center", "Your data"),
    ("/center/download", "Download"),
    ("/center/correct", "Correct"),
    ("/center/choices", "Choices"),
    ("/center/disclosures", "Disclosures"),
    ("/center/requests", "Requests"),
    ("/center/delete", "Delete"),
)


def deletion_verb(vault: Vault) -> str:
    """'deactivate' where the policy promises deactivation rather than erasure."""
    offered = vault.policy.policy.rights.offered
    return "deactivate" if Right.deactivate in offered and Right.erase not in offered else "delete"
