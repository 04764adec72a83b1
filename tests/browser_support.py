"""Browser-test helpers shared by the website and privacy-center tests: an ASGI app served
for real on 127.0.0.1, and axe-core's accessibility check run in a page."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

AXE = Path(__file__).parent / "web" / "node_modules" / "axe-core" / "axe.min.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """``app`` under uvicorn in a thread on 127.0.0.1; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test site did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serious_violations(page: Any, within: str | None = None) -> list[tuple[str, str, list[Any]]]:
    """axe-core's serious and critical findings on ``page`` (or the part ``within``). axe is
    evaluated through the DevTools protocol, so the page's CSP need not allow it."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async (within) => await axe.run(within || document)", within)
    assert result["passes"], "axe checked nothing"
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
