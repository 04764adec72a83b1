"""cookie receipts: the website banner's consent records for anonymous visitors

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cookie_receipts",
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("receipt_id"),
    )
    op.create_table(
        "cookie_choices",
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("allowed", sa.JSON(), nullable=False),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.Column("gpc", sa.Boolean(), nullable=False),
        sa.Column("dnt", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["cookie_receipts.receipt_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("receipt_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("cookie_choices")
    op.drop_table("cookie_receipts")
