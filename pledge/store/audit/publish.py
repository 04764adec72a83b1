"""Checkpoints leave the database as they are signed, so that wiping or cutting the log there
cannot also take back what it had already committed to.

The default is a directory (under the data directory): the newest checkpoint as
``checkpoint``, replaced atomically, and each one as ``<size>.checkpoint``, so a copy of the
directory, a backup or a witness fetching ``checkpoint`` holds what the log owed at that time.
An HTTP URL can be given too; each checkpoint is POSTed there (``text/plain``), and a failed
POST is logged and retried with the next checkpoint, which supersedes it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pledge.errors import InputError
from pledge.store.audit.checkpoint import Checkpoint, parse_note

log = logging.getLogger(__name__)
LATEST = "checkpoint"


class Publisher:
    def __init__(
        self, public_key: Ed25519PublicKey, directory: Path | None, url: str | None = None
    ) -> None:
        self._public_key = public_key
        self.directory = directory
        self.url = url
        self._posted = -1
        if url is not None and not url.startswith(("http://", "https://")):
            raise InputError(f"the checkpoint URL must be http:// or https://, not {url!r}")

    def publish(self, checkpoint: Checkpoint) -> None:
        note = checkpoint.note(self._public_key).encode()
        if self.directory is not None:
            self._publish_file(checkpoint.size, note)
        if self.url is not None and checkpoint.size > self._posted:
            import urllib.request  # only when configured: it pulls in http.client

            request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
                self.url, data=note, method="POST", headers={"Content-Type": "text/plain"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    response.read()
                self._posted = checkpoint.size
            except OSError as exc:
                log.warning("could not POST audit checkpoint %d: %s", checkpoint.size, exc)

    def _publish_file(self, size: int, note: bytes) -> None:
        """Never replace evidence: a file for the same size with other content, or a newest
        checkpoint larger than this one, means the log in the database lost entries (wiped
        or cut), and what was published is exactly what shows it."""
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        own = self.directory / f"{size}.checkpoint"
        latest = self.directory / LATEST
        if own.exists():
            if own.read_bytes() != note:
                log.error(
                    "audit checkpoint %d differs from the one published before; kept it", size
                )
                return
            if latest.exists() and _size_of(latest.read_bytes()) >= size:
                return  # published already (a sequencer taking its turn publishes the latest)
        _write_atomically(own, note)
        if latest.exists() and _size_of(latest.read_bytes()) > size:
            log.error("the audit log is smaller than its published checkpoint; kept that")
            return
        _write_atomically(latest, note)

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint published to the directory, its signature checked."""
        if self.directory is None:
            return None
        path = self.directory / LATEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return parse_note(text, self._public_key)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _size_of(note: bytes) -> int:
    lines = note.split(b"\n", 2)
    return int(lines[1]) if len(lines) > 2 and lines[1].isdigit() else -1
