"""The person's choices: each purpose, channel, recipient and visibility the policy lets them
decide, "stop everything", and the history of what they chose.

A change is in the consent ledger before the page answers, so the next decision (the next
email the gate considers, the next read) already follows it. A grant the policy wants
confirmed (``double_opt_in``) waits for the link mailed to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pledge.mail.confirmations import send_confirmations
from pledge.policy import Choices
from pledge.policy.explain import Offered, offered_choices
from pledge.store.consents import STOP_ALL
from pledge.store.pending import needs_confirmation
from pledge.store.vault import Vault
from pledge.web.pages import render
from pledge.web.pages.person import NAV, Person
from pledge.web.session import posted

SOURCE = "privacy_center"
router = APIRouter()


@dataclass(frozen=True)
class Shown:
    offered: Offered
    on: bool
    explicit: bool  # the person chose it (otherwise it is the policy's default)


def _state(offered: Offered, choices: Choices) -> Shown:
    if offered.key in choices.granted:
        return Shown(offered, True, True)
    if offered.key in choices.withdrawn:
        return Shown(offered, False, True)
    return Shown(offered, offered.default, False)


def _shown(vault: Vault, subject: str) -> tuple[list[Shown], Choices]:
    choices = vault.choices(subject)
    return [_state(o, choices) for o in offered_choices(vault.policy.policy)], choices


@router.get("/center/choices")
async def choices_page(request: Request, person: Person) -> Response:
    return await _page(request, person, changed=None, waiting=0)


@router.post("/center/choices")
async def change(request: Request, person: Person) -> Response:
    """Record what changed: each choice shown whose box now differs from its state."""
    form = await posted(request)
    vault: Vault = request.app.state.vault
    subject = person.principal
    wanted = set(form.all("on"))
    shown, _ = await run_in_threadpool(_shown, vault, subject)
    changes = [
        (s.offered.key, s.offered.key in wanted)
        for s in shown
        if s.offered.key in form.all("shown") and (s.offered.key in wanted) != s.on
    ]
    waiting = await run_in_threadpool(_record, vault, subject, changes)
    return await _page(request, person, changed=len(changes), waiting=waiting)


@router.post("/center/choices/stop")
async def stop(request: Request, person: Person) -> Response:
    """Stop everything (only what the law requires still comes), or resume."""
    form = await posted(request)
    vault: Vault = request.app.state.vault
    granted = form.get("stop") != "resume"
    await run_in_threadpool(_record, vault, person.principal, [(STOP_ALL, granted)])
    return await _page(request, person, changed=1, waiting=0)


def _record(vault: Vault, subject: str, changes: list[tuple[str, bool]]) -> int:
    """Record ``changes`` as a request answered at once; a grant the policy wants confirmed
    waits instead, and its message is sent. How many wait."""
    waiting = [(k, g) for k, g in changes if needs_confirmation(vault.policy, k, g)]
    now = [(k, g) for k, g in changes if (k, g) not in waiting]
    if now:
        vault.choices_request(subject, dict(now), source=SOURCE)
    pending = []
    for key, granted in waiting:
        done = vault.record_choice(subject, key, granted, source=SOURCE, change_only=True)
        if done.pending:
            pending.append((subject, done.pending))
    if pending:
        send_confirmations(vault, pending)
    return len(pending)


async def _page(request: Request, person: Person, *, changed: int | None, waiting: int) -> Response:
    vault: Vault = request.app.state.vault
    shown, choices = await run_in_threadpool(_shown, vault, person.principal)
    history = await run_in_threadpool(vault.consent_history, person.principal)
    groups = {
        kind: [s for s in shown if s.offered.kind == kind]
        for kind in ("purpose", "channel", "recipient", "show")
    }
    return render(
        request,
        "center/choices.html",
        signed_in=person,
        nav=NAV,
        groups=groups,
        stopped=choices.stop_all,
        history=list(reversed(history)),
        labels={s.offered.key: s.offered.label for s in shown} | {STOP_ALL: "Stop everything"},
        changed=changed,
        waiting=waiting,
    )
