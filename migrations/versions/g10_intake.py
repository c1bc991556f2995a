"""intake: content fingerprints, so that a reused Message-ID with other content is kept (issue 10)

Revision ID: g10_intake
Revises: d62713ae1a2d
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

from handlers.parsing import content_fingerprint

revision = 'g10_intake'
down_revision = 'd62713ae1a2d'
branch_labels = ('intake',)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reused_message_id', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Fingerprint the mail already recorded, so that a later re-delivery of it is still recognised.
    # Mail without a Message-ID was keyed by the hash of its raw bytes; it is now keyed by its fingerprint.
    bind = op.get_bind()
    message = sa.table('message', sa.column('id', sa.Integer), sa.column('raw', sa.LargeBinary), sa.column('mailbox', sa.String),
                       sa.column('direction', sa.String), sa.column('content_hash', sa.String), sa.column('dedup_key', sa.String))
    rows = bind.execute(sa.select(message.c.id, message.c.raw, message.c.mailbox, message.c.dedup_key)
                        .where(message.c.direction == 'in', message.c.raw.is_not(None))).fetchall()
    taken = {(mailbox, key) for _, _, mailbox, key in rows}
    for row_id, raw, mailbox, key in rows:
        fingerprint = content_fingerprint(bytes(raw))
        values = {'content_hash': fingerprint}
        if key.startswith('sha256:') and (mailbox, f'sha256:{fingerprint}') not in taken:
            values['dedup_key'] = f'sha256:{fingerprint}'
            taken.add((mailbox, values['dedup_key']))
        bind.execute(message.update().where(message.c.id == row_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('reused_message_id')
        batch_op.drop_column('content_hash')
