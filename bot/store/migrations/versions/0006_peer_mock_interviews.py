"""Peer mock interviews: a cohort's pairing programme, each period's groups, each turn of one member
interviewing another in a group DM, and the interviewer's ratings next to the bot's grade.
New tables only, so an upgrade never rewrites or locks existing rows.

Revision ID: 0006 (the lead re-chains parallel revisions at merge time)
Revises: 0002
Created: 2026-12-03 12:59:43.857189
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('peerperiod',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id', 'period')
    )
    with op.batch_alter_table('peerperiod', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peerperiod_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peerperiod_workspace'), ['workspace'], unique=False)

    op.create_table('peerprogram',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id')
    )
    with op.batch_alter_table('peerprogram', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peerprogram_workspace'), ['workspace'], unique=False)

    op.create_table('peergroup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('accepted', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['period_id'], ['peerperiod.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('peergroup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peergroup_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peergroup_period_id'), ['period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peergroup_workspace'), ['workspace'], unique=False)

    op.create_table('peersession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('interviewer_user', sa.String(length=64), nullable=False),
    sa.Column('turn', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['peergroup.id'], ),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'turn')
    )
    with op.batch_alter_table('peersession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peersession_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peersession_thread_ts'), ['thread_ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_peersession_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peersession_workspace'), ['workspace'], unique=False)

    op.create_table('peerrating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('rated_by', sa.String(length=64), nullable=False),
    sa.Column('round', sa.String(length=32), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['peersession.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'round')
    )
    with op.batch_alter_table('peerrating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peerrating_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peerrating_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peerrating_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peerrating_workspace'), ['workspace'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('peerrating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peerrating_workspace'))
        batch_op.drop_index(batch_op.f('ix_peerrating_user_id'))
        batch_op.drop_index(batch_op.f('ix_peerrating_session_id'))
        batch_op.drop_index(batch_op.f('ix_peerrating_cohort_id'))

    op.drop_table('peerrating')
    with op.batch_alter_table('peersession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peersession_workspace'))
        batch_op.drop_index(batch_op.f('ix_peersession_user_id'))
        batch_op.drop_index(batch_op.f('ix_peersession_thread_ts'))
        batch_op.drop_index(batch_op.f('ix_peersession_group_id'))

    op.drop_table('peersession')
    with op.batch_alter_table('peergroup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peergroup_workspace'))
        batch_op.drop_index(batch_op.f('ix_peergroup_period_id'))
        batch_op.drop_index(batch_op.f('ix_peergroup_cohort_id'))

    op.drop_table('peergroup')
    with op.batch_alter_table('peerprogram', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peerprogram_workspace'))

    op.drop_table('peerprogram')
    with op.batch_alter_table('peerperiod', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peerperiod_workspace'))
        batch_op.drop_index(batch_op.f('ix_peerperiod_cohort_id'))

    op.drop_table('peerperiod')
