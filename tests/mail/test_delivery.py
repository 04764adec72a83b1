"""Delivery under faults, counted at a real SMTP server: an outage mid-campaign, refusals,
opt-outs after queuing, two workers at once, and a worker process killed mid-campaign."""

from __future__ import annotations

import datetime as dt
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from mail_support import EXAMPLE_POLICIES, HOST, GateFactory, Received, Sink, clock_sleep, collect
from sqlalchemy import select

from pledge.errors import SmtpUnavailable
from pledge.mail.campaign import run_campaign
from pledge.mail.gate import Gate
from pledge.mail.segments import Segment
from pledge.mail.sender import Sender, SmtpTransport
from pledge.store.outbox import counts
from pledge.store.schema import mail_outbox
from pledge.store.vault import Vault, utc_now

VaultFactory = Callable[..., Vault]
MARKETING = "marketing.communications.email"


def queue(vault: Vault, gate_for: GateFactory, people: int, **changes: Any) -> Gate:
    for n in range(people):
        collect(vault, "registration", n)
    gate = gate_for(vault, "newsletter", **changes)
    summary = run_campaign(gate, Segment(), "news-1", dry_run=False, chunk_size=50)
    assert summary.queued == people
    return gate


def sender(gate: Gate, fake_clock: Any, **kwargs: Any) -> Sender:
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    kwargs.setdefault("sleep", clock_sleep(fake_clock))
    return Sender(gate.vault, transport, gate.settings, **kwargs)


def outbox_rows(vault: Vault) -> list[Any]:
    with vault.engine.connect() as connection:
        return list(connection.execute(select(mail_outbox).order_by(mail_outbox.c.queued_at)))


def test_smtp_server_down_mid_campaign_then_up_delivers_every_message_once(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 25, batch_size=7)
    sent = 0
    naps = 0

    def on_result(status: str) -> None:
        nonlocal sent
        sent += status == "sent"
        if sent == 10:
            sink.stop()  # the server goes away between two messages

    def sleep(seconds: float) -> None:
        nonlocal naps
        naps += 1
        clock.advance(seconds=seconds)
        if naps == 3:
            sink.start()  # and comes back on the same port

    report = sender(gate, clock, on_result=on_result, sleep=sleep).run()

    assert report.sent == 25
    assert counts(vault)["sent"] == 25
    assert set(sink.message_ids().values()) == {1}
    assert len(sink.message_ids()) == 25
    assert naps >= 3
    retried = [r for r in outbox_rows(vault) if r.attempts > 1]
    assert len(retried) == 1  # only the message in flight when the server went away
    assert retried[0].attempts == 2
    assert retried[0].last_error is None  # the successful attempt clears it


def test_unreachable_server_leaves_everything_queued(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 3, max_attempts=3)
    sink.stop()
    with pytest.raises(SmtpUnavailable, match=r"unreachable .*connection refused.* after 3 tries"):
        sender(gate, clock).run()
    assert counts(vault)["pending"] == 3
    assert {r.attempts for r in outbox_rows(vault)} == {0}


def test_refusals_bounce_retry_and_fail_with_no_address_kept(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 3, max_attempts=3)
    sink.refuse["person0@example.com"] = "550 5.1.1 <person0@example.com>: no such user"
    sink.refuse["person1@example.com"] = "451 4.3.0 person1@example.com: try again later"
    sink.refuse["person2@example.com"] = "452 4.2.2 mailbox full"

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        sink.refuse.pop("person1@example.com", None)  # the greylisting ends

    report = sender(gate, clock, sleep=sleep).run()

    assert (report.sent, report.bounced, report.failed) == (1, 1, 1)
    by_status = {r.status: r for r in outbox_rows(vault)}
    assert by_status["bounced"].last_error == "550 5.1.1 <address>: no such user"
    assert by_status["bounced"].attempts == 1
    assert by_status["failed"].last_error == "452 4.2.2 mailbox full"
    assert by_status["failed"].attempts == 3
    assert by_status["sent"].attempts == 2
    assert sink.to("person1@example.com")


def test_an_opt_out_or_erasure_after_queuing_stops_the_message(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 3)
    first, second = (vault.find("email", f"person{n}@example.com") or "" for n in (0, 1))
    vault.withdraw(first, "channel:email", source="test")
    vault.erase(second)

    report = sender(gate, clock).run()

    assert report.sent == 1
    assert [r.rcpt_tos for r in sink.received] == [["person2@example.com"]]
    errors = {r.subject_id: r.last_error for r in outbox_rows(vault) if r.status == "suppressed"}
    assert errors == {
        first: "the person withdrew 'channel:email' after the message was queued",
        second: "the person was erased before the message was sent",
    }


def test_two_workers_of_three_connections_never_send_a_message_twice(
    vault_factory: VaultFactory, gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 40, batch_size=3, connections=3)
    # The real clock: idle lanes poll, and a fake clock moved by each poll would expire leases.
    workers = [
        sender(gate, clock, worker=f"w{i}", clock=utc_now, sleep=time.sleep) for i in range(2)
    ]
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda w=w: reports.append(w.run())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports) == 40
    assert len(sink.message_ids()) == 40
    assert set(sink.message_ids().values()) == {1}


# --- a worker process killed mid-campaign --------------------------------------------------


@contextmanager
def deliver_process(database_url: str, data_dir: Path, port: int) -> Iterator[Popen[bytes]]:
    """``pledge mail deliver`` in its own process, with a 1-second lease."""
    env = {
        **os.environ,
        "PLEDGE_DATABASE_URL": database_url,
        "PLEDGE_DATA_DIR": str(data_dir),
        "PLEDGE_MAIL_SMTP_HOST": HOST,
        "PLEDGE_MAIL_SMTP_PORT": str(port),
        "PLEDGE_MAIL_BATCH_SIZE": "5",
        "PLEDGE_MAIL_LEASE_SECONDS": "1",
        "PLEDGE_MAIL_CONNECTIONS": "1",
    }
    code = "from pledge.cli.mail import app; app()"
    policy = str(EXAMPLE_POLICIES / "zabbix.yaml")
    command = [sys.executable, "-c", code, "deliver", "--policy", policy]
    with (
        (data_dir / "worker.log").open("wb") as log,
        Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log) as worker,
    ):
        try:
            yield worker
        finally:
            if worker.poll() is None:
                worker.kill()


class Hold:
    """Stops the SMTP server at the n-th call of a hook until the test lets it go."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, *_: Any) -> None:
        self.calls += 1
        if self.calls == self.at:
            self.reached.set()
            self.release.wait(20)


def kill_when(vault: Vault, worker: Popen[bytes], hold: Hold, sent: int, log: Path) -> None:
    assert hold.reached.wait(30), log.read_text()
    deadline = time.monotonic() + 10
    while counts(vault)["sent"] < sent and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    hold.release.set()


def restart(gate: Gate) -> None:
    """The same work, restarted in this process with the real clock."""
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    Sender(
        gate.vault, transport, gate.settings.model_copy(update={"lease_seconds": 1}), clock=utc_now
    ).run()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_worker_killed_between_messages_and_restarted_sends_each_once(
    database_url: str,
    vault_factory: VaultFactory,
    gate_for: GateFactory,
    sink: Sink,
    tmp_path: Path,
) -> None:
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 30)
    hold = Hold(at=13)  # the 13th RCPT: twelve messages are in, the 13th not yet
    sink.on_rcpt = hold
    with deliver_process(database_url, tmp_path, sink.port) as worker:
        kill_when(vault, worker, hold, sent=12, log=tmp_path / "worker.log")
    assert len(sink.received) == 12

    restart(gate)

    assert counts(vault)["sent"] == 30
    assert len(sink.message_ids()) == 30
    assert set(sink.message_ids().values()) == {1}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_worker_killed_after_the_server_accepted_resends_the_same_message_id(
    database_url: str,
    vault_factory: VaultFactory,
    gate_for: GateFactory,
    sink: Sink,
    tmp_path: Path,
) -> None:
    """The at-least-once window, shown: the server has the message, the worker never heard
    so. The resend is the same message, recognisable by its Message-ID; nothing is lost."""
    vault = vault_factory("zabbix")
    gate = queue(vault, gate_for, 20)
    hold = Hold(at=8)
    in_flight: list[Received] = []
    sink.on_data = lambda received: (in_flight.append(received), hold(received))
    with deliver_process(database_url, tmp_path, sink.port) as worker:
        kill_when(vault, worker, hold, sent=7, log=tmp_path / "worker.log")
    sink.on_data = None

    restart(gate)

    assert counts(vault)["sent"] == 20
    ids = sink.message_ids()
    assert len(ids) == 20
    assert {mid: n for mid, n in ids.items() if n > 1} == {in_flight[7].message_id: 2}


# --- STARTTLS and AUTH ---------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as files."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_starttls_and_login(
    vault_factory: VaultFactory, gate_for: GateFactory, tmp_path: Path, clock: Any
) -> None:
    cert_file, key_file = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    tls_sink = Sink()
    controller = Controller(
        tls_sink,
        hostname=HOST,
        port=tls_sink.port,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        vault = vault_factory("zabbix")
        gate = queue(vault, gate_for, 2, smtp_port=tls_sink.port)
        transport = SmtpTransport(
            HOST, tls_sink.port, "starttls", "mailer", "s3cret", 5, ca_file=cert_file
        )
        report = Sender(vault, transport, gate.settings, sleep=clock_sleep(clock)).run()
    finally:
        controller.stop()
    assert report.sent == 2
    assert len(tls_sink.received) == 2
    assert logins == [(b"mailer", b"s3cret")]
