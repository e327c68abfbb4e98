"""Province keys follow the 2025 province list: old and new names of a province agree.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00

`leads.province_key` was the folded province text ("quang nam"); it becomes the id of the
province the name belongs to since Nghị quyết 202/2025/QH15 ("da_nang"), or the folded text
when the name is not a province. Data only: the column and its index stay as they are. The
keys are computed with the province list shipped at upgrade time (index/leads/provinces.yaml).
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEADS = sa.table(
    "leads",
    sa.column("id", sa.Integer),
    sa.column("province", sa.String),
    sa.column("province_key", sa.String),
)


def _rekey(key: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_LEADS.c.id, _LEADS.c.province)).all()
    for lead_id, province in rows:
        connection.execute(
            _LEADS.update()
            .where(_LEADS.c.id == lead_id)
            .values(province_key=key(province or ""))
        )


def upgrade() -> None:
    """Sets every lead's province key to its province id (or its folded text)."""
    from index.leads.provinces import province_key

    _rekey(province_key)


def downgrade() -> None:
    """Back to the folded province text of revisions 0001 and 0002."""
    from index.textnorm import fold_key

    _rekey(fold_key)
