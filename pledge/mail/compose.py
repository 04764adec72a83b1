"""Turning a rendered message into RFC 5322 bytes, with what the law adds to marketing.

CAN-SPAM and the seed policies ask every marketing message to carry the sender's postal
address, to say it is an advertisement when the policy says so, to offer a visible way out,
and not to lie in its subject or its From line. The gate adds these here, so no template or
caller can leave them out. RFC 2369 and RFC 8058 headers let mail clients show their own
unsubscribe button that works in one click.

The MIME is written by hand rather than with :class:`email.message.EmailMessage`, which
costs about a millisecond per message, too slow to render a large campaign in minutes. What
it writes is deliberately plain: UTF-8 text parts (as they are when they are short-lined
ASCII, quoted-printable otherwise), RFC 2047 encoded headers, and every header value checked
for line breaks so that no value can add a header of its own.
"""

from __future__ import annotations

import binascii
import datetime as dt
import html
import re
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from pledge.errors import MessageRefused
from pledge.mail.templates import Rendered

NAME_LIMIT = 100  # characters of a recipient's name kept in the To header
SUBJECT_LIMIT = 250  # characters of a subject
_MAX_LINE = 900  # of a header line's value; SMTP allows 998 for the whole line
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and line feed

# A reply or forward marker the message is not: "Re:", "RE :", "Fwd:", "FW:", "AW:", "WG:".
_FAKE_THREAD = re.compile(r"^\s*(re|fwd?|aw|wg|sv|tr)\s*(\[\d+\])?\s*:", re.IGNORECASE)


def subject_problem(subject: str) -> str | None:
    """Why a marketing subject would mislead, or None when it is fine."""
    if not subject.strip():
        return "a marketing message needs a subject that says what it is about"
    if _FAKE_THREAD.match(subject):
        return (
            "the subject starts with a reply or forward marker ('Re:', 'Fwd:'...) although "
            "the message answers nothing; say what it is about instead"
        )
    return None


def sender_domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


def check_sender(address: str, allowed: list[str]) -> None:
    """Marketing may only come from a domain the policy lists (exactly, or a subdomain)."""
    domain = sender_domain(address)
    if not domain:
        raise MessageRefused(f"the From address '{address}' has no domain")
    listed = [d.lower() for d in allowed]
    if not any(domain == d or domain.endswith("." + d) for d in listed):
        where = ", ".join(listed) if listed else "none"
        raise MessageRefused(
            f"marketing may not be sent from '{domain}': organisation.sender_domains lists "
            f"{where}; change PLEDGE_MAIL_FROM_ADDRESS or add the domain to the policy",
            domain=domain,
        )


@dataclass(frozen=True)
class Footer:
    """The legal footer of a marketing message."""

    organisation: str
    postal_address: str
    advertisement: bool
    unsubscribe_url: str

    def text(self) -> str:
        lines = ["", "-- "]
        if self.advertisement:
            lines.append(f"This message is an advertisement from {self.organisation}.")
        lines += [
            f"{self.organisation}, {self.postal_address}",
            f"Unsubscribe (one click, no login): {self.unsubscribe_url}",
            "",
        ]
        return "\n".join(lines)

    def html(self) -> str:
        esc = html.escape
        ad = (
            f"<p>This message is an advertisement from {esc(self.organisation)}.</p>"
            if self.advertisement
            else ""
        )
        return (
            '<hr><div style="font-size:12px;color:#555">'
            f"{ad}<p>{esc(self.organisation)}, {esc(self.postal_address)}</p>"
            f'<p><a href="{esc(self.unsubscribe_url)}">Unsubscribe</a> in one click, no login '
            "needed.</p></div>"
        )

    def apply(self, rendered: Rendered) -> Rendered:
        text = rendered.text.rstrip("\n") + "\n" + self.text()
        body = rendered.html
        if body is not None:
            at = body.lower().rfind("</body>")
            body = body + self.html() if at < 0 else body[:at] + self.html() + body[at:]
        return Rendered(rendered.subject, text, body)


def list_unsubscribe(url: str, mailbox: str) -> list[tuple[str, str]]:
    """RFC 2369 and RFC 8058 headers: an HTTPS link for one-click POST, and a mailto."""
    return [
        ("List-Unsubscribe", f"<{url}>,\r\n <mailto:{mailbox}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


class Composer:
    """Writes the messages of one campaign; what is the same for all is encoded once."""

    def __init__(self, sender: str) -> None:
        self.sender = _address(sender)

    def compose(
        self,
        *,
        recipient: str,
        recipient_name: str | None,
        rendered: Rendered,
        message_id: str,
        date: dt.datetime,
        headers: list[tuple[str, str]],
    ) -> bytes:
        """The message as bytes ready for SMTP DATA (CRLF line ends)."""
        to = _mailbox(recipient_name or "", recipient)
        top = [
            ("From", self.sender),
            ("To", to),
            ("Subject", _subject(rendered.subject)),
            ("Date", format_datetime(date.astimezone(dt.UTC))),
            ("Message-ID", message_id),
            ("MIME-Version", "1.0"),
            *headers,
        ]
        lines = [f"{name}: {_checked(value)}" for name, value in top]
        if rendered.html is None:
            lines += _part("plain", rendered.text)
        else:
            boundary = f"=_pledge_{uuid.uuid4().hex}"
            lines += [
                f'Content-Type: multipart/alternative; boundary="{boundary}"',
                "",
                f"--{boundary}",
                *_part("plain", rendered.text),
                f"--{boundary}",
                *_part("html", rendered.html),
                f"--{boundary}--",
            ]
        return ("\r\n".join(lines) + "\r\n").encode("ascii")


@lru_cache(maxsize=1024)
def _subject(subject: str) -> str:
    return _encoded(_clean(subject, SUBJECT_LIMIT), 68)


def _mailbox(name: str, address: str) -> str:
    """``Name <address>``: the name cleaned, shortened and, unless plain short ASCII,
    RFC 2047-encoded in folded chunks, so no line of it can be illegal however it came in."""
    name = _clean(name, NAME_LIMIT)
    if not name:
        return address
    if name.isascii() and len(name) <= 60:
        return formataddr((name, address))
    return f"{_encoded(name, 0)} <{address}>"


def _encoded(text: str, plain_up_to: int) -> str:
    if text.isascii() and len(text) <= plain_up_to:
        return text
    return Header(text, "utf-8").encode(linesep="\r\n")


def _clean(value: str, limit: int) -> str:
    """A header text as one line of printable characters, at most ``limit`` long: control
    characters (NUL, CR, LF, DEL, C1, Unicode line separators) become spaces, runs of space
    one, and the rest is cut with an ellipsis."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _part(subtype: str, body: str) -> list[str]:
    """A text part: as it is when it is short-lined printable ASCII, else quoted-printable
    (which also encodes a NUL or other control character a value brought in)."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    plain = text.isascii() and not _BODY_CONTROL.search(text)
    if plain and all(len(line) <= 998 for line in text.split("\n")):
        encoding, encoded = "7bit", text.replace("\n", "\r\n")
    else:
        raw = text.encode("utf-8")
        # b2a_qp ends its soft line breaks with a bare LF; SMTP lines end with CRLF.
        qp = binascii.b2a_qp(raw, istext=True).decode("ascii")
        encoding, encoded = "quoted-printable", qp.replace("\n", "\r\n")
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        f"Content-Transfer-Encoding: {encoding}",
        "",
        encoded,
    ]


def _address(value: str) -> str:
    name, address = parseaddr(_single_line(value))
    if not name:
        return address
    return formataddr((name, address), charset="utf-8")


def _single_line(value: str) -> str:
    return " ".join(value.split())


def _checked(value: str) -> str:
    """Header values may be folded (CRLF + space) but never hold a bare line break, a
    control character or a line longer than SMTP allows."""
    for i, line in enumerate(value.split("\r\n")):
        if i and not line.startswith(" "):
            raise ValueError("a header value may not start a new header line")
        if len(line) > _MAX_LINE:
            raise ValueError(f"a header line is longer than {_MAX_LINE} characters")
    if _CONTROL.search(value.replace("\r\n", "")):
        raise ValueError("a header value holds a control character")
    if "\n" in value.replace("\r\n", "") or "\r" in value.replace("\r\n", ""):
        raise ValueError("a header value holds a line break")
    if not value.isascii():
        raise ValueError("a header value must be encoded to ASCII first")
    return value
