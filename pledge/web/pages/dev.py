"""``/dev/mailbox``: the messages the service "sent" in development mode, so a newcomer can
sign in to the privacy center without an SMTP server. Mounted only in development mode."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from pledge.mail.dev_mailbox import DevMailbox
from pledge.web.pages import render

router = APIRouter()
_URL = re.compile(r"https?://[^\s<>\"]+")


def linked(text: str) -> Markup:
    """``text`` escaped, its URLs made links."""
    out, last = [], 0
    for found in _URL.finditer(text):
        out += [
            escape(text[last : found.start()]),
            Markup('<a href="{0}">{0}</a>').format(found.group(0)),
        ]
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@router.get("/dev/mailbox")
async def mailbox(request: Request) -> Response:
    box: DevMailbox = request.app.state.dev_mailbox
    messages = [
        {
            "to": ", ".join(kept.to),
            "at": kept.at.strftime("%H:%M:%S UTC"),
            "subject": str(kept.message["Subject"]),
            "body": linked(kept.text),
        }
        for kept in box.messages()
    ]
    return render(request, "dev_mailbox.html", messages=messages)
