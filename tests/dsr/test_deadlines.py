"""Request deadlines: the policy's days, bounded by the law it names (pure core)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.policy.deadlines import (
    Urgency,
    deadlines,
    extension_refusal,
    plus_business_days,
    plus_months,
    urgency,
)
from pledge.policy.model import Law, Right, Rights

RUNS = settings(max_examples=200, deadline=None)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
laws = st.sampled_from([Law.gdpr, Law.ccpa, None])
response_days = st.integers(min_value=1, max_value=365)


def rights(days: int, law: Law | None) -> Rights:
    return Rights(offered=[Right.access], response_days=days, law=law)


def test_a_gdpr_month_ends_on_the_same_day_or_the_last_of_a_shorter_month() -> None:
    assert plus_months(dt.date(2024, 1, 15), 1) == dt.date(2024, 2, 15)
    assert plus_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert plus_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert plus_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)


def test_gdpr_answers_in_a_month_and_may_extend_by_two_more() -> None:
    terms = deadlines(rights(90, Law.gdpr), dt.date(2024, 1, 31))
    assert terms.respond_by == dt.date(2024, 2, 29)
    assert terms.extend_notice_by == dt.date(2024, 2, 29)
    assert terms.extended_respond_by == dt.date(2024, 4, 30)


def test_the_policy_can_promise_sooner_than_the_law() -> None:
    terms = deadlines(rights(10, Law.gdpr), dt.date(2024, 5, 1))
    assert terms.respond_by == dt.date(2024, 5, 11)
    assert terms.extended_respond_by == dt.date(2024, 8, 1)


def test_ccpa_answers_in_45_days_and_may_extend_by_45() -> None:
    terms = deadlines(rights(60, Law.ccpa), dt.date(2024, 5, 1))
    assert terms.respond_by == dt.date(2024, 6, 15)
    assert terms.extended_respond_by == dt.date(2024, 7, 30)


def test_without_a_law_the_policy_days_hold_and_nothing_extends() -> None:
    terms = deadlines(rights(30, None), dt.date(2024, 5, 1))
    assert terms.respond_by == dt.date(2024, 5, 31)
    assert extension_refusal(terms, dt.date(2024, 5, 2), False) is not None


def test_acknowledgement_counts_ten_weekdays() -> None:
    # Friday 3 May 2024 -> ten weekdays later is Friday 17 May.
    assert deadlines(rights(30, Law.gdpr), dt.date(2024, 5, 3)).acknowledge_by == dt.date(
        2024, 5, 17
    )


def test_a_gdpr_extension_is_refused_after_the_first_month_and_the_second_time() -> None:
    terms = deadlines(rights(30, Law.gdpr), dt.date(2024, 1, 31))
    assert extension_refusal(terms, dt.date(2024, 2, 29), False) is None
    assert "has passed" in (extension_refusal(terms, dt.date(2024, 3, 1), False) or "")
    assert "already" in (extension_refusal(terms, dt.date(2024, 2, 1), True) or "")


def test_urgency_of_a_due_date() -> None:
    today = dt.date(2024, 5, 10)
    assert urgency(dt.date(2024, 5, 9), today) is Urgency.overdue
    assert urgency(today, today) is Urgency.this_week
    assert urgency(dt.date(2024, 5, 16), today) is Urgency.this_week
    assert urgency(dt.date(2024, 5, 17), today) is Urgency.later


@RUNS
@given(days, response_days, laws)
def test_the_answer_is_due_after_receipt_within_promise_and_law(
    received: dt.date, promised: int, law: Law | None
) -> None:
    terms = deadlines(rights(promised, law), received)
    assert received < terms.respond_by <= received + dt.timedelta(days=promised)
    if law is Law.gdpr:
        assert terms.respond_by <= plus_months(received, 1)
    if law is Law.ccpa:
        assert terms.respond_by <= received + dt.timedelta(days=45)


@RUNS
@given(days, response_days, laws)
def test_an_extension_never_shortens_and_stays_within_the_law(
    received: dt.date, promised: int, law: Law | None
) -> None:
    terms = deadlines(rights(promised, law), received)
    if law is None:
        assert terms.extended_respond_by is None
        return
    assert terms.extended_respond_by is not None
    assert terms.extend_notice_by is not None
    assert terms.extended_respond_by > terms.respond_by
    assert terms.extend_notice_by >= terms.respond_by
    longest = 92 if law is Law.gdpr else 90  # three months are at most 92 days
    assert (terms.extended_respond_by - received).days <= longest


@RUNS
@given(days, response_days, laws)
def test_acknowledgement_is_a_weekday_within_ten_business_days_never_after_the_answer(
    received: dt.date, promised: int, law: Law | None
) -> None:
    terms = deadlines(rights(promised, law), received)
    assert received < terms.acknowledge_by <= terms.respond_by
    assert terms.acknowledge_by <= plus_business_days(received, 10)
    if terms.acknowledge_by == plus_business_days(received, 10):
        assert terms.acknowledge_by.weekday() < 5


@RUNS
@given(days, days, response_days, laws)
def test_a_later_request_is_never_due_earlier(
    first: dt.date, second: dt.date, promised: int, law: Law | None
) -> None:
    early, late = sorted((first, second))
    policy = rights(promised, law)
    assert deadlines(policy, early).respond_by <= deadlines(policy, late).respond_by
    assert deadlines(policy, early).acknowledge_by <= deadlines(policy, late).acknowledge_by


@RUNS
@given(days, st.integers(min_value=0, max_value=40))
def test_plus_months_lands_in_the_right_month_never_past_the_day(day: dt.date, months: int) -> None:
    moved = plus_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
