"""``pledge serve`` as a real server in a subprocess, over HTTP on a loopback port: it refuses
to start without its master key, and on SIGTERM it finishes the requests in flight, so every
collection that was answered 2xx is stored and the audit log still verifies."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import signal
import socket
import ssl
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
from api_support import EXAMPLES, Sensitive
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from serve_support import SERVE, environment, free_port, serve

from pledge.api.keys import KeyStore, Scope
from pledge.settings import load_settings, open_vault

ZABBIX = str(EXAMPLES / "zabbix.yaml")
BURST = 120
# uvicorn re-raises the signal once shut down, so a supervisor sees why the process ended.
STOPPED = (0, -signal.SIGTERM)


def _environment(data: Path, **extra: str) -> dict[str, str]:
    return environment(PLEDGE_DATA_DIR=str(data), PLEDGE_POLICY=ZABBIX, **extra)


def _server(
    data: Path, log: Path, *options: str, **env: str
) -> AbstractContextManager[tuple[subprocess.Popen[bytes], str]]:
    return serve(_environment(data, **env), log, *options)


def _key(data: Path, sensitive: Sensitive, scope: Scope) -> str:
    vault = open_vault(load_settings(data_dir=data, policy=Path(ZABBIX)))
    try:
        _, key = KeyStore(vault).create(scope, None, "test", by="test")
    finally:
        vault.close()
    sensitive.add(key)
    return key


class _SlowRequest:
    """A collection whose body is sent in two halves, so that it is certainly in flight
    (headers read, app waiting for the rest) while the server is told to stop."""

    def __init__(self, base: str, headers: dict[str, str], email: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        body = json.dumps({"fields": {"email": email}, "age": 30}).encode()
        self.rest = body[len(body) // 2 :]
        self.socket = socket.create_connection((host, int(port)), timeout=30)
        head = [
            "POST /v1/collect/newsletter HTTP/1.1",
            f"Host: {host}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.socket.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2])

    def finish(self) -> tuple[int, str]:
        """Send the rest; the status and the subject id of the answer."""
        self.socket.sendall(self.rest)
        with self.socket, self.socket.makefile("rb") as answer:
            status = int(answer.readline().split()[1])
            length = 0
            while (line := answer.readline().strip()) != b"":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            return status, json.loads(answer.read(length))["subject"]


def test_sigterm_finishes_in_flight_requests_and_loses_nothing(
    tmp_path: Path, sensitive: Sensitive
) -> None:
    data, log = tmp_path / "data", tmp_path / "server.log"
    headers = {"Authorization": f"Bearer {_key(data, sensitive, 'collector')}"}
    admin = {"Authorization": f"Bearer {_key(data, sensitive, 'admin')}"}
    emails = [f"burst{i:03d}.person@example.org" for i in range(BURST)]
    sensitive.add(*emails, "slow.person@example.org")
    answered = threading.Semaphore(0)

    with _server(data, log) as (process, base):

        def collect(email: str) -> tuple[str, int | None, str | None]:
            try:
                response = httpx.post(
                    f"{base}/v1/collect/newsletter",
                    json={"fields": {"email": email}, "age": 30},
                    headers=headers,
                    timeout=30,
                )
            except httpx.TransportError:
                return email, None, None
            answered.release()
            subject = response.json().get("subject") if response.status_code == 200 else None
            return email, response.status_code, subject

        slow = _SlowRequest(base, headers, "slow.person@example.org")
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(collect, email) for email in emails]
            for _ in range(10):
                assert answered.acquire(timeout=30)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            assert process.poll() is None, "the server quit with a request in flight"
            slow_status, slow_subject = slow.finish()
            outcomes = [f.result() for f in futures]
        assert process.wait(timeout=30) in STOPPED

    assert slow_status == 200
    stored = {email: subject for email, status, subject in outcomes if status == 200}
    stored["slow.person@example.org"] = slow_subject
    assert len(stored) > 10
    assert all(status in (200, None) for _, status, _ in outcomes), outcomes
    assert len(stored) < BURST, "SIGTERM came after the burst; nothing was in flight"

    with _server(data, log) as (_, base):
        for email, subject in stored.items():
            found = httpx.post(
                f"{base}/v1/subjects/lookup",
                json={"kind": "email", "value": email},
                headers=admin,
                timeout=10,
            )
            assert found.status_code == 200, (email, found.text)
            assert found.json()["subject"] == subject
        verified = httpx.get(f"{base}/v1/audit/verify", headers=admin, timeout=30).json()
        assert verified["ok"] is True, verified
        assert verified["entries"] >= len(stored)

    text = log.read_text()
    assert "Waiting for connections to close" in text
    assert '"event": "request"' in text
    leaked = sorted(v for v in sensitive.values if v in text)
    assert not leaked


def test_serve_refuses_to_start_without_its_master_key_unless_dev(tmp_path: Path) -> None:
    env = _environment(tmp_path, PLEDGE_MASTER_KEY_SOURCE="env")
    refused = subprocess.run(
        [*SERVE, "--port", str(free_port())], env=env, capture_output=True, timeout=60, check=False
    )
    assert refused.returncode == 5  # a master-key problem, not a wrong argument
    assert b"PLEDGE_MASTER_KEY is not set" in refused.stderr


def test_dev_mode_falls_back_to_a_local_key_file(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with _server(tmp_path, log, "--dev", PLEDGE_MASTER_KEY_SOURCE="env") as (process, base):
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) in STOPPED
    assert (tmp_path / "master.key").exists()
    assert "--dev uses the key file" in log.read_text()


def test_serve_refuses_a_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "pledge.toml"
    config.write_text("max_body_byte = 10\n")
    refused = subprocess.run(
        [*SERVE, "--config", str(config)],
        env=_environment(tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert b"max_body_byte" in refused.stderr


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
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


def test_serve_speaks_tls_with_a_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    options = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with _server(tmp_path, tmp_path / "server.log", *options) as (_, base):
        assert base.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(cert))
        assert httpx.get(f"{base}/healthz", verify=trusted, timeout=5).status_code == 200
    half = subprocess.run(
        [*SERVE, "--ssl-certfile", str(cert)],
        env=_environment(tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert half.returncode == 2
    assert b"--ssl-keyfile" in half.stderr
