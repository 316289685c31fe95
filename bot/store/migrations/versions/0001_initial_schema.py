"""The initial schema: every table as the models define it when migrations began.

Revision ID: 0001
Revises: nothing (the first revision)
Created: 2026-11-23 01:57:08.295140
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channelconfig',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('schedule_at', sa.String(length=5), nullable=True),
    sa.Column('schedule_tz', sa.String(length=64), nullable=True),
    sa.Column('schedule_days', sa.JSON(), nullable=False),
    sa.Column('skip_dates', sa.JSON(), nullable=False),
    sa.Column('schedule_set_by', sa.String(length=64), nullable=True),
    sa.Column('schedule_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_mode', sa.String(length=16), nullable=False),
    sa.Column('managers', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace', 'channel')
    )
    op.create_index('ix_channelconfig_workspace', 'channelconfig', ['workspace'])
    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('local_time', sa.String(length=5), nullable=False),
    sa.Column('remind_after_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace', 'name')
    )
    op.create_index('ix_cohort_workspace', 'cohort', ['workspace'])
    op.create_table('dailypost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('prompt_id', sa.String(length=100), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace', 'channel', 'day', 'slot')
    )
    op.create_index('ix_dailypost_day', 'dailypost', ['day'])
    op.create_index('ix_dailypost_message_ts', 'dailypost', ['message_ts'])
    op.create_index('ix_dailypost_workspace', 'dailypost', ['workspace'])
    op.create_table('handledevent',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('interview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('prompt_id', sa.String(length=100), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('only_round', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('round', sa.String(length=32), nullable=False),
    sa.Column('probe_id', sa.String(length=100), nullable=True),
    sa.Column('asked_probes', sa.JSON(), nullable=False),
    sa.Column('path', sa.JSON(), nullable=False),
    sa.Column('done', sa.JSON(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_interview_status', 'interview', ['status'])
    op.create_index('ix_interview_user_id', 'interview', ['user_id'])
    op.create_index('ix_interview_workspace', 'interview', ['workspace'])
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('share_transcripts', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace', 'user_id')
    )
    op.create_index('ix_person_workspace', 'person', ['workspace'])
    op.create_table('answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('round', sa.String(length=32), nullable=False),
    sa.Column('probe_id', sa.String(length=100), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_index('ix_answer_created_at', 'answer', ['created_at'])
    op.create_index('ix_answer_interview_id', 'answer', ['interview_id'])
    op.create_index('ix_answer_message_ts', 'answer', ['message_ts'])
    op.create_index('ix_answer_workspace', 'answer', ['workspace'])
    op.create_table('cohortdigest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id', 'user_id', 'week_start')
    )
    op.create_index('ix_cohortdigest_cohort_id', 'cohortdigest', ['cohort_id'])
    op.create_index('ix_cohortdigest_workspace', 'cohortdigest', ['workspace'])
    op.create_table('cohortdrill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('target_dimension', sa.String(length=40), nullable=True),
    sa.Column('target_round', sa.String(length=32), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id', 'user_id', 'local_date')
    )
    op.create_index('ix_cohortdrill_cohort_id', 'cohortdrill', ['cohort_id'])
    op.create_index('ix_cohortdrill_user_id', 'cohortdrill', ['user_id'])
    op.create_index('ix_cohortdrill_workspace', 'cohortdrill', ['workspace'])
    op.create_table('cohortmanager',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id', 'user_id')
    )
    op.create_index('ix_cohortmanager_cohort_id', 'cohortmanager', ['cohort_id'])
    op.create_index('ix_cohortmanager_user_id', 'cohortmanager', ['user_id'])
    op.create_index('ix_cohortmanager_workspace', 'cohortmanager', ['workspace'])
    op.create_table('cohortmember',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('paused_until', sa.Date(), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cohort_id', 'user_id')
    )
    op.create_index('ix_cohortmember_cohort_id', 'cohortmember', ['cohort_id'])
    op.create_index('ix_cohortmember_user_id', 'cohortmember', ['user_id'])
    op.create_index('ix_cohortmember_workspace', 'cohortmember', ['workspace'])
    op.create_table('pointentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.String(length=32), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('interview_id', 'round')
    )
    op.create_index('ix_pointentry_created_at', 'pointentry', ['created_at'])
    op.create_index('ix_pointentry_user_id', 'pointentry', ['user_id'])
    op.create_index('ix_pointentry_workspace', 'pointentry', ['workspace'])
    op.create_table('promptuse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('prompt_id', sa.String(length=100), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('daily_post_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['daily_post_id'], ['dailypost.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_promptuse_workspace', 'promptuse', ['workspace'])
    op.create_table('graderecord',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('round', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('flag_details', sa.JSON(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id')
    )
    op.create_index('ix_graderecord_created_at', 'graderecord', ['created_at'])
    op.create_index('ix_graderecord_interview_id', 'graderecord', ['interview_id'])
    op.create_index('ix_graderecord_workspace', 'graderecord', ['workspace'])


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before the tables they reference.
    op.drop_table('graderecord')
    op.drop_table('promptuse')
    op.drop_table('pointentry')
    op.drop_table('cohortmember')
    op.drop_table('cohortmanager')
    op.drop_table('cohortdrill')
    op.drop_table('cohortdigest')
    op.drop_table('answer')
    op.drop_table('person')
    op.drop_table('interview')
    op.drop_table('handledevent')
    op.drop_table('dailypost')
    op.drop_table('cohort')
    op.drop_table('channelconfig')
