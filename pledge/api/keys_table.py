"""The ``api_keys`` table, kept with the service that uses it rather than in the store's
schema: the store works without a server. Migration ``0002_api_keys`` creates it, and a test
checks the two agree.

Only a SHA-256 of each key's secret is stored (see :mod:`pledge.api.keys` for why that, and
not a password hash); ``key_id`` is the public half, safe to log and to show.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("scope", String(16), nullable=False),  # role | recipient | admin
    Column("actor", String(64), nullable=True),  # the role or recipient name; NULL for admin
    Column("name", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
