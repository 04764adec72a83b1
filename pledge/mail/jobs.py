"""Campaigns asked for over HTTP run as jobs, so no request waits for a whole segment.

``POST /v1/mail/campaigns`` checks the order (the communication type, the template, the
segment, the campaign id: everything that would refuse it for every recipient), queues it as
a job in the store (:mod:`pledge.store.jobs`) and answers at once; a client polls the job's
status. A :class:`Worker` thread in each service process claims queued jobs with a lease, as
the sender claims outbox rows, runs the campaign chunk by chunk, moving the lease on after
each chunk, and records the summary or the error.

Durable by construction: the order is in the database before the client hears of it; a
service that stops hands its job back; one that dies leaves a lease that runs out, and the
next worker runs the job again. Running again is safe because the campaign id is the
idempotency key of its messages: people queued by the first attempt count as already queued.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from pledge.errors import NotFoundError, PledgeError
from pledge.mail.campaign import campaign_id, run_campaign
from pledge.mail.gate import Gate
from pledge.mail.segments import Segment
from pledge.mail.settings import MailSettings, load_mail_settings
from pledge.mail.templates import TemplateSet
from pledge.mail.unsubscribe import Unsubscribes
from pledge.store import jobs as job_rows
from pledge.store.jobs import JobRow
from pledge.store.vault import Vault

KIND = "mail_campaign"
MAX_ATTEMPTS = 3  # a job that stopped this often without finishing is failed, not retried
log = structlog.get_logger("pledge.mail.jobs")


@dataclass(frozen=True)
class Order:
    """A campaign to run: what a client asked for, already checked."""

    communication: str
    template: str
    segment: str
    campaign: str
    dry_run: bool

    def as_params(self) -> dict[str, Any]:
        return dict(vars(self))


class Job(JobRow):
    """A campaign job: the store's row, its parameters read back as the order."""

    @property
    def order(self) -> Order:
        return Order(**self.params)


def gate_for(vault: Vault, settings: MailSettings, communication: str, template: str) -> Gate:
    """The gate for a template named by the API (a folder of ``PLEDGE_MAIL_TEMPLATES_DIR``)."""
    folder = settings.templates_dir / template
    if not folder.is_dir():
        raise NotFoundError(f"no template '{template}' in the templates folder", template=template)
    tokens = Unsubscribes.for_vault(vault, settings).tokens
    return Gate(vault, communication, TemplateSet(folder), settings, tokens)


def prepare(
    vault: Vault,
    communication: str,
    template: str,
    segment: str,
    campaign: str | None,
    *,
    dry_run: bool,
) -> Order:
    """The order, once everything that would refuse it for every recipient has been checked."""
    gate_for(vault, load_mail_settings(), communication, template)
    parsed = Segment.parse(segment, vault.policy)
    the_id = campaign_id(campaign, communication, template, vault.clock().date())
    return Order(communication, template, str(parsed), the_id, dry_run)


def submit(vault: Vault, order: Order) -> Job:
    """Queue ``order``; the job is on disk when this returns."""
    return get(vault, job_rows.submit(vault, KIND, order.as_params()))


def get(vault: Vault, job_id: str) -> Job:
    row = job_rows.find(vault, KIND, job_id)
    if row is None:
        raise NotFoundError(f"no campaign job '{job_id}'", job=job_id)
    return Job(**vars(row))


def claim(vault: Vault, worker: str, lease: dt.timedelta) -> Job | None:
    """Take the oldest due job for ``worker``: queued, or running under a lease that ran out
    (its worker died). Two workers racing for a job: the store lets one win."""
    now = vault.clock()
    while True:
        due = job_rows.oldest_due(vault, KIND, now)
        if due is None:
            return None
        job_id, attempts = due
        if attempts >= MAX_ATTEMPTS:
            job_rows.finish(
                vault,
                job_id,
                None,
                error={
                    "code": "job_abandoned",
                    "message": f"the job stopped {attempts} times without finishing; "
                    "submit it again (people already queued are not mailed twice)",
                },
            )
            continue
        if job_rows.take(vault, KIND, job_id, worker, now, lease):
            return get(vault, job_id)


class _Stopped(Exception):
    """The worker is stopping (or lost its lease) between two chunks."""


def run(
    vault: Vault, job: Job, worker: str, settings: MailSettings, stopping: threading.Event
) -> None:
    """Run a claimed job to its end, or hand it back when ``stopping`` is set."""
    lease = dt.timedelta(seconds=settings.lease_seconds)
    order = job.order
    try:
        gate = gate_for(vault, settings, order.communication, order.template)
        segment = Segment.parse(order.segment, vault.policy)
        job_rows.set_total(vault, job.job_id, worker, segment.count(vault))
        done = 0

        def chunk_done(people: int) -> None:
            nonlocal done
            done += people
            moved = job_rows.advance(vault, job.job_id, worker, done, vault.clock() + lease)
            if not moved or stopping.is_set():
                raise _Stopped

        summary = run_campaign(
            gate,
            segment,
            order.campaign,
            dry_run=order.dry_run,
            chunk_size=settings.chunk_size,
            keep_examples=100,
            on_chunk=chunk_done,
        )
    except _Stopped:
        job_rows.hand_back(vault, job.job_id, worker)
        log.info("campaign_job_handed_back", job=job.job_id)
        return
    except PledgeError as error:
        job_rows.finish(vault, job.job_id, worker, error=error.to_dict())
        log.info("campaign_job_failed", job=job.job_id, code=error.code)
        return
    job_rows.finish(vault, job.job_id, worker, result=summary.to_dict())
    log.info("campaign_job_done", job=job.job_id, queued=summary.queued, seen=summary.seen)


class Worker:
    """A thread that runs due campaign jobs, one at a time, until stopped.

    It looks for work when :meth:`wake` is called (after a submit) and every
    ``poll_seconds``, so jobs left by a stopped or dead process are found without a request.
    """

    def __init__(
        self,
        vault: Vault,
        *,
        poll_seconds: float = 5.0,
        settings: Callable[[], MailSettings] = load_mail_settings,
    ) -> None:
        self.vault = vault
        self.poll_seconds = poll_seconds
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"[:64]
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; a no-op while it runs (an app's lifespan may be entered twice)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="pledge-campaigns", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current chunk; a job in progress is handed back, not lost."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_due(self) -> int:
        """Run every due job now; how many ran."""
        ran = 0
        while not self._stopping.is_set():
            settings = self.settings()
            job = claim(self.vault, self.name, dt.timedelta(seconds=settings.lease_seconds))
            if job is None:
                return ran
            run(self.vault, job, self.name, settings, self._stopping)
            ran += 1
        return ran

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception as exc:  # a database hiccup: the lease brings the job back
                # The type only: an exception's text can quote SQL parameters.
                log.error("campaign_worker_error", error=type(exc).__name__)
            self._wake.wait(self.poll_seconds)
