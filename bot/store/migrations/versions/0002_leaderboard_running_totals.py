"""Leaderboard running totals: a `boardtotal` row per person, period and channel, so a board reads one
row per person instead of summing every `pointentry` of the period. Existing points are summed into it
here (in batches, a person at a time), so an upgraded live database shows the same boards as before.

Revision ID: 0002
Revises: 0001
Created: 2026-11-23 02:22:26.067826
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('boardtotal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('reached', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace', 'period_kind', 'period_key', 'channel', 'user_id'),
    # The index below is built outside the transaction, so a failed run is re-run from the top.
    if_not_exists=True,
    )
    if not context.is_offline_mode():
        # The totals of the points already awarded. The app's own rebuild is used so the migration and
        # `gauntlet db rebuild-board` can never disagree about what a total is.
        from bot.boards.leaderboard import rebuild_totals_on

        rebuild_totals_on(op.get_bind())
    # Built after the backfill, and without blocking writes to the table on PostgreSQL.
    with op.get_context().autocommit_block():
        op.create_index('ix_boardtotal_rank', 'boardtotal',
                        ['workspace', 'period_kind', 'period_key', 'channel', 'points',
                         'rounds', 'reached', 'user_id'],
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.drop_table('boardtotal')
