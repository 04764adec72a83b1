"""The notice rendered from the policy file says everything the file does: every purpose with
its legal basis, every recipient, cookie and right, who to contact, and what changed."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.policy import load_policy, load_policy_text
from pledge.policy.consistency import taxonomy_for
from pledge.policy.notice import build_notice, render_notice
from tests.policy_changes.derive import EXAMPLES, SEEDS, derived

runner = CliRunner()


class _Text(HTMLParser):
    """The text a reader sees (tags and markup gone, entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.mark.parametrize("name", SEEDS)
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_every_purpose_recipient_cookie_and_right_appears(name: str, fmt: str) -> None:
    policy = load_policy(EXAMPLES / f"{name}.yaml").policy
    rendered = render_notice(build_notice(policy), fmt)  # type: ignore[arg-type]
    text = visible_text(rendered) if fmt == "html" else " ".join(rendered.split())
    uses = taxonomy_for(policy).terms["data_use"]
    for key in policy.purposes:
        assert uses[key].name in text, key
    for key, recipient in policy.recipients.items():
        assert (recipient.description or key.replace("_", " ")) in text, key
    for cookie in policy.cookies:
        assert cookie.name in text
    for right in policy.rights.offered:
        assert right.value in text
    org = policy.organisation
    assert org.name in text
    assert org.privacy_contact in text
    assert "supervisory authority" in text  # the right to complain
    assert f"within {policy.rights.response_days} days" in text


def test_each_purpose_states_its_legal_basis() -> None:
    policy = load_policy(EXAMPLES / "bitrix.yaml").policy
    notice = build_notice(policy)
    by_key = {item.key: dict(item.facts) for item in notice.purposes}
    assert "consent" in by_key["marketing.communications.email"]["Legal basis"]
    assert "Art. 6(1)(b)" in by_key["essential.service"]["Legal basis"]


def test_required_fields_and_what_follows_without_them() -> None:
    notice = build_notice(load_policy(EXAMPLES / "bitrix.yaml").policy)
    purchase = dict(next(i for i in notice.points if i.key == "purchase").facts)
    assert purchase["Required"].startswith("name, email, mailing_address, products")
    assert "cannot complete" in purchase["Required"]
    assert "phone" in purchase["Optional"]


def test_html_escapes_what_the_file_says() -> None:
    def hostile(d: dict[str, object]) -> None:
        d["organisation"]["name"] = "<script>alert(1)</script> Ltd"  # type: ignore[index]

    policy = load_policy_text(derived("zabbix", hostile)).policy
    html = render_notice(build_notice(policy), "html")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_history_marks_material_changes(tmp_path: Path) -> None:
    def add_recipient(d: dict[str, object]) -> None:
        d["recipients"]["data_broker"] = {  # type: ignore[index]
            "kind": "partner",
            "purposes": ["essential.service"],
            "categories": ["user.contact.email"],
        }

    new = tmp_path / "new.yaml"
    new.write_text(derived("bitrix", add_recipient, version="2026-12-01"))
    result = runner.invoke(
        app,
        [
            "policy",
            "render",
            str(new),
            "--format",
            "md",
            "--previous",
            str(EXAMPLES / "bitrix.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "### Version 2026-12-01" in result.stdout
    assert "**Material change:** new recipient 'data_broker'" in result.stdout


def test_render_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "notice.html"
    result = runner.invoke(
        app, ["policy", "render", str(EXAMPLES / "3cx.yaml"), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!doctype html>")
