"""Cohort consent and jobs that turn themselves off.

A cohort member is invited and accepts (`accepted_at`, `invited_by`); sharing answers is per cohort
(`share_answers`). Schedules, cohort drills and digests that Slack refuses for good record why they were
turned off (`schedule_off_reason`, `drills_off_reason`, `digest_off_reason`). Members who were in a
cohort before this revision had no say, so they count as accepted from when they joined (they can leave
with `/gauntlet cohort leave`), and nobody shares answer text until they choose to for a cohort.

Revision ID: 0004
Revises: 0002
Created: 2026-12-03 12:45:37.986902
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('channelconfig', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_off_reason', sa.String(length=300), nullable=True))

    with op.batch_alter_table('cohortmanager', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_off_reason', sa.String(length=300), nullable=True))

    with op.batch_alter_table('cohortmember', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invited_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('share_answers', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('drills_off_reason', sa.String(length=300), nullable=True))

    member = sa.table('cohortmember', sa.column('accepted_at', sa.DateTime(timezone=True)),
                      sa.column('joined_at', sa.DateTime(timezone=True)))
    op.execute(member.update().where(member.c.accepted_at.is_(None)).values(accepted_at=member.c.joined_at))


def downgrade() -> None:
    with op.batch_alter_table('cohortmember', schema=None) as batch_op:
        batch_op.drop_column('drills_off_reason')
        batch_op.drop_column('share_answers')
        batch_op.drop_column('invited_by')
        batch_op.drop_column('accepted_at')

    with op.batch_alter_table('cohortmanager', schema=None) as batch_op:
        batch_op.drop_column('digest_off_reason')

    with op.batch_alter_table('channelconfig', schema=None) as batch_op:
        batch_op.drop_column('schedule_off_reason')
