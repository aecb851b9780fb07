"""TDM patients keep age, sex, treatment phase and an infection: a formulation's clearance
may depend on them (Würthwein's age and sex, Kloos' phase and infection), and a dataset's
AGE/SEX columns must reach every later forecast, not only the first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("age_y", sa.Float(), nullable=True))
        batch.add_column(sa.Column("sex", sa.String(1), nullable=True))
        batch.add_column(sa.Column("phase", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("infection", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("infection")
        batch.drop_column("phase")
        batch.drop_column("sex")
        batch.drop_column("age_y")
