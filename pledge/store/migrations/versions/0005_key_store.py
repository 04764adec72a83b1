"""data keys leave the database for the key store (pledge.store.keys); credentials table

Existing wrapped keys move to ``key_handover``, which the store empties into the key store the
next time it opens (a migration cannot know where the key store is), then compacts the
database so the old pages go too. ``credentials`` holds the hashes of secret fields
(pledge.store.credentials). ``ledger_replay`` remembers how far this database has caught
up with the key store's erasure ledger.

Revision ID: 0005
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_handover",
        sa.Column("subject_id", sa.String(length=32), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "ledger_replay",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("point", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=False),
        sa.Column("sealed_hash", sa.LargeBinary(), nullable=False),
        sa.Column("policy_version", sa.String(length=128), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "point", "field"),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.subject_id"], ondelete="CASCADE"),
    )
    op.execute(
        "INSERT INTO key_handover (subject_id, wrapped_key) "
        "SELECT subject_id, wrapped_key FROM subjects WHERE wrapped_key IS NOT NULL"
    )
    # SQLite's own DROP COLUMN (3.35+), not a batch copy: copying ``subjects`` would drop the
    # old table, and with foreign keys on that deletes every personal value by cascade.
    op.execute("ALTER TABLE subjects DROP COLUMN wrapped_key")


def downgrade() -> None:
    """Keys handed over to the key store do not come back; only those still waiting do."""
    op.add_column("subjects", sa.Column("wrapped_key", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE subjects SET wrapped_key = (SELECT wrapped_key FROM key_handover "
        "WHERE key_handover.subject_id = subjects.subject_id)"
    )
    op.drop_table("credentials")
    op.drop_table("ledger_replay")
    op.drop_table("key_handover")
