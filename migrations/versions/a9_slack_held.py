"""slack: notices Slack refused for good wait as `held` with Slack's error code (issue 9)

Revision ID: a9_slack_held
Revises: a4_slack
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'a9_slack_held'
down_revision = 'a4_slack'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite keeps the enum as a plain string column; PostgreSQL has a named type to extend.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE noticestate ADD VALUE IF NOT EXISTS 'held'")
    with op.batch_alter_table('slacknotice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: held notices go back to the queue instead.
    op.execute("UPDATE slacknotice SET state = 'pending' WHERE state = 'held'")
    with op.batch_alter_table('slacknotice', schema=None) as batch_op:
        batch_op.drop_column('error_code')
