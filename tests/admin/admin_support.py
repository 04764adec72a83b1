"""Helpers of the staff console tests: the service with staff links mailed to a real SMTP
server on loopback, staff enrolled through the store, and their authenticator's codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
from dsr_support import policy_under
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mail_support import HOST, Sink

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.mail.sender import SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.mail.staff_sign_in import StaffSignInMail
from pledge.store.vault import Vault

LINK = re.compile(r"https?://\S+/admin/sign-in/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HTML = {"Accept": "text/html"}
__all__ = ["HTML", "Console", "Sink", "csrf_of", "policy_under"]


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Enrolled:
    email: str
    staff_id: str
    totp: pyotp.TOTP

    def code(self, vault: Vault, steps_later: int = 0) -> str:
        return self.totp.at(vault.clock().timestamp() + 30 * steps_later)


@dataclass
class Console:
    """The service over ``vault``, staff links going to ``sink``."""

    vault: Vault
    sink: Sink
    app: FastAPI
    base: str = "http://testserver"

    @classmethod
    def start(cls, vault: Vault, sink: Sink, base: str = "http://testserver") -> Console:
        app = create_app(
            vault,
            settings=ApiSettings(rate_limit_per_second=1000.0, rate_limit_burst=1000),
        )
        settings = MailSettings(
            smtp_host=HOST,
            smtp_port=sink.port,
            smtp_timeout=5,
            from_address="Console <console@zabbix.com>",
            staff_sign_in_url=f"{base}/admin/sign-in",
        )
        app.state.staff_sign_in_mail = StaffSignInMail(
            vault, settings, SmtpTransport(HOST, sink.port, timeout=5)
        )
        return cls(vault, sink, app, base)

    def enrol(self, email: str, *roles: str) -> Enrolled:
        made = self.vault.add_staff(email, list(roles), actor="test")
        return Enrolled(email, made.staff_id, pyotp.parse_uri(made.otpauth_uri))

    def browser(self) -> TestClient:
        return TestClient(self.app, base_url=self.base, raise_server_exceptions=False)

    def links_to(self, email: str) -> list[str]:
        found = []
        for r in self.sink.received:
            if email.lower() in [t.lower() for t in r.rcpt_tos]:
                match = LINK.search(r.data.decode("utf-8", "replace").replace("=\r\n", ""))
                assert match, "the message carries no sign-in link"
                found.append(match.group(0))
        return found

    def ask_link(self, client: TestClient, email: str) -> Any:
        page = client.get("/admin/sign-in", headers=HTML)
        return client.post(
            "/admin/sign-in", data={"email": email, "csrf": csrf_of(page.text)}, headers=HTML
        )

    def use_link(self, client: TestClient, link: str) -> Any:
        path = link.removeprefix(self.base)
        page = client.get(path, headers=HTML)
        if page.status_code != 200:
            return page
        return client.post(
            path, data={"csrf": csrf_of(page.text)}, headers=HTML, follow_redirects=False
        )

    def give_code(self, client: TestClient, code: str, role: str) -> Any:
        page = client.get("/admin/second-factor", headers=HTML)
        return client.post(
            "/admin/second-factor",
            data={"csrf": csrf_of(page.text), "code": code, "role": role},
            headers=HTML,
            follow_redirects=False,
        )

    def sign_in(self, client: TestClient, staff: Enrolled, role: str) -> None:
        before = len(self.links_to(staff.email))
        self.ask_link(client, staff.email)
        links = self.links_to(staff.email)
        assert len(links) == before + 1, "no sign-in message arrived"
        assert self.use_link(client, links[-1]).status_code == 303
        done = self.give_code(client, staff.code(self.vault), role)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/admin"
