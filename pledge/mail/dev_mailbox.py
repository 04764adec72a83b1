"""A mailbox in memory, for development: the transport ``pledge serve --dev`` and
``pledge demo --serve`` deliver to instead of an SMTP server, shown at ``/dev/mailbox``.

It implements the sender's :class:`~pledge.mail.sender.Transport`, so messages go through
the whole real path (gate, outbox, worker) and only the last hop is replaced. It keeps the
newest messages only, and never exists outside development mode: it shows every message to
whoever opens the page.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

KEEP = 200


@dataclass(frozen=True)
class Kept:
    to: tuple[str, ...]
    at: dt.datetime
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


class DevMailbox:
    """Keeps what is "sent" to it, newest first."""

    def __init__(self, keep: int = KEEP) -> None:
        self._messages: deque[Kept] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def connect(self) -> DevMailbox:
        return self

    def sendmail(self, from_addr: str, to_addrs: list[str], msg: bytes) -> dict[str, object]:
        with self._lock:
            self._messages.appendleft(Kept(tuple(to_addrs), dt.datetime.now(dt.UTC), bytes(msg)))
        return {}

    def quit(self) -> None:
        pass

    def close(self) -> None:
        pass

    def messages(self) -> list[Kept]:
        with self._lock:
            return list(self._messages)
