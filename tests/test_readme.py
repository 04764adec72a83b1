"""The README's "Try it" block runs as written: every command, in order, on a fresh data
directory, through the installed ``pledge`` in real processes.

Three things a person does by hand are done here the same way: SUBJECT_ID is the id the
demo's "Try next" names, the erase prompt is answered "y", and the server is stopped with
SIGTERM once it answers (on a free port, since 8000 may be taken where the tests run). A
comment ``# exit N`` states the status a command must end with; every other must end with 0.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
PLEDGE = Path(sys.executable).with_name("pledge")
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXPECTED_EXIT = re.compile(r"#\s*exit (\d+)")
TRY_NEXT_ID = re.compile(r"pledge subjects export ([0-9a-f]{32})")


def try_it_block() -> list[str]:
    """The shell lines of the first code block under "## Try it", continuations joined."""
    section = README[README.index("## Try it") :]
    start = section.index("```sh\n") + len("```sh\n")
    block = section[start : section.index("\n```", start)]
    return block.replace("\\\n", " ").splitlines()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def checkout(tmp_path: Path) -> Path:
    """A folder that looks like the repository's root to the commands (its examples), so that
    what they write lands in the test's folder, not in the working tree."""
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "examples").symlink_to(ROOT / "examples")
    return root


def serve(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
    """Run ``pledge serve`` until /healthz answers, then stop it as Ctrl-C would."""
    port = str(free_port())
    args = [port if before == "--port" else a for before, a in pairwise(args)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(PLEDGE), *args], env=env, cwd=cwd, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("pledge serve did not answer /healthz within 90 s")
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 0, f"pledge serve ended with {code}: {log.read_text()}"


def test_try_it_runs_as_written(tmp_path: Path) -> None:
    lines = try_it_block()
    assert sum(line.startswith("pledge ") for line in lines) >= 12
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGE_")}
    env |= {"PLEDGE_DATA_DIR": str(tmp_path / "pledge-data"), "NO_COLOR": "1"}
    subject = None
    cwd = checkout(tmp_path)
    for line in lines:
        args = shlex.split(line, comments=True)
        if args[0] == "export":
            env |= dict(assignment.split("=", 1) for assignment in args[1:])
            continue
        assert args[0] == "pledge", f"the README's Try it runs pledge only: {line!r}"
        if args[1] == "serve":
            serve(args, env, tmp_path / "serve.log", cwd)
            continue
        if "SUBJECT_ID" in args:
            assert subject is not None, "SUBJECT_ID used before the demo named one"
            args = [subject if a == "SUBJECT_ID" else a for a in args]
        answer = "y\n" if args[1:3] == ["subjects", "erase"] else None
        done = subprocess.run(
            [str(PLEDGE), *args[1:]], env=env, cwd=cwd, input=answer, capture_output=True,
            text=True, timeout=300, check=False,
        )  # fmt: skip
        wanted = EXPECTED_EXIT.search(line)
        status = int(wanted.group(1)) if wanted else 0
        assert done.returncode == status, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, line
        if args[1] == "demo":
            found = TRY_NEXT_ID.search(done.stdout)
            assert found, f"the demo named no subject to try:\n{done.stdout}"
            subject = found.group(1)
    assert subject is not None
