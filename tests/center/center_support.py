"""Helpers of the privacy-center tests: the service with sign-in mail going to a real SMTP
server on loopback (the email tests' :class:`Sink`), people collected through a policy's own
forms, and signing in from the link a message carries.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mail"))
from mail_support import HOST, Sink

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.mail.settings import MailSettings
from pledge.mail.sign_in import SignInMail
from pledge.store.vault import Vault

LINK = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
__all__ = ["HOST", "Center", "Sink", "csrf_of", "link_in", "mail_settings_for"]


def mail_settings_for(vault: Vault, sink: Sink, base: str) -> MailSettings:
    domains = vault.policy.policy.organisation.sender_domains
    return MailSettings(
        smtp_host=HOST,
        smtp_port=sink.port,
        smtp_timeout=5,
        from_address=f"Privacy <privacy@{domains[0] if domains else 'example.test'}>",
        sign_in_url=f"{base}/sign-in",
        backoff_seconds=1,
        backoff_max_seconds=2,
        connections=1,
    )


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def link_in(data: bytes) -> str:
    found = LINK.search(data.decode("utf-8", "replace").replace("=\r\n", ""))
    assert found, "the message carries no sign-in link"
    return found.group(0)


@dataclass
class Center:
    """The service over ``vault`` with sign-in mail to ``sink``; ``browser()`` gives a client
    with its own cookies (a person's browser)."""

    vault: Vault
    sink: Sink
    app: FastAPI
    base: str = "http://testserver"

    @classmethod
    def start(cls, vault: Vault, sink: Sink, base: str = "http://testserver", **api: Any) -> Center:
        options = {"rate_limit_per_second": 1000.0, "rate_limit_burst": 1000, **api}
        app = create_app(vault, settings=ApiSettings(**options))
        app.state.sign_in_mail = SignInMail(vault, mail_settings_for(vault, sink, base))
        return cls(vault, sink, app, base)

    def browser(self) -> TestClient:
        return TestClient(self.app, base_url=self.base, raise_server_exceptions=False)

    def ask_link(self, client: TestClient, email: str) -> Any:
        page = client.get("/sign-in", headers={"Accept": "text/html"})
        response = client.post(
            "/sign-in",
            data={"email": email, "csrf": csrf_of(page.text)},
            headers={"Accept": "text/html"},
        )
        mail: SignInMail = self.app.state.sign_in_mail
        mail.courier.wait()
        return response

    def links_to(self, email: str) -> list[str]:
        return [
            link_in(r.data)
            for r in self.sink.received
            if email.lower() in [t.lower() for t in r.rcpt_tos]
        ]

    def follow(self, client: TestClient, link: str) -> Any:
        """Open the link and press its button: the response to the POST."""
        path = link.removeprefix(self.base)
        page = client.get(path, headers={"Accept": "text/html"})
        if page.status_code != 200:
            return page
        return client.post(
            path,
            data={"csrf": csrf_of(page.text)},
            headers={"Accept": "text/html"},
            follow_redirects=False,
        )

    def sign_in(self, client: TestClient, email: str) -> None:
        before = len(self.links_to(email))
        self.ask_link(client, email)
        links = self.links_to(email)
        assert len(links) == before + 1, "no sign-in message arrived"
        done = self.follow(client, links[-1])
        assert done.status_code == 303, done.text
