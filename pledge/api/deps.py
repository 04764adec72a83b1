"""What route functions receive, as ``Annotated`` aliases: the vault, and the caller's key
checked for the scopes an endpoint allows.

Authorisation by scope happens here, before a route runs, so a route cannot forget it: a
route that takes ``AdminKey`` is unreachable with any other key, whatever ids its URL names.
What a role may read within its scope is the policy's decision, made by the vault.

Every dependency here is ``async``: FastAPI runs a plain ``def`` dependency in a worker thread,
and a hop to a thread and back costs more than these checks do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pledge.api.keys import KEY_ID, PREFIX, ApiKey, KeyStore, Scope
from pledge.api.limits import Failures, TokenBuckets
from pledge.api.schemas import SUBJECT_PATTERN
from pledge.errors import RateLimited, ScopeForbidden, Unauthenticated
from pledge.store.vault import Vault

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `pledge keys create`: `Authorization: Bearer plg_<id>.<secret>`.",
)


async def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


VaultDep = Annotated[Vault, Depends(_vault)]


async def _keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


Keys = Annotated[KeyStore, Depends(_keys)]


def client_address(request: Request) -> str:
    """The address failures are counted against: the peer's (a proxy in front should pass
    the real one through uvicorn's ``--forwarded-allow-ips``)."""
    return f"addr:{request.client.host if request.client else 'unknown'}"


def failures(request: Request) -> Failures:
    limit: Failures = request.app.state.failures
    return limit


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _caller(request: Request, credentials: Bearer) -> ApiKey:
    if credentials is None:
        raise Unauthenticated("send an API key as the header 'Authorization: Bearer <key>'")
    # On the event loop: a cached key costs no query, and an uncached one a primary-key
    # read once per api_key_cache_seconds, cheaper than the hop to a thread.
    presented = credentials.credentials
    names = [client_address(request)]
    key_id = presented.removeprefix(PREFIX).partition(".")[0]
    if KEY_ID.fullmatch(key_id):
        names.append(f"key:{key_id}")
    failures(request).check(*names)
    try:
        # From the app's state, not through ``Keys``: a dependency costs FastAPI more per
        # request than this lookup, and every authenticated request resolves this one.
        key: ApiKey = request.app.state.keys.authenticate(presented)
    except Unauthenticated:
        failures(request).fail(*names)
        raise
    request.state.key_id = key.key_id
    limiter: TokenBuckets = request.app.state.limiter
    wait = limiter.take(key.key_id)
    if wait:
        raise RateLimited(wait)
    return key


Caller = Annotated[ApiKey, Depends(_caller)]


def _scoped(*scopes: Scope) -> Callable[..., Awaitable[ApiKey]]:
    needed = " or ".join(scopes)

    async def check(request: Request, credentials: Bearer) -> ApiKey:
        # _caller called, not depended on: one level fewer for FastAPI to solve per request
        # (no route takes both a scoped key and Caller, so nothing needs it cached).
        key = await _caller(request, credentials)
        if key.scope not in scopes:
            raise ScopeForbidden(
                f"this endpoint needs a {needed} key; this is a {key.scope} key",
                scope=key.scope,
            )
        return key

    return check


StaffKey = Annotated[ApiKey, Depends(_scoped("role", "agent", "admin"))]
RoleKey = Annotated[ApiKey, Depends(_scoped("role", "agent"))]
RecipientKey = Annotated[ApiKey, Depends(_scoped("recipient"))]
AdminKey = Annotated[ApiKey, Depends(_scoped("admin"))]
CollectorKey = Annotated[ApiKey, Depends(_scoped("collector"))]
ChoiceWriterKey = Annotated[ApiKey, Depends(_scoped("collector", "agent", "admin"))]
# The website's backend checks a password when a person signs in; staff never need to.
# Staff who answer people's requests: a role key acts for its role, an admin key for the
# operator; agents and recipients act for no one's requests.
RequestsKey = Annotated[ApiKey, Depends(_scoped("role", "admin"))]
SignInKey = Annotated[ApiKey, Depends(_scoped("collector", "admin"))]
AskerKey = Annotated[ApiKey, Depends(_scoped("role", "agent", "recipient", "admin"))]

SubjectId = Annotated[
    str, Path(pattern=SUBJECT_PATTERN, description="A subject id (32 hex characters).")
]
