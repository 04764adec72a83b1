"""Campaign jobs survive what happens to the process running them: a worker that stops hands
its job back, one that dies leaves a lease that runs out, and either way the job ends with
every allowed person queued once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from mail_support import collect
from sqlalchemy import inspect

from pledge.errors import InputError, MessageRefused, NotFoundError
from pledge.mail import jobs
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.store.outbox import counts
from pledge.store.schema import jobs as jobs_table
from pledge.store.vault import Vault

VaultFactory = Callable[..., Vault]
PEOPLE = 5


@pytest.fixture
def mail_env(
    template: TemplateSet, mail_settings: MailSettings, monkeypatch: pytest.MonkeyPatch
) -> MailSettings:
    """The environment an API process has: templates by name, From, unsubscribe URL."""
    settings = mail_settings.model_copy(
        update={
            "from_address": "News <news@zabbix.com>",
            "templates_dir": template.folder.parent,
            "chunk_size": 2,
        }
    )
    for name in ("from_address", "templates_dir", "unsubscribe_url", "chunk_size"):
        monkeypatch.setenv(f"PLEDGE_MAIL_{name.upper()}", str(getattr(settings, name)))
    return settings


def people(vault: Vault) -> list[str]:
    return [collect(vault, "registration", n)[0] for n in range(PEOPLE)]


def order(vault: Vault, **changes: Any) -> jobs.Order:
    given = {"segment": "all", "campaign": "may", "dry_run": False, **changes}
    return jobs.prepare(vault, "newsletter", "news", **given)


def test_jobs_table_matches_its_migration(vault_factory: VaultFactory) -> None:
    vault = vault_factory("zabbix")
    found = {c["name"]: c for c in inspect(vault.engine).get_columns("jobs")}
    assert list(found) == [c.name for c in jobs_table.columns]
    for column in jobs_table.columns:
        assert found[column.name]["nullable"] == column.nullable, column.name
    indexes = {i["name"] for i in inspect(vault.engine).get_indexes("jobs")}
    assert indexes == {i.name for i in jobs_table.indexes}


def test_a_job_is_refused_up_front_for_what_would_refuse_everybody(
    vault_factory: VaultFactory, mail_env: MailSettings
) -> None:
    vault = vault_factory("zabbix")
    with pytest.raises(NotFoundError, match="no template 'nothing'"):
        jobs.prepare(vault, "newsletter", "nothing", "all", None, dry_run=False)
    with pytest.raises(InputError, match="no collection point 'nowhere'"):
        jobs.prepare(vault, "newsletter", "news", "point:nowhere", None, dry_run=False)
    with pytest.raises(InputError, match="campaign id"):
        jobs.prepare(vault, "newsletter", "news", "all", "../../etc", dry_run=False)
    with pytest.raises(MessageRefused, match="postal address"):
        jobs.prepare(vault_factory("3cx"), "promotional", "news", "all", None, dry_run=False)
    with pytest.raises(NotFoundError):
        jobs.get(vault, "0" * 32)


def test_a_worker_runs_a_queued_job_to_its_summary(
    vault_factory: VaultFactory, mail_env: MailSettings
) -> None:
    vault = vault_factory("zabbix")
    ids = people(vault)
    vault.withdraw(ids[0], "purpose:marketing.communications.email")
    job = jobs.submit(vault, order(vault))
    assert (job.status, job.attempts, job.result) == ("queued", 0, None)

    assert jobs.Worker(vault, settings=lambda: mail_env).run_due() == 1

    done = jobs.get(vault, job.job_id)
    assert (done.status, done.attempts, done.progress, done.total) == ("done", 1, 5, 5)
    assert done.result is not None
    assert (done.result["queued"], done.result["seen"]) == (4, 5)
    assert [(s["code"], s["subjects"]) for s in done.result["skipped"]] == [
        ("consent_withdrawn", [ids[0]])
    ]
    assert counts(vault, "may")["pending"] == 4
    assert jobs.Worker(vault, settings=lambda: mail_env).run_due() == 0  # nothing left


def test_a_stopping_worker_hands_its_job_back_and_the_next_one_finishes_it(
    vault_factory: VaultFactory, mail_env: MailSettings
) -> None:
    vault = vault_factory("zabbix")
    people(vault)
    job = jobs.submit(vault, order(vault))
    lease = dt.timedelta(seconds=mail_env.lease_seconds)
    claimed = jobs.claim(vault, "leaving", lease)
    assert claimed is not None
    assert jobs.claim(vault, "other", lease) is None  # held under a live lease

    stopping = threading.Event()
    stopping.set()  # SIGTERM arrived: stop after the first chunk
    jobs.run(vault, claimed, "leaving", mail_env, stopping)
    handed_back = jobs.get(vault, job.job_id)
    assert (handed_back.status, handed_back.progress) == ("queued", mail_env.chunk_size)
    assert counts(vault, "may")["pending"] == mail_env.chunk_size

    assert jobs.Worker(vault, settings=lambda: mail_env).run_due() == 1
    done = jobs.get(vault, job.job_id)
    assert (done.status, done.attempts) == ("done", 2)
    assert done.result is not None
    assert (done.result["queued"], done.result["already_queued"]) == (
        PEOPLE - mail_env.chunk_size,
        mail_env.chunk_size,
    )
    assert counts(vault, "may")["pending"] == PEOPLE


def test_a_job_whose_worker_died_is_run_again_once_its_lease_runs_out(
    vault_factory: VaultFactory, mail_env: MailSettings, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    people(vault)
    job = jobs.submit(vault, order(vault))
    lease = dt.timedelta(seconds=mail_env.lease_seconds)
    assert jobs.claim(vault, "died", lease) is not None  # ... and the process was killed
    worker = jobs.Worker(vault, settings=lambda: mail_env)
    assert worker.run_due() == 0  # the lease still holds
    clock.advance(seconds=mail_env.lease_seconds + 1)
    assert worker.run_due() == 1
    done = jobs.get(vault, job.job_id)
    assert (done.status, done.attempts) == ("done", 2)
    assert counts(vault, "may")["pending"] == PEOPLE


def test_a_job_that_keeps_dying_is_failed_with_a_reason_not_retried_forever(
    vault_factory: VaultFactory, mail_env: MailSettings, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    job = jobs.submit(vault, order(vault))
    lease = dt.timedelta(seconds=mail_env.lease_seconds)
    for attempt in range(jobs.MAX_ATTEMPTS):
        assert jobs.claim(vault, f"died-{attempt}", lease) is not None
        clock.advance(seconds=mail_env.lease_seconds + 1)
    assert jobs.claim(vault, "next", lease) is None
    failed = jobs.get(vault, job.job_id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error["code"] == "job_abandoned"


def test_a_job_whose_template_vanished_fails_with_the_error(
    vault_factory: VaultFactory, mail_env: MailSettings
) -> None:
    vault = vault_factory("zabbix")
    job = jobs.submit(vault, order(vault))
    moved = mail_env.model_copy(update={"templates_dir": mail_env.templates_dir / "elsewhere"})
    jobs.Worker(vault, settings=lambda: moved).run_due()
    failed = jobs.get(vault, job.job_id)
    assert failed.status == "failed"
    assert failed.error == {
        "code": "not_found",
        "message": "no template 'news' in the templates folder",
        "template": "news",
    }


def test_a_worker_thread_starts_again_after_a_stop_and_runs_what_was_queued(
    vault_factory: VaultFactory, mail_env: MailSettings
) -> None:
    """A service's lifespan can be entered more than once (test clients, reloads)."""
    vault = vault_factory("zabbix")
    people(vault)
    worker = jobs.Worker(vault, poll_seconds=0.05, settings=lambda: mail_env)
    worker.start()
    worker.start()  # already running: nothing more
    worker.stop()
    job = jobs.submit(vault, order(vault))
    worker.start()
    worker.wake()
    try:
        for _ in range(400):
            if jobs.get(vault, job.job_id).status == "done":
                break
            threading.Event().wait(0.025)
    finally:
        worker.stop()
    assert jobs.get(vault, job.job_id).status == "done"
