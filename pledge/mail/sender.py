"""The sender worker: claims due messages from the outbox and hands them to an SMTP server.

Each SMTP connection carries many messages, and a worker keeps a few connections busy at once.
Each message's outcome is committed on its own right after the server answers, so a crash
resends at most the messages that were in flight:

* **At least once.** A message the server accepted but whose ``sent`` mark was not yet
  committed when the worker died (or whose acceptance was lost with the connection) is sent
  again when its lease runs out. The window is one message per connection. The copy carries
  the same ``Message-ID``, derived from the campaign and the subject, so it is recognisable
  as a resend by the recipient's mail system and in the logs.
* **Never lost.** A claimed message is ``sending`` until its outcome is recorded; if its
  worker dies, its lease runs out and another worker (or the same one, restarted) claims it.

The ``sent`` marks are committed without waiting for the disk (SQLite ``synchronous=NORMAL``
in WAL mode, PostgreSQL ``synchronous_commit=off``). A killed worker loses none of them: only
a crash of the machine or the database server can lose the last few, and those messages are
sent again, the at-least-once case above. That is what makes a commit per message cheap.

Temporary refusals (4xx) are retried with exponential backoff; permanent ones (5xx) mark the
message ``bounced``; running out of attempts marks it ``failed``. The error kept is the SMTP
code and text with any address removed. A server that cannot be reached costs no message an
attempt: the worker claims nothing until it can connect again.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pledge.errors import SmtpUnavailable
from pledge.mail.settings import MailSettings
from pledge.store import outbox
from pledge.store.outbox import BOUNCED, FAILED, SENT, Claimed, Outcomes
from pledge.store.vault import Vault

_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
_IDLE_POLL = 0.2


class SmtpConnection(Protocol):
    def sendmail(self, from_addr: str, to_addrs: list[str], msg: bytes) -> object: ...
    def quit(self) -> object: ...
    def close(self) -> None: ...


class Transport(Protocol):
    """Opens connections to a mail server; :class:`SmtpTransport` is the real one."""

    def connect(self) -> SmtpConnection: ...


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP with smtplib: plain, STARTTLS or implicit TLS, and AUTH when a user is set."""

    host: str
    port: int = 25
    security: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: MailSettings) -> SmtpTransport:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            password,
            settings.smtp_timeout,
            settings.smtp_ca_file,
        )

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self.ca_file)
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


@dataclass
class Delivery:
    """What one run of the worker did."""

    sent: int = 0
    bounced: int = 0
    failed: int = 0
    retried: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add_error(self, error: str) -> None:
        self.errors[error] = self.errors.get(error, 0) + 1

    @classmethod
    def merge(cls, reports: Sequence[Delivery]) -> Delivery:
        total = cls()
        for report in reports:
            total.sent += report.sent
            total.bounced += report.bounced
            total.failed += report.failed
            total.retried += report.retried
            for error, times in report.errors.items():
                total.errors[error] = total.errors.get(error, 0) + times
        return total


class _ConnectionLost(Exception):
    """The server went away; the message in flight may or may not have been accepted."""


class _Unsendable(Exception):
    """The message holds a line SMTP forbids: sending it would desynchronise the session
    (the server answers the rest as commands), and it would be refused again each time."""


_MAX_SMTP_LINE = 998


def _check_lines(data: bytes) -> None:
    lines = data.split(b"\r\n")
    if any(len(line) > _MAX_SMTP_LINE for line in lines):
        raise _Unsendable(f"a line of the message is longer than {_MAX_SMTP_LINE} bytes")
    if any(b"\r" in line or b"\n" in line or b"\x00" in line for line in lines):
        raise _Unsendable("the message holds a bare CR, LF or NUL")


class Sender:
    """Delivers the outbox. ``on_result`` is told each message's final status (for progress
    bars); ``sleep`` and ``clock`` are injectable for tests."""

    def __init__(
        self,
        vault: Vault,
        transport: Transport,
        settings: MailSettings,
        *,
        worker: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self.vault = vault
        self.transport = transport
        self.settings = settings
        self.worker = worker or f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:12]}"
        self.clock = clock or vault.clock
        self.sleep = sleep
        self.on_result = on_result
        self._smtp: SmtpConnection | None = None

    def run(self, *, until: Callable[[], bool] | None = None) -> Delivery:
        """Deliver until no message is open (pending or being sent), or ``until()`` is true.

        Waits for retries that are not yet due, so it returns only once every message has
        an outcome. While the SMTP server is unreachable it claims nothing (an outage costs
        no message an attempt) and tries again with backoff; after ``max_attempts`` failed
        connections in a row it raises SmtpUnavailable, leaving every message queued.

        With ``connections`` above 1, that many lanes run in threads, each with its own SMTP
        connection and its own claims: a message is sent by one lane only, and the time one
        lane waits for the server's reply is used by the others.
        """
        with outbox.outcomes(self.vault) as writer:
            if self.settings.connections == 1:
                return self._run(until, writer)
            return self._run_lanes(until, writer)

    def _run_lanes(self, until: Callable[[], bool] | None, writer: Outcomes) -> Delivery:
        single = self.settings.model_copy(update={"connections": 1})
        lanes = [
            Sender(
                self.vault,
                self.transport,
                single,
                worker=f"{self.worker}/{i}",
                clock=self.clock,
                sleep=self.sleep,
                on_result=self.on_result,
            )
            for i in range(self.settings.connections)
        ]
        reports: list[Delivery] = []
        errors: list[BaseException] = []

        def lane_run(lane: Sender) -> None:
            try:
                reports.append(lane._run(until, writer))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=lane_run, args=(lane,)) for lane in lanes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return Delivery.merge(reports)

    def _run(self, until: Callable[[], bool] | None, writer: Outcomes) -> Delivery:
        report = Delivery()
        failures = 0
        try:
            while until is None or not until():
                due = outbox.next_due(self.vault)
                if due is None:
                    break
                wait = (due - self.clock()).total_seconds()
                if wait > 0:
                    self._disconnect()
                    self.sleep(min(wait, _IDLE_POLL))
                    continue
                try:
                    self._connection()
                except _ConnectionLost as lost:
                    failures += 1
                    if failures >= self.settings.max_attempts:
                        raise SmtpUnavailable(
                            f"the SMTP server {self._where()} is unreachable ({lost}) after "
                            f"{failures} tries; every message stays queued: run the "
                            "worker again once the server is back",
                            attempts=failures,
                        ) from None
                    self.sleep(self._backoff(failures))
                    continue
                failures = 0
                self._send_batch(writer, report)
        finally:
            self._disconnect()
        return report

    def _send_batch(self, writer: Outcomes, report: Delivery) -> None:
        """Claim one batch and send it over the current connection."""
        lease = dt.timedelta(seconds=self.settings.lease_seconds)
        batch = writer.claim(self.worker, self.clock(), self.settings.batch_size, lease)
        deadline = self.clock() + lease * 0.9
        for i, message in enumerate(batch):
            if self.clock() >= deadline:
                self._release(writer, batch[i:])
                break
            try:
                self._send(message)
            except _ConnectionLost as lost:
                self._disconnect()
                report.add_error(str(lost))
                self._retry(writer, report, message, str(lost))
                self._release(writer, batch[i + 1 :])
                break
            except _Unsendable as broken:
                report.add_error(str(broken))
                self._finish(writer, report, message, FAILED, str(broken))
            except smtplib.SMTPResponseException as refused:
                code, error = _describe(refused)
                report.add_error(error)
                if code == 421:
                    self._disconnect()
                if 400 <= code < 500:
                    self._retry(writer, report, message, error)
                elif isinstance(refused, smtplib.SMTPDataError):
                    # The server refuses the message itself, and will again: it has failed.
                    self._finish(writer, report, message, FAILED, error)
                else:
                    self._finish(writer, report, message, BOUNCED, error)
            else:
                self._finish(writer, report, message, SENT, None)

    def _where(self) -> str:
        host, port = getattr(self.transport, "host", None), getattr(self.transport, "port", None)
        return f"{host}:{port}" if host else "(transport)"

    def _backoff(self, attempt: int) -> float:
        return float(
            min(
                self.settings.backoff_seconds * 2 ** (attempt - 1),
                self.settings.backoff_max_seconds,
            )
        )

    # --- one message ------------------------------------------------------------------------

    def _send(self, message: Claimed) -> None:
        opened = outbox.unseal(self.vault, message)
        if opened is None:  # the key was destroyed after the claim: the person was erased
            raise smtplib.SMTPResponseException(550, outbox.ERASED)
        recipient, data = opened
        _check_lines(data)
        smtp = self._connection()
        try:
            smtp.sendmail(message.sender, [recipient], data)
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = next(iter(refused.recipients.values()))
            raise smtplib.SMTPResponseException(code, text) from None
        except smtplib.SMTPResponseException:
            raise  # an answer from the server (SMTPException is an OSError: keep it apart)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _ConnectionLost(_describe(exc)[1]) from None

    def _connection(self) -> SmtpConnection:
        if self._smtp is None:
            try:
                self._smtp = self.transport.connect()
            except (smtplib.SMTPException, OSError) as exc:
                raise _ConnectionLost(_describe(exc)[1]) from None
        return self._smtp

    def _disconnect(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    # --- outcomes -----------------------------------------------------------------------------

    def _finish(
        self,
        writer: Outcomes,
        report: Delivery,
        message: Claimed,
        status: str,
        error: str | None,
    ) -> None:
        writer.finish(message, self.worker, status, self.clock(), error)
        setattr(report, status, getattr(report, status) + 1)
        if self.on_result:
            self.on_result(status)

    def _retry(self, writer: Outcomes, report: Delivery, message: Claimed, error: str) -> None:
        if message.attempts >= self.settings.max_attempts:
            self._finish(writer, report, message, FAILED, error)
            return
        when = self.clock() + dt.timedelta(seconds=self._backoff(message.attempts))
        writer.retry_later([message], self.worker, when, error)
        report.retried += 1

    def _release(self, writer: Outcomes, messages: Sequence[Claimed]) -> None:
        """Give back claimed messages that were not tried; their attempt does not count."""
        writer.release(messages, self.worker, self.clock())


def _describe(exc: BaseException) -> tuple[int, str]:
    """The SMTP code and a short text for the error column, with addresses removed."""
    code = 0
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    elif isinstance(exc, ConnectionRefusedError):
        text = "connection refused: the SMTP server is down or unreachable"
    elif isinstance(exc, TimeoutError | socket.timeout):
        text = "the SMTP server did not answer in time"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        text = "the SMTP server closed the connection"
    else:
        text = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or 'connection error'}"
    text = _ADDRESS.sub("<address>", " ".join(text.split()))
    return code, (f"{code} {text}" if code else text)[:300]
