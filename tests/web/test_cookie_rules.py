"""The rules the banner, the middleware and the scanner share: which cookie is which, what a
visitor's answer and a browser's signals allow, and the consent cookie's format."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from site_policy import site_policy_text

from pledge.errors import PolicyError
from pledge.policy import Policy, load_policy_text
from pledge.policy.cookies import CONSENT_COOKIE, CookieRegistry, dnt_statement, offered_categories
from pledge.policy.diff import diff_policies
from pledge.policy.model import DoNotTrack
from pledge.policy.notice import build_notice, render_notice
from pledge.web.banner import snippet
from pledge.web.consent_cookie import ConsentCookie, from_header, parse
from pledge.web.gpc import signal_on

OPTIONAL = ["preferences", "analytics", "advertising"]


def with_dnt(policy: Policy, answer: DoNotTrack) -> CookieRegistry:
    consent = policy.cookie_consent.model_copy(update={"do_not_track": answer})
    return CookieRegistry.of(policy.model_copy(update={"cookie_consent": consent}))


def test_every_declared_cookie_has_its_category(site_policy: Policy) -> None:
    registry = CookieRegistry.of(site_policy)
    assert registry.category("session") == "essential"
    assert registry.category("_pa_id") == "analytics"  # declared as _pa_*
    assert registry.category("ad_id") == "advertising"
    assert registry.category(CONSENT_COOKIE) == "essential"
    assert registry.category("tracker") is None
    assert registry.category("ad_id2") is None  # an exact name is not a prefix


@given(
    chosen=st.frozensets(st.sampled_from([*OPTIONAL, "essential", "bogus"])),
    gpc=st.booleans(),
    dnt=st.booleans(),
)
def test_signals_are_a_ceiling_on_what_a_visitor_allows(
    site_policy: Policy, chosen: frozenset[str], gpc: bool, dnt: bool
) -> None:
    registry = CookieRegistry.of(site_policy)
    allowed = registry.allowed(chosen, gpc=gpc, dnt=dnt)
    assert allowed <= chosen & set(OPTIONAL)
    if gpc or dnt:  # this policy answers DNT as an opt-out of sale and sharing
        assert "advertising" not in allowed
    else:
        assert allowed == chosen & set(OPTIONAL)
    assert registry.may_set("session", allowed)
    assert not registry.may_set("tracker", frozenset(OPTIONAL))
    assert registry.may_set("ad_id", allowed) == ("advertising" in allowed)


def test_do_not_track_does_what_the_policy_states(site_policy: Policy) -> None:
    everything = frozenset(OPTIONAL)
    ignored = with_dnt(site_policy, DoNotTrack.ignored)
    assert ignored.allowed(everything, gpc=False, dnt=True) == everything
    refuse = with_dnt(site_policy, DoNotTrack.refuse_optional)
    assert refuse.allowed(everything, gpc=False, dnt=True) == frozenset()
    sharing = with_dnt(site_policy, DoNotTrack.opt_out_of_sale_or_sharing)
    assert sharing.allowed(everything, gpc=False, dnt=True) == {"preferences", "analytics"}
    assert "Do Not Track" in dnt_statement(site_policy)


@pytest.mark.parametrize(
    ("copies", "on"),
    [
        (["1"], True),
        (["0", "1"], True),  # two copies of the header: any "1" counts
        (["0, 1"], True),  # folded by a proxy
        ([" 1 "], True),
        (["0"], False),
        (["10"], False),
        (["true"], False),
        ([], False),
        ([""], False),
    ],
)
def test_a_signal_is_on_when_any_copy_is_1(copies: list[str], on: bool) -> None:
    assert signal_on(copies) is on


@given(
    receipt=st.text("0123456789abcdef", min_size=32, max_size=32),
    allowed=st.frozensets(st.sampled_from(OPTIONAL)),
)
def test_the_consent_cookie_reads_back_what_was_written(
    receipt: str, allowed: frozenset[str]
) -> None:
    cookie = ConsentCookie(receipt, allowed, frozenset(OPTIONAL) - allowed)
    value = cookie.value()
    assert re.fullmatch(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+", value)  # RFC 6265
    assert parse(value) == cookie
    assert from_header(f"a=b; {CONSENT_COOKIE}={value}; c=d") == cookie


@pytest.mark.parametrize(
    "header",
    [
        "",
        f"x{CONSENT_COOKIE}={'a' * 32}:analytics:",  # another cookie whose name ends alike
        f"{CONSENT_COOKIE}={'A' * 32}:analytics:",
        f"{CONSENT_COOKIE}={'a' * 32}:analytics",
        f"{CONSENT_COOKIE}={'a' * 32}:analytics:,evil",
        f'{CONSENT_COOKIE}="{"a" * 32}:analytics:"',
        f"{CONSENT_COOKIE}={'a' * 32}:<script>:",
    ],
)
def test_a_malformed_consent_cookie_allows_nothing(header: str) -> None:
    assert from_header(header) is None


def test_the_banner_offers_what_the_cookies_use_when_the_policy_lists_nothing() -> None:
    text = re.sub(r"(?ms)^cookie_consent:.*?(?=^changes:)", "", site_policy_text())
    policy = load_policy_text(text).policy
    offered = offered_categories(policy)
    assert list(offered) == OPTIONAL
    assert offered["advertising"].sale_or_sharing  # type: ignore[index]
    assert not offered["analytics"].sale_or_sharing  # type: ignore[index]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    preferences:\n",
            "    essential:\n      description: x\n    preferences:\n",
            "essential cookies need no consent",
        ),
        (
            "    preferences:\n      description: Remember the language you read the site in\n",
            "",
            "cookie 'lang' is preferences, which the banner does not offer",
        ),
        (
            "sale_or_sharing_purposes: [marketing.communications.email]",
            "sale_or_sharing_purposes: [marketing.emails]",
            "unknown purpose",
        ),
    ],
)
def test_a_banner_that_contradicts_the_cookies_is_refused(old: str, new: str, message: str) -> None:
    text = site_policy_text()
    assert old in text
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy_text(text.replace(old, new, 1), file="site.yaml")
    assert caught.value.line is not None


def test_the_snippet_escapes_what_the_policy_says(site_policy: Policy) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    consent = site_policy.cookie_consent
    categories = {
        c: spec.model_copy(update={"description": hostile})
        for c, spec in consent.categories.items()
    }
    policy = site_policy.model_copy(
        update={"cookie_consent": consent.model_copy(update={"categories": categories})}
    )
    html = snippet(policy, policy_url='"><script>x()</script>')
    assert hostile not in html
    assert "<script>x()" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("answer", list(DoNotTrack))
def test_the_privacy_notice_states_how_signals_are_answered(
    site_policy: Policy, answer: DoNotTrack
) -> None:
    consent = site_policy.cookie_consent.model_copy(update={"do_not_track": answer})
    policy = site_policy.model_copy(update={"cookie_consent": consent})
    page = render_notice(build_notice(policy), "html")
    assert dnt_statement(policy) in page
    assert "Global Privacy Control" in page
    assert f"<code>{CONSENT_COOKIE}</code>" in page


def test_a_weaker_answer_to_browser_signals_is_a_material_change(site_policy: Policy) -> None:
    consent = site_policy.cookie_consent
    weaker = consent.model_copy(
        update={
            "do_not_track": DoNotTrack.ignored,
            "sale_or_sharing_purposes": [],
            "categories": {
                c: spec.model_copy(update={"sale_or_sharing": False})
                for c, spec in consent.categories.items()
            },
        }
    )
    new = site_policy.model_copy(update={"cookie_consent": weaker, "version": "next"})
    changes = {c.kind: c.material for c in diff_policies(site_policy, new).changes}
    assert changes == {
        "do_not_track_weaker": True,
        "sale_or_sharing_changed": True,
        "gpc_purpose_removed": True,
    }
    back = {c.kind: c.material for c in diff_policies(new, site_policy).changes}
    assert back["do_not_track_stronger"] is False
    assert back["gpc_purpose_added"] is False
