"""Initial leads store schema: leads, lead_events, feedback, question_logs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:49:36

Plain SQLAlchemy types only (no imports from index.leads.models), so this file keeps
describing the schema of revision 0001 whatever the models become later.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same predicate as models.Lead's partial unique index: one open lead per phone and need.
OPEN_LEADS = sa.text("status IN ('new', 'contacted', 'qualified')")


def _timestamp(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Creates the four tables and their indexes."""
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_username", sa.String(length=64), nullable=True),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("establishment_name", sa.String(length=200), nullable=False),
        sa.Column("establishment_type", sa.String(length=60), nullable=True),
        sa.Column("sector", sa.String(length=120), nullable=True),
        sa.Column("province", sa.String(length=60), nullable=False),
        sa.Column("province_key", sa.String(length=60), nullable=False),
        sa.Column("district", sa.String(length=60), nullable=True),
        sa.Column("support_items", sa.JSON(), nullable=False),
        sa.Column("need_key", sa.String(length=255), nullable=False),
        sa.Column("eligibility_answers", sa.JSON(), nullable=False),
        sa.Column("question", sa.String(length=2000), nullable=True),
        _timestamp("consent_at"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assigned_to", sa.String(length=100), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in (
        "created_at",
        "need_key",
        "phone",
        "province",
        "province_key",
        "status",
        "telegram_user_id",
    ):
        op.create_index(f"ix_leads_{column}", "leads", [column], unique=False)
    op.create_index(
        "uq_leads_open_phone_need",
        "leads",
        ["phone", "need_key"],
        unique=True,
        sqlite_where=OPEN_LEADS,
        postgresql_where=OPEN_LEADS,
    )

    op.create_table(
        "lead_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("old_status", sa.String(length=20), nullable=True),
        sa.Column("new_status", sa.String(length=20), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_events_lead_id", "lead_events", ["lead_id"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("question", sa.String(length=2000), nullable=False),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feedback_telegram_user_id", "feedback", ["telegram_user_id"], unique=False)

    op.create_table(
        "question_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("question", sa.String(length=2000), nullable=False),
        sa.Column("confident", sa.Boolean(), nullable=False),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_question_logs_created_at", "question_logs", ["created_at"], unique=False)
    op.create_index(
        "ix_question_logs_telegram_user_id", "question_logs", ["telegram_user_id"], unique=False
    )


def downgrade() -> None:
    """Drops everything upgrade created (indexes go with their tables)."""
    op.drop_table("question_logs")
    op.drop_table("feedback")
    op.drop_table("lead_events")
    op.drop_table("leads")
