"""Free-text reports (errors, installation notices), redacted before anything is kept.

Reports are collection, so they take the collector scope (the website or product backend
that receives them), and a report naming a known subject needs that person's subject token,
as any write into an existing subject does. What is kept is decided by the policy's
``reports`` section and the collection point it names.
"""

from __future__ import annotations

from pledge.api.deps import CollectorKey, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import ReportIn, ReportOut
from pledge.text.reports import take_report

router = v1_router(tags=["reports"])


@router.post("/reports/{kind}", responses=documented(404, 409))
def report(kind: str, body: ReportIn, vault: VaultDep, key: CollectorKey) -> ReportOut:
    """Redact the personal data found in ``text`` and keep the rest for the report's purpose."""
    if body.subject is not None:
        vault.check_subject_token(body.subject_token, body.subject, key.key_id)
    done = take_report(vault, kind, body.text, subject=body.subject, age=body.age)
    return ReportOut(subject=done.subject, point=done.point, redacted=dict(done.redacted))
