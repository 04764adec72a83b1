"""The audit log: every use of personal data leaves an entry, and nobody can quietly change one.

Built the way transparency logs (Trillian, Tessera) build theirs:

- ``queue``: an operation queues its leaf in its own transaction; nothing is locked or signed
  on the request path, and the leaf is durable before anything is released.
- ``sequencer``: one process at a time integrates queued leaves into the tree in batches and
  signs one checkpoint per batch.
- ``merkle``: RFC 6962 hashing and proofs; ``checkpoint``: C2SP signed notes, ``publish``:
  each checkpoint copied outside the database.
- ``verify``: recompute the log and hold it to every checkpoint, incrementally.
- ``log``: :class:`AuditLog`, what the store's operations and auditors call.
"""

from pledge.store.audit.entries import Record, decode, encode
from pledge.store.audit.log import AuditLog
from pledge.store.audit.verify import Problem, Verification

__all__ = ["AuditLog", "Problem", "Record", "Verification", "decode", "encode"]
