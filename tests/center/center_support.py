"""Helpers of the privacy-center tests: the service with sign-in mail going to a real SMTP
server on loopback (the email tests' :class:`Sink`), people collected through a policy's own
forms, and signing in from the link a message carries.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from browser_support import serve_asgi
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mail_support import HOST, UNSUBSCRIBE_URL, Sink, form_for, tokens_for, write_template

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.demo import disclose_once
from pledge.mail.gate import Gate
from pledge.mail.settings import MailSettings
from pledge.mail.sign_in import SignInMail
from pledge.policy import load_policy_text
from pledge.policy.model import Basis, MessageClass
from pledge.store.vault import Vault

LINK = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
NOTIFY = "essential.service.notifications.email"
__all__ = ["HOST", "Center", "Sink", "csrf_of", "link_in", "mail_settings_for"]


def policy_text(name: str) -> str:
    """An example policy; one without a postal address gets one, since the gate refuses
    marketing without it and the journeys ask the gate about a marketing message."""
    text = (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")
    if load_policy_text(text).policy.organisation.postal_address is None:
        text = text.replace("organisation:\n", "organisation:\n  postal_address: 1 Test Lane\n", 1)
    return text


@dataclass(frozen=True)
class Plan:
    """What a journey does on one policy, found from the policy itself."""

    point: str
    marketing: str  # a marketing communication the person's choice decides
    purpose: str  # its purpose, the choice the person changes


def plan_for(vault: Vault) -> Plan:
    policy = vault.policy.policy
    points = [
        (name, p)
        for name, p in policy.collection_points.items()
        if NOTIFY in p.purposes
        and any(f.category == "user.contact.email" for f in p.fields.values())
    ]
    point, spec = max(points, key=lambda item: len(item[1].fields))
    marketing = next(
        name
        for name, c in policy.communications.items()
        if c.message_class is MessageClass.marketing
        and policy.purposes[c.purpose].basis in (Basis.opt_in, Basis.opt_out)
        and c.purpose in spec.purposes
    )
    return Plan(point, marketing, policy.communications[marketing].purpose)


def collect_person(vault: Vault, plan: Plan, n: int, email: str) -> str:
    """Person ``n`` at the plan's point with every field they can give and the marketing
    choice granted; their subject id."""
    spec = vault.policy.policy.collection_points[plan.point]
    fields = form_for(spec, n, email_address=email)
    for name, field in spec.fields.items():
        if name not in fields and field.category == "user.contact.phone_number":
            fields[name] = "+15555550123"
    kept = {
        k: v for k, v in fields.items() if not vault.policy.is_pass_through(spec.fields[k].category)
    }
    collected = vault.collect(
        plan.point,
        kept,
        choices={c: True for c in spec.choices},
        age=30 if spec.min_age is not None or vault.policy.policy.min_age else None,
    )
    return collected.subject


def gate_decision(vault: Vault, plan: Plan, subject: str, sink: Sink, folder: Path) -> str:
    """What the email gate would do with the plan's marketing message for ``subject`` now:
    'queued', or the skip reason's code (a dry run: nothing is sent)."""
    settings = mail_settings_for(vault, sink, "https://privacy.example.test").model_copy(
        update={"unsubscribe_url": UNSUBSCRIBE_URL}
    )
    template = write_template(folder, "News", "Hello {{ name or 'there' }}\n")
    gate = Gate(vault, plan.marketing, template, settings, tokens_for(vault))
    result = gate.process("journey", [subject], dry_run=True)
    if result.queued:
        return "queued"
    return result.skipped[0].code


def disclose_something(vault: Vault, subject: str) -> str:
    """Disclose the person's data to the first recipient the policy lets have it; its name."""
    recipient = disclose_once(vault, subject)
    assert recipient is not None, "no recipient of the policy may receive this person's data"
    return recipient


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

    @contextmanager
    def serve(self) -> Iterator[str]:
        """This service for real on 127.0.0.1 (for a browser); sign-in links point at it."""
        with serve_asgi(self.app) as url:
            self.base = url
            self.app.state.sign_in_mail = SignInMail(
                self.vault, mail_settings_for(self.vault, self.sink, url)
            )
            yield url

    def link_for(self, email: str, timeout: float = 30.0) -> str:
        """The newest sign-in link sent to ``email``, waiting for it to arrive (a real server
        sends it after its answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.app.state.sign_in_mail.courier.wait()
            links = self.links_to(email)
            if links:
                return links[-1]
            time.sleep(0.05)
        raise AssertionError(f"no sign-in link reached the SMTP server in {timeout} s")

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


def carry_out_erasure(vault: Vault, subject: str) -> None:
    """What staff do with the person's erasure request: answer it, which erases."""
    (asked,) = [r for r in vault.requests_of(subject) if r.kind == "erase" and r.open]
    vault.answer_request(asked.request_id, "Erased as you asked.", actor="staff:test")
