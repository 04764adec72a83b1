"""How a process runs its part of the audit log (see ``Settings`` for the ``PLEDGE_AUDIT_*``
variables that fill this in)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AuditSettings:
    # Run a sequencer in this process; one among all processes on the database does the work.
    sequencer: bool = True
    # The longest a queued leaf should wait for its place in the tree, in seconds.
    max_wait: float = 1.0
    # The most leaves one batch (one transaction, one checkpoint) integrates.
    batch_size: int = 10_000
    # Where each checkpoint is published; None: next to a SQLite file, nowhere for PostgreSQL.
    checkpoint_dir: Path | None = None
    # An HTTP(S) URL each checkpoint is POSTed to, as well.
    checkpoint_url: str | None = None
