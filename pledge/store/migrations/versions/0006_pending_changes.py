"""pending changes awaiting a person's confirmation, and the privacy-budget ledger

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_changes",
        sa.Column("pending_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.subject_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pending_id"),
    )
    with op.batch_alter_table("pending_changes", schema=None) as batch_op:
        batch_op.create_index("ix_pending_subject", ["subject_id"], unique=False)
    op.create_table(
        "privacy_spend",
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("segment", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient", "seq"),
    )


def downgrade() -> None:
    op.drop_table("privacy_spend")
    with op.batch_alter_table("pending_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_subject")
    op.drop_table("pending_changes")
