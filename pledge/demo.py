"""Believable test subjects for any policy: what ``pledge demo``, the benchmarks and the tests
feed through collection points. Values come from Faker, shaped to pass the same checks real
submissions pass, so a demo exercises the real code and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from faker import Faker

from pledge.errors import PledgeError
from pledge.policy import recipient_choice
from pledge.policy.model import CollectionPoint, Condition, Policy, Storage
from pledge.policy.taxonomy import covers
from pledge.store.collect import Collected, Collection
from pledge.store.shapes import shape_of
from pledge.store.vault import Vault

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "policies"

_BY_CATEGORY: dict[str, Callable[[Faker], str]] = {
    "user.name": lambda f: f.name(),
    "user.contact.address": lambda f: f.address().replace("\n", ", "),
    "user.contact.organization": lambda f: f.company(),
    "user.contact.url": lambda f: f.url(),
    "user.workplace": lambda f: f.company(),
    "user.job_title": lambda f: f.job(),
    "user.account.username": lambda f: f.unique.user_name(),
    "user.demographic.date_of_birth": lambda f: f.date_of_birth(minimum_age=20).isoformat(),
}

_BY_SHAPE: dict[str, Callable[[Faker], str]] = {
    "email": lambda f: f.unique.email(),
    "phone": lambda f: f"+4420{f.numerify('########')}",
    "date": lambda f: f.date_of_birth(minimum_age=20).isoformat(),
    "integer": lambda f: str(f.random_int(1, 500)),
}


def example_policy(name: str) -> Path:
    """``examples/policies/<name>.yaml`` of a source checkout."""
    return EXAMPLES / f"{name}.yaml"


def fake_value(faker: Faker, category: str, shape: str | None) -> str:
    resolved = shape_of(category, shape)
    if resolved in _BY_SHAPE and resolved != "text":
        return _BY_SHAPE[resolved](faker)
    for key, make in _BY_CATEGORY.items():
        if covers(key, category):
            return make(faker)
    return faker.sentence(nb_words=6)


def fake_submission(
    policy: Policy, point_name: str, faker: Faker, *, optional: bool = True
) -> Collection:
    """A valid submission at ``point_name``: every stored field, or only the required ones."""
    point: CollectionPoint = policy.collection_points[point_name]
    passing = [k for k, h in policy.categories.items() if h.storage is Storage.pass_through]
    fields = {
        name: fake_value(faker, spec.category, spec.shape)
        for name, spec in point.fields.items()
        if (spec.required or optional) and not any(covers(p, spec.category) for p in passing)
    }
    age = None if point.min_age is None else max(point.min_age, 18) + faker.random_int(0, 50)
    return Collection(point_name, fields, age=age)


def fake_subjects(policy: Policy, count: int, *, seed: int = 7) -> Iterator[Collection]:
    """``count`` submissions spread over the policy's collection points."""
    faker = Faker()
    faker.seed_instance(seed)
    points = list(policy.collection_points)
    for i in range(count):
        yield fake_submission(policy, points[i % len(points)], faker, optional=i % 2 == 0)


def person_to_sign_in(vault: Vault, made: Sequence[Collected], communication: str) -> str | None:
    """A demo person a sign-in link can reach: collected at a point that holds an email for
    ``communication``'s purpose. Their subject id."""
    policy = vault.policy.policy
    purpose = policy.communications[communication].purpose
    for item in made:
        point = policy.collection_points[item.point]
        has_email = any(covers("user.contact.email", point.fields[f].category) for f in item.fields)
        if has_email and purpose in point.purposes:
            return item.subject
    return None


def disclose_once(vault: Vault, subject: str, *, legal_ref: str = "Demo case 1") -> str | None:
    """Hand the person's data to the first recipient the policy lets have it (granting the
    person's consent first where the recipient needs it), so the privacy center has a
    disclosure to prove; the recipient's name, or None when no recipient may have it."""
    for name, recipient in vault.policy.policy.recipients.items():
        if recipient.condition is Condition.aggregate:
            continue
        if recipient.condition is Condition.consent:
            vault.grant(subject, recipient_choice(name), source="demo")
        ref = legal_ref if recipient.condition is Condition.legal_reference else None
        for purpose in recipient.purposes:
            try:
                done = vault.disclose(
                    [subject], name, purpose, list(recipient.categories), legal_ref=ref
                )
            except PledgeError:
                continue
            if subject in done.released:
                return name
    return None
