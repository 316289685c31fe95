"""Durable inbox and outbox, and the invariants the code assumes enforced by the database: one active
interview per person in a thread or DM (partial unique indexes), one answer per Slack message
(workspace, channel, ts). Duplicate active interviews left by older versions are stopped here (the
newest, which took the later answers, stays), so the unique indexes can be built.

Revision ID: 0003
Revises: 0002
Created: 2026-12-03 12:41:16.068929
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_THREAD = "status = 'active' AND source = 'thread'"
_DM = "status = 'active' AND source = 'dm'"


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=True),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('ts', sa.String(length=80), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('conv', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id'),
    sa.UniqueConstraint('workspace', 'channel', 'ts', 'kind'),
    if_not_exists=True,
    )
    op.create_index('ix_inbox_claim', 'inbox', ['status', 'available_at'], if_not_exists=True)
    op.create_index('ix_inbox_conv', 'inbox', ['conv', 'status', 'id'], if_not_exists=True)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=False),
    sa.Column('conv', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('response_url', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('blocks', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('clean_through', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_ts', sa.String(length=32), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    if_not_exists=True,
    )
    op.create_index('ix_outbox_claim', 'outbox', ['status', 'available_at'], if_not_exists=True)
    op.create_index('ix_outbox_conv', 'outbox', ['conv', 'status', 'id'], if_not_exists=True)

    # SQLite has no ADD COLUMN IF NOT EXISTS: there a re-run looks first.
    postgres = op.get_context().dialect.name == 'postgresql'
    if postgres or 'channel' not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('answer')}:
        op.add_column('answer', sa.Column('channel', sa.String(length=64), nullable=True),
                      if_not_exists=postgres)
    # The answer's channel is its interview's (a thread's channel, or the drill's DM).
    op.execute("UPDATE answer SET channel = (SELECT interview.channel FROM interview "
               "WHERE interview.id = answer.interview_id) WHERE channel IS NULL")
    for source, where in (("thread", _THREAD), ("dm", _DM)):
        same_place = ("n.workspace = interview.workspace AND n.user_id = interview.user_id"
                      + (" AND n.channel = interview.channel AND n.thread_ts = interview.thread_ts"
                         if source == "thread" else ""))
        op.execute(f"UPDATE interview SET status = 'stopped' WHERE {where} AND EXISTS (SELECT 1 FROM "
                   f"interview AS n WHERE n.status = 'active' AND n.source = '{source}' AND {same_place} "
                   f"AND n.id > interview.id)")
    # Built without blocking writes on PostgreSQL; outside the transaction, so a failed run re-runs.
    with op.get_context().autocommit_block():
        op.create_index('uq_answer_message', 'answer', ['workspace', 'channel', 'message_ts'], unique=True,
                        postgresql_concurrently=True, if_not_exists=True)
        op.create_index('uq_interview_active_thread', 'interview',
                        ['workspace', 'user_id', 'channel', 'thread_ts'], unique=True,
                        sqlite_where=sa.text(_THREAD), postgresql_where=sa.text(_THREAD),
                        postgresql_concurrently=True, if_not_exists=True)
        op.create_index('uq_interview_active_dm', 'interview', ['workspace', 'user_id'], unique=True,
                        sqlite_where=sa.text(_DM), postgresql_where=sa.text(_DM),
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.drop_index('uq_interview_active_dm', table_name='interview')
    op.drop_index('uq_interview_active_thread', table_name='interview')
    op.drop_index('uq_answer_message', table_name='answer')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('channel')
    op.drop_table('outbox')
    op.drop_table('inbox')
