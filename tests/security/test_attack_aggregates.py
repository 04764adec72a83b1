"""Aggregates single no one out: one person repeated is one, the recipient cannot choose whom
to count, and two overlapping questions cost privacy budget until none is left."""

from __future__ import annotations

from tests.security.served import BUDGET, Server

ASK = {"purpose": "analytics.reporting", "categories": ["user.device.browser"]}


def visit(server: Server, n: int, **extra: object) -> str:
    fields = {"ip_address": f"198.51.100.{n}", "browser": "Firefox", "region": "CA"}
    return str(server.collect("web_log", fields, **extra)["subject"])


def test_duplicates_count_once_and_chosen_ids_are_refused(fresh_server: Server) -> None:
    first = visit(fresh_server, 1)
    token = fresh_server.token(first)
    for n in range(12):
        visit(fresh_server, n, subject=first, subject_token=token)
    others = [visit(fresh_server, 100 + n) for n in range(8)]
    refused = fresh_server.post(
        "/v1/aggregates", "statistics", json={**ASK, "segment": "point:web_log"}
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].endswith("this segment gives 9")
    repeated = fresh_server.post(
        "/v1/disclosures", "statistics", json={**ASK, "subjects": [first] * 12 + others}
    )
    assert repeated.status_code == 403, repeated.text
    assert repeated.json()["code"] == "denied"
    picked = fresh_server.post("/v1/aggregates", "statistics", json={**ASK, "subjects": [first]})
    assert picked.status_code == 422, picked.text


def test_differencing_two_overlapping_questions_spends_the_budget(fresh_server: Server) -> None:
    for n in range(12):
        visit(fresh_server, 200 + n)
    everyone = fresh_server.post("/v1/aggregates", "statistics", json={**ASK, "segment": "all"})
    assert everyone.status_code == 200, everyone.text
    visit(fresh_server, 250)  # the one person the second question adds
    again = fresh_server.post("/v1/aggregates", "statistics", json={**ASK, "segment": "all"})
    assert again.status_code == 200, again.text
    answers = [everyone.json(), again.json()]
    assert [a["epsilon"] for a in answers] == [1.0, 1.0]
    assert answers[1]["budget_left"] == answers[0]["budget_left"] - 1.0
    spent = BUDGET - answers[1]["budget_left"]
    for _ in range(int(BUDGET - spent)):
        assert fresh_server.post("/v1/aggregates", "statistics", json=ASK).status_code == 200
    out = fresh_server.post("/v1/aggregates", "statistics", json=ASK)
    assert out.status_code == 403, out.text
    assert out.json()["code"] == "privacy_budget_spent"
