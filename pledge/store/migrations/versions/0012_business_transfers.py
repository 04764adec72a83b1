"""business transfers: the recorded event a successor recipient waits for

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_transfers",
        sa.Column("transfer_id", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    with op.batch_alter_table("business_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_business_transfers_recipient", ["recipient"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("business_transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_business_transfers_recipient")
    op.drop_table("business_transfers")
