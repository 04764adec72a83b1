"""The answer to an erasure request reaches the person although the erasure took their
address: it is queued before, held under a key of its own, released by the erasure, and that
key is destroyed once it is sent, so nothing of the person can be opened afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mail_support import HOST, Sink
from sqlalchemy import select

from pledge.errors import ConflictError, NotFoundError
from pledge.mail import request_notices
from pledge.mail.gate import Gate
from pledge.mail.sender import Sender, SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.store import outbox
from pledge.store.schema import mail_outbox
from pledge.store.vault import Vault
from tests.conftest import FakeClock

Person = Callable[[Vault, int], str]


def settings_for(sink: Sink) -> MailSettings:
    return MailSettings(
        smtp_host=HOST,
        smtp_port=sink.port,
        smtp_timeout=5,
        from_address="Zabbix privacy <privacy@zabbix.com>",
        requests_communication="order_update",
    )


def farewells(vault: Vault) -> list[tuple[str, str | None]]:
    with vault.snapshot() as connection:
        rows = connection.execute(
            select(mail_outbox.c.status, mail_outbox.c.sealed_by).where(
                mail_outbox.c.campaign_id.like("%-farewell")
            )
        )
        return [(r.status, r.sealed_by) for r in rows]


def test_the_erased_person_is_told_and_then_nothing_of_them_opens(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person, sink: Sink
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 3)
    opened = vault.open_request(subject, "erase")
    settings = settings_for(sink)

    done = request_notices.answer(
        vault, opened.request_id, "All of it is gone.", actor="staff:ann", settings=settings
    )
    assert done.state == "done"
    with pytest.raises(NotFoundError):
        vault.require_subject(subject)
    [(status, key_id)] = farewells(vault)
    assert status == "pending"
    assert key_id is not None
    assert vault.key_store.get([key_id])  # until it is sent

    # The steps before the erasure had nowhere to go either; the farewell covers the end.
    request_notices.send_request_notices(vault, settings)
    Sender(vault, SmtpTransport(HOST, sink.port, timeout=5), settings).run()
    got = [r.message for r in sink.received if r.rcpt_tos == ["person3@example.com"]]
    assert [str(m["Subject"]) for m in got] == ["Your request to erase your data is answered"]
    body = got[0].get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "All of it is gone." in text
    assert "last message" in text

    assert farewells(vault) == [("sent", key_id)]
    assert vault.key_store.get([key_id]) == {}  # the address it carried opens for no one
    assert key_id in {s for _, s in vault.key_store.ledger()}


def test_a_farewell_whose_erasure_never_came_is_never_sent_and_is_swept(
    vault_factory: Callable[..., Vault],
    gdpr_policy: Path,
    person: Person,
    sink: Sink,
    clock: FakeClock,
) -> None:
    """Queued, then the erasure failed (or the answer never came): the person still exists,
    so telling them it is done would be a lie; a day later the held message and its key go."""
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 4)
    settings = settings_for(sink)
    gate = Gate(vault, "order_update", TemplateSet(request_notices.TEMPLATE), settings)
    context = {
        "step": "done",
        "kind_label": "request to erase your data",
        "reference": "r",
        "respond_by": "2024-01-01",
        "message": "",
        "verify_days": "30",
        "farewell": "yes",
    }
    gate.process("request-x-farewell", [subject], dry_run=False, context=context, farewell=True)
    [(status, key_id)] = farewells(vault)
    assert status == "held"
    Sender(vault, SmtpTransport(HOST, sink.port, timeout=5), settings).run()
    assert sink.received == []
    assert outbox.counts(vault)["held"] == 1  # `pledge mail deliver` shows it waiting

    clock.advance(hours=23)
    vault.run_retention()
    assert farewells(vault) == [("held", key_id)]
    clock.advance(hours=2)
    vault.run_retention()
    assert farewells(vault) == []
    assert key_id is not None
    assert vault.key_store.get([key_id]) == {}
    vault.require_subject(subject)  # the person is untouched: this raises otherwise


def test_without_mail_configured_the_erasure_still_happens(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 5)
    opened = vault.open_request(subject, "erase")
    done = request_notices.answer(
        vault, opened.request_id, "Done.", actor="x", settings=MailSettings()
    )
    assert done.state == "done"
    with pytest.raises(NotFoundError):
        vault.require_subject(subject)
    assert farewells(vault) == []


def test_only_an_erasure_says_farewell(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person, sink: Sink
) -> None:
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 6)
    opened = vault.open_request(subject, "inquiry", "What do you hold?")
    request_notices.answer(
        vault, opened.request_id, "Your orders.", actor="x", settings=settings_for(sink)
    )
    assert farewells(vault) == []
    vault.require_subject(subject)  # raises once a person is erased


def test_an_unverified_erasure_request_is_refused_before_any_farewell(
    vault_factory: Callable[..., Vault], gdpr_policy: Path, person: Person, sink: Sink
) -> None:
    """Nobody knows yet that the request is the person's: no answer, no message waiting."""
    vault = vault_factory(gdpr_policy)
    subject = person(vault, 8)
    opened = vault.open_request(subject, "erase", verified=False)
    assert opened.state == "received"
    with pytest.raises(ConflictError):
        request_notices.answer(
            vault, opened.request_id, "Done.", actor="x", settings=settings_for(sink)
        )
    assert farewells(vault) == []
    vault.require_subject(subject)  # raises once a person is erased
