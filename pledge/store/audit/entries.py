"""What one leaf of the log holds, in bytes that hash the same everywhere.

An entry is a header line ``<index> <previous leaf hash>`` that verification reads without
parsing JSON, then the record as canonical JSON. The record's JSON is fixed when the leaf is
queued (inside the operation's transaction); the header only when the sequencer gives the
leaf its place. Entries name subjects by a keyed pseudonym and hold no personal values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Record:
    """What happened, before it gets its place in the log."""

    action: str
    actor: str
    subject_ref: str | None = None
    purpose: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def body(at: str, record: Record) -> bytes:
    """The record as canonical JSON: what is queued, and the part of the entry after its header."""
    fields = {
        "at": at,
        "action": record.action,
        "actor": record.actor,
        "subject": record.subject_ref,
        "purpose": record.purpose,
        "detail": record.detail,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def header(seq: int, prev: bytes) -> bytes:
    return b"%d %s\n" % (seq, prev.hex().encode())


def encode(seq: int, at: str, prev: bytes, record: Record) -> bytes:
    """The canonical bytes of entry ``seq``, whose predecessor's leaf hash is ``prev``."""
    return header(seq, prev) + body(at, record)


def decode(entry: bytes) -> dict[str, Any]:
    """An entry as a dict, its header fields included."""
    head, _, rest = entry.partition(b"\n")
    seq, _, prev = head.partition(b" ")
    decoded: dict[str, Any] = json.loads(rest)
    return {"seq": int(seq), "prev": prev.decode(), **decoded}


BODY_KEYS = frozenset({"at", "action", "actor", "subject", "purpose", "detail"})


def well_formed(raw: bytes) -> bool:
    """Whether queued bytes are a record :func:`body` could have written."""
    try:
        fields = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    return (
        isinstance(fields, dict)
        and fields.keys() == BODY_KEYS
        and isinstance(fields["action"], str)
        and isinstance(fields["actor"], str)
        and isinstance(fields["detail"], dict)
        and body(fields["at"], _record(fields)) == raw
    )


def _record(fields: dict[str, Any]) -> Record:
    return Record(
        fields["action"], fields["actor"], fields["subject"], fields["purpose"], fields["detail"]
    )
