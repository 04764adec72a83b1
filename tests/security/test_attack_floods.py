"""Floods of bad credentials: guessing API keys, unsubscribe tokens and confirmation links is
limited per client address (429 with Retry-After), so an attacker gets a handful of guesses a
minute however fast they send."""

from __future__ import annotations

from tests.security.served import Server

BURST = 20  # the default PLEDGE_FAILURES_BURST


def test_a_flood_of_bad_keys_and_tokens_gets_429_after_a_burst(fresh_server: Server) -> None:
    client = fresh_server.client
    statuses = [
        client.get(
            "/v1/policy", headers={"Authorization": f"Bearer plg_{n:016x}.guess"}
        ).status_code
        for n in range(200)
    ]
    assert statuses.count(401) == BURST
    assert statuses[BURST:] == [429] * (200 - BURST)
    limited = client.get("/v1/policy", headers={"Authorization": "Bearer plg_x.y"})
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"
    # The limit is per address and covers every kind of credential.
    assert client.post("/unsubscribe/" + "a" * 52).status_code == 429
    assert client.post("/confirm/guess").status_code == 429
    fresh_server.no_tracebacks()


def test_guessing_tokens_is_limited_as_keys_are(fresh_server: Server) -> None:
    client = fresh_server.client
    statuses = [client.post(f"/confirm/guess{n}").status_code for n in range(BURST + 5)]
    assert statuses[:BURST] == [400] * BURST
    assert statuses[BURST:] == [429] * 5
    assert client.get("/unsubscribe/" + "b" * 52).status_code == 429
