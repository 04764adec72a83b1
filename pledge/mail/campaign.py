"""A campaign: one communication type, one template, one segment, gated chunk by chunk.

The campaign id is the idempotency key of its messages. Running the same campaign again
(after a crash, or by mistake) queues only the people not yet queued, so nobody is mailed
twice; the default id (type, template, day) makes a re-run of the same command on the same day
a resumption. Memory stays flat: only the current chunk, the counts per reason and a few
example subject ids per reason are held.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pledge.errors import InputError
from pledge.mail.gate import ChunkResult, Gate
from pledge.mail.segments import Segment

_CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def campaign_id(given: str | None, communication: str, template: str, today: dt.date) -> str:
    """``given`` checked, or ``<type>-<template>-<YYYY-MM-DD>``."""
    value = given or f"{communication}-{template}-{today.isoformat()}"[:64]
    if not _CAMPAIGN_ID.fullmatch(value):
        raise InputError(
            f"campaign id '{value}' must be 1-64 letters, digits, '.', '_', ':' or '-'",
            campaign=value,
        )
    return value


@dataclass
class Summary:
    """What a campaign (or its dry run) did, by reason. Subject ids only, never addresses."""

    campaign: str
    communication: str
    segment: str
    dry_run: bool
    keep: int = 10
    queued: int = 0
    already_queued: int = 0
    skipped: dict[tuple[str, str], int] = field(default_factory=dict)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    messages: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def seen(self) -> int:
        return self.queued + self.already_queued + sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        """The summary as the CLI's ``--json`` and the API print it, most skipped first."""
        return {
            "campaign": self.campaign,
            "communication": self.communication,
            "segment": self.segment,
            "dry_run": self.dry_run,
            "seen": self.seen,
            "queued": self.queued,
            "already_queued": self.already_queued,
            "skipped": [
                {
                    "code": code,
                    "ref": ref,
                    "message": self.messages.get((code, ref), ""),
                    "people": count,
                    "subjects": self.examples.get((code, ref), []),
                }
                for (code, ref), count in sorted(self.skipped.items(), key=lambda kv: -kv[1])
            ],
        }

    def add(self, chunk: ChunkResult) -> None:
        self.queued += len(chunk.queued)
        self.already_queued += chunk.already_queued
        for skip in chunk.skipped:
            key = (skip.code, skip.ref)
            self.skipped[key] = self.skipped.get(key, 0) + 1
            self.messages.setdefault(key, skip.message)
            kept = self.examples.setdefault(key, [])
            if len(kept) < self.keep:
                kept.append(skip.subject)


def run_campaign(
    gate: Gate,
    segment: Segment,
    campaign: str,
    *,
    dry_run: bool,
    chunk_size: int,
    keep_examples: int = 10,
    on_chunk: Callable[[int], None] | None = None,
) -> Summary:
    """Gate every subject of ``segment``; ``on_chunk(n)`` after each chunk of ``n``."""
    summary = Summary(campaign, gate.name, str(segment), dry_run, keep_examples)
    for ids in segment.chunks(gate.vault, chunk_size):
        summary.add(gate.process(campaign, ids, dry_run=dry_run))
        if on_chunk:
            on_chunk(len(ids))
    return summary
