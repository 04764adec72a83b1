"""The five seed policies' promises, stated as decisions.

Each policy in ``examples/policies/`` is one seed text written as a Pledge policy. Each test
here is one promise of that text, checked through the decision function; a denial is checked
for its reason (code and policy path), so that a right answer for a wrong reason fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from pledge.policy import (
    NO_CHOICES,
    Actor,
    Choices,
    CompiledPolicy,
    Decision,
    Obligation,
    Reason,
    Request,
    decide,
    decide_many,
    load_policy,
    load_policy_text,
)
from pledge.policy.model import Basis, CookieCategory, Right

POLICIES = Path(__file__).parents[1] / "examples" / "policies"
SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
SEED_FILES = {
    "zabbix": "000_9be6e0a650e01aa0.txt",
    "zimbra": "001_8e4144cc1a15a5f1.txt",
    "webix": "002_bf919dc2e72f8883.txt",
    "3cx": "003_8ded4f3f91a474df.txt",
    "bitrix": "004_44a47b3a8cba44d2.txt",
}
EMAIL = ("user.contact.email", "user.name")
MARKETING = "marketing.communications.email"
NOTIFY = "essential.service.notifications.email"
LEGAL = "third_party_sharing.legal_obligation"


# --- helpers ---------------------------------------------------------------------------------


@cache
def policy(name: str) -> CompiledPolicy:
    return load_policy(POLICIES / f"{name}.yaml")


def after_transfer(name: str) -> CompiledPolicy:
    """The policy once a business transfer to its successor is recorded in the store."""
    return policy(name).at(dt.datetime(2024, 5, 1, tzinfo=dt.UTC), frozenset({"successor"}))


def ask(
    name: str | CompiledPolicy,
    actor: Actor,
    purpose: str,
    *categories: str,
    choices: Choices = NO_CHOICES,
    **request: Any,
) -> Decision:
    compiled = policy(name) if isinstance(name, str) else name
    return decide(compiled, Request(actor, purpose, categories, choices, **request))


def send(name: str, message: str, choices: Choices = NO_CHOICES) -> Decision:
    """May the email gate send this kind of message to a person with these choices?"""
    purpose = policy(name).policy.communications[message].purpose
    return ask(name, Actor.communication(message), purpose, *EMAIL, choices=choices)


def reason(decision: Decision, code: str) -> Reason:
    """The reason with ``code``, among the decision's reasons or its withheld categories."""
    found = [r for r in decision.reasons if r.code == code]
    found += [r for _, r in decision.withheld if r.code == code]
    assert found, f"no '{code}' in {decision.to_dict()}"
    return found[0]


def withheld(decision: Decision) -> dict[str, tuple[str, str]]:
    return {category: (r.code, r.ref) for category, r in decision.withheld}


def obligations(decision: Decision) -> set[str]:
    return {o.code for o in decision.obligations}


def refused(decision: Decision, code: str, ref: str) -> None:
    """Denied, nothing released, and for this reason (code and policy path)."""
    assert not decision.allowed
    assert not decision.released
    assert reason(decision, code).ref == ref
    assert not decision.obligations


def granted(*purposes: str) -> Choices:
    return Choices.of(granted=[f"purpose:{p}" for p in purposes])


def changed(name: str, version: str, change: Callable[[dict[str, Any]], None]) -> CompiledPolicy:
    """A copy of the seed policy as a new version, with ``change`` applied to its text; the
    seed policy is its history, so data collected under it keeps its limits."""
    data = yaml.safe_load((POLICIES / f"{name}.yaml").read_text(encoding="utf-8"))
    data["version"] = version
    change(data)
    text = yaml.safe_dump(data, sort_keys=False)
    return load_policy_text(text, file=f"{name}-{version}.yaml", history=[policy(name)])


def seed_text(name: str) -> str:
    path = SEEDS / SEED_FILES[name]
    if not path.is_file():
        pytest.skip("../shared/seeds not found; clone the shared folder beside the repo")
    return path.read_text(encoding="utf-8")


def all_purposes_granted(name: str) -> list[str]:
    return [f"purpose:{p}" for p in policy(name).policy.purposes]


# --- across the seeds ------------------------------------------------------------------------

ALL = ["zabbix", "zimbra", "webix", "3cx", "bitrix"]


@pytest.mark.parametrize("name", ALL)
def test_stop_all_leaves_only_legal_obligation_messages(name: str) -> None:
    """ "Remove me from all correspondence": only messages the law requires still go, even
    when the person had opted in to everything."""
    spec = policy(name).policy
    everything = Choices.of(granted=all_purposes_granted(name))
    stop = Choices.of(granted=all_purposes_granted(name), stop_all=True)
    for message, comm in spec.communications.items():
        assert send(name, message, everything).allowed, message
        after = send(name, message, stop)
        if spec.purposes[comm.purpose].basis is Basis.legal_obligation:
            assert after.allowed, message
        else:
            refused(after, "stop_all", f"purposes.{comm.purpose}.basis")


@pytest.mark.parametrize("name", ["zimbra", "webix", "3cx", "bitrix"])
def test_legal_authorities_need_a_legal_reference(name: str) -> None:
    actor = Actor.recipient("legal_authorities")
    without = ask(name, actor, LEGAL, "user.name", "user.contact.email")
    refused(without, "legal_reference_missing", "recipients.legal_authorities.condition")
    blank = ask(name, actor, LEGAL, "user.name", "user.contact.email", legal_ref="  ")
    refused(blank, "legal_reference_missing", "recipients.legal_authorities.condition")
    with_ref = ask(name, actor, LEGAL, "user.name", "user.contact.email", legal_ref="case 42")
    assert with_ref.allowed
    assert {"record_disclosure", "record_legal_reference"} <= obligations(with_ref)


AGGREGATES = [
    (name, recipient)
    for name in ALL
    for recipient, spec in policy(name).policy.recipients.items()
    if spec.min_group_size is not None
]


@pytest.mark.parametrize(("name", "recipient"), AGGREGATES)
def test_aggregates_below_the_minimum_group_size_are_refused(name: str, recipient: str) -> None:
    spec = policy(name).policy.recipients[recipient]
    assert spec.min_group_size == 10  # the protective size each file chose
    purpose, category = spec.purposes[0], spec.categories[0]
    actor = Actor.recipient(recipient)
    for size in (None, 1, 9):
        small = ask(name, actor, purpose, category, group_size=size)
        refused(small, "group_too_small", f"recipients.{recipient}.min_group_size")
    enough = ask(name, actor, purpose, category, group_size=10)
    assert enough.allowed
    assert Obligation("aggregate_only", "min_group_size=10") in enough.obligations


def test_every_seed_has_an_aggregate_only_recipient_except_zabbix() -> None:
    assert {name for name, _ in AGGREGATES} == {"zimbra", "webix", "3cx", "bitrix"}


# --- Zabbix 2016 -----------------------------------------------------------------------------


def test_zabbix_no_contact_data_to_any_third_party_for_marketing() -> None:
    spec = policy("zabbix").policy
    marketing = [p for p in spec.purposes if p.startswith("marketing.")]
    assert marketing
    for recipient in spec.recipients:
        for purpose in marketing:
            decision = ask(
                "zabbix",
                Actor.recipient(recipient),
                purpose,
                "user.contact.email",
                "user.contact.phone_number",
                choices=granted(*marketing),
            )
            refused(decision, "purpose_not_granted", f"recipients.{recipient}.purposes")


def test_zabbix_only_the_payment_gateway_receives_anything() -> None:
    """ "We do not sell, trade, or otherwise transfer": one recipient, for payment only."""
    spec = policy("zabbix").policy
    assert set(spec.recipients) == {"payment_gateway"}
    assert spec.recipients["payment_gateway"].purposes == ["essential.service.payment_processing"]


def test_zabbix_card_passes_through_to_the_gateway_for_payment() -> None:
    gateway = Actor.recipient("payment_gateway")
    paid = ask(
        "zabbix", gateway, "essential.service.payment_processing", "user.financial.credit_card"
    )
    assert paid.allowed
    assert reason(paid, "collected_for_purpose").ref == "collection_points.order.purposes"
    assert obligations(paid) == {"record_disclosure"}
    no_email = ask("zabbix", gateway, "essential.service.payment_processing", "user.contact.email")
    refused(no_email, "category_not_granted", "recipients.payment_gateway.categories")


def test_zabbix_card_is_never_stored_so_no_staff_can_read_it() -> None:
    """Even if a role were given financial data, the card is pass-through: never readable."""

    def give_sales_financial_data(data: dict[str, Any]) -> None:
        data["roles"]["sales"]["categories"].append("user.financial")

    widened = changed("zabbix", "2015-04-13-cards", give_sales_financial_data)
    decision = ask(
        widened,
        Actor.role("sales"),
        "essential.service.payment_processing",
        "user.financial.credit_card",
    )
    refused(decision, "pass_through", "categories.user.financial.credit_card")
    for role, spec in policy("zabbix").policy.roles.items():
        for purpose in spec.purposes:
            d = ask("zabbix", Actor.role(role), purpose, "user.financial.credit_card")
            assert not d.allowed
            assert not d.released


def test_zabbix_newsletter_goes_until_opt_out_marked_as_an_advertisement() -> None:
    decision = send("zabbix", "newsletter")
    assert decision.allowed
    assert reason(decision, "basis_met").ref == f"purposes.{MARKETING}.basis"
    assert obligations(decision) == {"marketing_footer", "unsubscribe_link", "advertisement_notice"}


def test_zabbix_unsubscribing_stops_newsletter_and_product_information() -> None:
    info = f"{MARKETING}.product_information"
    opted_out = Choices.of(withdrawn=[f"purpose:{MARKETING}"])
    refused(
        send("zabbix", "newsletter", opted_out), "consent_withdrawn", f"purposes.{MARKETING}.basis"
    )
    refused(
        send("zabbix", "product_information", opted_out),
        "consent_withdrawn",
        f"purposes.{info}.basis",
    )
    no_email = Choices.of(withdrawn=["channel:email"])
    refused(
        send("zabbix", "product_information", no_email),
        "channel_opted_out",
        f"purposes.{info}.channel",
    )


def test_zabbix_order_updates_go_despite_a_marketing_opt_out() -> None:
    opted_out = Choices.of(withdrawn=[f"purpose:{MARKETING}", "channel:email"])
    decision = send("zabbix", "order_update", opted_out)
    assert decision.allowed
    assert not obligations(decision)  # a transactional message carries no ad footer


def test_zabbix_survey_answers_are_not_used_for_marketing() -> None:
    marketing = Actor.role("marketing")
    from_survey = ask(
        "zabbix", marketing, MARKETING, "user.contact.email", points=frozenset({"survey"})
    )
    refused(from_survey, "not_collected_for_purpose", "collection_points")
    from_newsletter = ask(
        "zabbix", marketing, MARKETING, "user.contact.email", points=frozenset({"newsletter"})
    )
    assert from_newsletter.allowed


def test_zabbix_only_persons_with_special_access_rights_see_data() -> None:
    support_for_marketing = ask("zabbix", Actor.role("support"), MARKETING, "user.contact.email")
    refused(support_for_marketing, "purpose_not_granted", "roles.support.purposes")
    marketing_phone = ask("zabbix", Actor.role("marketing"), MARKETING, "user.contact.phone_number")
    refused(marketing_phone, "category_not_granted", "roles.marketing.categories")
    sales = ask(
        "zabbix",
        Actor.role("sales"),
        "essential.service.payment_processing",
        "user.name",
        "user.contact.address",
    )
    assert sales.allowed


def test_zabbix_no_collection_from_children_under_13() -> None:
    points = policy("zabbix").policy.collection_points
    assert points
    assert all(point.min_age is not None and point.min_age >= 13 for point in points.values())


def test_zabbix_no_cookies_for_tracking() -> None:
    cookies = policy("zabbix").policy.cookies
    tracking = {CookieCategory.analytics, CookieCategory.advertising}
    assert cookies
    assert not [c for c in cookies if c.category in tracking or c.provider != "first_party"]


def test_zabbix_survey_data_keeps_the_limits_of_its_version() -> None:
    def survey_for_marketing(data: dict[str, Any]) -> None:
        data["collection_points"]["survey"]["purposes"].append(MARKETING)

    new = changed("zabbix", "2016-01-01", survey_for_marketing)
    request = Request(
        Actor.role("marketing"), MARKETING, ("user.contact.email",), points=frozenset({"survey"})
    )
    assert decide(new, request).allowed
    old = decide(new, request._replace(collected_under="2015-04-13"))
    assert not old.allowed
    assert reason(old, "collected_under_earlier_version").ref == (
        "changes.material_change_needs_consent"
    )
    assert withheld(old)["user.contact.email"] == (
        "collected_under_earlier_version",
        "changes.material_change_needs_consent",
    )
    assert reason(old, "collected_under_earlier_version").message == (
        "the data was collected under policy version '2015-04-13', which did not allow this "
        "('user.contact.email' was not collected for 'marketing.communications.email'); it "
        "follows version '2016-01-01' once the person consents to it (choice 'policy:2016-01-01')"
    )
    agreed = request._replace(
        collected_under="2015-04-13", choices=Choices.of(granted=["policy:2016-01-01"])
    )
    assert decide(new, agreed).allowed


def test_zabbix_address_and_contact_come_from_the_seed() -> None:
    text = seed_text("zabbix")
    org = policy("zabbix").policy.organisation
    assert "Dzelzavas 117" in org.postal_address
    assert "Dzelzavas 117" in text
    assert org.privacy_contact in text
    assert policy("zabbix").version in text  # "Last Edited on 2015-04-13"


# --- Zimbra 2006 -----------------------------------------------------------------------------

TROUBLESHOOT = "essential.service.operations.troubleshooting"


def test_zimbra_error_report_data_serves_troubleshooting_only() -> None:
    engineering = Actor.role("engineering")
    fixing = ask("zimbra", engineering, TROUBLESHOOT, "user.error_report")
    assert fixing.allowed
    assert reason(fixing, "collected_for_purpose").ref == "collection_points.error_report.purposes"
    improving = ask("zimbra", engineering, "functional.service.improve", "user.error_report")
    refused(improving, "not_collected_for_purpose", "collection_points")
    assert reason(improving, "actor_granted")  # the role holds the purpose: the data does not


def test_zimbra_error_reports_are_not_disclosed_for_anything_but_troubleshooting() -> None:
    diagnostics = ask(
        "zimbra", Actor.recipient("error_diagnostics"), TROUBLESHOOT, "user.error_report"
    )
    assert diagnostics.allowed
    successor = Actor.recipient("successor")
    for purpose, choices in (
        ("essential.service", NO_CHOICES),
        (MARKETING, granted(MARKETING)),
    ):
        decision = ask(
            after_transfer("zimbra"), successor, purpose, "user.error_report", choices=choices
        )
        refused(decision, "not_collected_for_purpose", "collection_points")
    vendors = ask("zimbra", Actor.recipient("service_vendors"), TROUBLESHOOT, "user.error_report")
    refused(vendors, "category_not_granted", "recipients.service_vendors.categories")


def test_zimbra_forum_email_shown_only_after_the_member_elects() -> None:
    members = Actor.recipient("forum_members_email")
    forum = "functional.service.community_forum"
    hidden = ask("zimbra", members, forum, "user.contact.email")
    refused(hidden, "not_shown", "recipients.forum_members_email.condition")
    shown = ask(
        "zimbra",
        members,
        forum,
        "user.contact.email",
        choices=Choices.of(["show:user.contact.email"]),
    )
    assert shown.allowed
    assert obligations(shown) == {"record_disclosure"}


def test_zimbra_forum_email_shown_per_member_in_a_batch() -> None:
    """The forum page decides many posters at once; each poster's own election counts."""
    request = Request(
        Actor.recipient("forum_members_email"),
        "functional.service.community_forum",
        ("user.contact.email",),
    )
    shown, hidden = Choices.of(["show:user.contact.email"]), NO_CHOICES
    batch = decide_many(policy("zimbra"), request, [hidden, shown, hidden, shown])
    assert [d.allowed for d in batch] == [False, True, False, True]
    assert reason(batch[2], "not_shown").ref == "recipients.forum_members_email.condition"


def test_zimbra_forum_username_is_visible_to_registered_users() -> None:
    forum = "functional.service.community_forum"
    username = ask("zimbra", Actor.recipient("forum_members"), forum, "user.account.username")
    assert username.allowed
    no_email = ask("zimbra", Actor.recipient("forum_members"), forum, "user.contact.email")
    refused(no_email, "category_not_granted", "recipients.forum_members.categories")


def test_zimbra_product_notices_only_with_opt_in() -> None:
    refused(send("zimbra", "product_notices"), "no_consent", f"purposes.{MARKETING}.basis")
    opted_in = send("zimbra", "product_notices", granted(MARKETING))
    assert opted_in.allowed
    assert reason(opted_in, "consent_given").ref == f"purposes.{MARKETING}.basis"
    assert "advertisement_notice" in obligations(opted_in)


def test_zimbra_installation_notices_used_for_marketing_only_with_opt_in() -> None:
    marketing = Actor.role("marketing")
    installs = frozenset({"installation_notice"})
    without = ask("zimbra", marketing, MARKETING, "user.contact.email", points=installs)
    refused(without, "no_consent", f"purposes.{MARKETING}.basis")
    opted_in = ask(
        "zimbra",
        marketing,
        MARKETING,
        "user.contact.email",
        points=installs,
        choices=granted(MARKETING),
    )
    assert opted_in.allowed
    analysis = ask(
        "zimbra",
        marketing,
        "analytics.reporting.campaign_insights",
        "user.device.installation",
        points=installs,
    )
    assert analysis.allowed


def test_zimbra_requested_information_needs_no_marketing_opt_in() -> None:
    opted_out = Choices.of(withdrawn=[f"purpose:{MARKETING}", "channel:email"])
    decision = send("zimbra", "requested_information", opted_out)
    assert decision.allowed
    assert not obligations(decision)


def test_zimbra_web_log_is_used_in_aggregate_only() -> None:
    """No staff role reads IP addresses or page visits row by row."""
    for role, spec in policy("zimbra").policy.roles.items():
        for purpose in spec.purposes:
            d = ask("zimbra", Actor.role(role), purpose, "user.device.ip_address")
            refused(d, "category_not_granted", f"roles.{role}.categories")
    advertisers = ask(
        "zimbra",
        Actor.recipient("advertisers"),
        "marketing.advertising.third_party",
        "user.device.ip_address",
        group_size=50,
    )
    assert "aggregate_only" in obligations(advertisers)


def test_zimbra_successor_in_a_merger_keeps_the_persons_choices() -> None:
    successor = Actor.recipient("successor")
    before = ask("zimbra", successor, "essential.service", "user.name", "user.contact.email")
    refused(before, "event_not_recorded", "recipients.successor.kind")
    merged = after_transfer("zimbra")
    service = ask(merged, successor, "essential.service", "user.name", "user.contact.email")
    assert service.allowed
    refused(
        ask(merged, successor, MARKETING, "user.contact.email"),
        "no_consent",
        f"purposes.{MARKETING}.basis",
    )
    password = ask(merged, successor, "essential.service", "user.authorization.credentials")
    refused(password, "category_not_granted", "recipients.successor.categories")


def test_zimbra_processors_only_complete_the_service() -> None:
    vendors = Actor.recipient("service_vendors")
    refused(
        ask("zimbra", vendors, MARKETING, "user.contact.email", choices=granted(MARKETING)),
        "purpose_not_granted",
        "recipients.service_vendors.purposes",
    )
    assert ask("zimbra", vendors, "essential.service", "user.name", "user.contact.email").allowed


def test_zimbra_review_correct_delete_and_no_children() -> None:
    spec = policy("zimbra").policy
    assert {Right.access, Right.rectify, Right.erase} <= set(spec.rights.offered)
    people = {n: p for n, p in spec.collection_points.items() if n != "web_log"}
    assert all(p.min_age == 13 for p in people.values())


def test_zimbra_error_reports_keep_their_limits_after_a_policy_change() -> None:
    def reports_for_improvement(data: dict[str, Any]) -> None:
        data["collection_points"]["error_report"]["purposes"].append("functional.service.improve")

    new = changed("zimbra", "2007-01-01", reports_for_improvement)
    request = Request(
        Actor.role("engineering"), "functional.service.improve", ("user.error_report",)
    )
    assert decide(new, request).allowed
    old = decide(new, request._replace(collected_under="2006-06-27"))
    assert not old.allowed
    assert reason(old, "collected_under_earlier_version")
    assert withheld(old)["user.error_report"] == (
        "collected_under_earlier_version",
        "changes.material_change_needs_consent",
    )
    agreed = request._replace(
        collected_under="2006-06-27", choices=Choices.of(granted=["policy:2007-01-01"])
    )
    assert decide(new, agreed).allowed


def test_zimbra_contact_comes_from_the_seed() -> None:
    text = seed_text("zimbra")
    assert policy("zimbra").policy.organisation.privacy_contact in text
    assert "June 27, 2006" in text


# --- Webix 2009 ------------------------------------------------------------------------------

PAYMENT = "essential.service.payment_processing"
CARD = "user.financial.credit_card"


def test_webix_payment_data_serves_payment_processing_only() -> None:
    billing = Actor.role("billing")
    paying = ask("webix", billing, PAYMENT, CARD, "user.financial")
    assert paying.allowed
    assert reason(paying, "collected_for_purpose").ref == "collection_points.payment.purposes"
    support = ask("webix", billing, "essential.service.operations.support", CARD)
    refused(support, "not_collected_for_purpose", "collection_points")
    # the same role may use contact data for support: the limit is on the payment data
    assert ask("webix", billing, "essential.service.operations.support", "user.name").allowed


def test_webix_payment_data_goes_to_no_third_party() -> None:
    spec = policy("webix").policy
    everything = Choices.of(
        granted=all_purposes_granted("webix") + [f"recipient:{r}" for r in spec.recipients]
    )
    for name, recipient in spec.recipients.items():
        for purpose in recipient.purposes:
            decision = ask(
                "webix",
                Actor.recipient(name),
                purpose,
                CARD,
                choices=everything,
                legal_ref="warrant 7",
                group_size=100,
            )
            refused(decision, "category_not_granted", f"recipients.{name}.categories")


def test_webix_service_bulletins_go_despite_a_newsletter_opt_out() -> None:
    opted_out = Choices.of(
        withdrawn=[f"purpose:{MARKETING}", f"purpose:{MARKETING}.product_news", "channel:email"]
    )
    bulletin = send("webix", "service_bulletin", opted_out)
    assert bulletin.allowed
    assert reason(bulletin, "basis_met").ref == f"purposes.{NOTIFY}.basis"
    assert not obligations(bulletin)
    newsletter = send("webix", "newsletter", opted_out)
    assert not newsletter.allowed
    assert reason(newsletter, "consent_withdrawn").ref == f"purposes.{MARKETING}.basis"


def test_webix_newsletters_and_product_notices_run_until_opt_out() -> None:
    news = f"{MARKETING}.product_news"
    assert send("webix", "newsletter").allowed
    assert send("webix", "product_news").allowed
    only_news = Choices.of(withdrawn=[f"purpose:{news}"])
    refused(send("webix", "product_news", only_news), "consent_withdrawn", f"purposes.{news}.basis")
    assert send("webix", "newsletter", only_news).allowed  # "newsletters and/or notices"
    both = Choices.of(withdrawn=[f"purpose:{MARKETING}"])
    refused(send("webix", "product_news", both), "consent_withdrawn", f"purposes.{news}.basis")


def test_webix_partners_only_with_the_persons_permission() -> None:
    partners = Actor.recipient("partners")
    offers = "third_party_sharing.partner_offers"
    refused(ask("webix", partners, offers, *EMAIL), "no_consent", "recipients.partners.condition")
    allowed = ask("webix", partners, offers, *EMAIL, choices=Choices.of(["recipient:partners"]))
    assert allowed.allowed
    assert reason(allowed, "consent_given").ref == "recipients.partners.condition"


def test_webix_stored_communications_disclosed_only_under_legal_process() -> None:
    content = "user.content.private"
    partners = ask(
        "webix",
        Actor.recipient("partners"),
        "third_party_sharing.partner_offers",
        content,
        choices=Choices.of(["recipient:partners"]),
    )
    refused(partners, "category_not_granted", "recipients.partners.categories")
    authorities = Actor.recipient("legal_authorities")
    refused(
        ask("webix", authorities, LEGAL, content),
        "legal_reference_missing",
        "recipients.legal_authorities.condition",
    )
    assert ask("webix", authorities, LEGAL, content, legal_ref="interception order 3").allowed


def test_webix_no_routine_review_of_customer_communications() -> None:
    content = "user.content.private"
    service = ask(
        "webix", Actor.role("customer_service"), "essential.service.operations.support", content
    )
    refused(service, "category_not_granted", "roles.customer_service.categories")
    abuse = ask("webix", Actor.role("abuse_desk"), "essential.service.security", content)
    assert abuse.allowed
    assert reason(abuse, "collected_for_purpose").ref == (
        "collection_points.hosted_communications.purposes"
    )


def test_webix_web_server_logs_analyse_traffic_only() -> None:
    analyst = Actor.role("web_analyst")
    assert ask("webix", analyst, "analytics.reporting", "user.behavior.browsing_history").allowed
    refused(
        ask("webix", analyst, "analytics.reporting", "user.contact.email"),
        "category_not_granted",
        "roles.web_analyst.categories",
    )
    marketing = ask("webix", Actor.role("marketing"), MARKETING, "user.behavior.browsing_history")
    refused(marketing, "category_not_granted", "roles.marketing.categories")


def test_webix_payment_data_keeps_its_limit_after_a_policy_change() -> None:
    def payment_for_support(data: dict[str, Any]) -> None:
        data["collection_points"]["payment"]["purposes"].append(
            "essential.service.operations.support"
        )

    new = changed("webix", "2010-01-01", payment_for_support)
    request = Request(Actor.role("billing"), "essential.service.operations.support", (CARD,))
    assert decide(new, request).allowed
    old = decide(new, request._replace(collected_under="2009-09-12"))
    assert not old.allowed
    assert reason(old, "collected_under_earlier_version")
    assert withheld(old)[CARD] == (
        "collected_under_earlier_version",
        "changes.material_change_needs_consent",
    )
    agreed = request._replace(
        collected_under="2009-09-12", choices=Choices.of(granted=["policy:2010-01-01"])
    )
    assert decide(new, agreed).allowed


def test_webix_contact_comes_from_the_seed() -> None:
    text = seed_text("webix")
    assert policy("webix").policy.organisation.privacy_contact in text
    assert "2009-09-12" in text  # the archive date, used as the version


# --- 3CX 2013 --------------------------------------------------------------------------------


def test_3cx_marketing_email_without_opt_in_is_denied() -> None:
    decision = send("3cx", "promotional")
    refused(decision, "no_consent", f"purposes.{MARKETING}.basis")
    withdrawn_elsewhere = Choices.of(granted=["recipient:partners"])
    refused(
        send("3cx", "promotional", withdrawn_elsewhere), "no_consent", f"purposes.{MARKETING}.basis"
    )


def test_3cx_marketing_email_with_opt_in_is_allowed() -> None:
    decision = send("3cx", "promotional", granted(MARKETING))
    assert decision.allowed
    assert reason(decision, "consent_given").ref == f"purposes.{MARKETING}.basis"
    assert obligations(decision) == {"marketing_footer", "unsubscribe_link", "advertisement_notice"}


def test_3cx_opt_out_at_any_time_wins() -> None:
    withdrawn = Choices.of(withdrawn=[f"purpose:{MARKETING}"])
    refused(
        send("3cx", "promotional", withdrawn), "consent_withdrawn", f"purposes.{MARKETING}.basis"
    )
    no_email = Choices.of(granted=[f"purpose:{MARKETING}"], withdrawn=["channel:email"])
    refused(
        send("3cx", "promotional", no_email), "channel_opted_out", f"purposes.{MARKETING}.channel"
    )


def test_3cx_marketing_staff_need_the_opt_in_too() -> None:
    marketing = Actor.role("marketing")
    refused(
        ask("3cx", marketing, MARKETING, "user.contact.email"),
        "no_consent",
        f"purposes.{MARKETING}.basis",
    )
    assert ask(
        "3cx", marketing, MARKETING, "user.contact.email", choices=granted(MARKETING)
    ).allowed


def test_3cx_partners_only_with_express_permission() -> None:
    partners = Actor.recipient("partners")
    offers = "third_party_sharing.partner_offers"
    refused(ask("3cx", partners, offers, *EMAIL), "no_consent", "recipients.partners.condition")
    # an opt-in to 3CX's own promotions is not permission to share
    refused(
        ask("3cx", partners, offers, *EMAIL, choices=granted(MARKETING)),
        "no_consent",
        "recipients.partners.condition",
    )
    assert ask("3cx", partners, offers, *EMAIL, choices=Choices.of(["recipient:partners"])).allowed
    refused(
        ask("3cx", partners, offers, *EMAIL, choices=Choices.of(withdrawn=["recipient:partners"])),
        "consent_withdrawn",
        "recipients.partners.condition",
    )


def test_3cx_website_usage_never_shared_for_marketing() -> None:
    permission = Choices.of(["recipient:partners"])
    for category in ("user.behavior.browsing_history", "user.device.ip_address"):
        decision = ask(
            "3cx",
            Actor.recipient("partners"),
            "third_party_sharing.partner_offers",
            category,
            choices=permission,
        )
        refused(decision, "category_not_granted", "recipients.partners.categories")


def test_3cx_contractors_use_data_only_on_3cx_behalf() -> None:
    contractors = Actor.recipient("contractors")
    assert ask("3cx", contractors, "essential.service", *EMAIL).allowed
    refused(
        ask("3cx", contractors, MARKETING, *EMAIL, choices=granted(MARKETING)),
        "purpose_not_granted",
        "recipients.contractors.purposes",
    )


def test_3cx_assistance_requests_are_not_used_for_marketing() -> None:
    marketing = Actor.role("marketing")
    from_assistance = ask(
        "3cx",
        marketing,
        MARKETING,
        "user.contact.email",
        points=frozenset({"assistance_request"}),
        choices=granted(MARKETING),
    )
    refused(from_assistance, "not_collected_for_purpose", "collection_points")
    question = ask("3cx", marketing, MARKETING, "user.content.private", choices=granted(MARKETING))
    refused(question, "category_not_granted", "roles.marketing.categories")
    reply = send("3cx", "assistance_reply")
    assert reply.allowed
    assert not obligations(reply)


def test_3cx_web_server_logs_serve_site_administration_only() -> None:
    admin = Actor.role("web_admin")
    logs = ask("3cx", admin, "analytics.reporting", "user.device.ip_address", "user.device.browser")
    assert logs.allowed
    refused(
        ask("3cx", admin, "analytics.reporting", "user.contact.email"),
        "category_not_granted",
        "roles.web_admin.categories",
    )
    refused(
        ask("3cx", admin, MARKETING, "user.device.ip_address", choices=granted(MARKETING)),
        "purpose_not_granted",
        "roles.web_admin.purposes",
    )


def test_3cx_inaccuracies_can_be_corrected() -> None:
    assert Right.rectify in policy("3cx").policy.rights.offered


def test_3cx_significant_change_keeps_earlier_limits() -> None:
    def assistance_for_marketing(data: dict[str, Any]) -> None:
        data["collection_points"]["assistance_request"]["purposes"].append(MARKETING)

    new = changed("3cx", "2013-11-21", assistance_for_marketing)
    request = Request(
        Actor.role("marketing"),
        MARKETING,
        ("user.contact.email",),
        granted(MARKETING),
        points=frozenset({"assistance_request"}),
    )
    assert decide(new, request).allowed
    old = decide(new, request._replace(collected_under="2011-01-26"))
    assert not old.allowed
    assert reason(old, "collected_under_earlier_version")
    agreed = request._replace(
        collected_under="2011-01-26",
        choices=Choices.of(granted=[f"purpose:{MARKETING}", "policy:2013-11-21"]),
    )
    assert decide(new, agreed).allowed


def test_3cx_contact_and_date_come_from_the_seed() -> None:
    text = seed_text("3cx")
    assert "contact page" in policy("3cx").policy.organisation.privacy_contact
    assert "contact page" in text
    assert "26 January 2011" in text


# --- Bitrix 2006 -----------------------------------------------------------------------------


def test_bitrix_registration_confirmation_and_service_alerts_regardless_of_email_opt_in() -> None:
    for choices in (
        NO_CHOICES,
        Choices.of(withdrawn=["channel:email", f"purpose:{MARKETING}"]),
        Choices.of(withdrawn=["recipient:partners", "purpose:marketing.customer_reference"]),
    ):
        for message in ("registration_confirmation", "service_alert"):
            decision = send("bitrix", message, choices)
            assert decision.allowed, (message, choices)
            assert reason(decision, "basis_met").ref == f"purposes.{NOTIFY}.basis"
            assert not obligations(decision)


def test_bitrix_offers_only_with_consent_and_stop_on_email_opt_out() -> None:
    refused(send("bitrix", "offers"), "no_consent", f"purposes.{MARKETING}.basis")
    assert send("bitrix", "offers", granted(MARKETING)).allowed
    no_email = Choices.of(granted=[f"purpose:{MARKETING}"], withdrawn=["channel:email"])
    refused(
        send("bitrix", "offers", no_email), "channel_opted_out", f"purposes.{MARKETING}.channel"
    )


def test_bitrix_stop_all_leaves_only_the_legal_notice() -> None:
    stop = Choices.of(granted=all_purposes_granted("bitrix"), stop_all=True)
    assert send("bitrix", "legal_notice", stop).allowed
    for message in ("registration_confirmation", "service_alert", "offers"):
        assert reason(send("bitrix", message, stop), "stop_all")


def test_bitrix_partners_only_with_permission_and_opt_out_at_any_time() -> None:
    partners = Actor.recipient("partners")
    offers = "third_party_sharing.partner_offers"
    refused(ask("bitrix", partners, offers, *EMAIL), "no_consent", "recipients.partners.condition")
    assert ask(
        "bitrix", partners, offers, *EMAIL, choices=Choices.of(["recipient:partners"])
    ).allowed
    refused(
        ask(
            "bitrix", partners, offers, *EMAIL, choices=Choices.of(withdrawn=["recipient:partners"])
        ),
        "consent_withdrawn",
        "recipients.partners.condition",
    )


def test_bitrix_public_case_study_only_with_prior_consent() -> None:
    public = Actor.recipient("public_announcements")
    reference = "marketing.customer_reference"
    refused(
        ask("bitrix", public, reference, "user.name", "user.workplace"),
        "no_consent",
        f"purposes.{reference}.basis",
    )
    yes = ask(
        "bitrix", public, reference, "user.name", "user.workplace", choices=granted(reference)
    )
    assert yes.allowed
    refused(
        ask("bitrix", public, reference, "user.contact.email", choices=granted(reference)),
        "category_not_granted",
        "recipients.public_announcements.categories",
    )


def test_bitrix_contractors_only_for_the_purpose_bitrix_specifies() -> None:
    merchant = Actor.recipient("order_processing_merchant")
    assert ask("bitrix", merchant, PAYMENT, "user.name", "user.contact.address").allowed
    refused(
        ask("bitrix", merchant, MARKETING, *EMAIL, choices=granted(MARKETING)),
        "purpose_not_granted",
        "recipients.order_processing_merchant.purposes",
    )
    email_provider = Actor.recipient("email_service_provider")
    refused(
        ask("bitrix", email_provider, MARKETING, *EMAIL),
        "no_consent",
        f"purposes.{MARKETING}.basis",
    )
    assert ask("bitrix", email_provider, NOTIFY, *EMAIL).allowed


def test_bitrix_only_employees_who_need_it_see_data() -> None:
    analyst = ask("bitrix", Actor.role("web_analyst"), "analytics.reporting", "user.contact.email")
    refused(analyst, "category_not_granted", "roles.web_analyst.categories")
    support = ask("bitrix", Actor.role("support"), MARKETING, "user.contact.email")
    refused(support, "purpose_not_granted", "roles.support.purposes")
    password = ask(
        "bitrix",
        Actor.role("support"),
        "essential.service.operations.support",
        "user.authorization.credentials",
    )
    refused(password, "category_not_granted", "roles.support.categories")


def test_bitrix_mandatory_and_optional_fields() -> None:
    points = policy("bitrix").policy.collection_points
    purchase = points["purchase"].fields
    assert {n for n, f in purchase.items() if f.required} == {
        "name",
        "email",
        "mailing_address",
        "products",
    }
    assert {"employer", "job_title", "department", "phone", "fax"} <= {
        n for n, f in purchase.items() if not f.required
    }
    # engaging is optional: an account is never needed to buy
    assert "login" not in purchase


def test_bitrix_deactivation_keeps_only_what_legal_compliance_needs() -> None:
    spec = policy("bitrix").policy
    assert Right.deactivate in spec.rights.offered
    (hold,) = spec.legal_holds
    assert "user.demographic.profile" not in hold.categories
    assert "user.authorization.credentials" not in hold.categories
    assert "user.behavior.purchase_history" in hold.categories  # licensing of products
    assert not spec.retention


def test_bitrix_successor_keeps_the_persons_choices() -> None:
    successor = Actor.recipient("successor")
    refused(
        ask("bitrix", successor, "essential.service", "user.name"),
        "event_not_recorded",
        "recipients.successor.kind",
    )
    assert ask(after_transfer("bitrix"), successor, "essential.service", "user.name").allowed
    refused(
        ask(after_transfer("bitrix"), successor, MARKETING, "user.contact.email"),
        "no_consent",
        f"purposes.{MARKETING}.basis",
    )


def test_bitrix_data_keeps_the_version_in_effect_at_collection() -> None:
    def provider_data_for_marketing(data: dict[str, Any]) -> None:
        data["collection_points"]["provider_services"]["purposes"].append(MARKETING)

    new = changed("bitrix", "2006-10-17", provider_data_for_marketing)
    request = Request(
        Actor.role("marketing"),
        MARKETING,
        ("user.contact.email",),
        granted(MARKETING),
        points=frozenset({"provider_services"}),
    )
    assert decide(new, request).allowed
    old = decide(new, request._replace(collected_under="2004-03-30"))
    assert not old.allowed
    assert reason(old, "collected_under_earlier_version").ref == (
        "changes.material_change_needs_consent"
    )
    assert withheld(old)["user.contact.email"] == (
        "collected_under_earlier_version",
        "changes.material_change_needs_consent",
    )
    express = Choices.of(granted=[f"purpose:{MARKETING}", "policy:2006-10-17"])
    assert decide(new, request._replace(collected_under="2004-03-30", choices=express)).allowed
    unknown = decide(new, request._replace(collected_under="2001-01-01"))
    refused(unknown, "unknown_version", "version")
    assert policy("bitrix").policy.changes.notice_days == 30


def test_bitrix_a_purpose_new_in_this_version_is_refused_for_older_data_with_the_reason() -> None:
    profiling = "personalize.content.profiling"

    def add_profiling(data: dict[str, Any]) -> None:
        data["purposes"][profiling] = {"basis": "collection"}
        data["collection_points"]["purchase"]["purposes"].append(profiling)
        data["roles"]["marketing"]["purposes"].append(profiling)

    new = changed("bitrix", "2006-10-17", add_profiling)
    request = Request(Actor.role("marketing"), profiling, ("user.contact.email",))
    assert decide(new, request).allowed
    old = decide(new, request._replace(collected_under="2004-03-30"))
    assert not old.allowed
    assert old.released == frozenset()
    assert old.denial == Reason(
        "collected_under_earlier_version",
        "the data was collected under policy version '2004-03-30', which did not allow this "
        f"(it had no purpose '{profiling}'); it follows version '2006-10-17' once the person "
        "consents to it (choice 'policy:2006-10-17'), or, unless they opt out, when the notice "
        "period of version '2006-10-17' ends",
        "changes.material_change_needs_consent",
    )
    agreed = request._replace(
        collected_under="2004-03-30", choices=Choices.of(granted=["policy:2006-10-17"])
    )
    assert decide(new, agreed).allowed


def test_bitrix_ad_and_email_provider_cookies_are_declared() -> None:
    cookies = {c.name: c for c in policy("bitrix").policy.cookies}
    third_party = {n for n, c in cookies.items() if c.provider != "first_party"}
    assert third_party == {"ad_click", "email_open"}
    assert all(cookies[n].category is CookieCategory.advertising for n in third_party)
    assert {c.lifetime.value for c in cookies.values()} == {"session", "persistent"}


def test_bitrix_address_and_contact_come_from_the_seed() -> None:
    text = seed_text("bitrix")
    org = policy("bitrix").policy.organisation
    assert "P.O. Box 5966" in org.postal_address
    assert "P.O. Box 5966, Vernon Hills, IL 60061-5966 USA" in text
    assert org.privacy_contact in text
