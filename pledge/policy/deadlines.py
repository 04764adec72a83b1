"""When a request must be acknowledged and answered: the policy's promise, bounded by its law.

The policy promises an answer within ``rights.response_days``; the law it names
(``rights.law``) sets an outer limit and decides whether the deadline may move:

- GDPR (art. 12(3)): one month from receipt, extendable by two further months when the person
  is told why within the first month. A month runs to the same day of the next month, or to
  that month's last day when it has no such day (31 January -> 28 or 29 February).
- CCPA (Cal. Civ. Code 1798.130): 45 days, extendable once by 45 more with a notice sent
  within the first 45.
- No law named: the policy's days, and no extension.

Every request is acknowledged within 10 business days (Monday to Friday; public holidays
vary by place and are not counted out), and never later than its answer is due.

Deadlines are dates (UTC): a request due on a day is answered in time until that day ends.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from pledge.policy.model import Law, Rights

ACKNOWLEDGE_BUSINESS_DAYS = 10
CCPA_DAYS = 45
GDPR_MONTHS, GDPR_EXTRA_MONTHS = 1, 2


class Urgency(StrEnum):
    """Where a request stands against its deadline, in the order a queue shows them."""

    overdue = "overdue"
    this_week = "due_this_week"
    later = "later"


@dataclass(frozen=True)
class Deadlines:
    received: dt.date
    acknowledge_by: dt.date
    respond_by: dt.date
    extend_notice_by: dt.date | None  # the last day an extension may be announced
    extended_respond_by: dt.date | None  # the deadline once extended; None: no extension


def plus_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the last day of that month when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def plus_business_days(day: dt.date, count: int) -> dt.date:
    """The day ``count`` weekdays after ``day`` (``day`` itself is not counted)."""
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def deadlines(rights: Rights, received: dt.date) -> Deadlines:
    """The deadlines of a request received on ``received`` under ``rights``."""
    promised = received + dt.timedelta(days=rights.response_days)
    if rights.law is Law.gdpr:
        limit = plus_months(received, GDPR_MONTHS)
        notice_by: dt.date | None = limit
        extended: dt.date | None = plus_months(received, GDPR_MONTHS + GDPR_EXTRA_MONTHS)
    elif rights.law is Law.ccpa:
        limit = received + dt.timedelta(days=CCPA_DAYS)
        notice_by = limit
        extended = received + dt.timedelta(days=2 * CCPA_DAYS)
    else:
        limit, notice_by, extended = promised, None, None
    respond_by = min(promised, limit)
    acknowledge_by = min(plus_business_days(received, ACKNOWLEDGE_BUSINESS_DAYS), respond_by)
    return Deadlines(received, acknowledge_by, respond_by, notice_by, extended)


def extension_refusal(terms: Deadlines, today: dt.date, already_extended: bool) -> str | None:
    """Why the deadline of a request with ``terms`` cannot be extended today; None if it can."""
    if terms.extend_notice_by is None or terms.extended_respond_by is None:
        return "the policy names no law that allows extending a deadline"
    if already_extended:
        return "this request's deadline was already extended; the law allows it once"
    if today > terms.extend_notice_by:
        return (
            f"an extension must be announced by {terms.extend_notice_by.isoformat()}; "
            "that day has passed"
        )
    return None


def urgency(due: dt.date, today: dt.date) -> Urgency:
    if today > due:
        return Urgency.overdue
    if (due - today).days < 7:
        return Urgency.this_week
    return Urgency.later
