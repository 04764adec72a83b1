"""What is kept of one log line: properties of the minimising steps."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.logs.minimise import browser, isp_domain, page, referrer_host, truncate_ip


@settings(max_examples=200)
@given(st.ip_addresses(v=4))
def test_an_ipv4_address_keeps_only_its_slash_24(address: ipaddress.IPv4Address) -> None:
    kept = truncate_ip(str(address))
    assert kept is not None
    network = ipaddress.ip_network(kept)
    assert network.prefixlen == 24
    assert address in network


@settings(max_examples=200)
@given(st.ip_addresses(v=6))
def test_an_ipv6_address_keeps_only_its_slash_48(address: ipaddress.IPv6Address) -> None:
    kept = truncate_ip(str(address))
    assert kept is not None
    network = ipaddress.ip_network(kept)
    if address.ipv4_mapped is None:
        assert network.prefixlen == 48
        assert address in network
    else:
        assert network.prefixlen == 24


def test_a_host_name_is_no_address_and_gives_its_isp() -> None:
    assert truncate_ip("dsl-42.city.example.net") is None
    assert truncate_ip("999.1.1.1") is None
    assert isp_domain("dsl-42.city.example.net") == "example.net"
    assert isp_domain("host-9.broadband.example.co.uk") == "example.co.uk"
    assert isp_domain("203.0.113.9") is None


def test_a_user_agent_keeps_family_and_major_version_only() -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0.1"
    assert browser(agent) == "Firefox 126"
    assert browser("no browser at all") == "Other"


@given(st.emails(), st.text(alphabet="abcdef0123456789", min_size=20, max_size=40))
def test_a_page_never_keeps_an_email_or_a_token(email: str, token: str) -> None:
    for target in (
        f"/account/{email}/edit?x=1",
        f"/a?email={email}",
        f"/reset/{token}1",
        f"/u/{email.replace('@', '%40')}",
    ):
        kept = page(target)
        assert kept is not None
        assert "@" not in kept
        assert "%40" not in kept.lower()
        assert token not in kept
        assert "?" not in kept


def test_a_referrer_keeps_its_host_only() -> None:
    assert referrer_host("https://mail.example.com/inbox?user=ann@example.com") == (
        "mail.example.com"
    )
    assert referrer_host("http://[::1") is None
