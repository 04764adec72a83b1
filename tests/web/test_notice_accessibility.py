"""The privacy notice ``pledge policy render --format html`` writes, checked by axe-core in
Debian's headless Chromium: no serious or critical accessibility violation, for each example
policy with a change history whose material changes are highlighted."""

from __future__ import annotations

from typing import Any

import pytest
from test_browser import AXE

from pledge.policy import load_policy_text
from pledge.policy.notice import build_notice, render_notice
from tests.policy_changes.derive import SEEDS, derived, raw, text_of

SERIOUS = {"serious", "critical"}


def shorter_notice(d: dict[str, Any]) -> None:
    d["changes"]["notice_days"] = 10


@pytest.mark.parametrize("name", SEEDS)
def test_the_rendered_notice_has_no_serious_accessibility_violation(
    browser: Any,
    skip_or_fail: Any,
    name: str,
) -> None:
    if not AXE.exists():
        skip_or_fail("axe-core is not installed: npm install --prefix tests/web axe-core")
    earlier = load_policy_text(text_of(raw(name))).policy
    current = load_policy_text(derived(name, shorter_notice, version="2026-12-01")).policy
    html = render_notice(build_notice(current, [earlier]), "html")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(html)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document)")
    finally:
        context.close()
    assert result["passes"], "axe checked nothing"
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]
    assert serious == []
