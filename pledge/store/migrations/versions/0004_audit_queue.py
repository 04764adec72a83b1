"""audit queue: leaves queued in the caller's transaction, integrated by the sequencer

Revision ID: 0004
Revises: 0009 (chained after the jobs table merged first)
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("subject_ref", sa.String(length=64), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("queued_at", sa.Float(), nullable=False),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.add_column(sa.Column("queue_id", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_audit_queue_id", ["queue_id"], unique=True)
    with op.batch_alter_table("audit_checkpoints") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("disclosures") as batch_op:
        batch_op.alter_column("audit_seq", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("audit_queue_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosures") as batch_op:
        batch_op.drop_column("audit_queue_id")
    with op.batch_alter_table("audit_checkpoints") as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_index("ix_audit_queue_id")
        batch_op.drop_column("queue_id")
    op.drop_table("audit_queue")
