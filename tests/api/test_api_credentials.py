"""POST /v1/subjects/{id}/credentials/{point}/{field}/verify: yes or no, never the secret."""

from __future__ import annotations

from api_support import ServiceFactory, assert_problem
from argon2 import PasswordHasher

PASSWORD = "s3cret passphrase"


def test_verify_answers_yes_or_no_and_limits_guesses(make_service: ServiceFactory) -> None:
    service = make_service("zimbra")
    service.vault.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    fields = {
        "name": "Ada Example",
        "username": "ada_example",
        "email": "ada@example.org",
        "password": PASSWORD,
    }
    subject = service.collect("registration", fields, age=30)["subject"]
    other = service.collect(
        "registration",
        {**fields, "username": "bo_example", "email": "bo@example.org", "password": "other"},
        age=30,
    )["subject"]
    url = f"/v1/subjects/{subject}/credentials/registration/password/verify"
    website = service.as_("collector")

    yes = service.client.post(url, json={"candidate": PASSWORD}, headers=website)
    assert yes.status_code == 200, yes.text
    assert yes.json() == {"subject": subject, "field": "registration.password", "valid": True}
    foreign = f"/v1/subjects/{other}/credentials/registration/password/verify"
    assert (
        service.client.post(foreign, json={"candidate": PASSWORD}, headers=website).json()["valid"]
        is False
    )

    export = service.client.get(f"/v1/subjects/{subject}/export", headers=service.as_("admin"))
    assert PASSWORD not in export.text
    assert export.json()["credentials"][0]["set"] is True

    for _ in range(5):
        no = service.client.post(url, json={"candidate": "guess"}, headers=website)
        assert no.json()["valid"] is False
    limited = service.client.post(url, json={"candidate": PASSWORD}, headers=website)
    assert_problem(limited, 429, "too_many_attempts")
    assert limited.headers["Retry-After"] == "1"

    missing = f"/v1/subjects/{subject}/credentials/registration/email/verify"
    assert_problem(
        service.client.post(missing, json={"candidate": "x"}, headers=website), 404, "not_found"
    )
    nobody = service.client.post(url, json={"candidate": PASSWORD})
    assert nobody.status_code == 401
    staff = service.client.post(
        url, json={"candidate": PASSWORD}, headers=service.as_("role:support")
    )
    assert staff.status_code == 403  # staff never check passwords
