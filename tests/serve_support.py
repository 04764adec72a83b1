"""``pledge serve`` as a real server in a subprocess, for the tests that attack or stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SERVE = [sys.executable, "-m", "pledge.cli.serve"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without its PLEDGE_* variables, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_")}
    return {**env, **settings}


@contextmanager
def serve(
    env: dict[str, str], log: Path, *options: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A running ``pledge serve``; stopped (SIGTERM, then SIGKILL) if still up at the end."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), *options], env=env, stdout=out, stderr=out
        )
    scheme = "https" if "--ssl-certfile" in options else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1, verify=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
