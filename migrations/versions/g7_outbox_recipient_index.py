"""outbox: an index for the per-recipient acknowledgement count (recipient, kind, created_at)

Revision ID: g7_outbox_recipient_index
Revises: d62713ae1a2d
Create Date: 2026-12-02
"""
from alembic import op


revision = 'g7_outbox_recipient_index'
down_revision = 'd62713ae1a2d'
branch_labels = ('outbox_index',)
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outboxmail_recipient_kind_created', 'outboxmail', ['recipient', 'kind', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outboxmail_recipient_kind_created', table_name='outboxmail')
