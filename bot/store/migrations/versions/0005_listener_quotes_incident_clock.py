"""An interviewer who listens: the follow-ups as asked with the sentence each one quoted (`followup`), the
person's incident carried through the rounds (`interview.incident`), and the clock (`interview.timed`,
`interview.asked_at`, `answer.seconds`). Every new column is nullable or has a constant default, so
adding it is a catalogue change only.

Revision ID: 0005
Revises: 0004 (re-chained when main was merged in; written over 0002)
Created: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.String(length=32), nullable=False),
    sa.Column('probe_id', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('slot', sa.String(length=32), nullable=True),
    sa.Column('sentence', sa.Text(), nullable=True),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_followup_interview_id'), 'followup', ['interview_id'], unique=False)
    with op.batch_alter_table('interview') as batch_op:
        batch_op.add_column(sa.Column('incident', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('timed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('answer') as batch_op:
        batch_op.add_column(sa.Column('seconds', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('answer') as batch_op:
        batch_op.drop_column('seconds')
    with op.batch_alter_table('interview') as batch_op:
        batch_op.drop_column('asked_at')
        batch_op.drop_column('timed')
        batch_op.drop_column('incident')
    op.drop_index(op.f('ix_followup_interview_id'), table_name='followup')
    op.drop_table('followup')
