"""The outbox of staff announcements: lead_announcements.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:00:00

A registration used to await its staff-chat message, so a busy staff group (Telegram allows
about 20 messages a minute there) stalled every user. Now the lead's transaction also writes
a row here, and a repeating job sends the announcements (digested in a burst), retries them
and records the ones finally lost. Only the lead id is stored; rows go with their lead.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Creates lead_announcements and its indexes."""
    op.create_table(
        "lead_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("next_attempt_at"),
        _timestamp("done_at", nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("lead_id", "state", "next_attempt_at"):
        op.create_index(
            f"ix_lead_announcements_{column}", "lead_announcements", [column], unique=False
        )


def downgrade() -> None:
    """Drops the outbox (its indexes go with it)."""
    op.drop_table("lead_announcements")
