"""minimised web-server log (pledge.logs)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_visits",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=True),
        sa.Column("page", sa.String(length=512), nullable=True),
        sa.Column("referrer", sa.String(length=255), nullable=True),
        sa.Column("browser", sa.String(length=64), nullable=True),
        sa.Column("isp", sa.String(length=255), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_visits")
