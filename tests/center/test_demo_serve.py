"""The README's first command: ``pledge demo --serve`` in a real process, and a newcomer's
sign-in as the demo person from the link the development mailbox shows, with no SMTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from browser_support import free_port

PLEDGE = Path(sys.executable).with_name("pledge")


def test_a_newcomer_signs_in_as_the_demo_person_through_the_dev_mailbox(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_")} | {"NO_COLOR": "1"}
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PLEDGE), "demo", "--serve", "--policy", "zimbra", "--port", str(port),
             "--data-dir", str(tmp_path / "data")],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        email = _wait_for_email(log, process)
        with httpx.Client(base_url=base, timeout=10) as client:
            _wait_until_up(client, process, log)
            page = client.get("/sign-in")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token
            sent = client.post("/sign-in", data={"email": email, "csrf": token.group(1)})
            assert "Check your email" in sent.text
            link = _link_in_mailbox(client)
            confirm = client.get(link.removeprefix(base))
            token = re.search(r'name="csrf" value="([^"]+)"', confirm.text)
            assert token
            client.post(link.removeprefix(base), data={"csrf": token.group(1)})
            mine = client.get("/center")
            assert email in mine.text
            assert "Who received your data" in client.get("/center/disclosures").text
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()


def _wait_for_email(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        found = re.search(r"sign in as (\S+@\S+)", log.read_text())
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"the demo named no one to sign in as:\n{log.read_text()}")


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the demo server did not answer")


def _link_in_mailbox(client: httpx.Client) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r'href="(http[^"]+/sign-in/[^"]+)"', client.get("/dev/mailbox").text)
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no sign-in message reached the development mailbox")
