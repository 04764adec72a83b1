"""The test site's policy: the Zabbix example with a cookie of every category and a banner
offering them, and the cookies the site's pages try to set. Shared with bench/web.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ZABBIX = ROOT / "examples" / "policies" / "zabbix.yaml"

COOKIES = """\
cookies:
  - name: session
    lifetime: session
    category: essential
  - name: lang
    lifetime: persistent
    category: preferences
    days: 365
  - name: _pa_*
    lifetime: persistent
    category: analytics
    days: 180
  - name: ad_id
    lifetime: persistent
    category: advertising
    days: 90

cookie_consent:
  categories:
    preferences:
      description: Remember the language you read the site in
    analytics:
      description: Count visits to see which pages are read
    advertising:
      description: Show advertising chosen by our partners
      sale_or_sharing: true
  do_not_track: opt_out_of_sale_or_sharing
  sale_or_sharing_purposes: [marketing.communications.email]

"""


def site_policy_text() -> str:
    """The Zabbix example with this site's cookies and banner in place of its own."""
    text = ZABBIX.read_text(encoding="utf-8")
    return re.sub(r"(?ms)^cookies:.*?(?=^changes:)", COOKIES, text)


# Every cookie a page of the site tries to set from the server: one of each category, one the
# policy does not declare, and the deletion of that undeclared one.
SERVER_COOKIES = [
    "session=s1; Path=/; HttpOnly",
    "lang=en; Path=/; Max-Age=3600",
    "_pa_id=p1; Path=/; Max-Age=3600",
    "ad_id=a1; Path=/; Max-Age=3600",
    "tracker=t1; Path=/; Max-Age=3600",
    "old_tracker=; Path=/; Max-Age=0",
]
