"""ticket: an index for the staff queues (status, received_at, id)

`/eocic queue` reads the oldest tickets of each status from it, LIMITed, instead of sorting every
open ticket: the answer takes the same time at 1,000 and at 50,000 tickets.

Revision ID: h12_ticket_queue_index
Revises: d62713ae1a2d
Create Date: 2026-12-03
"""
from alembic import op


revision = 'h12_ticket_queue_index'
down_revision = 'd62713ae1a2d'
branch_labels = ('ticket_queue',)
depends_on = None


def upgrade() -> None:
    op.create_index('ticket_queue_index', 'ticket', ['status', 'received_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ticket_queue_index', table_name='ticket')
