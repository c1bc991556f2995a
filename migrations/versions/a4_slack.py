"""slack: notice queue, ticket cards, category corrections (issue 4)

Revision ID: a4_slack
Revises: d62713ae1a2d
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.base


revision = 'a4_slack'
down_revision = 'd62713ae1a2d'
branch_labels = ('slack',)
depends_on = None


def upgrade() -> None:
    op.create_table('slacknotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('kind', sa.Enum('card', 'thread', 'digest', name='noticekind'), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sent', 'failed', name='noticestate'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('slacknotice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slacknotice_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slacknotice_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_slacknotice_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('slackcard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('posted_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )

    op.create_table('correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('intent', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('previous_category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_at'), ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('correction')
    op.drop_table('slackcard')
    op.drop_table('slacknotice')
    sa.Enum(name='noticestate').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='noticekind').drop(op.get_bind(), checkfirst=True)
