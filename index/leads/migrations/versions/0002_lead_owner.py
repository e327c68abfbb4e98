"""Lead ownership: one open lead per owner, phone and need; possible duplicates flagged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 12:00:00

Before, a registration with someone else's phone number and the same need updated that
person's open lead. Now the owner (the Telegram account) is part of the unique key, and the
new lead points at the other one through ``duplicate_of_id`` for staff to check
(no ON DELETE rule: ``delete_user_data`` clears these pointers before deleting).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_LEADS = sa.text("status IN ('new', 'contacted', 'qualified')")
# Leads without a Telegram account share owner 0: NULLs never collide in a unique index.
OWNER_KEY = sa.text("coalesce(telegram_user_id, 0)")


def _has_column(table: str, column: str) -> bool:
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    """Adds leads.duplicate_of_id and puts the owner into the open-lead unique index."""
    op.drop_index("uq_leads_open_phone_need", table_name="leads")
    # A downgraded SQLite database keeps the column (see downgrade); do not add it twice.
    if not _has_column("leads", "duplicate_of_id"):
        if op.get_bind().dialect.name == "sqlite":
            # No batch mode: rebuilding `leads` with foreign keys on would cascade-delete
            # every lead event. SQLite adds a nullable REFERENCES column in place.
            op.execute("ALTER TABLE leads ADD COLUMN duplicate_of_id INTEGER REFERENCES leads (id)")
        else:
            op.add_column("leads", sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
            op.create_foreign_key(
                "fk_leads_duplicate_of_id_leads",
                "leads",
                "leads",
                ["duplicate_of_id"],
                ["id"],
            )
    op.create_index("ix_leads_duplicate_of_id", "leads", ["duplicate_of_id"], unique=False)
    op.create_index(
        "uq_leads_open_owner_phone_need",
        "leads",
        [OWNER_KEY, "phone", "need_key"],
        unique=True,
        sqlite_where=OPEN_LEADS,
        postgresql_where=OPEN_LEADS,
    )


def downgrade() -> None:
    """Restores revision 0001's index (fails if two owners hold the same open phone and need).

    On SQLite the column stays: dropping a REFERENCES column means rebuilding the table,
    which would cascade-delete the lead events. Revision 0001's code ignores it.
    """
    op.drop_index("uq_leads_open_owner_phone_need", table_name="leads")
    op.drop_index("ix_leads_duplicate_of_id", table_name="leads")
    op.create_index(
        "uq_leads_open_phone_need",
        "leads",
        ["phone", "need_key"],
        unique=True,
        sqlite_where=OPEN_LEADS,
        postgresql_where=OPEN_LEADS,
    )
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_leads_duplicate_of_id_leads", "leads", type_="foreignkey")
        op.drop_column("leads", "duplicate_of_id")
